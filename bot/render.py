"""Turn retrieval results into Telegram HTML messages (pure functions, no I/O): answers,
quotes and their sources, context, inline results, and fitting them into messages.

Command and status texts (/start, /help, /sources, /stats, reload reports) are in
:mod:`bot.texts`.

Every piece of text that comes from a document, a user or a file name goes through
:func:`html.escape`, so whatever the corpus contains the result is valid Telegram HTML.
Lengths are measured on the HTML source, which is never shorter than what Telegram counts
after parsing entities, so a chunk that fits here always fits there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from bot.i18n import ENGLISH, Translations
from retrieval.models import Answer, Context, DocumentMeta, Quote

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


def location(quote: Quote, *, tr: Translations = ENGLISH) -> list[str]:
    """Where in its document a quote is: "p. 12", "§ Remote work" (plain text)."""
    # Translators: the page of a PDF a quote is on.
    page = tr.gettext("p. {page}")
    parts = [page.format(page=quote.page)] if quote.page is not None else []
    if quote.section:
        parts.append(f"§ {clip(quote.section, MAX_FIELD_CHARS)}")
    return parts


def render_quote(quote: Quote, number: int | None = None, *, tr: Translations = ENGLISH) -> str:
    """One quote as one HTML block that fits a message: the highlighted text in a
    blockquote (cut between words with "…" if too long), then its source."""
    label = f"<b>{number}.</b> " if number is not None else ""
    where = "".join(f" · {esc(part)}" for part in location(quote, tr=tr))
    source = f"{label}{render_source(quote.document)}{where}"
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


def render_refusal(*, tr: Translations = ENGLISH) -> str:
    return tr.gettext(
        "I couldn't find anything in my documents that answers this. 🤔\n"
        "Try other words, see /sources for what I know about, or /help."
    )


def answer_page(
    answer: Answer, *, offset: int = 0, tr: Translations = ENGLISH
) -> tuple[list[str], int]:
    """An answer as at most :data:`MAX_MESSAGES_PER_ANSWER` messages, and how many of its
    quotes they show (numbered from ``offset + 1``); the rest belong on the next page."""
    if answer.abstained or not answer.quotes:
        if offset == 0:
            refusal = render_refusal(tr=tr)
        else:
            refusal = tr.gettext("That's all I found — no more quotes.")
        return [refusal], 0
    blocks = [render_quote(q, n, tr=tr) for n, q in enumerate(answer.quotes, start=offset + 1)]
    for shown in range(len(blocks), 0, -1):
        chunks = pack(blocks[:shown])
        if len(chunks) <= MAX_MESSAGES_PER_ANSWER:
            return chunks, shown
    raise AssertionError("unreachable: one block always fits one message")  # pragma: no cover


def render_answer(answer: Answer, *, offset: int = 0, tr: Translations = ENGLISH) -> list[str]:
    """The messages of :func:`answer_page`."""
    return answer_page(answer, offset=offset, tr=tr)[0]


# --- context ----------------------------------------------------------------------------------


def render_context(context: Context, *, tr: Translations = ENGLISH) -> str:
    """The paragraph around a quote, the quote itself underlined, cut to fit one message."""
    text = context.text
    start = max(0, min(context.quote_start, len(text)))
    end = max(start, min(context.quote_end, len(text)))
    source = render_source(context.document)
    header = tr.gettext("📄 Context from {source}").format(source=source) + "\n\n"
    if len(header) > MAX_MESSAGE_CHARS // 2:  # pragma: no cover - render_source is clamped
        header = tr.gettext("📄 Context") + "\n\n"
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


def render_inline_message(quote: Quote, *, tr: Translations = ENGLISH) -> str:
    """The message an inline result sends: the quote and its source, within one message."""
    return render_quote(quote, tr=tr)


def inline_description(quote: Quote) -> str:
    text = " ".join(quote.text.split())
    if len(text) > INLINE_DESCRIPTION_CHARS:
        text = text[: INLINE_DESCRIPTION_CHARS - 1].rstrip() + "…"
    return text
