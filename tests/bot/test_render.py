"""Rendering answers as Telegram HTML: escaping, highlighting, sources, fitting messages."""

from __future__ import annotations

import html
import random
import re
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from html_check import TelegramHTMLError, assert_telegram_html

from bot.render import (
    MAX_ENTITIES,
    MAX_HIGHLIGHTS_PER_QUOTE,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES_PER_ANSWER,
    MAX_SOURCE_HTML,
    answer_page,
    count_entities,
    highlight,
    plain_source,
    render_answer,
    render_context,
    render_inline_message,
    render_quote,
    render_source,
)
from bot.texts import render_sources
from retrieval.models import (
    Answer,
    Context,
    DocumentMeta,
    Quote,
)

DOC = DocumentMeta(
    id="a.md",
    title="Tom & Jerry <live>",
    author="A. Writer",
    date="2021-01-02",
    url="https://example.org/x?a=1&b=2",
)


def quote(text: str, terms: tuple[str, ...] = (), document: DocumentMeta = DOC) -> Quote:
    return Quote(text=text, score=1.0, document=document, start=0, end=len(text), terms=terms)


def answer(*quotes: Quote, abstained: bool = False) -> Answer:
    return Answer("q?", abstained, tuple(quotes), 1.0, False)


def visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_validator_rejects_what_telegram_rejects() -> None:
    for bad in [
        "<b>x",
        "x</b>",
        "<b><i>x</b></i>",
        "a < b",
        "a & b",
        "<p>x</p>",
        "&nbsp;",
        "<br/>",
    ]:
        with pytest.raises(TelegramHTMLError):
            assert_telegram_html(bad)
    assert_telegram_html(
        '<blockquote expandable><b>x</b> &lt;&amp;&gt; <a href="u">y</a></blockquote>'
    )


def test_highlight_escapes_and_bolds_whole_words_case_insensitively() -> None:
    out = highlight("Bread & <bread>, breadcrumbs: BREAD.", ("bread",))
    assert out == "<b>Bread</b> &amp; &lt;<b>bread</b>&gt;, breadcrumbs: <b>BREAD</b>."
    # Terms are literal text, not patterns.
    assert highlight("a+b aab", ("a+b",)) == "<b>a+b</b> aab"
    assert highlight("x < y", ()) == "x &lt; y"


def test_source_links_title_and_lists_author_and_date() -> None:
    assert render_source(DOC) == (
        '<a href="https://example.org/x?a=1&amp;b=2">Tom &amp; Jerry &lt;live&gt;</a>'
        " · A. Writer · 2021-01-02"
    )
    plain = DocumentMeta(id="b.txt", title="Plain")
    assert render_source(plain) == "<i>Plain</i>"
    # Only http(s) links: anything else would be rejected by Telegram or be unsafe.
    sneaky = DocumentMeta(id="c.txt", title="T", url='javascript:alert("x")')
    assert "href" not in render_source(sneaky)


def test_answer_is_quote_in_blockquote_then_numbered_source() -> None:
    [message] = render_answer(answer(quote("Bread is baked daily.", ("Bread", "baked"))))
    assert message.startswith(
        "<blockquote><b>Bread</b> is <b>baked</b> daily.</blockquote>\n<b>1.</b> "
    )
    assert_telegram_html(message)


def test_quote_shows_its_page_and_section() -> None:
    located = Quote(
        text="Work from home on Fridays.",
        score=1.0,
        document=DOC,
        start=0,
        end=26,
        page=12,
        section="Remote <work> & more",
    )
    block = render_quote(located)
    assert block.endswith(" · p. 12 · § Remote &lt;work&gt; &amp; more")
    assert_telegram_html(block)
    assert "p. 12" not in render_quote(quote("Work from home on Fridays."))


def test_abstention_renders_friendly_refusal_with_hints() -> None:
    [message] = render_answer(answer(abstained=True))
    assert "couldn't find" in message and "/sources" in message and "/help" in message
    assert_telegram_html(message)


def test_long_answer_is_at_most_three_messages_of_whole_quotes() -> None:
    quotes = [quote(f"Quote {n} " + "word & more " * 120, ("word",)) for n in range(12)]
    chunks, shown = answer_page(answer(*quotes))
    assert 1 < len(chunks) <= MAX_MESSAGES_PER_ANSWER
    assert 1 <= shown < 12
    for chunk in chunks:
        assert len(chunk) <= MAX_MESSAGE_CHARS
        assert count_entities(chunk) <= MAX_ENTITIES
        assert_telegram_html(chunk)
        # Whole quotes only: every blockquote is followed by its source line.
        assert chunk.count("<blockquote>") == chunk.count("Tom &amp; Jerry")
    numbers = [int(n) for c in chunks for n in re.findall(r"<b>(\d+)\.</b>", c)]
    assert numbers == list(range(1, shown + 1))
    # The next page carries on where this one stopped.
    rest, _ = answer_page(answer(*quotes[shown:]), offset=shown)
    assert f"<b>{shown + 1}.</b>" in rest[0]


def test_many_huge_quotes_still_make_at_most_three_messages() -> None:
    quotes = [quote("word " * 5000, ("word",), HUGE) for _ in range(10)]
    chunks, shown = answer_page(answer(*quotes), offset=20)
    assert len(chunks) <= MAX_MESSAGES_PER_ANSWER and 1 <= shown <= 3
    assert "<b>21.</b>" in chunks[0]
    for chunk in chunks:
        assert len(chunk) <= MAX_MESSAGE_CHARS
        assert_telegram_html(chunk)


def test_quote_longer_than_a_message_is_cut_between_words_outside_tags() -> None:
    rng = random.Random(7)
    words = ["alpha", "<beta>", "&gamma", "delta", '"eps"', "zeta"]
    text = " ".join(rng.choice(words) for _ in range(3000))
    [message] = render_answer(answer(quote(text, ("alpha", "delta"))))
    assert len(message) <= MAX_MESSAGE_CHARS
    assert_telegram_html(message)
    shown = visible(message.split("</blockquote>")[0])
    assert shown.endswith(" …")
    kept = shown[: -len(" …")].split()
    assert kept == text.split()[: len(kept)] and len(kept) > 100
    assert message.endswith("Tom &amp; Jerry &lt;live&gt;</a> · A. Writer · 2021-01-02")


def test_a_single_huge_word_is_still_cut_safely() -> None:
    block = render_quote(quote("&" * 9000), 1)
    assert len(block) <= MAX_MESSAGE_CHARS
    assert_telegram_html(block)
    assert 100 < visible(block.split("</blockquote>")[0]).count("&") < 9000


def test_highlights_are_capped_to_respect_the_entity_limit() -> None:
    text = " ".join(["lamp"] * 300)
    block = render_quote(quote(text, ("lamp",)))
    assert block.count("<b>") <= MAX_HIGHLIGHTS_PER_QUOTE + 1
    chunks = render_answer(answer(*[quote(text, ("lamp",)) for _ in range(5)]))
    assert all(count_entities(c) <= MAX_ENTITIES for c in chunks)


def test_random_text_always_gives_valid_html() -> None:
    rng = random.Random(1)
    alphabet = "ab <>&\"'/;=x\n\t–😀"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        terms = tuple({text[i : i + 2] for i in range(0, len(text), 7)})
        title = "".join(rng.choice(alphabet) for _ in range(10))
        document = DocumentMeta(id="r", title=title, author=title, url=f"https://x.org/{title}")
        for chunk in render_answer(answer(quote(text, terms, document))):
            assert_telegram_html(chunk)
        assert_telegram_html(render_inline_message(quote(text, terms, document)))


def test_context_underlines_the_quote_within_its_paragraph() -> None:
    paragraph = "Before <it>. The quote & more. After it."
    start = paragraph.index("The quote")
    ctx = Context(DOC, paragraph, start, start + len("The quote & more."))
    message = render_context(ctx)
    assert "<u>The quote &amp; more.</u>" in message
    assert "Before &lt;it&gt;." in message and "After it." in message
    assert_telegram_html(message)


def test_context_of_a_huge_paragraph_is_trimmed_around_the_quote() -> None:
    paragraph = ("x & y " * 2000) + "THE QUOTE" + (" y < z" * 2000)
    start = paragraph.index("THE QUOTE")
    message = render_context(Context(DOC, paragraph, start, start + 9))
    assert len(message) <= MAX_MESSAGE_CHARS
    assert "<u>THE QUOTE</u>" in message and "…" in message
    assert_telegram_html(message)


def test_inline_message_of_a_huge_quote_fits_one_message() -> None:
    message = render_inline_message(quote("word " * 3000, ("word",)))
    assert len(message) <= MAX_MESSAGE_CHARS
    assert_telegram_html(message)


T = TypeVar("T")


def returns_within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``, failing the test (instead of hanging it) if it does not return in time."""
    results: list[T] = []
    worker = threading.Thread(target=lambda: results.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert results, f"did not return within {seconds} s"
    return results[0]


HUGE = DocumentMeta(
    id="huge.md",
    title="Title & <more> " * 350,  # 5250 characters
    author="&" * 5000,
    date="2021 " * 1000,
    url="https://example.org/" + "a&b" * 2000,
    source='"quoted" ' * 600,
)


def test_huge_metadata_keeps_every_message_within_limits() -> None:
    assert len(HUGE.title) > 5000
    paragraph = "Before the quote. The quote & more. After it."
    start = paragraph.index("The quote")
    ctx = Context(HUGE, paragraph, start, start + len("The quote & more."))
    context_message = returns_within(5, lambda: render_context(ctx))
    assert "<u>The quote &amp; more.</u>" in context_message
    short = quote("The lamp & the keeper.", ("lamp",), HUGE)
    long = quote("word & more " * 300, ("word",), HUGE)
    messages = [
        context_message,
        *render_answer(answer(short, long, short)),
        render_inline_message(short),
        render_inline_message(long),
        render_sources([HUGE] * 3),
    ]
    for message in messages:
        assert len(message) <= MAX_MESSAGE_CHARS
        assert count_entities(message) <= MAX_ENTITIES
        assert_telegram_html(message)
    source = render_source(HUGE)
    assert "href" not in source  # a link too long to keep whole is dropped, not cut
    assert len(source) < 1500 and "…" in source
    assert visible(source).startswith("Title & <more> Title")
    assert len(plain_source(HUGE)) < 600


def test_long_url_is_dropped_but_a_normal_one_is_kept() -> None:
    keep = DocumentMeta(id="k", title="T", url="https://example.org/" + "a" * 900)
    drop = DocumentMeta(id="d", title="T", url="https://example.org/" + "a" * 1000)
    assert "href" in render_source(keep) and "href" not in render_source(drop)
    assert plain_source(keep).endswith("a" * 900) and "https" not in plain_source(drop)


def test_context_with_an_empty_or_out_of_range_quote_returns() -> None:
    for lo, hi in [(5, 5), (0, 0), (10_000, 20_000), (-3, 2)]:
        ctx = Context(HUGE, "x & y " * 3000, lo, hi)
        message = returns_within(5, lambda ctx=ctx: render_context(ctx))  # type: ignore[misc]
        assert len(message) <= MAX_MESSAGE_CHARS
        assert_telegram_html(message)


def test_worst_case_source_stays_within_its_bound() -> None:
    # The quote and context budgets rely on a source (and the context header) taking at
    # most half a message.
    assert MAX_SOURCE_HTML + len("📄 Context from \n\n") <= MAX_MESSAGE_CHARS // 2
    url = "https://x.org/" + "a" * (1000 - len("https://x.org/"))
    escapes = DocumentMeta(
        id="w", title="&" * 5000, author='"' * 500, date="<" * 500, url=url, source=">" * 500
    )
    letters = DocumentMeta(
        id="w", title="a" * 5000, author="b" * 500, date="c" * 500, url=url, source="d" * 500
    )
    for document in (escapes, letters):
        assert "href" in render_source(document)
        assert len(render_source(document)) <= MAX_SOURCE_HTML
