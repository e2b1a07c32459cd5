"""The buttons under an answer: More, Context, 👍/👎, and stale buttons."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from harness import ADMIN, USER_ID, Harness, StartBot
from html_check import assert_telegram_html

from bot.answering import answer_keyboard, decode_button, encode_button
from bot.buttons import DOCUMENT_CHANGED, MORE_TAKEN, RELOADED, STALE
from bot.errors import FRIENDLY_ERROR
from retrieval.models import Answer


@pytest.fixture
async def paged(start_bot: StartBot) -> Harness:
    """Two quotes per answer, so that "lighthouse" has a second page."""
    return await start_bot(RESULTS_PER_ANSWER="2")


async def ask(bot: Harness, text: str) -> dict[str, Any]:
    [reply] = await bot.replies_to(bot.message(text))
    result: dict[str, Any] = reply["_result"]
    return result


async def callback_answer(bot: Harness, query_id: str) -> dict[str, Any]:
    [answered] = await bot.fake.wait_for(
        "answerCallbackQuery", lambda p: p["callback_query_id"] == query_id
    )
    return answered


def test_callback_data_round_trips_within_64_bytes() -> None:
    markup = answer_keyboard("AbCdEfGhIjK", count=10, offset=90, has_more=True)
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert len(data) == 13
    assert all(isinstance(d, str) and len(d.encode()) <= 64 for d in data)
    assert decode_button(encode_button("context", "AbCdEfGhIjK", 9)) is not None
    for junk in (None, "", "x", "m:", "z:abc:0", "m:abc:x", "m:abc:0:1", "c:abc:²", "c:abc:٣"):
        assert decode_button(junk) is None


async def test_more_sends_the_next_quotes_and_retires_its_button(paged: Harness) -> None:
    first = await ask(paged, "lighthouse")
    assert "<b>1.</b>" in first["text"] and "<b>2.</b>" in first["text"]
    query_id = paged.press(paged.buttons(first)["More ▸"], first)
    [page] = await paged.replies_to(first)
    assert "<b>3.</b>" in page["text"] and "<b>4.</b>" in page["text"]
    assert "<b>lighthouse</b>" in page["text"]
    assert_telegram_html(page["text"])
    assert "📄 Context 3" in paged.buttons(page)
    [edit] = await paged.fake.wait_for("editMessageReplyMarkup")
    assert edit["message_id"] == first["message_id"]
    assert "More ▸" not in paged.buttons(edit) and "👍" in paged.buttons(edit)
    await callback_answer(paged, query_id)


async def test_more_pages_through_every_quote_once_then_stops(paged: Harness) -> None:
    page = await ask(paged, "lighthouse")
    numbers: list[str] = []
    texts: list[str] = []
    for _ in range(6):
        numbers += re.findall(r"<b>(\d+)\.</b>", page["text"])
        texts += re.findall(r"<blockquote>(.*?)</blockquote>", page["text"])
        more = paged.buttons(page).get("More ▸")
        if more is None:
            break
        paged.press(more, page)
        [reply] = await paged.replies_to(page)
        page = reply["_result"]
    # Five sentences of the corpus mention a lighthouse; each is shown once, in order.
    assert numbers == ["1", "2", "3", "4", "5"]
    assert len(set(texts)) == 5
    assert "More ▸" not in paged.buttons(page)


async def test_context_sends_the_paragraph_with_the_quote_underlined(bot: Harness) -> None:
    answer = await ask(bot, "What guards the mouth of the Tagus river?")
    query_id = bot.press(bot.buttons(answer)["📄 Context 1"], answer)
    [context] = await bot.replies_to(answer)
    text = context["text"]
    assert text.startswith("📄 Context from")
    assert "<u>The Bugio lighthouse guards the mouth of the Tagus river" in text
    assert "Keepers rowed supplies" in text  # the rest of the paragraph
    assert "westernmost" not in text  # but not other paragraphs
    assert_telegram_html(text)
    await callback_answer(bot, query_id)


async def test_feedback_is_stored(bot: Harness) -> None:
    answer = await ask(bot, "How is Mafra bread baked?")
    query_id = bot.press(bot.buttons(answer)["👍"], answer)
    answered = await callback_answer(bot, query_id)
    assert "Thanks" in answered["text"]
    query_id = bot.press(bot.buttons(answer)["👎"], answer, user=ADMIN)
    await callback_answer(bot, query_id)
    with sqlite3.connect(bot.config.database_path) as db:
        rows = db.execute(
            "SELECT f.user_id, f.value, q.question FROM bot_feedback f"
            " JOIN bot_questions q ON q.id = f.question_id ORDER BY f.value"
        ).fetchall()
    assert rows == [
        (ADMIN["id"], -1, "How is Mafra bread baked?"),
        (USER_ID, 1, "How is Mafra bread baked?"),
    ]


async def test_unknown_or_foreign_buttons_get_a_polite_answer(bot: Harness) -> None:
    answer = await ask(bot, "How is Mafra bread baked?")
    for data in ("m:doesNotExist:0", "u:doesNotExist:0", "something else", "c:abc:²"):
        query_id = bot.press(data, answer)
        answered = await callback_answer(bot, query_id)
        assert answered["text"] == STALE
    # Nothing was sent besides the original answer.
    assert len(bot.fake.requests("sendMessage")) == 1


async def test_buttons_after_a_reload_that_changed_the_document(
    paged: Harness, bot_corpus: Any
) -> None:
    answer = await ask(paged, "lighthouse")
    path = bot_corpus / "lighthouses.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "---\nThe Cape", "---\nA new first line.\nThe Cape"
        ),
        encoding="utf-8",
    )
    reload = paged.message("/reload", user=ADMIN)
    [report] = await paged.replies_to(reload)
    assert "1 changed" in report["text"]

    query_id = paged.press(paged.buttons(answer)["More ▸"], answer)
    assert (await callback_answer(paged, query_id))["text"] == RELOADED
    query_id = paged.press(paged.buttons(answer)["📄 Context 1"], answer)
    assert (await callback_answer(paged, query_id))["text"] == DOCUMENT_CHANGED
    # Feedback still refers to the logged question, whatever the index.
    query_id = paged.press(paged.buttons(answer)["👍"], answer)
    assert "Thanks" in (await callback_answer(paged, query_id))["text"]
    assert len(paged.fake.requests("sendMessage")) == 2  # the answer and the reload report


async def test_buttons_after_a_restart(start_bot: StartBot) -> None:
    first = await start_bot(RESULTS_PER_ANSWER="2")
    answer = await ask(first, "lighthouse")
    built_at = first.state.engine.stats().built_at
    await first.stop()

    # The corpus did not change: the restarted bot opens the same index, so More still pages.
    second = await start_bot(RESULTS_PER_ANSWER="2")
    assert second.state.engine.stats().built_at == built_at
    second.press(second.buttons(answer)["More ▸"], answer)
    [page] = await second.replies_to(answer)
    assert "<b>3.</b>" in page["text"]
    # The document did not change, so its context is still right.
    second.press(second.buttons(answer)["📄 Context 2"], answer)
    [_, context] = await second.replies_to(answer, count=2)
    assert "<u>" in context["text"]
    query_id = second.press(second.buttons(answer)["👎"], answer)
    assert "noted" in (await callback_answer(second, query_id))["text"]


async def test_more_after_a_reload_during_the_answer_says_reloaded(
    paged: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = paged.state.engine
    real_ask = engine.ask

    async def ask_then_reload(*args: Any, **kwargs: Any) -> Answer:
        answer = await real_ask(*args, **kwargs)
        # A /reload finishing between ask() and storing the page.
        (paged.config.corpus_dir / "porto.txt").write_text(
            "Porto\n\nThe Dom Luis bridge crosses the Douro river.\n", encoding="utf-8"
        )
        await engine.reindex()
        assert engine.stats().built_at != answer.index_built_at
        return answer

    monkeypatch.setattr(engine, "ask", ask_then_reload)
    first = await ask(paged, "lighthouse")
    monkeypatch.undo()
    query_id = paged.press(paged.buttons(first)["More ▸"], first)
    answered = await callback_answer(paged, query_id)
    assert answered["text"] == RELOADED


async def test_double_tap_on_more_sends_the_next_page_once(paged: Harness) -> None:
    first = await ask(paged, "lighthouse")
    more = paged.buttons(first)["More ▸"]
    # Both presses are fetched in one poll and handled concurrently.
    queries = [paged.press(more, first), paged.press(more, first)]
    answers = [await callback_answer(paged, q) for q in queries]
    assert sorted(a.get("text", "") for a in answers) == ["", MORE_TAKEN]
    [page] = await paged.replies_to(first)
    assert "<b>3.</b>" in page["text"]
    # Every update has been answered; only one page replied to the first answer.
    await paged.fake.wait_for("editMessageReplyMarkup")
    pages = [
        p
        for p in paged.fake.requests_params("sendMessage")
        if (p.get("reply_parameters") or {}).get("message_id") == first["message_id"]
    ]
    assert len(pages) == 1


async def test_more_that_fails_to_send_keeps_its_button_and_answers_once(paged: Harness) -> None:
    first = await ask(paged, "lighthouse")
    paged.fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    query_id = paged.press(paged.buttons(first)["More ▸"], first)
    answered = await callback_answer(paged, query_id)
    assert answered["text"] == FRIENDLY_ERROR
    # The error handler's answer is the last thing handling the press does.
    answers = [
        p
        for p in paged.fake.requests_params("answerCallbackQuery")
        if p["callback_query_id"] == query_id
    ]
    assert len(answers) == 1
    assert paged.fake.requests("editMessageReplyMarkup") == []
    # The button still works once sending does.
    paged.fake.recover("sendMessage")
    paged.press(paged.buttons(first)["More ▸"], first)
    [page] = await paged.replies_to(first)
    assert "<b>3.</b>" in page["text"]
    await paged.fake.wait_for("editMessageReplyMarkup")


async def test_context_counts_towards_the_per_user_limit(start_bot: StartBot) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="2")
    answer = await ask(bot, "How is Mafra bread baked?")
    context = bot.buttons(answer)["📄 Context 1"]
    allowed = bot.press(context, answer)
    [paragraph] = await bot.replies_to(answer)
    assert paragraph["text"].startswith("📄 Context from")
    await callback_answer(bot, allowed)
    limited = bot.press(context, answer)
    assert "faster than I can keep up" in (await callback_answer(bot, limited))["text"]
    assert len(bot.fake.requests("sendMessage")) == 2


async def test_buttons_on_an_inaccessible_message(paged: Harness) -> None:
    answer = await ask(paged, "lighthouse")
    # What Telegram sends for a message older than 48 hours.
    inaccessible = {"message_id": answer["message_id"], "date": 0, "chat": answer["chat"]}
    for label in ("📄 Context 1", "More ▸"):
        query_id = paged.press(paged.buttons(answer)[label], inaccessible)
        assert (await callback_answer(paged, query_id))["text"] == STALE, label
    query_id = paged.press(paged.buttons(answer)["👍"], inaccessible)
    assert "Thanks" in (await callback_answer(paged, query_id))["text"]
    assert len(paged.fake.requests("sendMessage")) == 1
