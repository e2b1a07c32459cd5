"""Inline mode: ``@bot question`` offers quotes as articles."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from harness import USER_ID, Harness, StartBot
from html_check import assert_telegram_html

from bot.ratelimit import INLINE_QUERIES_PER_QUESTION


async def inline_answer(bot: Harness, query: str) -> dict[str, Any]:
    query_id = bot.inline(query)
    [answered] = await bot.fake.wait_for(
        "answerInlineQuery", lambda p: p["inline_query_id"] == query_id
    )
    return answered


async def test_inline_query_offers_up_to_five_quotes_with_sources(bot: Harness) -> None:
    answered = await inline_answer(bot, "lighthouse")
    results = answered["results"]
    assert 1 < len(results) <= 5
    assert len({r["id"] for r in results}) == len(results)
    for result in results:
        assert result["type"] == "article"
        assert result["title"].startswith("Lighthouses & <Keepers> · Maria Lopes")
        assert "lighthouse" in result["description"].lower()
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML"
        assert "<blockquote>" in content["message_text"]
        assert "Lighthouses &amp; &lt;Keepers&gt;" in content["message_text"]
        assert_telegram_html(content["message_text"])


async def test_inline_off_topic_or_too_short_gives_no_results(bot: Harness) -> None:
    assert (await inline_answer(bot, "What is the capital of France?"))["results"] == []
    assert (await inline_answer(bot, "li"))["results"] == []


async def test_inline_queries_are_logged(bot: Harness) -> None:
    await inline_answer(bot, "How is Mafra bread baked?")
    with sqlite3.connect(bot.config.database_path) as db:
        rows = db.execute(
            "SELECT user_id, chat_id, chat_type, question, abstained FROM bot_questions"
        ).fetchall()
    assert rows == [(USER_ID, None, "inline", "How is Mafra bread baked?", 0)]


async def test_inline_queries_have_their_own_larger_limit(start_bot: StartBot) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="1")
    answered = [
        await inline_answer(bot, "lighthouse") for _ in range(INLINE_QUERIES_PER_QUESTION + 1)
    ]
    assert all(a["results"] for a in answered[:-1])
    assert answered[-1]["results"] == []
    # Private questions are counted separately.
    [reply] = await bot.replies_to(bot.message("How is Mafra bread baked?"))
    assert "<b>Mafra</b>" in reply["text"]


async def test_inline_query_whose_handler_fails_gets_no_results(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.state.engine, "ask", broken)
    answered = await inline_answer(bot, "lighthouse")
    assert answered["results"] == [] and answered["cache_time"] == 0
