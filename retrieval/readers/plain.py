"""Plain text: decoding (UTF-8, else by detection) and, for FAQs, blocks by paragraph."""

from __future__ import annotations

import re

from retrieval.errors import DocumentError
from retrieval.readers import Block, Extracted, pair_questions

_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Control characters other than tab, line and page breaks: text files have none.
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")


def decode(document_id: str, data: bytes) -> str:
    """The text of a text file: UTF-8, or the encoding charset-normalizer finds.

    Binary data (NUL or control bytes, or no encoding that reads as text) is refused.
    """
    if b"\x00" in data[:8192]:
        raise DocumentError(document_id, "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _detect(document_id, data)
    if not text.strip():
        raise DocumentError(document_id, "empty file")
    # Offsets are into this text (it is stored), so quotes stay verbatim whatever the line ends.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _detect(document_id: str, data: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    best = matches[0] if matches else None
    # Short Western text fits several code pages about equally; Windows-1252 (a superset of
    # Latin-1's letters) is by far the most common of them.
    for match in matches:
        if best is not None and match.encoding in _WESTERN and match.chaos <= best.chaos + 0.1:
            best = match
            break
    text = str(best) if best is not None else None
    if text is None or len(_CONTROL.findall(text[:8192])) > 2:
        raise DocumentError(document_id, "binary file (not text in any known encoding)")
    return text


def read(document_id: str, data: bytes) -> Extracted:
    """An FAQ in plain text: one block per paragraph, Q:/A: paired."""
    text = decode(document_id, data)
    blocks: list[Block] = []
    for paragraph in _BLANK_LINE.split(text):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if not lines:
            continue
        # "Q: …" then "A: …" on the next line stay one block (paired below).
        blocks.append(Block("\n".join(lines)))
    return Extracted(pair_questions(blocks))
