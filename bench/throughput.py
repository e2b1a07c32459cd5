"""Bot throughput and latency through the real Application, over HTTP, against the fake Bot API.

    python bench/throughput.py burst  [--questions 2000] [--users 100]
    python bench/throughput.py paced  [--rate 10] [--seconds 20] [--users 100]
    python bench/throughput.py soak   [--questions 10000] [--users 100] [--errors 0.05]

* ``burst``: every question is pushed at once; prints answered questions per second (first push
  to last answer), latency percentiles, and how many were lost or answered twice.
* ``paced``: questions arrive at ``--rate`` per second; prints update -> sendMessage latency
  (push to the fake receiving the answer) at p50 / p95 / max.
* ``soak``: a burst with ``--errors`` of ``sendMessage`` calls failing with a 5xx (JSON or an
  nginx HTML page) and some 429s; prints the same plus the process RSS before and after.

The bot is the one ``qabot run`` builds (``AIORateLimiter`` with Telegram's limits: 30 messages
a second, 1 a second per chat), with ``QUESTIONS_PER_MINUTE=0``. The fake server lives in
``tests/bot/fake_telegram.py``; nothing here leaves 127.0.0.1. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "bot"))

from fake_telegram import BAD_GATEWAY_HTML, SERVER_ERROR, TOO_MANY, FakeTelegram  # noqa: E402
from harness import BREAD, LIGHTHOUSES, TOKEN  # noqa: E402

from bot.app import ALLOWED_UPDATES, build_application  # noqa: E402
from bot.config import load_config  # noqa: E402

QUESTIONS = [
    "What guards the mouth of the Tagus river?",
    "Who rowed supplies to the Bugio lighthouse?",
    "How is Mafra bread baked?",
    "When was the lamp of Cape Roca first lit?",
    "What is the capital of France?",
]


def rss_mb() -> float:
    """Resident set size now (Linux /proc), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Run:
    """Pushes questions and matches the answers the fake received to them."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.pushed: dict[tuple[int, int], float] = {}
        self._message_ids: dict[int, int] = {}

    def ask(self, user_id: int, text: str) -> None:
        message_id = self._message_ids.get(user_id, 0) + 1
        self._message_ids[user_id] = message_id
        user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}
        self.pushed[(user_id, message_id)] = time.monotonic()
        self.fake.push(
            {
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
                    "from": user,
                    "text": text,
                }
            }
        )

    def answers(self) -> dict[tuple[int, int], list[float]]:
        """(chat, question message id) -> when each delivered answer arrived."""
        found: dict[tuple[int, int], list[float]] = {}
        for call in self.fake.requests("sendMessage"):
            reply = call.params.get("reply_parameters") or {}
            if "_result" in call.params and "message_id" in reply:
                key = (int(call.params["chat_id"]), int(reply["message_id"]))
                found.setdefault(key, []).append(call.at)
        return found

    async def wait(self, timeout: float) -> dict[tuple[int, int], list[float]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.answers()
            if all(key in found for key in self.pushed) or time.monotonic() > deadline:
                # A moment more, so that a late duplicate would be counted.
                await asyncio.sleep(0.5)
                return self.answers()
            await asyncio.sleep(0.05)

    def report(self, found: dict[tuple[int, int], list[float]], started: float) -> None:
        latencies = [(found[k][0] - t) * 1000 for k, t in self.pushed.items() if k in found]
        lost = sum(1 for k in self.pushed if k not in found)
        duplicated = sum(1 for k in self.pushed if len(found.get(k, ())) > 1)
        last = max((v[0] for v in found.values()), default=started)
        elapsed = last - started
        answered = len(self.pushed) - lost
        typing = len(self.fake.requests("sendChatAction"))
        failed = len(self.fake.requests("sendMessage")) - sum(len(v) for v in found.values())
        print(f"questions        {len(self.pushed)}")
        print(f"answered         {answered}  lost {lost}  duplicated {duplicated}")
        print(f"elapsed          {elapsed:.2f} s  ->  {answered / elapsed:.1f} answered/s")
        print(
            "latency ms       p50 {:.0f}  p95 {:.0f}  max {:.0f}".format(
                statistics.median(latencies) if latencies else float("nan"),
                percentile(latencies, 0.95),
                max(latencies, default=float("nan")),
            )
        )
        print(f"sendChatAction   {typing}   failed sendMessage attempts {failed}")


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    fake = FakeTelegram(TOKEN)
    fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / "lighthouses.md").write_text(LIGHTHOUSES, encoding="utf-8")
        (corpus / "bread.txt").write_text(BREAD, encoding="utf-8")
        config = load_config(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_BASE_URL": fake.base_url,
                "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
                "CORPUS_DIR": str(corpus),
                "DATABASE_PATH": str(Path(tmp) / "qabot.sqlite3"),
                "QUESTIONS_PER_MINUTE": "0",
            }
        )
        app = build_application(config)
        assert app.post_init is not None and app.post_shutdown is not None
        assert app.updater is not None
        async with AsyncExitStack() as stack:
            stack.push_async_callback(app.post_shutdown, app)
            await app.initialize()
            stack.push_async_callback(app.shutdown)
            await app.post_init(app)
            await app.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
            )
            await app.start()
            stack.push_async_callback(app.stop)
            stack.push_async_callback(app.updater.stop)
            await run_mode(args, fake)
    fake.stop()


async def run_mode(args: argparse.Namespace, fake: FakeTelegram) -> None:
    run = Run(fake)
    users = [50_000 + n for n in range(args.users)]
    # Warm up: one question answered before measuring (first index access, connections).
    run.ask(1, QUESTIONS[0])
    await run.wait(30)
    run.pushed.clear()
    print(f"mode {args.mode}, {args.users} users")
    if args.mode in ("burst", "soak"):
        if args.mode == "soak":
            fake.inject("sendMessage", SERVER_ERROR, times=None, probability=args.errors, seed=1)
            fake.inject("sendMessage", BAD_GATEWAY_HTML, times=None, probability=args.errors / 5)
            fake.inject("sendMessage", TOO_MANY, times=5, probability=0.01)
            print(f"rss before       {rss_mb():.0f} MB")
        started = time.monotonic()
        for n in range(args.questions):
            run.ask(users[n % len(users)], QUESTIONS[n % len(QUESTIONS)])
        found = await run.wait(args.timeout)
        run.report(found, started)
        if args.mode == "soak":
            print(f"rss after        {rss_mb():.0f} MB")
    else:
        started = time.monotonic()
        total = int(args.rate * args.seconds)
        for n in range(total):
            await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            run.ask(users[n % len(users)], QUESTIONS[n % len(QUESTIONS)])
        found = await run.wait(args.timeout)
        run.report(found, started)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["burst", "paced", "soak"])
    parser.add_argument("--questions", type=int, default=None)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--errors", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for answers")
    args = parser.parse_args()
    if args.questions is None:
        args.questions = 10_000 if args.mode == "soak" else 2_000
    if args.timeout is None:
        args.timeout = max(60.0, args.questions / 10)
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
