"""Answer-or-refuse quality on squad2_dev (SQuAD 2.0 dev: half the questions unanswerable).

    python bench/squad2.py [--data ../shared/bench/squad2_dev] [--limit N] [--every K]
                           [--split all|fit|test] [--curve] [--alone] [--off-topic]

Indexes the benchmark's ``corpus/`` folder with qabot's own loader (what ``qabot index`` does),
answers every question in-process with :func:`retrieval.answer.answer` and judges quotes by the
benchmark's anchor rule (a quote holds the answer when it contains one of the question's
anchors, case-folded, whitespace collapsed: the rule of ``score.py`` and ``qabot eval``).

Prints, for the answerable questions: P@1 (the first quote holds an anchor; a refusal is a miss),
MRR@10 over the first ten quotes, abstention; for the unanswerable ones: the share refused.
``--curve`` also prints the trade-off curve: the same figures for a range of refusal thresholds
(``AnswerSettings.min_confidence``), computed from one run, since quotes do not depend on it.

``--split fit|test`` keeps only the articles of one half of the article split used to fit the
refusal model (``bench/fit_refusal.py``): even ``doc_id`` fit, odd ones test. ``--off-topic`` also asks
ReQA SQuAD questions about the articles squad2_dev lacks (every 4th), which nothing answers, and
prints the share refused. ``--alone``
asks each article's questions of that article alone, a one-document collection of 100-300
sentences (what a user indexing a handful of files has), instead of all 35 together.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from retrieval.answer import AnswerSettings, answer
from retrieval.corpus import iter_corpus_files, load_document
from retrieval.evidence import refusal_model
from retrieval.index import Index


@dataclass(frozen=True, slots=True)
class Outcome:
    answerable: bool
    confidence: float
    abstained: bool
    first_rank: int | None
    """1-based rank of the first quote holding an anchor (within 10), or None."""
    off_topic: bool = False
    """A question about an article the benchmark lacks (``--off-topic``)."""


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def holds(text: str, anchors: Sequence[str]) -> bool:
    folded = norm(text)
    return any(norm(a) in folded for a in anchors)


def read_jsonl(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build_index(corpus: Path) -> Index:
    """All of the benchmark's articles in one index, read as qabot reads a corpus."""
    return Index([load_document(name, path) for name, path in iter_corpus_files(corpus)])


def in_split(doc_id: int, split: str) -> bool:
    return split == "all" or (doc_id % 2 == 0) == (split == "fit")


def run(
    index: Index, questions: Sequence[dict[str, object]], settings: AnswerSettings
) -> list[Outcome]:
    """One answer per question with refusal switched off; the confidence decides later."""
    open_settings = replace(settings, min_confidence=0.0)
    outcomes: list[Outcome] = []
    for q in questions:
        result = answer(index, str(q["question"]), limit=10, settings=open_settings)
        anchors = [str(a) for a in q["anchors"]]  # type: ignore[attr-defined]
        rank = next(
            (n for n, quote in enumerate(result.quotes, 1) if holds(quote.text, anchors)), None
        )
        outcomes.append(
            Outcome(
                bool(q["answerable"]),
                result.confidence,
                result.abstained,
                rank if anchors else None,
                bool(q.get("off_topic")),  # type: ignore[attr-defined]
            )
        )
    return outcomes


def figures(outcomes: Sequence[Outcome], threshold: float) -> dict[str, float]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable and not o.off_topic]
    off_topic = [o for o in outcomes if o.off_topic]

    def refused(o: Outcome) -> bool:
        return o.abstained or o.confidence < threshold

    kept = [o for o in answerable if not refused(o)]
    n = len(answerable) or 1
    return {
        "P@1": sum(o.first_rank == 1 for o in kept) / n,
        "MRR@10": sum(1 / o.first_rank for o in kept if o.first_rank) / n,
        "abstain_answerable": sum(refused(o) for o in answerable) / n,
        "refuse_unanswerable": (
            sum(refused(o) for o in unanswerable) / len(unanswerable) if unanswerable else 0.0
        ),
        "refuse_off_topic": (
            sum(refused(o) for o in off_topic) / len(off_topic) if off_topic else -1.0
        ),
        "ranking_P@1": sum(o.first_rank == 1 for o in answerable) / n,
        "ranking_MRR@10": sum(1 / o.first_rank for o in answerable if o.first_rank) / n,
    }


def line(name: str, f: dict[str, float]) -> str:
    return (
        f"{name:24s} P@1 {f['P@1']:.3f}  MRR@10 {f['MRR@10']:.3f}  "
        f"abstain on answerable {100 * f['abstain_answerable']:.1f}%  "
        f"refused unanswerable {100 * f['refuse_unanswerable']:.1f}%  "
        f"(ranking without refusal: P@1 {f['ranking_P@1']:.3f}, MRR@10 {f['ranking_MRR@10']:.3f})"
        + _off_topic(f)
    )


def _off_topic(f: dict[str, float]) -> str:
    share = f["refuse_off_topic"]
    return f"  refused off-topic {100 * share:.1f}%" if share >= 0 else ""


def off_topic_questions(reqa: Path, squad2: Path, every: int = 4) -> list[dict[str, object]]:
    """Every ``every``-th ReQA SQuAD question about an article squad2_dev lacks: asked of
    squad2_dev, nothing answers them (a question about something the collection does not hold)."""
    titles = {d["title"] for d in read_jsonl(squad2 / "docs.jsonl")}
    foreign = {
        str(d["doc_id"]) for d in read_jsonl(reqa / "docs.jsonl") if d["title"] not in titles
    }
    return [
        {"question": q["question"], "answerable": False, "anchors": [], "off_topic": True}
        for q in read_jsonl(reqa / "questions.jsonl.gz")[::every]
        if str(q["doc_id"]) in foreign
    ]


def with_overrides(settings: AnswerSettings, overrides: Sequence[str]) -> AnswerSettings:
    """``settings`` with ``FIELD=VALUE`` pairs applied (numbers only)."""
    for item in overrides:
        field, value = item.split("=", 1)
        settings = replace(settings, **{field: float(value) if "." in value else int(value)})  # type: ignore[arg-type]
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/bench/squad2_dev"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--every", type=int, default=1, help="only every K-th question")
    parser.add_argument("--split", choices=("all", "fit", "test"), default="all")
    parser.add_argument("--curve", action="store_true", help="print the trade-off curve")
    parser.add_argument("--alone", action="store_true", help="each article its own collection")
    parser.add_argument(
        "--off-topic",
        type=Path,
        nargs="?",
        const=Path("../shared/bench/reqa_squad_dev"),
        metavar="REQA_DIR",
        help="also ask every 4th ReQA SQuAD question about an article squad2_dev lacks, and "
        "report the share refused (not with --alone)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="an AnswerSettings field"
    )
    args = parser.parse_args()
    if args.off_topic and args.alone:
        parser.error("--off-topic asks the whole benchmark; it does not go with --alone")

    started = time.perf_counter()
    doc_ids = {str(d["file"]): d["doc_id"] for d in read_jsonl(args.data / "docs.jsonl")}
    documents = {
        doc_ids[name]: load_document(name, path)
        for name, path in iter_corpus_files(args.data / "corpus")
    }
    index = Index(list(documents.values()))
    questions = [
        q
        for q in read_jsonl(args.data / "questions.jsonl.gz")
        if in_split(int(q["doc_id"]), args.split)  # type: ignore[call-overload]
    ][:: args.every]
    if args.limit:
        questions = questions[: args.limit]
    if args.off_topic:
        questions += off_topic_questions(args.off_topic, args.data)
    print(
        f"{len(index.sentences)} sentences, {len(questions)} questions "
        f"({sum(bool(q['answerable']) for q in questions)} answerable), split {args.split}, "
        f"indexed in {time.perf_counter() - started:.1f} s"
    )
    settings = with_overrides(AnswerSettings(), args.set)
    started = time.perf_counter()
    if args.alone:
        outcomes = [
            outcome
            for doc_id, document in documents.items()
            for outcome in run(
                Index([document]), [q for q in questions if q["doc_id"] == doc_id], settings
            )
        ]
    else:
        outcomes = run(index, questions, settings)
    ms = (time.perf_counter() - started) * 1000 / max(len(questions), 1)
    threshold = (
        refusal_model().threshold if settings.min_confidence is None else settings.min_confidence
    )
    print(line(f"{' '.join(args.set) or 'default'} t={threshold:g}", figures(outcomes, threshold)))
    print(f"{ms:.2f} ms/question")
    if args.curve:
        print("\ntrade-off curve (threshold: abstain on answerable, refused unanswerable, P@1)")
        for step in range(0, 20):
            threshold = step / 20
            f = figures(outcomes, threshold)
            print(
                f"  t={threshold:.2f}  abstain {100 * f['abstain_answerable']:5.1f}%  "
                f"refuse {100 * f['refuse_unanswerable']:5.1f}%  P@1 {f['P@1']:.3f}"
                f"  MRR@10 {f['MRR@10']:.3f}{_off_topic(f)}"
            )


if __name__ == "__main__":
    main()
