"""Does answering block the bot's event loop? Loop lag while questions are answered.

    python bench/event_loop.py [--corpus corpus] [--questions 200] [--scales 1,100,1000]

For each scale, the shipped corpus is copied that many times (parsed once, each copy a
document of its own) into an in-memory index. A ticker coroutine sleeps 1 ms at a time and
records how late it wakes up while questions are answered two ways: in a worker thread, as
``Engine.ask`` does for the bot, and on the loop itself (the baseline). Prints the answer
latency, the ticker's lag (median, p99, max) for both, and the ratio of the worst lags.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from retrieval.answer import answer
from retrieval.corpus import iter_corpus_files, load_document
from retrieval.index import Index
from retrieval.models import ParsedDocument

QUESTIONS = [
    "Which villages of Fuzuli district were liberated?",
    "What did Aliyev call a source of great threat to the region?",
    "Who said NATO is deeply concerned by violations of the cease-fire?",
    "What do video clips on social media show?",
    "What is the capital of France?",
]


async def lag_while(work: Callable[[], Awaitable[None]]) -> list[float]:
    """Milliseconds by which a 1 ms sleep overslept, sampled while ``work`` runs."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - started) * 1000 - 1)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await work()
    done.set()
    await task
    return lags


def describe(lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[max(int(len(ordered) * 0.99) - 1, 0)]
    return f"median {statistics.median(ordered):7.2f}  p99 {p99:7.2f}  max {ordered[-1]:7.2f} ms"


def copies(documents: list[ParsedDocument], scale: int) -> list[ParsedDocument]:
    return [
        replace(d, meta=replace(d.meta, id=f"copy{n}/{d.meta.id}"))
        for n in range(scale)
        for d in documents
    ]


async def measure(index: Index, batch: list[str]) -> None:
    latencies = [answer(index, q).latency_ms for q in batch]
    stats = index.stats()
    print(
        f"\n{stats.documents} documents, {stats.sentences} sentences: answer latency median "
        f"{statistics.median(latencies):.2f} ms, max {max(latencies):.2f} ms"
    )

    async def in_thread() -> None:
        for question in batch:
            await asyncio.to_thread(answer, index, question)

    async def on_loop() -> None:
        for question in batch:
            answer(index, question)
            await asyncio.sleep(0)

    baseline = await lag_while(on_loop)
    threaded = await lag_while(in_thread)
    print(f"  loop lag, answering on the loop (baseline): {describe(baseline)}")
    print(f"  loop lag, answering in a worker thread:     {describe(threaded)}")
    print(f"  worst lag, thread / baseline: {max(threaded) / max(baseline):.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--scales", default="1,100,1000", help="comma-separated copy counts")
    args = parser.parse_args()

    documents = [load_document(i, p) for i, p in iter_corpus_files(args.corpus)]
    batch = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.questions)]
    for scale in (int(s) for s in args.scales.split(",")):
        await measure(Index(copies(documents, scale)), batch)


if __name__ == "__main__":
    asyncio.run(main())
