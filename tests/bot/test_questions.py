"""Questions end to end: private chats, groups, /ask, through the fake Bot API server."""

from __future__ import annotations

from harness import Harness
from html_check import assert_telegram_html


async def test_private_question_is_answered_with_quote_and_source(bot: Harness) -> None:
    question = bot.message("Where does the Bugio lighthouse stand?")
    [reply] = await bot.replies_to(question)
    assert "Tagus river" in reply["text"]
    assert "<blockquote>" in reply["text"]
    assert "<b>Bugio</b>" in reply["text"]
    # Title escaped and linked; author and date follow.
    assert (
        '<a href="https://example.org/lights?a=1&amp;b=2">Lighthouses &amp; &lt;Keepers&gt;</a>'
        in reply["text"]
    )
    assert "Maria Lopes" in reply["text"] and "2020-03-04" in reply["text"]
    assert reply["parse_mode"] == "HTML"
    assert_telegram_html(reply["text"])
