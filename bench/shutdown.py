"""SIGTERM with a backlog: how long ``qabot run`` takes to exit, and whether anything is lost.

    python bench/shutdown.py [--backlog 300]

Starts ``qabot run`` as a child process against the fake Bot API (127.0.0.1), pushes
``--backlog`` questions from as many users, sends SIGTERM once all are fetched and confirmed
to Telegram (a later ``offset``) and the first answer is out, and
times the exit. Then starts it again and counts the questions answered across both runs
(each should be exactly once). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "bot"))

from fake_telegram import FakeTelegram  # noqa: E402
from harness import BREAD, LIGHTHOUSES, TOKEN  # noqa: E402


def answered(fake: FakeTelegram) -> Counter[tuple[int, int]]:
    return Counter(
        (int(p["chat_id"]), int(p["reply_parameters"]["message_id"]))
        for p in fake.delivered()
        if p.get("reply_parameters")
    )


def start(fake: FakeTelegram, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "CORPUS_DIR": str(tmp / "corpus"),
        "DATABASE_PATH": str(tmp / "qabot.sqlite3"),
        "QUESTIONS_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp)


def wait_until(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=300)
    args = parser.parse_args()
    fake = FakeTelegram(TOKEN)
    fake.start()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "corpus").mkdir()
        (tmp / "corpus" / "lighthouses.md").write_text(LIGHTHOUSES, encoding="utf-8")
        (tmp / "corpus" / "bread.txt").write_text(BREAD, encoding="utf-8")
        keys = []
        for n in range(args.backlog):
            user = {"id": 60_000 + n, "is_bot": False, "first_name": f"U{n}"}
            chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
            text = "What guards the mouth of the Tagus river?"
            message = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": user}
            fake.push({"message": {**message, "text": text}})
            keys.append((user["id"], 1))
        bot = start(fake, tmp)
        # Every question fetched and confirmed to Telegram (a later offset), one answered.
        wait_until(
            lambda: (
                answered(fake)
                and any(
                    int(p.get("offset") or 0) > args.backlog
                    for p in fake.requests_params("getUpdates")
                )
            ),
            60,
        )
        sent = time.monotonic()
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(60)
        took = time.monotonic() - sent
        first_run = len(answered(fake))
        print(f"backlog {args.backlog}: exit code {code} after SIGTERM in {took:.2f} s")
        print(
            f"answered before exit {first_run}, left for the next start {args.backlog - first_run}"
        )
        bot = start(fake, tmp)
        wait_until(lambda: all(k in answered(fake) for k in keys), 120)
        bot.send_signal(signal.SIGTERM)
        bot.wait(60)
        counts = answered(fake)
        lost = sum(1 for k in keys if counts[k] == 0)
        twice = sum(1 for k in keys if counts[k] > 1)
        print(f"after the restart: answered {args.backlog - lost}, lost {lost}, duplicated {twice}")
    fake.stop()


if __name__ == "__main__":
    main()
