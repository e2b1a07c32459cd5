"""``qabot run`` as a real process: polls, answers, logs no token, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from fake_telegram import FakeTelegram
from harness import TOKEN, USER

STARTUP_SECONDS = 30


async def test_qabot_run_answers_and_stops_cleanly_on_sigterm(
    fake_telegram: FakeTelegram, bot_corpus: Path, tmp_path: Path
) -> None:
    database = tmp_path / "run.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ADMIN_", "QUESTIONS_", "RESULTS_", "MAX_UPLOAD"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake_telegram.base_url,
        TELEGRAM_BASE_FILE_URL=fake_telegram.base_file_url,
        ADMIN_USER_IDS="1001",
        LOG_LEVEL="DEBUG",  # the most verbose logs must still hold no token
    )
    log_path = tmp_path / "stderr.log"
    with log_path.open("wb") as log:  # a file, not a pipe: DEBUG output could fill a pipe
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--corpus",
            str(bot_corpus),
            "--db",
            str(database),
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            await fake_telegram.wait_for("getUpdates", timeout=STARTUP_SECONDS)
            message = {
                "message_id": 1,
                "date": 0,
                "chat": {"id": USER["id"], "type": "private", "first_name": "Bob"},
                "from": USER,
                "text": "How is Mafra bread baked?",
            }
            fake_telegram.push({"message": message})
            [reply] = await fake_telegram.wait_for(
                "sendMessage", lambda p: p.get("chat_id") == USER["id"]
            )
            assert "<b>Mafra</b>" in reply["text"]
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), STARTUP_SECONDS)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, output[-2000:]
    assert TOKEN.split(":")[1] not in output
    assert f"{fake_telegram.base_url}{TOKEN.split(':')[0]}:<redacted>" in output  # PTB's DEBUG line
    assert "Traceback" not in output
    assert "qabot ready as @qa_test_bot" in output
    # post_shutdown closed the database: the question is there for another connection.
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT question FROM bot_questions").fetchall() == [
            ("How is Mafra bread baked?",)
        ]
