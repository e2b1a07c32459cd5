"""Webhook mode end to end: the fake Bot API POSTs updates to PTB's own webhook server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from harness import ADMIN_ID, TOKEN, USER, Harness

from bot import webhook
from bot.access import NOT_ALLOWED
from bot.app import ALLOWED_UPDATES, build_application, is_healthy
from bot.config import load_config

SECRET = "s3cret-Token_for-tests"
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()
    except urllib.error.URLError as exc:  # not listening yet
        return 0, str(exc.reason)


def message(text: str, message_id: int) -> dict[str, object]:
    body: dict[str, object] = {
        "message_id": message_id,
        "date": 0,
        "chat": {"id": USER["id"], "type": "private", "first_name": "Bob"},
        "from": USER,
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


def replies(fake: FakeTelegram, message_id: int) -> list[dict[str, object]]:
    return [
        p
        for p in fake.requests_params("sendMessage")
        if (p.get("reply_parameters") or {}).get("message_id") == message_id
    ]


StartWebhookBot = Callable[..., Awaitable[tuple[Harness, int]]]


@pytest.fixture
async def start_webhook_bot(
    fake_telegram: FakeTelegram, bot_corpus: Path, tmp_path: Path
) -> AsyncIterator[StartWebhookBot]:
    """The application ``qabot run`` builds, started as ``run_webhook`` starts it; the health
    route is checked before ``post_init`` (503) and after (200)."""
    async with AsyncExitStack() as stack:

        async def start(**settings: str) -> tuple[Harness, int]:
            port = free_port()
            config = load_config(
                {
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_BASE_URL": fake_telegram.base_url,
                    "TELEGRAM_BASE_FILE_URL": fake_telegram.base_file_url,
                    "ADMIN_USER_IDS": str(ADMIN_ID),
                    "CORPUS_DIR": str(bot_corpus),
                    "DATABASE_PATH": str(tmp_path / "db" / "qabot.sqlite3"),
                    "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                    "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                    "WEBHOOK_SECRET": SECRET,
                    **settings,
                }
            )
            assert config.webhook is not None
            app = build_application(config)
            assert app.post_init is not None and app.post_shutdown is not None
            assert app.updater is not None
            own = AsyncExitStack()
            await stack.enter_async_context(own)
            own.callback(webhook.shutdown)
            own.push_async_callback(app.post_shutdown, app)
            await app.initialize()
            own.push_async_callback(app.shutdown)
            webhook.initialize(lambda: is_healthy(app))
            await app.updater.start_webhook(
                **webhook.webhook_arguments(config.webhook), allowed_updates=ALLOWED_UPDATES
            )
            own.push_async_callback(app.updater.stop)
            status, body = await asyncio.to_thread(http_get, f"http://127.0.0.1:{port}/healthz")
            assert (status, body) == (503, "starting\n")
            await app.post_init(app)
            await app.start()
            own.push_async_callback(app.stop)
            return Harness(fake_telegram, app, config, own.aclose), port

        yield start


async def test_updates_posted_with_the_secret_are_answered(
    start_webhook_bot: StartWebhookBot, fake_telegram: FakeTelegram
) -> None:
    harness, port = await start_webhook_bot()
    assert fake_telegram.webhook is not None
    assert fake_telegram.webhook["url"] == f"http://127.0.0.1:{port}/telegram"
    assert fake_telegram.webhook["secret_token"] == SECRET
    assert fake_telegram.webhook["allowed_updates"] == list(ALLOWED_UPDATES)
    assert fake_telegram.requests("getUpdates") == []

    status = await asyncio.to_thread(fake_telegram.deliver, message("How is Mafra bread baked?", 7))
    assert status == 200
    [reply] = await fake_telegram.wait_for(
        "sendMessage", lambda p: (p.get("reply_parameters") or {}).get("message_id") == 7
    )
    assert "<b>Mafra</b>" in reply["text"]
    assert await asyncio.to_thread(http_get, f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
    await harness.stop()


async def test_allow_lists_hold_in_webhook_mode(
    start_webhook_bot: StartWebhookBot, fake_telegram: FakeTelegram
) -> None:
    # Only user 4242 (and the admin) may ask: USER is refused without any corpus text.
    harness, _ = await start_webhook_bot(ALLOWED_USER_IDS="4242")
    status = await asyncio.to_thread(fake_telegram.deliver, message("How is Mafra bread baked?", 8))
    assert status == 200
    [refusal] = await fake_telegram.wait_for(
        "sendMessage", lambda p: (p.get("reply_parameters") or {}).get("message_id") == 8
    )
    assert refusal["text"] == NOT_ALLOWED
    admin = message("How is Mafra bread baked?", 9)
    body = admin["message"]
    assert isinstance(body, dict)
    body["from"] = {"id": ADMIN_ID, "is_bot": False, "first_name": "Ada"}
    body["chat"] = {"id": ADMIN_ID, "type": "private", "first_name": "Ada"}
    assert await asyncio.to_thread(fake_telegram.deliver, admin) == 200
    [answer] = await fake_telegram.wait_for(
        "sendMessage", lambda p: (p.get("reply_parameters") or {}).get("message_id") == 9
    )
    assert "<b>Mafra</b>" in answer["text"]
    await harness.stop()


async def test_requests_without_the_right_secret_are_refused_and_never_handled(
    start_webhook_bot: StartWebhookBot, fake_telegram: FakeTelegram
) -> None:
    harness, _ = await start_webhook_bot()
    wrong = await asyncio.to_thread(
        fake_telegram.deliver, message("How is Mafra bread baked?", 1), secret="wrong"
    )
    missing = await asyncio.to_thread(
        fake_telegram.deliver, message("Who lit the Cape Roca lamp?", 2), secret=None
    )
    assert (wrong, missing) == (403, 403)
    # An accepted update after them, answered: the refused ones would have been handled first.
    assert await asyncio.to_thread(fake_telegram.deliver, message("/help", 3)) == 200
    await fake_telegram.wait_for(
        "sendMessage", lambda p: (p.get("reply_parameters") or {}).get("message_id") == 3
    )
    await asyncio.sleep(0.2)
    assert replies(fake_telegram, 1) == [] and replies(fake_telegram, 2) == []
    async with harness.state.storage.db.execute("SELECT COUNT(*) FROM bot_questions") as cursor:
        assert await cursor.fetchone() == (0,)
    await harness.stop()


async def test_polling_after_webhook_deletes_the_webhook(
    start_webhook_bot: StartWebhookBot,
    start_bot: Callable[..., Awaitable[Harness]],
    fake_telegram: FakeTelegram,
) -> None:
    harness, _ = await start_webhook_bot()
    await harness.stop()
    assert fake_telegram.webhook is not None
    polling = await start_bot()
    assert fake_telegram.webhook is None
    assert fake_telegram.requests("deleteWebhook")
    [reply] = await polling.replies_to(polling.message("How is Mafra bread baked?"))
    assert "<b>Mafra</b>" in reply["text"]


def run_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ADMIN_", "WEBHOOK_", "LOG_", "WATCH_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
        **extra,
    )
    return env


async def test_qabot_run_in_webhook_mode(
    fake_telegram: FakeTelegram, bot_corpus: Path, tmp_path: Path
) -> None:
    port = free_port()
    database = tmp_path / "run.sqlite3"
    env = run_env(
        fake_telegram,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,
        LOG_FORMAT="json",
    )
    log_path = tmp_path / "stderr.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot.cli", "run", "--corpus", str(bot_corpus), "--db", str(database)),
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            await fake_telegram.wait_for("setWebhook", timeout=STARTUP_SECONDS)
            # setWebhook comes just before the server listens.
            for _ in range(200):
                status, _body = await asyncio.to_thread(
                    http_get, f"http://127.0.0.1:{port}/healthz"
                )
                if status == 200:
                    break
                await asyncio.sleep(0.05)
            assert status == 200
            delivered = await asyncio.to_thread(
                fake_telegram.deliver, message("How is Mafra bread baked?", 5)
            )
            assert delivered == 200
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
    assert "Traceback" not in output
    assert SECRET not in output
    assert fake_telegram.requests("getUpdates") == []
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM bot_questions").fetchone() == (1,)
    # LOG_FORMAT=json: every line is one JSON object; the question has its own line.
    records = [json.loads(line) for line in output.splitlines()]
    [question] = [r for r in records if r.get("event") == "question"]
    assert question["level"] == "INFO" and question["refused"] is False
    assert question["user_id"] == USER["id"] and isinstance(question["update_id"], int)
    assert any("qabot ready as @qa_test_bot" in r["message"] for r in records)


async def test_webhook_without_a_secret_is_one_line_and_exit_2(
    fake_telegram: FakeTelegram, bot_corpus: Path, tmp_path: Path
) -> None:
    # The other webhook setting errors take the same path (test_config_production).
    error = "WEBHOOK_SECRET is required when WEBHOOK_URL is set"
    env = run_env(fake_telegram, WEBHOOK_URL="https://bot.example.org/hook")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot.cli", "run", "--corpus", str(bot_corpus), "--db", str(tmp_path / "x.db")),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
    assert process.returncode == 2
    lines = err.decode().splitlines()
    assert len(lines) == 1 and error in lines[0], err
    assert fake_telegram.requests() == []
