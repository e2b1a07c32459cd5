"""Turn retrieval results into Telegram HTML messages (pure functions, no I/O).

Every piece of text that comes from a document, a user or a file name goes through
:func:`html.escape`, so whatever the corpus contains the result is valid Telegram HTML.
Lengths are measured on the HTML source, which is never shorter than what Telegram counts
after parsing entities, so a chunk that fits here always fits there.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from retrieval.models import Answer, Context, DocumentMeta, IndexStats, Quote, ReindexReport

MAX_MESSAGE_CHARS = 4096
# Telegram rejects a message with more than 100 formatting entities; keep a margin.
MAX_ENTITIES = 90
# A sentence that repeats the question's words dozens of times would otherwise blow the
# entity budget on its own.
MAX_HIGHLIGHTS_PER_QUOTE = 30
INLINE_DESCRIPTION_CHARS = 200
# A long answer is at most this many messages; quotes that do not fit go to "More".
MAX_MESSAGES_PER_ANSWER = 3
# Metadata comes from documents and uploads: clamp every field so that a source line can
# never crowd a quote (or the whole message) out. Visible characters; escaped HTML may be
# up to twice as long before the field is cut further.
MAX_TITLE_CHARS = 200
MAX_FIELD_CHARS = 100
MAX_URL_CHARS = 1000

_OPENING_TAG = re.compile(r"<(?!/)")
_PIECES = re.compile(r"\S+\s*|\s+")


def esc(text: str) -> str:
    """Escape text for Telegram HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(text, quote=True)


def count_entities(fragment: str) -> int:
    """Number of formatting entities an HTML fragment produced by this module opens."""
    return len(_OPENING_TAG.findall(fragment))


# --- quotes ---------------------------------------------------------------------------------


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def highlight(text: str, terms: Iterable[str], *, limit: int = MAX_HIGHLIGHTS_PER_QUOTE) -> str:
    """Escape ``text`` and wrap whole-word occurrences of ``terms`` in ``<b>``."""
    pattern = _term_pattern(terms)
    if pattern is None:
        return esc(text)
    out: list[str] = []
    last = 0
    for n, match in enumerate(pattern.finditer(text)):
        if n >= limit:
            break
        out.append(esc(text[last : match.start()]))
        out.append(f"<b>{esc(match.group())}</b>")
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (cut with "…"), as plain text."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def _clip_html(text: str, limit: int) -> str:
    """Escaped ``text``, at most ``limit`` visible and ``2 * limit`` HTML characters."""
    text = " ".join(text.split())
    whole = esc(text)
    if len(text) <= limit and len(whole) <= 2 * limit:
        return whole
    out: list[str] = []
    size = 0
    for n, char in enumerate(text):  # bounded by len(text): always terminates
        escaped = esc(char)
        if n >= limit - 1 or size + len(escaped) > 2 * limit - 1:
            break
        out.append(escaped)
        size += len(escaped)
    return "".join(out).rstrip() + "…"


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links are offered: Telegram rejects other schemes in ``<a href>``.

    A link longer than :data:`MAX_URL_CHARS` (escaped) is dropped rather than cut: half a
    URL points somewhere else.
    """
    if not url:
        return None
    url = url.strip()
    if len(esc(url)) > MAX_URL_CHARS or any(c.isspace() for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def _extras(document: DocumentMeta) -> list[str]:
    return [
        part for part in (document.author, document.source, document.date) if part and part.strip()
    ]


def render_source(document: DocumentMeta) -> str:
    """Title (linked when a URL is known), then author, source and date when known.

    Every field is clamped, so the result is at most :data:`MAX_SOURCE_HTML` characters.
    """
    title = _clip_html(document.title or document.id, MAX_TITLE_CHARS)
    url = _safe_url(document.url)
    head = f'<a href="{esc(url)}">{title}</a>' if url else f"<i>{title}</i>"
    extras = [_clip_html(part, MAX_FIELD_CHARS) for part in _extras(document)]
    return " · ".join([head, *extras])


# <a href=""></a> + title + three " · " separated fields.
MAX_SOURCE_HTML = 15 + MAX_URL_CHARS + 2 * MAX_TITLE_CHARS + 3 * (3 + 2 * MAX_FIELD_CHARS)


def plain_source(document: DocumentMeta) -> str:
    """The source as plain text: title, author, source, date and URL where known, clamped."""
    parts = [clip(document.title or document.id, MAX_TITLE_CHARS)]
    parts += [clip(part, MAX_FIELD_CHARS) for part in _extras(document)]
    url = _safe_url(document.url)
    if url:
        parts.append(url)
    return " · ".join(parts)


def _fit_quote(text: str, terms: Sequence[str], budget: int) -> str:
    """``text`` highlighted, or if that is longer than ``budget``, its start cut between
    words with " …" (a first word longer than the budget is cut by characters)."""
    whole = highlight(text, terms)
    if len(whole) <= budget:
        return whole
    room = budget - 2  # " …"
    kept: list[str] = []
    size = 0
    for word in _PIECES.findall(text):
        size += len(highlight(word, terms))
        if size > room:
            break
        kept.append(word)
    cut = "".join(kept).rstrip()
    if not cut:
        # Escaping makes a character at most 6 long, and <b></b> adds 7.
        cut = text[: max(1, (room - 7) // 6)]
    out = f"{highlight(cut, terms)} …"
    while len(out) > budget and cut:  # safety net; halving always ends
        cut = cut[: len(cut) // 2]
        out = f"{highlight(cut, terms)} …"
    return out


def render_quote(quote: Quote, number: int | None = None) -> str:
    """One quote as one HTML block that fits a message: the highlighted text in a
    blockquote (cut between words with "…" if too long), then its source."""
    label = f"<b>{number}.</b> " if number is not None else ""
    source = f"{label}{render_source(quote.document)}"
    budget = MAX_MESSAGE_CHARS - len(source) - 40  # > 2000: render_source is clamped
    text = _fit_quote(quote.text.strip(), quote.terms, budget)
    return f"<blockquote>{text}</blockquote>\n{source}"


def pack(blocks: Iterable[str], *, separator: str = "\n\n") -> list[str]:
    """Join blocks into as few messages as possible, never cutting a block.

    Each block must itself fit in a message (the renderers guarantee it).
    """
    chunks: list[str] = []
    current = ""
    entities = 0
    for block in blocks:
        block_entities = count_entities(block)
        candidate = f"{current}{separator}{block}" if current else block
        if current and (
            len(candidate) > MAX_MESSAGE_CHARS or entities + block_entities > MAX_ENTITIES
        ):
            chunks.append(current)
            current, entities = block, block_entities
        else:
            current, entities = candidate, entities + block_entities
    if current:
        chunks.append(current)
    return chunks


def render_refusal() -> str:
    return (
        "I couldn't find anything in my documents that answers this. 🤔\n"
        "Try other words, see /sources for what I know about, or /help."
    )


def answer_page(answer: Answer, *, offset: int = 0) -> tuple[list[str], int]:
    """An answer as at most :data:`MAX_MESSAGES_PER_ANSWER` messages, and how many of its
    quotes they show (numbered from ``offset + 1``); the rest belong on the next page."""
    if answer.abstained or not answer.quotes:
        refusal = render_refusal() if offset == 0 else "That's all I found — no more quotes."
        return [refusal], 0
    blocks = [render_quote(q, n) for n, q in enumerate(answer.quotes, start=offset + 1)]
    for shown in range(len(blocks), 0, -1):
        chunks = pack(blocks[:shown])
        if len(chunks) <= MAX_MESSAGES_PER_ANSWER:
            return chunks, shown
    raise AssertionError("unreachable: one block always fits one message")  # pragma: no cover


def render_answer(answer: Answer, *, offset: int = 0) -> list[str]:
    """The messages of :func:`answer_page`."""
    return answer_page(answer, offset=offset)[0]


# --- context ----------------------------------------------------------------------------------


def render_context(context: Context) -> str:
    """The paragraph around a quote, the quote itself underlined, cut to fit one message."""
    text = context.text
    start = max(0, min(context.quote_start, len(text)))
    end = max(start, min(context.quote_end, len(text)))
    header = f"📄 Context from {render_source(context.document)}\n\n"
    if len(header) > MAX_MESSAGE_CHARS // 2:  # pragma: no cover - render_source is clamped
        header = "📄 Context\n\n"
    budget = MAX_MESSAGE_CHARS - len(header) - 60  # > 1900: the header is at most half

    def body(lo: int, hi: int) -> str:
        before = ("… " if lo > 0 else "") + esc(text[lo:start])
        after = esc(text[end:hi]) + (" …" if hi < len(text) else "")
        return f"<blockquote>{before}<u>{esc(text[start:end])}</u>{after}</blockquote>"

    lo, hi = 0, len(text)
    rendered = body(lo, hi)
    # Each round shrinks (start - lo) + (hi - end) + (end - start), a non-negative integer,
    # or stops: the loop always ends.
    while len(rendered) > budget:
        if lo < start or hi > end:
            # Shrink the context symmetrically around the quote...
            lo = min(start, lo + max(1, (start - lo) // 2))
            hi = max(end, hi - max(1, (hi - end) // 2))
        elif end - start > 1:
            # ...then the quote itself.
            end = start + (end - start) // 2
            hi = end
        else:  # pragma: no cover - one character always fits the budget
            break
        rendered = body(lo, hi)
    return header + rendered


# --- inline mode --------------------------------------------------------------------------------


def render_inline_message(quote: Quote) -> str:
    """The message an inline result sends: the quote and its source, within one message."""
    return render_quote(quote)


def inline_description(quote: Quote) -> str:
    text = " ".join(quote.text.split())
    if len(text) > INLINE_DESCRIPTION_CHARS:
        text = text[: INLINE_DESCRIPTION_CHARS - 1].rstrip() + "…"
    return text


# --- commands -----------------------------------------------------------------------------------


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
            "Send a .txt or .md file to add it to the corpus.",
        ]
    return "\n".join(lines)


def render_sources(documents: Sequence[DocumentMeta]) -> str:
    """One message: the documents (by title) that fit, then how many more there are."""
    if not documents:
        return "I have no documents yet."
    total = len(documents)
    text = f"📚 I quote from {total} document{_s(total)}:"
    entities = 0
    ordered = sorted(documents, key=lambda d: (d.title or d.id).lower())
    for shown, document in enumerate(ordered):
        line = f"\n• {render_source(document)}"
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
        lines.append(f"Skipped <code>{esc(skipped.path)}</code>: {esc(skipped.reason)}")
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
