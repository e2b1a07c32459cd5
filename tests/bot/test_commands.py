"""/start, /help and /sources, and messages the bot cannot read."""

from __future__ import annotations

import re
from pathlib import Path

from harness import ADMIN, GROUP, Harness, StartBot
from html_check import assert_telegram_html


async def test_start_says_what_the_bot_knows_with_three_answerable_examples(
    start_bot: StartBot, shipped_corpus: Path
) -> None:
    bot = await start_bot(corpus=shipped_corpus)
    [reply] = await bot.replies_to(bot.message("/start"))
    text = reply["text"]
    assert_telegram_html(text)
    assert "I know 2 documents" in text and "/sources" in text and "/reload" not in text
    examples = re.findall(r"• <code>(.*?)</code>", text)
    assert len(examples) == 3
    for example in examples:
        [answer] = await bot.replies_to(bot.message(example))
        assert "<blockquote>" in answer["text"], example


async def test_start_for_an_admin_mentions_admin_commands(bot: Harness) -> None:
    [reply] = await bot.replies_to(bot.message("/start", user=ADMIN))
    assert "/reload" in reply["text"]


async def test_help_lists_commands_and_group_usage(bot: Harness) -> None:
    [reply] = await bot.replies_to(bot.message("/help@qa_test_bot", chat=GROUP))
    text = reply["text"]
    assert_telegram_html(text)
    assert "@qa_test_bot" in text and "/ask" in text and "/sources" in text
    assert "/reload" not in text
    [reply] = await bot.replies_to(bot.message("/help", user=ADMIN))
    assert "/reload" in reply["text"] and "/stats" in reply["text"]


async def test_sources_lists_every_document_with_its_source(bot: Harness) -> None:
    [reply] = await bot.replies_to(bot.message("/sources"))
    text = reply["text"]
    assert_telegram_html(text)
    assert "2 documents" in text
    assert (
        '<a href="https://example.org/lights?a=1&amp;b=2">Lighthouses &amp; &lt;Keepers&gt;</a>'
        in text
    )
    assert "Bread of Mafra" in text


async def test_sources_of_the_shipped_corpus(start_bot: StartBot, shipped_corpus: Path) -> None:
    bot = await start_bot(corpus=shipped_corpus)
    [reply] = await bot.replies_to(bot.message("/sources"))
    assert "Fuad Muxtarlı" in reply["text"] and "Hazem Zahab" in reply["text"]


async def test_non_text_message_gets_a_hint(bot: Harness) -> None:
    sticker = {
        "file_id": "s1",
        "file_unique_id": "us1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    [reply] = await bot.replies_to(bot.message(sticker=sticker))
    assert "only read questions typed as text" in reply["text"]


async def test_sources_of_a_large_corpus_is_one_message(
    start_bot: StartBot, tmp_path: Path
) -> None:
    corpus = tmp_path / "many"
    corpus.mkdir()
    for n in range(150):
        (corpus / f"doc{n:03}.txt").write_text(
            f"Document number {n} about " + "t" * 60 + f"\n\nDocument {n} tells of tide {n}.\n",
            encoding="utf-8",
        )
    bot = await start_bot(corpus=corpus)
    asked = bot.message("/sources")
    [reply] = await bot.replies_to(asked)
    text = reply["text"]
    assert_telegram_html(text)
    assert len(text) <= 4096 and "150 documents" in text
    assert re.search(r"\n… and \d+ more\.$", text)
    await bot.settle()
    assert len(bot.fake.requests_params("sendMessage")) == 2  # the list and the marker's reply


async def test_start_and_sources_count_towards_the_per_user_limit(start_bot: StartBot) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="2")
    [first] = await bot.replies_to(bot.message("/start"))
    assert "I know 2 documents" in first["text"]
    [second] = await bot.replies_to(bot.message("/sources"))
    assert "2 documents" in second["text"]
    [reply] = await bot.replies_to(bot.message("/start"))
    assert "faster than I can keep up" in reply["text"]
    # Told once: later commands in the same wait are ignored.
    ignored = bot.message("/sources")
    await bot.settle()
    assert len(bot.fake.requests("sendMessage")) == 4  # with the marker's reply
    assert all(
        (p.get("reply_parameters") or {}).get("message_id") != ignored["message_id"]
        for p in bot.fake.requests_params("sendMessage")
    )
    # Another user is not affected.
    [other] = await bot.replies_to(bot.message("/sources", user=ADMIN))
    assert "2 documents" in other["text"]
