"""Command and status texts as Telegram HTML (pure functions, no I/O): /start, /help,
/sources, /stats and reload/upload reports."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.i18n import ENGLISH, Translations
from bot.render import MAX_ENTITIES, MAX_MESSAGE_CHARS, count_entities, esc, render_source
from retrieval.models import DocumentMeta, IndexStats, ReindexReport


def render_start(
    stats: IndexStats, examples: Sequence[str], *, is_admin: bool, tr: Translations = ENGLISH
) -> str:
    documents = tr.ngettext("{count} document", "{count} documents", stats.documents).format(
        count=stats.documents
    )
    sentences = tr.ngettext("{count} sentence", "{count} sentences", stats.sentences).format(
        count=stats.sentences
    )
    lines = [
        tr.gettext(
            "👋 I answer questions about a collection of documents by quoting the sentences "
            "that answer them, with their source."
        ),
        "",
        # Translators: {documents} is "2 documents", {sentences} is "20 sentences".
        tr.gettext("I know {documents} ({sentences}). See /sources for the list.").format(
            documents=documents, sentences=sentences
        ),
    ]
    if examples:
        lines += ["", tr.gettext("Try asking:")]
        lines += [f"• <code>{esc(q)}</code>" for q in examples]
    lines += ["", tr.gettext("Just send me a question, or see /help.")]
    if is_admin:
        lines += ["", tr.gettext("You are an admin: see /help for /reload, /stats and uploads.")]
    return "\n".join(lines)


def render_help(*, is_admin: bool, bot_username: str | None, tr: Translations = ENGLISH) -> str:
    # Translators: how the bot names itself when it has no @username.
    mention = f"@{esc(bot_username)}" if bot_username else tr.gettext("me")
    lines = [
        tr.gettext("<b>How to ask</b>"),
        tr.gettext("• In a private chat, send any question as a message."),
        tr.gettext(
            "• In a group, mention {mention}, reply to one of my messages, or use /ask."
        ).format(mention=mention),
        tr.gettext(
            "• In any chat, type {mention} followed by a question to share a quote (inline mode)."
        ).format(mention=mention),
        "",
        tr.gettext(
            "Under an answer: <i>More</i> shows the next quotes, <i>Context</i> the paragraph "
            "around a quote, and 👍/👎 tells me whether it helped."
        ),
        "",
        tr.gettext("<b>Commands</b>"),
        tr.gettext("/start – what I know and example questions"),
        tr.gettext("/help – this message"),
        tr.gettext("/sources – the documents I quote from"),
        tr.gettext("/ask &lt;question&gt; – ask a question (useful in groups)"),
    ]
    if is_admin:
        lines += [
            "",
            tr.gettext("<b>Admin</b>"),
            tr.gettext("/reload – re-read the corpus folder"),
            tr.gettext("/stats – index and usage statistics"),
            tr.gettext("/unanswered – refused questions of the last 30 days"),
            tr.gettext("/feedback – answers given a 👎"),
            tr.gettext("/remove &lt;name&gt; – move a document to the corpus' .trash folder"),
            tr.gettext(
                "Send a document (.txt, .md, .pdf, .html, .docx, .odt, .epub) to add it to the corpus."
            ),
        ]
    return "\n".join(lines)


def render_sources(
    documents: Sequence[DocumentMeta],
    failed: Mapping[str, str] | None = None,
    *,
    tr: Translations = ENGLISH,
) -> str:
    """One message: the documents (by title) that fit, then how many more there are.
    ``failed`` (id -> reason) marks documents served from their last good version."""
    if not documents:
        return tr.gettext("I have no documents yet.")
    total = len(documents)
    text = tr.ngettext(
        "📚 I quote from {count} document:", "📚 I quote from {count} documents:", total
    ).format(count=total)
    unreadable = tr.gettext("file unreadable ({reason}); last good version")
    entities = 0
    ordered = sorted(documents, key=lambda d: (d.title or d.id).lower())
    for shown, document in enumerate(ordered):
        line = f"\n• {render_source(document)}"
        if failed and document.id in failed:
            line += f" ⚠️ <i>{unreadable.format(reason=esc(failed[document.id]))}</i>"
        # Keep room for the "… and K more" line.
        if (
            len(text) + len(line) > MAX_MESSAGE_CHARS - 80
            or entities + count_entities(line) > MAX_ENTITIES
        ):
            more = tr.ngettext("… and {count} more.", "… and {count} more.", total - shown)
            return f"{text}\n{more.format(count=total - shown)}"
        text += line
        entities += count_entities(line)
    return text


def render_reindex_report(
    report: ReindexReport, *, title: str | None = None, tr: Translations = ENGLISH
) -> str:
    title = tr.gettext("Reloaded") if title is None else title
    lines = [
        "✅ "
        + tr.gettext(
            "{title} in {seconds} s: {added} added, {changed} changed, {removed} removed, "
            "{unchanged} unchanged, {skipped} skipped."
        ).format(
            title=esc(title),
            seconds=f"{report.seconds:.1f}",
            added=len(report.added),
            changed=len(report.changed),
            removed=len(report.removed),
            unchanged=report.unchanged,
            skipped=len(report.skipped),
        ),
    ]
    for label, ids in (
        (tr.gettext("Added: {files}"), report.added),
        (tr.gettext("Changed: {files}"), report.changed),
        (tr.gettext("Removed: {files}"), report.removed),
    ):
        if ids:
            lines.append(label.format(files=_id_list(ids, tr=tr)))
    for skipped in report.skipped[:10]:
        if skipped.kept_previous:
            line = tr.gettext("Skipped {file}: {reason}; the previous version is still used")
        else:
            line = tr.gettext("Skipped {file}: {reason}")
        lines.append(
            line.format(file=f"<code>{esc(skipped.path)}</code>", reason=esc(skipped.reason))
        )
    if len(report.skipped) > 10:
        more = len(report.skipped) - 10
        lines.append(
            tr.ngettext("… and {count} more skipped.", "… and {count} more skipped.", more).format(
                count=more
            )
        )
    stats = report.stats
    lines.append(
        tr.gettext(
            "Now serving {documents} documents, {passages} passages, {sentences} sentences."
        ).format(documents=stats.documents, passages=stats.passages, sentences=stats.sentences)
    )
    return _fit("\n".join(lines))


def _id_list(ids: Sequence[str], shown: int = 10, *, tr: Translations = ENGLISH) -> str:
    listed = ", ".join(f"<code>{esc(i)}</code>" for i in ids[:shown])
    if len(ids) <= shown:
        return listed
    more = len(ids) - shown
    return listed + tr.ngettext(" and {count} more", " and {count} more", more).format(count=more)


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


def render_stats(
    index: IndexStats, usage: UsageStats, *, now: float | None = None, tr: Translations = ENGLISH
) -> str:
    age = max(0.0, (time.time() if now is None else now) - index.built_at)
    if usage.median_latency_ms is None:
        median = tr.gettext("n/a")
    else:
        median = tr.gettext("{ms} ms").format(ms=f"{usage.median_latency_ms:.0f}")
    return "\n".join(
        [
            tr.gettext("<b>Index</b>"),
            tr.gettext("Documents: {count}").format(count=index.documents),
            tr.gettext("Passages: {count}").format(count=index.passages),
            tr.gettext("Sentences: {count}").format(count=index.sentences),
            tr.gettext("Index age: {age}").format(age=format_age(age, tr=tr)),
            "",
            tr.gettext("<b>Questions</b> (total / last 24 h)"),
            tr.gettext("Answered: {total} / {day}").format(
                total=usage.answered_total, day=usage.answered_24h
            ),
            tr.gettext("Refused: {total} / {day}").format(
                total=usage.refused_total, day=usage.refused_24h
            ),
            tr.gettext("Median answer latency: {median}").format(median=median),
            tr.gettext("Inline queries: {total} / {day}").format(
                total=usage.inline_total, day=usage.inline_24h
            ),
            "",
            tr.gettext("<b>Feedback</b>"),
            f"👍 {usage.feedback_up}   👎 {usage.feedback_down}",
        ]
    )


def format_age(seconds: float, *, tr: Translations = ENGLISH) -> str:
    if seconds < 120:
        return tr.gettext("{n} s").format(n=f"{seconds:.0f}")
    if seconds < 2 * 3600:
        return tr.gettext("{n} min").format(n=f"{seconds / 60:.0f}")
    if seconds < 2 * 86400:
        return tr.gettext("{n} h").format(n=f"{seconds / 3600:.1f}")
    return tr.gettext("{n} days").format(n=f"{seconds / 86400:.1f}")


def _fit(text: str) -> str:
    """Last-resort cut of a status message built from many file names."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    cut = text.rfind("\n", 0, MAX_MESSAGE_CHARS - 20)
    return text[: max(cut, 0)] + "\n…"
