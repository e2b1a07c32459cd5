"""The admin's loop through the real bot: /unanswered, /feedback, /remove, greetings, and the
operator's log lines."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from typing import Any

import pytest
from harness import ADMIN, ADMIN_ID, TOKEN, USER, USER_ID, Harness
from html_check import assert_telegram_html

from bot.admin import NOT_ADMIN
from bot.oplog import JsonFormatter
from bot.reports import normalize_question
from bot.smalltalk import GREETING_REPLY, THANKS_REPLY, small_talk_reply


async def ask(bot: Harness, text: str, *, user: dict[str, Any] = USER) -> dict[str, Any]:
    [reply] = await bot.replies_to(bot.message(text, user=user))
    return reply


def question_rows(bot: Harness) -> list[tuple[str, int]]:
    with sqlite3.connect(bot.config.database_path) as db:
        return db.execute("SELECT question, abstained FROM bot_questions ORDER BY id").fetchall()


def test_normalized_questions() -> None:
    assert normalize_question("Who is X?") == normalize_question("  who is  x ") == "who is x"
    assert normalize_question("What’s up?!") == "what's up"


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("hi", GREETING_REPLY),
        ("Hello there!", GREETING_REPLY),
        ("good morning", GREETING_REPLY),
        ("Thanks!", THANKS_REPLY),
        ("thank you so much 🙏", THANKS_REPLY),
        ("Hi, who lit the lamp at Cape Roca?", None),
        ("thanks for what?", None),
        ("Hello world programs in Lisbon", None),
    ],
)
def test_small_talk(text: str, reply: str | None) -> None:
    assert small_talk_reply(text) == reply


async def test_greetings_get_a_friendly_reply_and_are_not_questions(bot: Harness) -> None:
    assert (await ask(bot, "Hi!"))["text"] == GREETING_REPLY
    assert (await ask(bot, "thanks a lot"))["text"] == THANKS_REPLY
    await ask(bot, "How is Mafra bread baked?")
    assert question_rows(bot) == [("How is Mafra bread baked?", 0)]


async def test_unanswered_lists_real_refusals_most_frequent_first(bot: Harness) -> None:
    for question in ("Who is Napoleon?", "What is the capital of France?", "who is  napoleon"):
        await ask(bot, question)
    await ask(bot, "How is Mafra bread baked?")
    assert [r[1] for r in question_rows(bot)] == [1, 1, 1, 0]
    # A refusal older than 30 days is left out.
    await bot.state.storage.log_question(
        user_id=USER_ID,
        chat_id=USER_ID,
        chat_type="private",
        question="Old question nobody answered?",
        abstained=True,
        quotes=[],
        latency_ms=1.0,
        asked_at=time.time() - 31 * 86400,
    )
    reply = await ask(bot, "/unanswered", user=ADMIN)
    text = reply["text"]
    assert_telegram_html(text)
    lines = text.splitlines()
    assert lines[1:3] == ["2× who is napoleon", "1× What is the capital of France?"]
    assert "Mafra" not in text and "Old question" not in text
    assert "reply_markup" not in reply  # one page: no buttons
    assert (await ask(bot, "/unanswered"))["text"] == NOT_ADMIN


async def test_unanswered_pages_with_buttons(bot: Harness) -> None:
    for n in range(23):
        await bot.state.storage.log_question(
            user_id=USER_ID,
            chat_id=USER_ID,
            chat_type="private",
            question=f"Question number {n}?",
            abstained=True,
            quotes=[],
            latency_ms=1.0,
            asked_at=time.time() - n,
        )
    first = await ask(bot, "/unanswered", user=ADMIN)
    assert "page 1/3" in first["text"] and "Question number 0?" in first["text"]
    assert "Question number 10?" not in first["text"]
    assert bot.buttons(first) == {"Next ▸": "un:1"}
    # A user who is not an admin cannot page through it.
    bot.press("un:1", first["_result"], user=USER)
    [refused] = await bot.fake.wait_for("answerCallbackQuery")
    assert refused["text"] == NOT_ADMIN
    bot.press("un:1", first["_result"], user=ADMIN)
    [edited] = await bot.fake.wait_for("editMessageText")
    assert "page 2/3" in edited["text"] and "Question number 10?" in edited["text"]
    assert "Question number 9?" not in edited["text"]
    assert bot.buttons(edited) == {"◂ Previous": "un:0", "Next ▸": "un:2"}


async def test_feedback_lists_downvoted_answers_with_their_first_quote(bot: Harness) -> None:
    disliked = await ask(bot, "How is Mafra bread baked?")
    liked = await ask(bot, "Who ordered the Cape Roca lamp lit?")
    bot.press(bot.buttons(disliked)["👎"], disliked["_result"])
    bot.press(bot.buttons(liked)["👍"], liked["_result"])
    await bot.fake.wait_for("answerCallbackQuery", count=2)
    reply = await ask(bot, "/feedback", user=ADMIN)
    text = reply["text"]
    assert_telegram_html(text)
    assert "❓ How is Mafra bread baked?" in text
    assert "<blockquote>Mafra bread is baked in wood-fired ovens" in text
    assert "<code>bread.txt</code>" in text
    assert "Cape Roca" not in text


async def test_remove_moves_the_file_to_trash_and_drops_it_from_answers(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = bot.config.corpus_dir
    assert (await ask(bot, "/remove bread.txt"))["text"] == NOT_ADMIN
    assert (corpus / "bread.txt").is_file()
    caplog.set_level(logging.INFO)
    report = await ask(bot, "/remove bread.txt", user=ADMIN)
    assert "Removed bread.txt" in report["text"] and "1 removed" in report["text"]
    assert not (corpus / "bread.txt").exists()
    assert (corpus / ".trash" / "bread.txt").read_text(encoding="utf-8").startswith("Bread")
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "remove"]
    assert line.admin_id == ADMIN_ID and line.document == "bread.txt"  # type: ignore[attr-defined]
    # Refused now, and a reload does not bring it back from .trash.
    await ask(bot, "How is Mafra bread baked?")
    reload = await ask(bot, "/reload", user=ADMIN)
    assert "0 added" in reload["text"] and "1 unchanged" in reload["text"]
    assert question_rows(bot)[-1] == ("How is Mafra bread baked?", 1)
    assert [d.id for d in bot.state.engine.documents()] == ["lighthouses.md"]
    # Removing a second file of the same name keeps both in .trash.
    (corpus / "bread.txt").write_text("Bread again\n\nRye bread is dense.\n", encoding="utf-8")
    await ask(bot, "/reload", user=ADMIN)
    await ask(bot, "/remove BREAD.TXT", user=ADMIN)
    assert sorted(p.name for p in (corpus / ".trash").iterdir()) == ["bread-2.txt", "bread.txt"]
    missing = await ask(bot, "/remove nothing.md", user=ADMIN)
    assert "No document is named" in missing["text"]


async def test_one_log_line_per_question_without_the_token(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await ask(bot, "How is Mafra bread baked?")
    await ask(bot, "What is the capital of France?")
    lines = [r for r in caplog.records if getattr(r, "event", None) == "question"]
    assert [(r.user_id, r.refused) for r in lines] == [(USER_ID, False), (USER_ID, True)]  # type: ignore[attr-defined]
    assert all(r.levelno == logging.INFO and r.latency_ms >= 0 for r in lines)  # type: ignore[attr-defined]
    assert all(isinstance(r.update_id, int) for r in lines)  # type: ignore[attr-defined]
    assert "Mafra" not in lines[0].getMessage()  # ids and timings only
    formatted = [json.loads(JsonFormatter().format(r)) for r in lines]
    assert formatted[1]["refused"] is True and formatted[1]["event"] == "question"
    assert {"time", "level", "logger", "message", "update_id", "user_id"} <= set(formatted[0])
    assert TOKEN.split(":")[1] not in caplog.text


async def test_description_is_set_at_start(bot: Harness) -> None:
    descriptions = bot.fake.requests_params("setMyDescription")
    [description] = [d for d in descriptions if "language_code" not in d]
    assert "2 documents" in description["description"]
    assert len(description["description"]) <= 512
    [russian] = [d for d in descriptions if d.get("language_code") == "ru"]
    assert "по 2 документам" in russian["description"]
    shorts = bot.fake.requests_params("setMyShortDescription")
    assert {s.get("language_code") for s in shorts} == {None, "ru"}
    assert all(0 < len(s["short_description"]) <= 120 for s in shorts)


async def test_reload_and_upload_log_one_line_with_the_admin(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    (bot.config.corpus_dir / "porto.txt").write_text(
        "Porto\n\nThe Dom Luis bridge crosses the Douro river.\n", encoding="utf-8"
    )
    await ask(bot, "/reload", user=ADMIN)
    [reply] = await bot.replies_to(
        bot.document("gaia.txt", b"Gaia\n\nGaia faces Porto across the Douro river.\n")
    )
    assert "Added gaia.txt" in reply["text"]
    lines = [r for r in caplog.records if getattr(r, "event", None) in ("reload", "upload")]
    assert [(r.event, r.admin_id, r.added, r.document) for r in lines] == [  # type: ignore[attr-defined]
        ("reload", ADMIN_ID, 1, None),
        ("upload", ADMIN_ID, 1, "gaia.txt"),
    ]
    assert all(r.levelno == logging.INFO for r in lines)
