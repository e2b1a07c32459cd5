"""Scale benchmark: qabot at 10k / 100k / 1M sentences against bm25s, SQLite FTS5 and rank-bm25.

    python bench/scale.py --quick            # 10k and 100k sentences, a few minutes
    python bench/scale.py                    # 10k, 100k and 1M sentences (about half an hour)
    python bench/scale.py --sizes 1000000 --questions 200

Corpora are generated on the fly (never committed) from ../shared/bench/reqa_squad_dev: its real
paragraphs first, then synthetic sentences drawn from its sentence lengths and word frequencies,
about 125 sentences per file. For each size, through the real command line in child processes:
``qabot index`` from scratch (wall time, peak RSS), a one-question ``qabot ask`` (start-up),
``qabot ask --json`` over the questions (``latency_ms`` per answer, RSS while serving), one
changed file followed by ``qabot index``. In the same run, on the same tokens: bm25s (numba
backend) top-10, SQLite FTS5 ``bm25()`` top-10 and rank-bm25 ``BM25Okapi.get_scores``; and
qabot's sentence top-10 is checked against ``get_scores`` (ids and scores). Writes
``docs/benchmarks.md`` and ``docs/benchmarks.png``. Needs ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SENTENCES_PER_FILE = 125
SENTENCES_PER_PARAGRAPH = 5


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def load_reqa(data: Path) -> tuple[list[list[str]], list[str]]:
    """Paragraphs (lists of sentences) and questions of the benchmark."""
    paragraphs: dict[int, list[str]] = {}
    with gzip.open(data / "sentences.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            paragraphs.setdefault(int(row["para_id"]), []).append(str(row["text"]))
    with gzip.open(data / "questions.jsonl.gz", "rt", encoding="utf-8") as f:
        questions = [str(json.loads(line)["question"]) for line in f]
    return list(paragraphs.values()), questions


def generate(directory: Path, size: int, paragraphs: list[list[str]], seed: int = 13) -> int:
    """Write a corpus of about ``size`` sentences into ``directory``; returns the bytes written."""
    rng = random.Random(seed)
    sentences = [s for p in paragraphs for s in p]
    lengths = [len(s.split()) for s in sentences]
    counts = Counter(w for s in sentences for w in s.split()[1:])
    words, weights = zip(*counts.items(), strict=True)
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    cumulative /= cumulative[-1]
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    real = [list(p) for p in paragraphs]
    total = written = files = 0
    np_rng = np.random.default_rng(seed)
    while total < size:
        body: list[str] = []
        in_file = 0
        while in_file < SENTENCES_PER_FILE and total < size:
            if real:
                paragraph = real.pop(0)
            else:
                paragraph = []
                for _ in range(SENTENCES_PER_PARAGRAPH):
                    n = max(3, rng.choice(lengths))
                    picks = np.searchsorted(cumulative, np_rng.random(n))
                    tokens = [words[min(i, len(words) - 1)] for i in picks]
                    text = " ".join(tokens).rstrip(".,;:")
                    paragraph.append(text[:1].upper() + text[1:] + ".")
            body.append(" ".join(paragraph))
            in_file += len(paragraph)
            total += len(paragraph)
        data = f"Generated document {files}\n\n" + "\n\n".join(body) + "\n"
        path = directory / f"{files // 1000:03d}" / f"doc{files:06d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(data, encoding="utf-8")
        written += len(data.encode("utf-8"))
        files += 1
    return written


def run_rss(args: list[str], stdin: str | None = None) -> tuple[float, int, str]:
    """Like :func:`run`, with the peak RSS of the child measured by the OS."""
    started = time.perf_counter()
    with subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_USER_ENV,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        if stdin is not None:
            process.stdin.write(stdin)
        process.stdin.close()
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed with exit code {process.returncode}")
    return wall, usage.ru_maxrss * 1024, out


# Timed as a user runs it: the installed `qabot` command, with Python's bytecode cache on (a
# sandbox's PYTHONDONTWRITEBYTECODE would recompile every module at every start).
_USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_COMMAND = Path(sys.executable).with_name("qabot")


def qabot(corpus: Path, database: Path, *args: str) -> list[str]:
    command = [str(_COMMAND)] if _COMMAND.exists() else [sys.executable, "-m", "bot.cli"]
    return [*command, "--corpus", str(corpus), "--db", str(database), *args]


def tokens_of_index(database: Path, corpus: Path) -> tuple[list[list[str]], list[int], object]:
    from retrieval.engine import Engine

    async def load() -> tuple[list[list[str]], list[int], object]:
        engine = await Engine.open(corpus, database, build=False)
        index = engine.index
        # The live sentences (an update leaves deleted ones in older segments), in id order.
        live = [
            part.sentence_offset + local
            for part in index.parts
            for local in range(len(part.segment))
            if int(part.segment.sentence_document[local]) not in part.deleted
        ]
        tokens = [list(index.sentence_tokens[i]) for i in live]
        await engine.close()
        return tokens, live, index

    return asyncio.run(load())


def baselines(
    tokens: list[list[str]],
    live: list[int],
    queries: list[list[str]],
    index: object,
    slow_queries: int,
) -> dict[str, object]:
    """Latency of bm25s (numba), SQLite FTS5 and rank-bm25 on the same tokens; qabot's top-10
    checked against get_scores."""
    from rank_bm25 import BM25Okapi

    from retrieval.index import Index

    assert isinstance(index, Index)
    parameters = index.settings.sentence_bm25
    result: dict[str, object] = {}
    # qabot's own top-10 (sentence level only), for the kernel-only comparison.
    times = []
    for q in queries:
        started = time.perf_counter()
        index.sentence_scorer.top(q, 10)
        times.append((time.perf_counter() - started) * 1000)
    result["qabot sentence top-10"] = times

    try:
        import bm25s

        started = time.perf_counter()
        retriever = bm25s.BM25(k1=parameters.k1, b=parameters.b, backend="numba")
        vocabulary: dict[str, int] = {}
        ids = [[vocabulary.setdefault(t, len(vocabulary)) for t in s] for s in tokens]
        retriever.index(
            bm25s.tokenization.Tokenized(ids=ids, vocab=vocabulary), show_progress=False
        )
        result["bm25s build s"] = time.perf_counter() - started
        times = []
        for n, q in enumerate(queries):
            known = [vocabulary[t] for t in q if t in vocabulary]
            if not known:
                continue
            query = bm25s.tokenization.Tokenized(ids=[known], vocab=vocabulary)
            started = time.perf_counter()
            retriever.retrieve(query, k=10, show_progress=False, n_threads=1)
            if n:  # the first call compiles
                times.append((time.perf_counter() - started) * 1000)
        result["bm25s (numba) top-10"] = times
    except ImportError:
        print("bm25s/numba not installed: pip install -e '.[bench]'", file=sys.stderr)

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61')")
    connection.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)",
                           ((i, " ".join(s)) for i, s in enumerate(tokens)))  # fmt: skip
    times = []
    for q in queries:
        words = [w for w in dict.fromkeys(q) if re.fullmatch(r"\w+", w)]
        if not words:
            continue
        match = " OR ".join(f'"{w}"' for w in words)
        started = time.perf_counter()
        connection.execute(
            "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 10", (match,)
        ).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    result["SQLite FTS5 top-10"] = times
    connection.close()

    bm25 = BM25Okapi(tokens, k1=parameters.k1, b=parameters.b)
    times, same_ids, same_scores, checked = [], 0, 0, 0
    for q in queries[:slow_queries]:
        started = time.perf_counter()
        scores = bm25.get_scores(q)
        times.append((time.perf_counter() - started) * 1000)
        holding = np.flatnonzero(scores != 0) if len(q) else np.empty(0, int)
        expected = sorted(holding.tolist(), key=lambda i: (-scores[i], i))[:10]
        hits = index.sentence_scorer.top(q, 10)
        checked += 1
        same_ids += [h.unit for h in hits] == [live[i] for i in expected]
        same_scores += [h.score for h in hits] == [float(scores[i]) for i in expected]
    result["rank-bm25 get_scores"] = times
    result["top-10 check"] = f"{same_ids}/{checked} same ids, {same_scores}/{checked} same scores"
    return result


def measure(size: int, work: Path, paragraphs: list[list[str]], questions: list[str],
            slow_queries: int) -> dict[str, object]:  # fmt: skip
    from retrieval.text import tokenize

    corpus, database = work / f"corpus-{size}", work / f"db-{size}" / "qabot.sqlite3"
    shutil.rmtree(database.parent, ignore_errors=True)
    megabytes = generate(corpus, size, paragraphs) / 1e6
    row: dict[str, object] = {"size": size, "MB": megabytes}
    wall, rss, out = run_rss(qabot(corpus, database, "index"))
    row["index s"], row["index RSS MB"] = wall, rss / 1e6
    row["sentences"] = int(re.search(r"(\d+) sentences", out).group(1)) if re.search(
        r"(\d+) sentences", out) else size  # fmt: skip
    wall, rss, _ = run_rss(qabot(corpus, database, "ask", questions[0]))
    row["start-up s"] = wall
    lines = "\n".join(questions) + "\n"
    _, rss, out = run_rss(qabot(corpus, database, "ask", "--json"), lines)
    latencies = [json.loads(line)["latency_ms"] for line in out.splitlines() if line.strip()]
    row["ask ms"] = latencies
    row["serving RSS MB"] = rss / 1e6
    # One changed file, then an update.
    files = sorted(corpus.rglob("*.txt"))
    first = files[len(files) // 2]
    first.write_text(first.read_text("utf-8") + "\n\nAn added closing sentence.\n", "utf-8")
    wall, rss, _ = run_rss(qabot(corpus, database, "index"))
    row["one-file index s"], row["update RSS MB"] = wall, rss / 1e6
    tokens, live, index = tokens_of_index(database, corpus)
    queries = [list(dict.fromkeys(tokenize(q))) for q in questions]
    row.update(baselines(tokens, live, queries, index, slow_queries))
    return row


def summary(values: object) -> str:
    if not isinstance(values, list):
        return f"{values:.2f}" if isinstance(values, float) else str(values)
    return (f"{statistics.median(values):.2f} / {percentile(values, 95):.2f} / "
            f"{max(values):.2f}")  # fmt: skip


ENGINES: tuple[str, ...] = ("ask ms", "qabot sentence top-10", "bm25s (numba) top-10", "SQLite FTS5 top-10",
           "rank-bm25 get_scores")  # fmt: skip


def write_report(rows: list[dict[str, object]], out: Path, command: str) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d')} ({os.cpu_count()} cores).",
        "Latencies in ms as median / p95 / max; every engine measured in the same run on the",
        "same sentences and tokens (qabot's tokenizer). `ask ms` is qabot's whole answer",
        "(tokenizing, both BM25 levels, quote composition) as `qabot ask --json` reports it;",
        "the others rank sentences only (top-10).",
        "",
        "| sentences | MB | " + " | ".join(ENGINES) + " |",
        "|---|---|" + "---|" * len(ENGINES),
    ]
    for row in rows:
        cells = [summary(row.get(e, "n/a")) for e in ENGINES]
        lines.append(f"| {row['sentences']:,} | {row['MB']:.0f} | " + " | ".join(cells) + " |")
    lines += ["", "| sentences | index s | index RSS MB | start-up s | serving RSS MB | "
              "one-file index s | update RSS MB | top-10 vs get_scores |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        lines.append(
            f"| {row['sentences']:,} | {row['index s']:.1f} | {row['index RSS MB']:.0f} | "
            f"{row['start-up s']:.2f} | {row['serving RSS MB']:.0f} | "
            f"{row['one-file index s']:.2f} | {row['update RSS MB']:.0f} | {row['top-10 check']} |"
        )
    lines += ["", "![latency against corpus size](benchmarks.png)", ""]
    out.write_text("\n".join(lines), "utf-8")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for engine in ENGINES:
        points = [(r["sentences"], statistics.median(r[engine])) for r in rows
                  if isinstance(r.get(engine), list) and r[engine]]  # fmt: skip
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=engine)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("sentences")
    axes.set_ylabel("median latency (ms)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out.with_suffix(".png"), dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/reqa_squad_dev")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qabot-scale"))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--slow-queries", type=int, default=50,
                        help="questions for rank-bm25 get_scores and the top-10 check")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="10k and 100k, fewer questions")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.questions, args.slow_queries = "10000,100000", 100, 20
    paragraphs, questions = load_reqa(args.data)
    random.Random(7).shuffle(questions)
    questions = questions[: args.questions]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"measuring {size:,} sentences ...", file=sys.stderr, flush=True)
        row = measure(size, args.work, paragraphs, questions, args.slow_queries)
        rows.append(row)
        print(json.dumps({k: summary(v) for k, v in row.items()}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(rows, args.out, "python bench/scale.py " + " ".join(sys.argv[1:]))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
