"""Updates the library cannot parse are skipped (logged briefly), and lone surrogates are
replaced before anything is stored or answered; through the real Application over HTTP."""

from __future__ import annotations

import logging
import sqlite3
import time

import pytest
from harness import USER, Harness

from bot.updates import MAX_LOGGED_CHARS, clean, clean_text, screen_updates

QUESTION = "What guards the mouth of the Tagus river?"


async def test_an_unparseable_update_is_skipped_and_the_next_answered(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    secret_tail = "TAIL-OF-A-LONG-PRIVATE-TEXT"
    # No chat and no date: Message cannot be built, so Update.de_json raises.
    poison_id = bot.fake.push(
        {"message": {"message_id": 77, "from": USER, "text": "x" * 500 + secret_tail}}
    )
    question = bot.message(QUESTION)
    [reply] = await bot.replies_to(question)
    assert "Bugio" in reply["text"]
    skipped = [r for r in caplog.records if r.getMessage().startswith("Skipped update")]
    assert len(skipped) == 1
    line = skipped[0].getMessage()
    assert f"Skipped update {poison_id} " in line
    assert "KeyError: 'date'" in line
    assert secret_tail not in caplog.text
    # The id, the reason (<= 200) and the excerpt (<= 200 and an ellipsis): a short line.
    assert len(line) < 3 * MAX_LOGGED_CHARS
    # Confirmed like any other update: the batch is not fetched again.
    assert not [r for r in caplog.records if "not* processed" in r.getMessage()]


async def test_poison_in_the_middle_of_a_batch(bot: Harness) -> None:
    before = bot.message("Who rowed supplies to the Bugio lighthouse?")
    bot.fake.push({"message": {"message_id": 78, "date": "yesterday", "chat": {"id": 1}}})
    bot.fake.push({"callback_query": {"id": "q", "data": "m:x:0"}})  # no from, no chat_instance
    after = bot.message(QUESTION)
    await bot.replies_to(before)
    await bot.replies_to(after)
    await bot.settle()


async def test_lone_surrogates_are_replaced_before_storage_and_answered(bot: Harness) -> None:
    question = bot.message("What guards the mouth of the Tagus river? \ud800 \udfff")
    [reply] = await bot.replies_to(question)
    assert "Bugio" in reply["text"]
    db = sqlite3.connect(bot.config.database_path)
    try:
        [(stored,)] = db.execute("SELECT question FROM bot_questions").fetchall()
    finally:
        db.close()
    assert stored == "What guards the mouth of the Tagus river? \ufffd \ufffd"


async def test_surrogates_in_inline_queries_and_button_data(bot: Harness) -> None:
    query_id = bot.inline("lighthouse \udc00 keepers")
    [answered] = await bot.fake.wait_for(
        "answerInlineQuery", lambda p: p["inline_query_id"] == query_id
    )
    assert answered["results"]
    message = {
        "message_id": 5,
        "date": int(time.time()),
        "chat": {"id": USER["id"], "type": "private"},
        "text": "x",
    }
    pressed = bot.press("m:\ud800:0", message)
    [toast] = await bot.fake.wait_for(
        "answerCallbackQuery", lambda p: p["callback_query_id"] == pressed
    )
    assert "expired" in toast["text"]


def test_clean_keeps_valid_text_and_offsets() -> None:
    text = "naïve 🦆 עברית \u200b"
    assert clean_text(text) == text
    assert clean_text("a\ud83eb") == "a\ufffdb"
    # One UTF-16 code unit for one: entity offsets stay valid.
    assert len(clean_text("a\ud83eb").encode("utf-16-le")) == 6
    assert clean({"k\udc00": ["\ud800", 1, None]}) == {"k\ufffd": ["\ufffd", 1, None]}


def test_screen_updates_without_a_bot(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    good = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
    }
    screened = screen_updates([good, {"update_id": 2, "message": {}}, {"no": "id"}], None)  # type: ignore[arg-type]
    assert screened == [good, {"update_id": 2}]
    assert "without update_id" in caplog.text
