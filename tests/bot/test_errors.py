"""The bot token never reaches the logs; failures are described by their update."""

from __future__ import annotations

import logging

import pytest
from harness import TOKEN, USER, StartBot
from telegram import Update

from bot.errors import REDACTED, describe, redact

BOT_ID, SECRET = TOKEN.split(":", 1)


async def test_token_never_appears_in_logs(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await start_bot()
    await bot.replies_to(bot.message("How is Mafra bread baked?"))
    url = f"{bot.fake.base_url}{TOKEN}/getUpdates"
    # What httpx would log if its level were lowered, and an error carrying a URL.
    logging.getLogger("httpx").warning('HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        logging.getLogger("telegram.ext.Updater").exception("Polling failed")

    text = caplog.text
    assert SECRET not in text
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    # PTB logs its API URL at DEBUG: proof that the token was there and got redacted.
    assert f"{bot.fake.base_url}{BOT_ID}:{REDACTED}" in text
    assert f"cannot reach {bot.fake.base_url}{BOT_ID}:{REDACTED}/getUpdates" in text
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_redact_replaces_the_whole_secret() -> None:
    assert redact(f"https://api.telegram.org/bot{TOKEN}/getMe") == (
        f"https://api.telegram.org/bot{BOT_ID}:{REDACTED}/getMe"
    )


def test_describe_names_the_update_without_its_text() -> None:
    update = Update.de_json(
        {
            "update_id": 9,
            "message": {
                "message_id": 3,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "from": USER,
                "text": "my private question",
            },
        },
        None,
    )
    description = describe(update)
    assert description == f"update 9, chat 5 (private), user {USER['id']}, message 3"
    assert describe(None) == "no update"
