"""Answer-sentence retrieval quality on reqa_squad_dev: qabot's ranking against plain rank-bm25.

    python bench/reqa_squad.py [--data ../shared/bench/reqa_squad_dev] [--limit N]
                               [--flat] [--no-titles]

Both rankers see the benchmark's own sentences and the same tokens (qabot's tokenizer); the
baseline is sentence-level ``BM25Okapi`` with rank-bm25's defaults, scored with ``get_scores``.
Prints P@1, MRR@10, R@3 per ranker, their ratio to the baseline, and ms per query.
``--flat`` and ``--no-titles`` take away the structure qabot's passage and title features use,
as collections without paragraphs or titles (news feeds, plain dumps) would.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval.answer import AnswerSettings, answer, question_terms, rank_sentences
from retrieval.index import Index, IndexSettings
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span
from retrieval.scoring import BM25Parameters
from retrieval.text import tokenize

Ranker = Callable[[str], list[int]]
"""From a question's text to the ids of its best sentences."""


def load(
    data: Path, *, flat: bool = False, titles_kept: bool = True
) -> tuple[list[ParsedDocument], list[dict[str, object]]]:
    """The benchmark's articles as documents; ``flat``: every sentence its own paragraph, and
    ``titles_kept=False``: untitled documents (structure a news feed or a plain dump lacks)."""
    with gzip.open(data / "sentences.jsonl.gz", "rt", encoding="utf-8") as f:
        sentences = [json.loads(line) for line in f]
    with gzip.open(data / "questions.jsonl.gz", "rt", encoding="utf-8") as f:
        questions = [json.loads(line) for line in f]
    titles = {
        d["doc_id"]: d["title"]
        for d in map(json.loads, (data / "docs.jsonl").read_text("utf-8").splitlines())
    }
    documents: list[ParsedDocument] = []
    by_doc: dict[int, list[dict[str, object]]] = {}
    for s in sentences:
        by_doc.setdefault(int(s["doc_id"]), []).append(s)
    for doc_id, rows in sorted(by_doc.items()):
        text, paragraphs, records, position = "", [], [], 0
        paragraph_start, current = 0, None
        for row in rows:
            if current is not None and (flat or row["para_id"] != current):
                paragraphs.append(Span(paragraph_start, position - 1))
                paragraph_start = position
            current = row["para_id"]
            sentence = str(row["text"])
            records.append(
                SentenceRecord(
                    len(paragraphs), position, position + len(sentence), tuple(tokenize(sentence))
                )
            )
            text += sentence + " "
            position = len(text)
        paragraphs.append(Span(paragraph_start, position - 1))
        # Zero-padded: the index orders documents by id, and sentence ids must stay the sids.
        meta = DocumentMeta(id=f"{doc_id:05d}", title=titles[doc_id] if titles_kept else "")
        documents.append(ParsedDocument(meta, text, "", tuple(paragraphs), tuple(records)))
    return documents, questions


def metrics(questions: Sequence[dict[str, object]], rank: Ranker) -> dict[str, float]:
    p1 = mrr = r3 = 0.0
    started = time.perf_counter()
    for q in questions:
        gold = set(q["gold_sids"])  # type: ignore[arg-type]
        ranked = rank(str(q["question"]))[:10]
        hits = [i for i, sid in enumerate(ranked) if sid in gold]
        if hits:
            mrr += 1 / (hits[0] + 1)
            p1 += hits[0] == 0
            r3 += hits[0] < 3
    n = len(questions)
    return {
        "P@1": p1 / n,
        "MRR@10": mrr / n,
        "R@3": r3 / n,
        "ms/query": (time.perf_counter() - started) * 1000 / n,
    }


def baseline(tokens: list[tuple[str, ...]]) -> Ranker:
    model = BM25Okapi(tokens)

    def rank(question: str) -> list[int]:
        query = list(dict.fromkeys(tokenize(question)))
        if not query:
            return []
        scores = model.get_scores(query)
        return [int(i) for i in np.argsort(-scores, kind="stable")[:10]]

    return rank


def qabot(index: Index, settings: AnswerSettings) -> Ranker:
    def rank(question: str) -> list[int]:
        query, weights = question_terms(index, question)
        return [c.sentence for c in rank_sentences(index, query, settings, weights, question)[:10]]

    return rank


def answer_level(
    index: Index, questions: Sequence[dict[str, object]], settings: AnswerSettings
) -> str:
    """What a user sees: how often the bot abstains (every question here is answerable) and
    how often its first quote holds a gold sentence."""
    sids_by_document: dict[str, list[tuple[int, int]]] = {}
    for number, s in enumerate(index.sentences):
        sids_by_document.setdefault(index.documents[s.document].meta.id, []).append(
            (s.start, number)
        )
    abstained = first_hits = 0
    started = time.perf_counter()
    for q in questions:
        result = answer(index, str(q["question"]), settings=settings)
        if result.abstained:
            abstained += 1
            continue
        first = result.quotes[0]
        quoted = {
            sid
            for start, sid in sids_by_document[first.document.id]
            if first.start <= start < first.end
        }
        first_hits += bool(quoted & set(q["gold_sids"]))  # type: ignore[call-overload]
    n = len(questions)
    return (
        f"qabot answers (min_coverage={settings.min_coverage}): abstained on {abstained / n:.3f} of these answerable "
        f"questions; first quote holds a gold sentence for {first_hits / n:.3f}; "
        f"{(time.perf_counter() - started) * 1000 / n:.2f} ms/question"
    )


def with_overrides(settings: AnswerSettings, overrides: Sequence[str]) -> AnswerSettings:
    """``settings`` with ``FIELD=VALUE`` pairs applied (numbers only)."""
    for item in overrides:
        field, value = item.split("=", 1)
        settings = replace(settings, **{field: float(value) if "." in value else int(value)})  # type: ignore[arg-type]
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/bench/reqa_squad_dev"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--sweep", action="store_true", help="also try other passage settings")
    parser.add_argument(
        "--min-coverage",
        type=float,
        default=AnswerSettings().min_coverage,
        help="abstention threshold for the answer-level numbers",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip plain rank-bm25")
    parser.add_argument("--every", type=int, default=1, help="only every K-th question")
    parser.add_argument(
        "--flat", action="store_true", help="every sentence its own paragraph (no passage context)"
    )
    parser.add_argument("--no-titles", action="store_true", help="documents without titles")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="an AnswerSettings field"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    documents, questions = load(args.data, flat=args.flat, titles_kept=not args.no_titles)
    questions = questions[:: args.every]
    if args.limit:
        questions = questions[: args.limit]
    tokens = [s.tokens for d in documents for s in d.sentences]
    print(
        f"{len(tokens)} sentences, {len(questions)} questions, loaded and tokenized in "
        f"{time.perf_counter() - started:.1f} s"
    )

    plain = (
        {"P@1": 0.0, "MRR@10": 0.0, "R@3": 0.0, "ms/query": 0.0}
        if args.no_baseline
        else metrics(questions, baseline(tokens))
    )
    rows: list[tuple[str, dict[str, float]]] = [
        ("rank-bm25 BM25Okapi sentences (k1=1.5, b=0.75)", plain)
    ]
    default_index = IndexSettings()
    default_answer = with_overrides(AnswerSettings(), args.set)
    configs = [("qabot default", default_index, default_answer)]
    if args.sweep:
        # The passage unit and its weight, with Lucene's BM25 parameters (the best on a first
        # sweep over 2,000 questions, where k1=1.2/1.5 with b=0.75 lost 0.5-2 points of P@1).
        lucene = BM25Parameters(0.9, 0.4)
        for window, weight in ((0, 0.0), (1, 1.0), (1, 2.0), (None, 0.5), (None, 1.0), (None, 2.0)):
            unit = "paragraph" if window is None else f"sentence ±{window}"
            configs.append(
                (
                    f"passage={unit} weight={weight} k1=0.9 b=0.4",
                    IndexSettings(passage_window=window, sentence_bm25=lucene, passage_bm25=lucene),
                    replace(default_answer, passage_weight=weight),
                )
            )
    indexes: dict[IndexSettings, Index] = {}
    for name, index_settings, answer_settings in configs:
        index = indexes.get(index_settings) or Index(documents, index_settings)
        assert [index.documents[i].meta.id for i in range(len(documents))] == [
            d.meta.id for d in documents
        ], "the index must keep the benchmark's sentence order"
        indexes[index_settings] = index
        rows.append((name, metrics(questions, qabot(index, answer_settings))))
        print_row(name, rows[-1][1], rows[0][1], flush=True)
    print()
    print(
        answer_level(
            indexes[default_index],
            questions,
            replace(default_answer, min_coverage=args.min_coverage),
        )
    )
    print()
    print_row(rows[0][0], rows[0][1], rows[0][1])
    for name, values in rows[1:]:
        print_row(name, values, rows[0][1])


def print_row(
    name: str, values: dict[str, float], base: dict[str, float], flush: bool = False
) -> None:
    ratio = values["P@1"] / base["P@1"] if base["P@1"] else 0.0
    print(
        f"{name:55s} P@1 {values['P@1']:.3f}  MRR@10 {values['MRR@10']:.3f}  R@3 {values['R@3']:.3f}"
        f"  ({ratio:.3f}x baseline P@1)  {values['ms/query']:.2f} ms/query",
        flush=flush,
    )


if __name__ == "__main__":
    main()
