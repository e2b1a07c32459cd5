""" "typing…" is sent only while an answer is slow: a fast answer spends no request on it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from harness import USER_ID, Harness

from bot import chat_action


async def test_a_fast_answer_sends_no_typing(bot: Harness) -> None:
    for question in ("What guards the mouth of the Tagus river?", "How is Mafra bread baked?"):
        await bot.replies_to(bot.message(question))
    await bot.settle()
    assert bot.fake.requests("sendChatAction") == []


async def test_a_slow_answer_shows_typing_until_it_is_sent(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_action, "TYPING_AFTER_SECONDS", 0.1)
    monkeypatch.setattr(chat_action, "TYPING_REPEAT_SECONDS", 0.2)
    real_ask = bot.state.engine.ask

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.45)
        return await real_ask(*args, **kwargs)

    monkeypatch.setattr(bot.state.engine, "ask", slow)
    question = bot.message("What guards the mouth of the Tagus river?")
    [reply] = await bot.replies_to(question)
    typing = bot.fake.requests("sendChatAction")
    # At 0.1 s, 0.3 s (and perhaps 0.5 s), never after the answer.
    assert 2 <= len(typing) <= 3
    assert all(c.params == {"chat_id": USER_ID, "action": "typing"} for c in typing)
    await asyncio.sleep(0.5)
    assert len(bot.fake.requests("sendChatAction")) == len(typing)
    assert "Bugio" in reply["text"]
