"""Does answering block the bot's event loop? Loop lag while questions are answered.

    python bench/event_loop.py [--corpus corpus] [--questions 200]

A ticker coroutine sleeps 1 ms at a time and records how late it wakes up, while questions are
answered two ways: ``Engine.ask`` (the bot's way: a worker thread) and ``Engine.ask_sync``
called on the loop (the baseline). Prints the answer latency, the ticker's lag (median, p99,
max) for both, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from retrieval.engine import Engine

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
    await work()
    done.set()
    await task
    return lags


def describe(lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0
    return (
        f"median {statistics.median(ordered):6.2f} ms  p99 {p99:6.2f} ms  max {ordered[-1]:6.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine = await Engine.open(args.corpus, Path(tmp) / "bench.sqlite3")
        try:
            stats = engine.stats()
            batch = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.questions)]
            latencies = [engine.ask_sync(q).latency_ms for q in batch]
            print(
                f"{stats.documents} documents, {stats.sentences} sentences; answer latency "
                f"median {statistics.median(latencies):.2f} ms, max {max(latencies):.2f} ms"
            )

            async def threaded() -> None:
                for question in batch:
                    await engine.ask(question)

            async def on_loop() -> None:
                for question in batch:
                    engine.ask_sync(question)
                    await asyncio.sleep(0)

            baseline = await lag_while(on_loop)
            bot = await lag_while(threaded)
        finally:
            await engine.close()
    print(f"loop lag, answering on the loop (baseline): {describe(baseline)}")
    print(f"loop lag, Engine.ask in a worker thread:    {describe(bot)}")
    print(f"max lag ratio thread/baseline: {max(bot) / max(baseline):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
