"""Command and status texts: /start, /help, /sources, /stats, reload reports."""

from __future__ import annotations

from html_check import assert_telegram_html

from bot.render import MAX_ENTITIES, MAX_MESSAGE_CHARS, count_entities
from bot.texts import (
    UsageStats,
    render_help,
    render_reindex_report,
    render_sources,
    render_start,
    render_stats,
)
from retrieval.models import DocumentMeta, IndexStats, ReindexReport, SkippedFile

STATS = IndexStats(documents=2, passages=10, sentences=20, built_at=1_000.0)


def test_command_texts_are_valid_html() -> None:
    start = render_start(STATS, ["What about <Lisbon> & Porto?"], is_admin=True)
    assert "What about &lt;Lisbon&gt; &amp; Porto?" in start and "/reload" in start
    assert "/reload" not in render_start(STATS, [], is_admin=False)
    assert "/stats" in render_help(is_admin=True, bot_username="qa_bot")
    assert "/stats" not in render_help(is_admin=False, bot_username=None)
    for text in [start, render_help(is_admin=True, bot_username="a_b")]:
        assert len(text) <= MAX_MESSAGE_CHARS
        assert_telegram_html(text)


def test_reindex_report_and_stats() -> None:
    report = ReindexReport(
        added=("new <1>.md",),
        changed=(),
        removed=("gone.txt",),
        unchanged=3,
        skipped=(SkippedFile("bad&.txt", "not valid UTF-8"),),
        seconds=0.25,
        stats=STATS,
    )
    text = render_reindex_report(report)
    assert "1 added, 0 changed, 1 removed, 3 unchanged, 1 skipped" in text
    assert "new &lt;1&gt;.md" in text and "bad&amp;.txt" in text and "0.2 s" in text
    assert_telegram_html(text)
    usage = UsageStats(5, 2, 1, 0, 3, 1, 12.4, inline_total=40, inline_24h=9)
    stats = render_stats(STATS, usage, now=1_000.0 + 7200)
    for expected in [
        "Documents: 2",
        "Answered: 5 / 1",
        "Refused: 2 / 0",
        "12 ms",
        "👍 3",
        "👎 1",
        "2.0 h",
        "Inline queries: 40 / 9",
    ]:
        assert expected in stats
    assert_telegram_html(stats)


def test_sources_of_a_large_corpus_are_one_message_ending_with_how_many_more() -> None:
    many = [DocumentMeta(id=f"d{n}", title=f"Document {n:03} " + "t" * 80) for n in range(200)]
    text = render_sources(many)
    assert len(text) <= MAX_MESSAGE_CHARS and count_entities(text) <= MAX_ENTITIES
    assert_telegram_html(text)
    listed = text.count("\n• ")
    assert 10 < listed < 200
    assert text.startswith("📚 I quote from 200 documents:")
    assert text.endswith(f"\n… and {200 - listed} more.")
    assert "Document 000" in text and "Document 199" not in text
    linked = [DocumentMeta(id=f"d{n}", title="T", url=f"https://x.org/{n}") for n in range(300)]
    text = render_sources(linked)
    assert count_entities(text) <= MAX_ENTITIES and "more." in text
    few = render_sources(many[:3])
    assert "more" not in few and few.count("\n• ") == 3
