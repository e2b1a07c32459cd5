"""Command and status texts as Telegram HTML (pure functions, no I/O): /start, /help,
/sources, /stats and reload/upload reports."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.render import MAX_ENTITIES, MAX_MESSAGE_CHARS, count_entities, esc, render_source
from retrieval.models import DocumentMeta, IndexStats, ReindexReport


def render_start(stats: IndexStats, examples: Sequence[str], *, is_admin: bool) -> str:
    lines = [
        "👋 I answer questions about a collection of documents by quoting the sentences "
        "that answer them, with their source.",
        "",
        f"I know {stats.documents} document{_s(stats.documents)} "
        f"({stats.sentences} sentence{_s(stats.sentences)}). See /sources for the list.",
    ]
    if examples:
        lines += ["", "Try asking:"]
        lines += [f"• <code>{esc(q)}</code>" for q in examples]
    lines += ["", "Just send me a question, or see /help."]
    if is_admin:
        lines += ["", "You are an admin: see /help for /reload, /stats and uploads."]
    return "\n".join(lines)


def render_help(*, is_admin: bool, bot_username: str | None) -> str:
    mention = f"@{esc(bot_username)}" if bot_username else "me"
    lines = [
        "<b>How to ask</b>",
        "• In a private chat, send any question as a message.",
        f"• In a group, mention {mention}, reply to one of my messages, or use /ask.",
        f"• In any chat, type {mention} followed by a question to share a quote (inline mode).",
        "",
        "Under an answer: <i>More</i> shows the next quotes, <i>Context</i> the paragraph "
        "around a quote, and 👍/👎 tells me whether it helped.",
        "",
        "<b>Commands</b>",
        "/start – what I know and example questions",
        "/help – this message",
        "/sources – the documents I quote from",
        "/ask &lt;question&gt; – ask a question (useful in groups)",
    ]
    if is_admin:
        lines += [
            "",
            "<b>Admin</b>",
            "/reload – re-read the corpus folder",
            "/stats – index and usage statistics",
            "/unanswered – refused questions of the last 30 days",
            "/feedback – answers given a 👎",
            "/remove &lt;name&gt; – move a document to the corpus' .trash folder",
            "Send a document (.txt, .md, .pdf, .html, .docx, .odt, .epub) to add it to the corpus.",
        ]
    return "\n".join(lines)


def render_sources(
    documents: Sequence[DocumentMeta], failed: Mapping[str, str] | None = None
) -> str:
    """One message: the documents (by title) that fit, then how many more there are.
    ``failed`` (id -> reason) marks documents served from their last good version."""
    if not documents:
        return "I have no documents yet."
    total = len(documents)
    text = f"📚 I quote from {total} document{_s(total)}:"
    entities = 0
    ordered = sorted(documents, key=lambda d: (d.title or d.id).lower())
    for shown, document in enumerate(ordered):
        line = f"\n• {render_source(document)}"
        if failed and document.id in failed:
            line += f" ⚠️ <i>file unreadable ({esc(failed[document.id])}); last good version</i>"
        # Keep room for the "… and K more" line.
        if (
            len(text) + len(line) > MAX_MESSAGE_CHARS - 40
            or entities + count_entities(line) > MAX_ENTITIES
        ):
            return f"{text}\n… and {total - shown} more."
        text += line
        entities += count_entities(line)
    return text


def render_reindex_report(report: ReindexReport, *, title: str = "Reloaded") -> str:
    lines = [
        f"✅ {esc(title)} in {report.seconds:.1f} s: "
        f"{len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped.",
    ]
    for label, ids in (
        ("Added", report.added),
        ("Changed", report.changed),
        ("Removed", report.removed),
    ):
        if ids:
            lines.append(f"{label}: {_id_list(ids)}")
    for skipped in report.skipped[:10]:
        kept = "; the previous version is still used" if skipped.kept_previous else ""
        lines.append(f"Skipped <code>{esc(skipped.path)}</code>: {esc(skipped.reason)}{kept}")
    if len(report.skipped) > 10:
        lines.append(f"… and {len(report.skipped) - 10} more skipped.")
    stats = report.stats
    lines.append(
        f"Now serving {stats.documents} documents, {stats.passages} passages, "
        f"{stats.sentences} sentences."
    )
    return _fit("\n".join(lines))


def _id_list(ids: Sequence[str], shown: int = 10) -> str:
    listed = ", ".join(f"<code>{esc(i)}</code>" for i in ids[:shown])
    return listed + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


@dataclass(frozen=True, slots=True)
class UsageStats:
    """Question and feedback counters read from the bot's tables."""

    answered_total: int
    refused_total: int
    answered_24h: int
    refused_24h: int
    feedback_up: int
    feedback_down: int
    median_latency_ms: float | None
    inline_total: int = 0
    """Inline queries (sent as the user types), counted apart from questions."""
    inline_24h: int = 0


def render_stats(index: IndexStats, usage: UsageStats, *, now: float | None = None) -> str:
    age = max(0.0, (time.time() if now is None else now) - index.built_at)
    median = "n/a" if usage.median_latency_ms is None else f"{usage.median_latency_ms:.0f} ms"
    return "\n".join(
        [
            "<b>Index</b>",
            f"Documents: {index.documents}",
            f"Passages: {index.passages}",
            f"Sentences: {index.sentences}",
            f"Index age: {format_age(age)}",
            "",
            "<b>Questions</b> (total / last 24 h)",
            f"Answered: {usage.answered_total} / {usage.answered_24h}",
            f"Refused: {usage.refused_total} / {usage.refused_24h}",
            f"Median answer latency: {median}",
            f"Inline queries: {usage.inline_total} / {usage.inline_24h}",
            "",
            "<b>Feedback</b>",
            f"👍 {usage.feedback_up}   👎 {usage.feedback_down}",
        ]
    )


def format_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _fit(text: str) -> str:
    """Last-resort cut of a status message built from many file names."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    cut = text.rfind("\n", 0, MAX_MESSAGE_CHARS - 20)
    return text[: max(cut, 0)] + "\n…"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
