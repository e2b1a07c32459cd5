"""From a reader's blocks (:mod:`retrieval.readers`) to a parsed, tokenized document.

The stored text is the blocks joined by blank lines, so every quote is verbatim text of it
and each block is a paragraph (the passage of its sentences).
"""

from __future__ import annotations

from retrieval.errors import DocumentError
from retrieval.language import document_language
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span
from retrieval.readers import Block, Extracted
from retrieval.text import lines, normalize_space, split_sentences, tokenize

_TITLE_MAX_CHARS = 200
_FIELD_MAX_CHARS = 120
_URL_MAX_CHARS = 1000
_SECTION_MAX_CHARS = 120
_NOTE_MAX_WORDS = 12
_TERMINAL = ".!?…"


def parse_extracted(
    document_id: str, extracted: Extracted, digest: str, fallback_title: str
) -> ParsedDocument:
    blocks = [b for b in extracted.blocks if b.text.strip()]
    pieces: list[str] = []
    spans: list[Span] = []
    position = 0
    for block in blocks:
        content = block.text.strip()
        if pieces:
            pieces.append("\n\n")
            position += 2
        pieces.append(content)
        spans.append(Span(position, position + len(content)))
        position += len(content)
    text = "".join(pieces)
    if not text:
        raise DocumentError(document_id, "empty (no text found)")
    meta = extracted.meta
    headings = [normalize_space(b.text) for b in blocks if b.kind == "heading"]
    title = meta.get("title") or (headings[0] if headings else fallback_title)
    language = meta.get("language") or document_language(
        " ".join(b.text for b in blocks if b.kind != "heading")
    )

    records: list[SentenceRecord] = []
    section: str | None = None
    for number, (block, span) in enumerate(zip(blocks, spans, strict=True)):
        if block.kind == "heading":
            heading = normalize_space(block.text)
            section = None if heading == title else heading[:_SECTION_MAX_CHARS]
            continue
        context = tuple(tokenize(block.context, language)) if block.context else ()
        for unit in _units(text, block, span, language):
            tokens = tuple(tokenize(text[unit.start : unit.end], language)) + context
            if tokens:
                records.append(
                    SentenceRecord(number, unit.start, unit.end, tokens, block.page, section)
                )
    if not records:
        raise DocumentError(document_id, "no sentences to quote (only headings or code)")
    document = DocumentMeta(
        id=document_id,
        title=_clip(title, _TITLE_MAX_CHARS) or fallback_title,
        author=_clip(meta.get("author"), _FIELD_MAX_CHARS),
        date=_clip(meta.get("date"), _FIELD_MAX_CHARS),
        url=_clip(meta.get("url"), _URL_MAX_CHARS),
        source=_clip(meta.get("source"), _FIELD_MAX_CHARS),
        language=language,
    )
    return ParsedDocument(document, text, digest, tuple(spans), tuple(records))


def _units(text: str, block: Block, span: Span, language: str) -> list[Span]:
    """A unit block whole; prose split into sentences; short note lines each on their own."""
    line_spans = lines(text, span)
    if block.kind == "unit":
        return [span]
    if len(line_spans) > 1 and all(_is_note(text[s.start : s.end]) for s in line_spans):
        return line_spans
    return split_sentences(text, line_spans, language)


def _is_note(line: str) -> bool:
    """A short line that is not a sentence of wrapped prose: a note, address, key: value."""
    return len(line.split()) <= _NOTE_MAX_WORDS and (
        line[-1] not in _TERMINAL + ",;-" or ": " in line
    )


def _clip(value: str | None, limit: int) -> str | None:
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"
