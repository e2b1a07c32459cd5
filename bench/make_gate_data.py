"""Write the quality gate's fixed data into tests/data/ (the tests never read ../shared).

    python bench/make_gate_data.py [--shared ../shared]

- ``tests/data/seed_questions_dev.jsonl``: the dev questions about the shipped corpus, copied;
- ``tests/data/squad2/``: three squad2_dev articles of the refusal model's *test* half (odd
  ``doc_id``), as ``corpus/*.txt`` exactly as the benchmark ships them, and
  ``questions.jsonl`` for ``qabot eval`` (answers are the benchmark's anchors; ``[]`` = refuse),
  every question of those articles, at most 300;
- ``tests/data/reqa/``: three reqa_squad_dev articles that squad2_dev does not have, rebuilt as
  corpus files (a ``title:`` front matter, paragraphs separated by blank lines, sentences joined
  by one space), and ``questions.jsonl`` whose answers are the gold sentences' texts, at most 300.
The output is deterministic.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQUAD2_ARTICLES = ("Sky_United_Kingdom", "Huguenot", "European_Union_law")
REQA_ARTICLES = ("Super Bowl 50", "Nikola Tesla", "Kenya")
MAX_QUESTIONS = 300


def read_jsonl(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )


def thin(records: list[dict[str, object]]) -> list[dict[str, object]]:
    step = max(1, -(-len(records) // MAX_QUESTIONS))
    return records[::step][:MAX_QUESTIONS]


def squad2(source: Path, target: Path) -> None:
    docs = [d for d in read_jsonl(source / "docs.jsonl") if str(d["file"])[3:-4] in SQUAD2_ARTICLES]
    (target / "corpus").mkdir(parents=True, exist_ok=True)
    for d in docs:
        assert int(d["doc_id"]) % 2 == 1, "the gate uses the refusal model's test articles"  # type: ignore[call-overload]
        shutil.copyfile(source / "corpus" / str(d["file"]), target / "corpus" / str(d["file"]))
    ids = {d["doc_id"] for d in docs}
    questions = [q for q in read_jsonl(source / "questions.jsonl.gz") if q["doc_id"] in ids]
    write_jsonl(
        target / "questions.jsonl",
        [{"question": q["question"], "answers": q["anchors"]} for q in thin(questions)],
    )


def reqa(source: Path, target: Path) -> None:
    docs = {
        int(d["doc_id"]): str(d["title"])  # type: ignore[call-overload]
        for d in read_jsonl(source / "docs.jsonl")
        if d["title"] in REQA_ARTICLES
    }
    sentences = read_jsonl(source / "sentences.jsonl.gz")
    (target / "corpus").mkdir(parents=True, exist_ok=True)
    for doc_id, title in docs.items():
        paragraphs: dict[object, list[str]] = {}
        for s in sentences:
            if s["doc_id"] == doc_id:
                paragraphs.setdefault(s["para_id"], []).append(str(s["text"]))
        body = "\n\n".join(" ".join(p) for p in paragraphs.values())
        name = f"{doc_id:02d}_{title.replace(' ', '_')}.txt"
        (target / "corpus" / name).write_text(f"---\ntitle: {title}\n---\n{body}\n", "utf-8")
    questions = [q for q in read_jsonl(source / "questions.jsonl.gz") if q["doc_id"] in docs]
    write_jsonl(
        target / "questions.jsonl",
        [
            {
                "question": q["question"],
                "answers": sorted({str(sentences[int(i)]["text"]) for i in q["gold_sids"]}),  # type: ignore[attr-defined]
            }
            for q in thin(questions)
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    args = parser.parse_args()
    data = REPO / "tests" / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        args.shared / "eval" / "seed_questions_dev.jsonl", data / "seed_questions_dev.jsonl"
    )
    squad2(args.shared / "bench" / "squad2_dev", data / "squad2")
    reqa(args.shared / "bench" / "reqa_squad_dev", data / "reqa")


if __name__ == "__main__":
    main()
