"""The fake Bot API refuses what Telegram refuses, so that the bot's tests cannot pass on calls
the real Telegram would reject."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from fake_telegram import FakeTelegram
from harness import TOKEN, USER_ID
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest


@pytest.fixture
async def raw_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    fake_telegram.expect_rejections()
    async with Bot(
        TOKEN, base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url
    ) as bot:
        yield bot


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<b>unclosed", "can't parse entities"),
        ("Tom & Jerry", "can't parse entities"),
        ("<div>x</div>", "can't parse entities"),
        ("x" * 4097, "message is too long"),
        ("<b>x</b>" * 101, "too many entities"),
        ("<b> </b>", "message text is empty"),
    ],
)
async def test_invalid_html_or_oversized_text_is_refused(
    raw_bot: Bot, fake_telegram: FakeTelegram, text: str, description: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(description)}"):
        await raw_bot.send_message(USER_ID, text, parse_mode="HTML")
    [(call, said)] = fake_telegram.rejected
    assert call.method == "sendMessage" and said.startswith(f"Bad Request: {description}")


async def test_limits_count_what_the_user_sees(raw_bot: Bot, fake_telegram: FakeTelegram) -> None:
    # 4096 characters once "&amp;" is parsed, and exactly 100 entities: both accepted.
    await raw_bot.send_message(USER_ID, "&amp;" * 4096, parse_mode="HTML")
    await raw_bot.send_message(USER_ID, "<i>x</i>" * 100, parse_mode="HTML")
    await raw_bot.send_message(USER_ID, "Tom & Jerry <3")  # no parse mode: plain text
    assert fake_telegram.rejected == []


async def test_long_callback_data_is_refused(raw_bot: Bot, fake_telegram: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await raw_bot.send_message(USER_ID, "hi", reply_markup=markup)


async def test_a_callback_query_is_answered_once(raw_bot: Bot, fake_telegram: FakeTelegram) -> None:
    await raw_bot.answer_callback_query("q1", "first")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await raw_bot.answer_callback_query("q1", "second")
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await raw_bot.answer_callback_query("q2", "x" * 201)
    assert [call.method for call, _ in fake_telegram.rejected] == ["answerCallbackQuery"] * 2
