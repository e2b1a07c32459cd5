"""Telegram faults on the way out, through the real Application over HTTP: transient errors
are retried (bounded, with backoff), unparseable text is resent as plain text, a blocked
user is logged once, and every question is answered exactly once."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pytest
from fake_telegram import (
    BAD_GATEWAY_HTML,
    BLOCKED,
    DROP_AFTER,
    DROP_BEFORE,
    PARSE_ENTITIES,
    SERVER_ERROR,
    TOO_MANY,
    Fault,
    error,
)
from harness import USER_ID, Harness

from bot.delivery import RetryingRateLimiter, as_plain_text, html_to_plain, is_transient
from bot.errors import FRIENDLY_ERROR

QUESTION = "What guards the mouth of the Tagus river?"


def fast_backoff(bot: Harness) -> RetryingRateLimiter:
    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, RetryingRateLimiter)
    limiter.backoff_seconds = 0.01
    return limiter


def answers(bot: Harness, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        p
        for p in bot.fake.delivered("sendMessage")
        if (p.get("reply_parameters") or {}).get("message_id") == message["message_id"]
        and p.get("chat_id") == message["chat"]["id"]
    ]


async def delivered_answer(bot: Harness, message: dict[str, Any]) -> dict[str, Any]:
    """Wait until an answer to ``message`` took effect (a failed attempt does not count)."""
    [answer] = await bot.fake.wait_for(
        "sendMessage",
        lambda p: (
            "_result" in p
            and (p.get("reply_parameters") or {}).get("message_id") == message["message_id"]
            and p.get("chat_id") == message["chat"]["id"]
        ),
    )
    return answer


def apologies(bot: Harness) -> list[dict[str, Any]]:
    return [p for p in bot.fake.requests_params("sendMessage") if p.get("text") == FRIENDLY_ERROR]


async def test_an_html_error_page_is_one_warning_line_not_a_traceback(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fast_backoff(bot)
    bot.fake.inject("sendMessage", BAD_GATEWAY_HTML, chat_id=USER_ID)
    await delivered_answer(bot, bot.message(QUESTION))
    [retry] = [r.getMessage() for r in caplog.records if "retry 1/4" in r.getMessage()]
    assert "Bad Gateway (502)" in retry and len(retry) < 300
    ptb = [r for r in caplog.records if r.name == "telegram.request.BaseRequest"]
    assert [(r.levelno, r.getMessage(), r.exc_info) for r in ptb] == [
        (logging.WARNING, "Telegram answered with a body that is not JSON", None)
    ]
    assert "</html>" not in caplog.text


@pytest.mark.parametrize(
    "fault",
    [
        SERVER_ERROR,
        error(503, "Service Unavailable"),
        BAD_GATEWAY_HTML,
        DROP_BEFORE,
        TOO_MANY,
        Fault("delay", seconds=0.3),
    ],
    ids=["500-json", "503-json", "502-nginx-html", "dropped-before", "429-retry-after", "delay"],
)
async def test_one_transient_fault_still_answers_exactly_once(bot: Harness, fault: Fault) -> None:
    fast_backoff(bot)
    bot.fake.inject("sendMessage", fault, chat_id=USER_ID)
    question = bot.message(QUESTION)
    reply = await delivered_answer(bot, question)
    assert "Bugio" in reply["text"]
    await bot.settle()
    assert len(answers(bot, question)) == 1
    assert apologies(bot) == []
    # The fault happened: one failed call, then the answer (a delay is a single slow call).
    attempts = [p for p in bot.fake.requests_params("sendMessage") if p.get("chat_id") == USER_ID]
    assert len(attempts) == (2 if fault.kind != "delay" else 1) + 1  # + the /help marker


async def test_connection_dropped_after_delivery_never_loses_the_answer(bot: Harness) -> None:
    fast_backoff(bot)
    bot.fake.inject("sendMessage", DROP_AFTER, chat_id=USER_ID)
    question = bot.message(QUESTION)
    await bot.replies_to(question, count=2)
    await bot.settle()
    # Telegram acted but the bot never heard: it cannot know, so it sends again (documented).
    assert len(answers(bot, question)) == 2
    assert apologies(bot) == []


async def test_several_faults_in_a_row_are_retried_with_growing_backoff(bot: Harness) -> None:
    limiter = fast_backoff(bot)
    limiter.backoff_seconds = 0.05
    bot.fake.inject("sendMessage", SERVER_ERROR, chat_id=USER_ID, times=3)
    question = bot.message(QUESTION)
    await delivered_answer(bot, question)
    await bot.settle()
    calls = [c for c in bot.fake.requests("sendMessage") if c.params.get("chat_id") == USER_ID]
    assert len(calls) == 5  # 3 failures, the answer, the /help marker
    gaps = [b.at - a.at for a, b in itertools.pairwise(calls[:4])]
    # 0.05, 0.1, 0.2 s (±20% jitter): each wait longer than the one before.
    assert gaps[0] >= 0.035 and gaps[1] > gaps[0] and gaps[2] > gaps[1]
    assert len(answers(bot, question)) == 1


async def test_retries_are_bounded(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    limiter = fast_backoff(bot)
    bot.fake.inject("sendMessage", SERVER_ERROR, chat_id=USER_ID, times=None)
    bot.message(QUESTION)
    await asyncio.sleep(0.1)
    # The answer's attempts, then the apology's: each 1 + transient_retries, then it gives up.
    expected = 2 * (1 + limiter.transient_retries)
    await bot.fake.wait_for("sendMessage", lambda p: p.get("chat_id") == USER_ID, count=expected)
    bot.fake.clear_faults()
    await bot.settle()
    attempts = [p for p in bot.fake.requests_params("sendMessage") if p.get("chat_id") == USER_ID]
    assert len(attempts) == expected + 1  # + the /help marker


async def test_unparseable_html_is_resent_as_plain_text(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.inject("sendMessage", PARSE_ENTITIES, chat_id=USER_ID)
    question = bot.message(QUESTION)
    await delivered_answer(bot, question)
    await bot.settle()
    [answer] = answers(bot, question)
    assert "parse_mode" not in answer
    assert "<b>" not in answer["text"] and "<blockquote>" not in answer["text"]
    assert "The Bugio lighthouse guards the mouth of the Tagus river" in answer["text"]
    assert "Lighthouses & <Keepers>" in answer["text"]
    # The buttons survive.
    assert answer["reply_markup"]["inline_keyboard"]
    assert apologies(bot) == []
    assert "sending it as plain text" in caplog.text


async def test_blocked_user_is_logged_once_at_info(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot.fake.inject("sendMessage", BLOCKED, chat_id=USER_ID, times=2)
    bot.message(QUESTION)
    bot.message("Who rowed supplies to the Bugio lighthouse?")
    await bot.fake.wait_for("sendMessage", lambda p: p.get("chat_id") == USER_ID, count=2)
    await bot.settle(chat={"id": 7007, "type": "private", "first_name": "Eve"})
    refused = [r for r in caplog.records if "refused to deliver" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # No apology is attempted to someone who cannot receive it; exactly two attempts.
    attempts = [p for p in bot.fake.requests_params("sendMessage") if p.get("chat_id") == USER_ID]
    assert len(attempts) == 2
    assert apologies(bot) == []


async def test_burst_with_random_server_errors_answers_every_question_once(
    bot: Harness,
) -> None:
    fast_backoff(bot)
    bot.fake.inject("sendMessage", SERVER_ERROR, times=None, probability=0.05, seed=7)
    bot.fake.inject("sendMessage", BAD_GATEWAY_HTML, times=None, probability=0.02)
    bot.fake.inject("sendMessage", TOO_MANY, times=2, probability=0.5)
    users = [{"id": 30_000 + n, "is_bot": False, "first_name": f"U{n}"} for n in range(50)]
    asked = [bot.message(QUESTION, user=u) for u in users for _ in range(2)]
    for message in asked:
        await delivered_answer(bot, message)
    bot.fake.clear_faults()
    await bot.settle(chat={"id": 1, "type": "private", "first_name": "Marker"})
    failed = len(bot.fake.requests_params("sendMessage")) - len(bot.fake.delivered())
    assert failed > 0  # faults were injected
    assert all(len(answers(bot, m)) == 1 for m in asked)
    assert apologies(bot) == []


def test_transient_is_server_side_or_network_only() -> None:
    from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

    assert is_transient(NetworkError("Bad Gateway")) and is_transient(TimedOut())
    assert not is_transient(BadRequest("can't parse entities"))
    assert not is_transient(Forbidden("blocked"))


def test_plain_text_fallback() -> None:
    assert html_to_plain("<b>a</b> &amp; <i>b</i> &lt;c&gt;") == "a & b <c>"
    assert as_plain_text({"text": "<b>x</b>", "parse_mode": "HTML", "chat_id": 1}) == {
        "text": "x",
        "chat_id": 1,
    }
    assert as_plain_text({"text": "x", "chat_id": 1}) is None
    assert as_plain_text({"text": "<b> </b>", "parse_mode": "HTML"}) is None
