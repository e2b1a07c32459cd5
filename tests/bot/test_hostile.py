"""Hostile and odd inputs, table-driven: each gets a deliberate reply or a deliberate silence,
and the next normal question is still answered. Through the real Application over HTTP; the
fake refuses anything Telegram would (invalid HTML, empty or over-long text), which fails the
test at teardown."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from harness import GROUP, USER, USER_ID, Harness

from bot.access import NOT_ALLOWED  # noqa: F401 - imported so a rename breaks loudly
from bot.questions import USAGE_ASK

NORMAL = "What guards the mouth of the Tagus river?"
LONG = "That's a long one!"
NOT_TEXT = "I can only read questions typed as text"
UNKNOWN = "I don't know that command"
EXPIRED = "expired"
NOT_FOUND = None  # any deliberate reply (an answer or "nothing found")

Push = Callable[[Harness], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    name: str
    push: Push
    expect: str  # "reply", "silence", "toast", "inline-empty", "inline-any"
    text: str | None = None  # a substring the reply or toast must contain


def text(value: str, **extra: Any) -> Push:
    return lambda bot: bot.message(value, **extra)


def media(**fields: Any) -> Push:
    return lambda bot: bot.message(**fields)


def raw_message(**fields: Any) -> Push:
    def push(bot: Harness) -> dict[str, Any]:
        message = {
            "message_id": 500,
            "date": int(time.time()),
            "chat": {"id": USER_ID, "type": "private", "first_name": "Bob"},
            "from": USER,
            **fields,
        }
        bot.fake.push({"message": message})
        return message

    return push


def group_text(value: str, **extra: Any) -> Push:
    return lambda bot: bot.message(value, chat=GROUP, **extra)


def edited(value: str) -> Push:
    def push(bot: Harness) -> dict[str, Any]:
        message = {
            "message_id": 600,
            "date": 0,
            "edit_date": 1,
            "chat": {"id": USER_ID, "type": "private", "first_name": "Bob"},
            "from": USER,
            "text": value,
        }
        bot.fake.push({"edited_message": message})
        return message

    return push


def press(data: str, *, with_message: bool = True) -> Push:
    def push(bot: Harness) -> dict[str, Any]:
        query: dict[str, Any] = {
            "id": f"cb-{abs(hash(data))}",
            "from": USER,
            "chat_instance": "ci",
            "data": data,
        }
        if with_message:
            query["message"] = {
                "message_id": 7,
                "date": int(time.time()),
                "chat": {"id": USER_ID, "type": "private"},
                "text": "an old answer",
            }
        else:
            query["inline_message_id"] = "inline-1"
        bot.fake.push({"callback_query": query})
        return query

    return push


def inline(value: str) -> Push:
    return lambda bot: {"id": bot.inline(value)}


def raw_update(update: dict[str, Any]) -> Push:
    def push(bot: Harness) -> dict[str, Any]:
        bot.fake.push(update)
        return {"chat": {"id": USER_ID}}

    return push


FILE = {"file_id": "f1", "file_unique_id": "u1"}
PHOTO = [{**FILE, "width": 1, "height": 1}]
STICKER = {
    **FILE,
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}
WORDS_500 = " ".join(f"word{n}" for n in range(500))
MENTION = "@qa_test_bot"

CASES = [
    Case("empty-text", text(""), "reply", NOT_TEXT),
    Case("whitespace", text("   \n\t  "), "reply", USAGE_ASK[:20]),
    Case("one-char", text("?"), "reply"),
    Case("one-letter", text("a"), "reply"),
    Case("exactly-4096", text("lighthouse " * 372 + "x" * 4), "reply", LONG),
    Case("501-chars", text("b" * 501), "reply", LONG),
    Case("500-distinct-words", text(WORDS_500), "reply", LONG),
    Case("emoji-only", text("🦆🔥🦆"), "reply"),
    Case("right-to-left", text("מה שומר על פתח נהר הטאגוס?"), "reply"),
    Case("rtl-override", text("\u202ewho guards the Tagus?\u202c"), "reply"),
    Case("zero-width-only", text("\u200b\u200c\u200d\ufeff"), "reply"),
    Case("zero-width-inside", text("light\u200bhouse of Bu\u200dgio?"), "reply"),
    Case("nul", text("\x00Bugio\x00 lighthouse?"), "reply"),
    Case("control-chars", text("\x07\x1b[31mBugio\x1b[0m \x08lighthouse"), "reply"),
    Case("html-injection", text("<b>Bugio</b><script>alert(1)</script> &amp;"), "reply"),
    Case("closing-tags", text("</blockquote></a><a href='javascript:x'>Bugio"), "reply"),
    Case("markdown-injection", text("*Bugio* _lighthouse_ [x](http://127.0.0.1) `code`"), "reply"),
    Case("portuguese", text("Qual é o farol mais ocidental da Europa?"), "reply"),
    Case("chinese", text("灯塔在哪里?"), "reply"),
    Case("russian", text("Где находится маяк Бужиу?"), "reply"),
    Case("stopwords-only", text("the and of is it"), "reply"),
    Case("lone-surrogate", text("Bugio \ud800 lighthouse"), "reply"),
    Case("long-single-word", text("x" * 400), "reply"),
    Case("url-in-question", text("http://127.0.0.1/?a=<b>&c=d Bugio"), "reply"),
    Case("edited-question", edited(NORMAL), "reply", "Bugio"),
    Case("edited-command", edited("/start"), "silence"),
    Case(
        "forwarded",
        text(NORMAL, forward_origin={"type": "hidden_user", "date": 0, "sender_user_name": "X"}),
        "reply",
        "Bugio",
    ),
    Case(
        "caption-question",
        media(photo=PHOTO, caption="How is Mafra bread baked?"),
        "reply",
        "ovens",
    ),
    Case("photo", media(photo=PHOTO), "reply", NOT_TEXT),
    Case("sticker", media(sticker=STICKER), "reply", NOT_TEXT),
    Case("voice", media(voice={**FILE, "duration": 1}), "reply", NOT_TEXT),
    Case("video", media(video={**FILE, "width": 1, "height": 1, "duration": 1}), "reply", NOT_TEXT),
    Case("audio", media(audio={**FILE, "duration": 1}), "reply", NOT_TEXT),
    Case("video-note", media(video_note={**FILE, "length": 1, "duration": 1}), "reply", NOT_TEXT),
    Case(
        "animation",
        media(animation={**FILE, "width": 1, "height": 1, "duration": 1}),
        "reply",
        NOT_TEXT,
    ),
    Case("location", media(location={"latitude": 38.7, "longitude": -9.5}), "reply", NOT_TEXT),
    Case("contact", media(contact={"phone_number": "+100", "first_name": "C"}), "reply", NOT_TEXT),
    Case("dice", media(dice={"emoji": "🎲", "value": 3}), "reply", NOT_TEXT),
    Case(
        "poll",
        media(
            poll={
                "id": "p",
                "question": "?",
                "options": [
                    {"persistent_id": "a", "text": "a", "voter_count": 0},
                    {"persistent_id": "b", "text": "b", "voter_count": 0},
                ],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            }
        ),
        "reply",
        NOT_TEXT,
    ),
    Case(
        "document-from-user",
        media(document={**FILE, "file_name": "x.txt"}),
        "reply",
        "only the bot's admins",
    ),
    Case("unknown-command", text("/frobnicate now"), "reply", UNKNOWN),
    Case("ask-without-question", text("/ask"), "reply", USAGE_ASK[:20]),
    Case(
        "group-command-for-another-bot",
        group_text("/ask@other_bot How is Mafra bread baked?"),
        "silence",
    ),
    Case("group-not-addressed", group_text("How is Mafra bread baked?"), "silence"),
    Case(
        "group-mention-only",
        group_text(MENTION, entities=[{"type": "mention", "offset": 0, "length": len(MENTION)}]),
        "reply",
        USAGE_ASK[:20],
    ),
    Case("group-member-joined", group_text(None, new_chat_members=[USER]), "silence"),
    Case(
        "unknown-chat-type",
        raw_message(chat={"id": 31337, "type": "space-station"}, text=NORMAL),
        "silence",
    ),
    Case(
        "channel-post",
        raw_update(
            {
                "channel_post": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": -1009, "type": "channel"},
                    "text": NORMAL,
                }
            }
        ),
        "silence",
    ),
    Case(
        "unparseable-update", raw_update({"message": {"message_id": 3, "text": NORMAL}}), "silence"
    ),
    Case("tampered-callback", press("m:zzzzzzzzzzz:0"), "toast", EXPIRED),
    Case("oversized-callback", press("c:" + "9" * 200 + ":0"), "toast", EXPIRED),
    Case("garbage-callback", press("\x00;DROP TABLE"), "toast", EXPIRED),
    Case("superscript-digit-callback", press("c:abc:²"), "toast", EXPIRED),
    Case("callback-without-message", press("m:abc:0", with_message=False), "toast", EXPIRED),
    Case("empty-inline", inline(""), "inline-empty"),
    Case("short-inline", inline("ab"), "inline-empty"),
    Case("300-char-inline", inline(("lighthouse keepers " * 20)[:300]), "inline-any"),
    Case("html-inline", inline("<b>lighthouse</b> & <i>"), "inline-any"),
]


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 45
    assert len({c.name for c in CASES}) == len(CASES)


def sent_to(bot: Harness, chat_id: int) -> list[dict[str, Any]]:
    return [p for p in bot.fake.requests_params("sendMessage") if p.get("chat_id") == chat_id]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_hostile_input(bot: Harness, case: Case) -> None:
    pushed = case.push(bot)
    if case.expect == "reply":
        [reply] = await bot.replies_to(pushed)
        if case.text is not None:
            assert case.text in reply["text"]
    elif case.expect == "silence":
        chat_id = pushed["chat"]["id"]
        marker_chat = GROUP if chat_id == GROUP["id"] else None
        await bot.settle(chat=marker_chat)
        others = [p for p in sent_to(bot, chat_id) if "How to ask" not in p["text"]]
        assert others == []
        assert len(bot.fake.requests("sendMessage")) == 1  # the marker's reply only
    elif case.expect == "toast":
        [answer] = await bot.fake.wait_for(
            "answerCallbackQuery", lambda p: p["callback_query_id"] == pushed["id"]
        )
        assert case.text is not None and case.text in (answer.get("text") or "")
    else:
        [answer] = await bot.fake.wait_for(
            "answerInlineQuery", lambda p: p["inline_query_id"] == pushed["id"]
        )
        if case.expect == "inline-empty":
            assert answer["results"] == []
    # Whatever came before, the next normal question is answered.
    [normal] = await bot.replies_to(bot.message(NORMAL))
    assert "Bugio" in normal["text"]
