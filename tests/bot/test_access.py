"""ALLOWED_USER_IDS / ALLOWED_CHAT_IDS, the admin audit log and ALERT_CHAT_ID, end to end."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from harness import ADMIN, ADMIN_ID, GROUP, GROUP_ID, TOKEN, USER_ID, Harness, StartBot

from bot.access import NOT_ALLOWED, NOT_ALLOWED_TOAST, is_allowed
from bot.alerts import AlertLimiter
from bot.config import BotConfig

STRANGER = {"id": 9009, "is_bot": False, "first_name": "Mallory"}
OTHER_GROUP = {"id": -100777, "type": "supergroup", "title": "Elsewhere"}
QUESTION = "What guards the mouth of the Tagus river?"


def texts_to(bot: Harness, chat_id: int) -> list[str]:
    return [p["text"] for p in bot.fake.requests_params("sendMessage") if p["chat_id"] == chat_id]


async def test_a_stranger_is_refused_once_without_corpus_text(start_bot: StartBot) -> None:
    bot = await start_bot(ALLOWED_USER_IDS=str(USER_ID))
    [allowed] = await bot.replies_to(bot.message(QUESTION))
    assert "Bugio" in allowed["text"]
    [refusal] = await bot.replies_to(bot.message(QUESTION, user=STRANGER))
    assert refusal["text"] == NOT_ALLOWED
    bot.message("/start", user=STRANGER)
    bot.message("/sources", user=STRANGER)
    bot.message(QUESTION, user=STRANGER)
    await bot.settle()
    # One refusal a minute, and nothing of the corpus (no /start examples, no sources).
    assert texts_to(bot, STRANGER["id"]) == [NOT_ALLOWED]


async def test_an_allowed_group_is_open_to_all_its_members(start_bot: StartBot) -> None:
    bot = await start_bot(ALLOWED_CHAT_IDS=str(GROUP_ID))
    [answer] = await bot.replies_to(bot.message(f"/ask {QUESTION}", user=STRANGER, chat=GROUP))
    assert "Bugio" in answer["text"]
    bot.message(f"/ask {QUESTION}", user=STRANGER, chat=OTHER_GROUP)
    bot.message(QUESTION)  # USER privately: not allowed by id, not in an allowed chat
    await bot.settle(chat=GROUP)
    assert texts_to(bot, OTHER_GROUP["id"]) == []  # silence in groups
    assert texts_to(bot, USER_ID) == [NOT_ALLOWED]


async def test_admins_and_users_allowed_by_id_may_ask_anywhere(start_bot: StartBot) -> None:
    bot = await start_bot(ALLOWED_USER_IDS=str(USER_ID), ALLOWED_CHAT_IDS="-100999")
    [answer] = await bot.replies_to(bot.message(f"/ask {QUESTION}", chat=OTHER_GROUP))
    assert "Bugio" in answer["text"]
    [admin_answer] = await bot.replies_to(bot.message(QUESTION, user=ADMIN))
    assert "Bugio" in admin_answer["text"]


async def test_strangers_get_no_inline_results_and_a_toast_for_buttons(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(ALLOWED_USER_IDS=str(USER_ID))
    [answer] = await bot.replies_to(bot.message(QUESTION))
    query_id = bot.inline("lighthouse keepers", user=STRANGER)
    [inline] = await bot.fake.wait_for(
        "answerInlineQuery", lambda p: p["inline_query_id"] == query_id
    )
    assert inline["results"] == []
    pressed = bot.press(bot.buttons(answer)["📄 Context 1"], answer["_result"], user=STRANGER)
    [toast] = await bot.fake.wait_for(
        "answerCallbackQuery", lambda p: p["callback_query_id"] == pressed
    )
    assert toast["text"] == NOT_ALLOWED_TOAST
    await bot.settle()
    assert len(texts_to(bot, USER_ID)) == 2  # the answer and /help: no context paragraph


async def test_every_admin_action_is_logged_with_the_admin_id(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await bot.replies_to(bot.message("/stats", user=ADMIN))
    [report] = await bot.replies_to(bot.message("/reload@qa_test_bot", user=ADMIN, chat=GROUP))
    await bot.replies_to(bot.document("notes.txt", b"Admins can upload notes.\n"))
    await bot.replies_to(bot.message("/stats"))  # not an admin: refused, not an admin action
    actions = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Admin ")]
    assert actions == [
        f"Admin {ADMIN_ID}: /stats (chat {ADMIN_ID})",
        f"Admin {ADMIN_ID}: /reload (chat {GROUP_ID})",
        f"Admin {ADMIN_ID}: upload 'notes.txt' (25 bytes) (chat {ADMIN_ID})",
    ]
    assert report


async def test_unexpected_errors_are_reported_redacted_once_a_minute_per_kind(
    start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert_chat = -100424242
    bot = await start_bot(ALERT_CHAT_ID=str(alert_chat))

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"disk on fire near {TOKEN} " + "x" * 1000)

    monkeypatch.setattr(bot.state.engine, "ask", broken)
    first = bot.message(QUESTION)
    await bot.replies_to(first)
    await bot.replies_to(bot.message("Who rowed supplies to the Bugio lighthouse?"))
    [alert] = await bot.fake.wait_for("sendMessage", lambda p: p["chat_id"] == alert_chat)
    await bot.settle()
    alerts = texts_to(bot, alert_chat)
    assert len(alerts) == 1
    text = alert["text"]
    assert "RuntimeError at" in text and "disk on fire" in text
    assert TOKEN.split(":", 1)[1] not in text
    assert QUESTION not in text and "Bugio" not in text
    assert f"user {USER_ID}" in text
    assert len(text) < 600


def test_alert_limiter_is_per_kind_and_per_minute() -> None:
    now = [0.0]
    limiter = AlertLimiter(60, clock=lambda: now[0])
    assert limiter.allow("A") and limiter.allow("B")
    assert not limiter.allow("A")
    now[0] = 59.9
    assert not limiter.allow("A")
    now[0] = 60.0
    assert limiter.allow("A")
    assert limiter.suppressed == {"A": 2}


@pytest.mark.parametrize(
    ("users", "chats", "user", "chat", "allowed"),
    [
        ((), (), 5, 5, True),  # both empty: open
        ((5,), (), 5, None, True),  # inline query of an allowed user
        ((5,), (), 6, 6, False),
        ((), (-100,), 6, -100, True),
        ((), (-100,), 6, 6, False),
        ((), (-100,), None, None, False),
        ((7,), (), ADMIN_ID, ADMIN_ID, True),  # admins always
    ],
)
def test_is_allowed(
    users: tuple[int, ...],
    chats: tuple[int, ...],
    user: int | None,
    chat: int | None,
    allowed: bool,
) -> None:
    config = BotConfig(
        token=TOKEN,
        admin_user_ids=frozenset({ADMIN_ID}),
        allowed_user_ids=frozenset(users),
        allowed_chat_ids=frozenset(chats),
    )
    assert is_allowed(config, user, chat) is allowed
