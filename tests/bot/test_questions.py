"""Questions end to end: private chats, groups, /ask, limits and errors, via the fake Bot API."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fake_telegram import BOT_USER
from harness import GROUP, USER, USER_ID, Harness, StartBot
from html_check import assert_telegram_html
from telegram import Message

from bot.app import ALLOWED_UPDATES
from bot.errors import FRIENDLY_ERROR
from bot.questions import addressed_text


async def test_private_question_is_answered_with_quote_and_source(bot: Harness) -> None:
    question = bot.message("What guards the mouth of the Tagus river?")
    [reply] = await bot.replies_to(question)
    text = reply["text"]
    assert "<blockquote>The Bugio lighthouse <b>guards</b> the <b>mouth</b>" in text
    assert (
        '<a href="https://example.org/lights?a=1&amp;b=2">Lighthouses &amp; &lt;Keepers&gt;</a>'
        in text
    )
    assert "Maria Lopes" in text and "2020-03-04" in text
    assert reply["parse_mode"] == "HTML"
    assert_telegram_html(text)
    buttons = [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert "👍" in buttons and "👎" in buttons and "📄 Context 1" in buttons


async def test_shipped_corpus_question_is_answered(
    start_bot: StartBot, shipped_corpus: Any
) -> None:
    bot = await start_bot(corpus=shipped_corpus)
    question = bot.message("When did Azerbaijan gain independence?")
    [reply] = await bot.replies_to(question)
    assert "1918 and 1920" in reply["text"]
    assert "Azerbaijan takes control of the entire border with Iran" in reply["text"]
    assert_telegram_html(reply["text"])


async def test_off_topic_question_is_refused_kindly(bot: Harness) -> None:
    question = bot.message("What is the capital of France?")
    [reply] = await bot.replies_to(question)
    assert "couldn't find anything" in reply["text"]
    assert "/sources" in reply["text"] and "/help" in reply["text"]
    assert "reply_markup" not in reply
    assert_telegram_html(reply["text"])


async def test_every_question_is_logged(bot: Harness) -> None:
    answered = bot.message("How is Mafra bread baked?")
    await bot.replies_to(answered)
    refused = bot.message("What is the capital of France?")
    await bot.replies_to(refused)
    with sqlite3.connect(bot.config.database_path) as db:
        rows = db.execute(
            "SELECT user_id, chat_id, chat_type, question, abstained, quote_ids, latency_ms"
            " FROM bot_questions ORDER BY abstained"
        ).fetchall()
    assert len(rows) == 2
    (user, chat, kind, text, abstained, quote_ids, latency), refusal = rows
    assert (user, chat, kind, text, abstained) == (
        USER_ID,
        USER_ID,
        "private",
        "How is Mafra bread baked?",
        0,
    )
    assert quote_ids.startswith('["bread.txt:') and latency > 0
    assert refusal[4] == 1 and refusal[5] == "[]"


async def test_group_answers_only_mentions_replies_and_ask(bot: Harness) -> None:
    ignored = bot.message("How is Mafra bread baked?", chat=GROUP)
    mention = "@qa_test_bot"
    mentioned = bot.message(
        f"{mention} How is Mafra bread baked?",
        chat=GROUP,
        entities=[{"type": "mention", "offset": 0, "length": len(mention)}],
    )
    [reply] = await bot.replies_to(mentioned)
    assert "<b>Mafra</b> <b>bread</b> is <b>baked</b>" in reply["text"]

    bot_message = {
        "message_id": 77,
        "date": 0,
        "chat": GROUP,
        "from": BOT_USER,
        "text": "an earlier answer",
    }
    replied = bot.message(
        "What guards the mouth of the Tagus river?", chat=GROUP, reply_to=bot_message
    )
    [reply] = await bot.replies_to(replied)
    assert "Bugio" in reply["text"]

    asked = bot.message("/ask@qa_test_bot Which lighthouse is a museum?", chat=GROUP)
    [reply] = await bot.replies_to(asked)
    assert "Santa Marta" in reply["text"]

    await bot.settle(chat=GROUP)
    targets = [
        (p.get("reply_parameters") or {}).get("message_id")
        for p in bot.fake.requests_params("sendMessage")
    ]
    assert ignored["message_id"] not in targets
    with sqlite3.connect(bot.config.database_path) as db:
        assert db.execute("SELECT COUNT(*) FROM bot_questions").fetchone() == (3,)


async def test_reply_to_someone_else_or_other_mention_is_ignored(bot: Harness) -> None:
    human = {"message_id": 5, "date": 0, "chat": GROUP, "from": USER, "text": "hi"}
    ignored = [
        bot.message("How is Mafra bread baked?", chat=GROUP, reply_to=human),
        bot.message(
            "@someone_else How is Mafra bread baked?",
            chat=GROUP,
            entities=[{"type": "mention", "offset": 0, "length": 13}],
        ),
    ]
    await bot.settle(chat=GROUP)
    targets = [
        (p.get("reply_parameters") or {}).get("message_id")
        for p in bot.fake.requests_params("sendMessage")
    ]
    assert all(m["message_id"] not in targets for m in ignored)


async def test_ask_without_question_explains_usage(bot: Harness) -> None:
    asked = bot.message("/ask", chat=GROUP)
    [reply] = await bot.replies_to(asked)
    assert "/ask When did" in reply["text"]
    assert_telegram_html(reply["text"])


async def test_too_long_question_is_refused(bot: Harness) -> None:
    question = bot.message("bread " * 200)
    [reply] = await bot.replies_to(question)
    assert "under 500 characters" in reply["text"]


async def test_per_user_question_limit(start_bot: StartBot) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="2")
    questions = [bot.message("How is Mafra bread baked?") for _ in range(3)]
    replies = [(await bot.replies_to(q))[0]["text"] for q in questions]
    limited = [r for r in replies if "faster than I can keep up" in r]
    assert len(limited) == 1
    assert sum("<b>Mafra</b>" in r for r in replies) == 2


@pytest.mark.parametrize("chat", [None, GROUP], ids=["private", "group"])
async def test_over_the_limit_a_user_is_told_once_then_ignored(
    start_bot: StartBot, chat: dict[str, Any] | None
) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="1")
    [answer] = await bot.replies_to(bot.message("/ask How is Mafra bread baked?", chat=chat))
    assert "<b>Mafra</b>" in answer["text"]
    [notice] = await bot.replies_to(bot.message("/ask Who rowed supplies?", chat=chat))
    assert "faster than I can keep up" in notice["text"]
    for _ in range(3):
        bot.message("/ask Which lighthouse is a museum?", chat=chat)
    await bot.settle(chat=chat)
    assert len(bot.fake.requests("sendMessage")) == 3  # with the marker's reply


async def test_unknown_command_points_to_help(bot: Harness) -> None:
    command = bot.message("/frobnicate")
    [reply] = await bot.replies_to(command)
    assert "/help" in reply["text"]


async def test_failure_is_logged_with_context_and_user_sees_no_traceback(
    bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(bot.state.engine, "ask", broken)
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        question = bot.message("How is Mafra bread baked?")
        [reply] = await bot.replies_to(question)
    assert reply["text"] == FRIENDLY_ERROR
    record = next(r for r in caplog.records if r.name == "bot.errors")
    assert f"chat {USER_ID} (private)" in record.getMessage()
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])

    # The bot keeps serving after a failed update.
    monkeypatch.undo()
    again = bot.message("How is Mafra bread baked?")
    [reply] = await bot.replies_to(again)
    assert "<b>Mafra</b>" in reply["text"]


async def test_long_answer_is_at_most_three_messages_and_more_carries_on(
    start_bot: StartBot, tmp_path: Path
) -> None:
    corpus = tmp_path / "long"
    corpus.mkdir()
    clause = "the zebra herd & its <foals> crossed the dry river bed at dawn, "
    paragraphs = [f"Paragraph {n}: " + clause * 16 + "and then rested." for n in range(12)]
    (corpus / "zebras.txt").write_text(
        "Zebras\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
    )
    bot = await start_bot(corpus=corpus, RESULTS_PER_ANSWER="10")
    question = bot.message("Where did the zebra herd cross?")
    # The keyboard rides on the last part, and parts are sent in order.
    await bot.fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
    sent = bot.fake.requests_params("sendMessage")
    assert 2 <= len(sent) <= 3
    assert sent[0]["reply_parameters"]["message_id"] == question["message_id"]
    assert all("reply_parameters" not in p for p in sent[1:])
    assert all("reply_markup" not in p for p in sent[:-1])
    for part in sent:
        assert len(part["text"]) <= 4096
        assert_telegram_html(part["text"])
    shown = "".join(part["text"] for part in sent)
    numbers = [int(n) for n in re.findall(r"<b>(\d+)\.</b>", shown)]
    count = len(numbers)
    assert numbers == list(range(1, count + 1)) and count < 10
    buttons = bot.buttons(sent[-1])
    assert {f"📄 Context {n}" for n in numbers} <= set(buttons)
    assert f"📄 Context {count + 1}" not in buttons
    # The quotes that did not fit come next, numbered on.
    last = sent[-1]["_result"]
    bot.press(buttons["More ▸"], last)
    [more] = await bot.replies_to(last)
    assert f"<b>{count + 1}.</b>" in more["text"]


def group_message(text: str, entities: list[dict[str, Any]], **extra: Any) -> Message:
    body = {"message_id": 1, "date": 0, "chat": GROUP, "from": USER, "text": text}
    message = Message.de_json({**body, "entities": entities, **extra}, None)
    assert message is not None
    return message


def test_addressed_text_strips_the_mention_of_this_bot_only() -> None:
    mention = [{"type": "mention", "offset": 4, "length": 12}]
    assert addressed_text(group_message("Hey @QA_Test_Bot why?", mention), 4242, "qa_test_bot") == (
        "Hey   why?"
    )
    assert (
        addressed_text(group_message("Hey @qa_other_bo why?", mention), 4242, "qa_test_bot") is None
    )
    text_mention = [{"type": "text_mention", "offset": 0, "length": 3, "user": BOT_USER}]
    assert addressed_text(group_message("Bot why?", text_mention), 4242, "qa_test_bot") == "  why?"


def test_addressed_text_ignores_forum_topic_roots() -> None:
    root = {
        "message_id": 2,
        "date": 0,
        "chat": GROUP,
        "from": BOT_USER,
        "forum_topic_created": {"name": "Q", "icon_color": 1},
    }
    in_topic = group_message("why?", [], reply_to_message=root, is_topic_message=True)
    assert addressed_text(in_topic, 4242, "qa_test_bot") is None
    reply = group_message(
        "why?", [], reply_to_message={**root, "forum_topic_created": None, "text": "a"}
    )
    assert addressed_text(reply, 4242, "qa_test_bot") == "why?"


async def test_text_mention_removes_only_the_mention_itself(bot: Harness) -> None:
    # The bot is named "Mafra" in the mention; the emoji takes two UTF-16 code units.
    text = "🍞 Mafra, how is Mafra bread baked?"
    mention = {"type": "text_mention", "offset": 3, "length": 5, "user": BOT_USER}
    asked = bot.message(text, chat=GROUP, entities=[mention])
    [reply] = await bot.replies_to(asked)
    assert "<b>Mafra</b> <b>bread</b> is <b>baked</b>" in reply["text"]
    with sqlite3.connect(bot.config.database_path) as db:
        [(question,)] = db.execute("SELECT question FROM bot_questions").fetchall()
    assert question == "🍞 , how is Mafra bread baked?"


async def test_an_edited_question_is_answered_as_the_new_question(bot: Harness) -> None:
    edited = {
        "message_id": 900,
        "date": 0,
        "edit_date": 1,
        "chat": GROUP,
        "from": USER,
        "text": "/ask How is Mafra bread baked?",
        "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
    }
    bot.fake.push({"edited_message": edited})
    [reply] = await bot.replies_to(edited)
    assert "wood-fired ovens" in reply["text"]
    private = {**edited, "message_id": 901, "chat": {"id": USER_ID, "type": "private"}}
    private.pop("entities")
    private["text"] = "What guards the mouth of the Tagus river?"
    bot.fake.push({"edited_message": private})
    [answer] = await bot.replies_to(private)
    assert "Bugio" in answer["text"]
    assert bot.fake.allowed_updates == ALLOWED_UPDATES


async def test_other_edits_are_ignored(bot: Harness) -> None:
    base = {"date": 0, "edit_date": 1, "from": USER, "chat": {"id": USER_ID, "type": "private"}}
    for n, extra in enumerate(
        [
            {"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
            {"text": "/nonsense", "entities": [{"type": "bot_command", "offset": 0, "length": 9}]},
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "s",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            },
        ]
    ):
        bot.fake.push({"edited_message": {**base, "message_id": 950 + n, **extra}})
    await bot.settle()
    assert len(bot.fake.requests("sendMessage")) == 1  # the marker's reply


async def test_a_caption_is_read_as_a_question(bot: Harness) -> None:
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    message = bot.message(photo=photo, caption="How is Mafra bread baked?")
    [reply] = await bot.replies_to(message)
    assert "wood-fired ovens" in reply["text"]
