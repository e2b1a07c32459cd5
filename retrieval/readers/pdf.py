"""PDF text layers with pdfminer.six: reading order, hyphenation, no running headers/footers.

Text boxes are read top to bottom; on a two-column page the left column is read before the
right one (a full-width box, such as a title, ends the band of columns above it). A word split
by an end-of-line hyphen is joined. Lines that repeat at the top or bottom of pages (running
headers and footers) and page numbers are dropped. Every block keeps its 1-based page.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

from retrieval.errors import DocumentError
from retrieval.readers import Block, Extracted

_PAGE_NUMBER = re.compile(
    r"^\W*(?:page|p\.|seite|стр\.?|страница)?\s*\d+(?:\s*(?:of|/|из)\s*\d+)?\W*$", re.I
)
_HYPHEN_END = re.compile(r"(?<=[^\W\d_])[-\u00ad]$")
# How close to the top or bottom edge (share of the page height) a running line sits.
_MARGIN = 0.08


@dataclass(frozen=True, slots=True)
class _Box:
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return _join_lines(self.lines)


def read(document_id: str, data: bytes) -> Extracted:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException

    pages: list[tuple[float, float, list[_Box]]] = []
    try:
        for number, layout in enumerate(extract_pages(io.BytesIO(data), laparams=LAParams()), 1):
            boxes = [
                _Box(
                    number,
                    element.x0,
                    element.x1,
                    layout.height - element.y1,
                    layout.height - element.y0,
                    tuple(line.get_text().strip() for line in element if line.get_text().strip()),
                )
                for element in layout
                if isinstance(element, LTTextBox) and element.get_text().strip()
            ]
            pages.append((layout.width, layout.height, boxes))
    except (PDFEncryptionError, PDFPasswordIncorrect) as error:
        raise DocumentError(document_id, "encrypted PDF (needs a password)") from error
    except (PDFSyntaxError, PSException, ValueError, TypeError, KeyError) as error:
        raise DocumentError(
            document_id, f"corrupt PDF ({error or type(error).__name__})"
        ) from error
    except Exception as error:  # pdfminer raises many kinds on broken files
        if "encrypt" in type(error).__name__.lower():
            raise DocumentError(document_id, "encrypted PDF (needs a password)") from error
        raise DocumentError(document_id, f"corrupt PDF ({type(error).__name__})") from error
    if not pages:
        raise DocumentError(document_id, "corrupt PDF (no pages)")
    if not any(boxes for _w, _h, boxes in pages):
        raise DocumentError(document_id, "no text layer (a scanned PDF? qabot does no OCR)")
    meta = _metadata(data)
    running = _running_lines(pages)
    blocks: list[Block] = []
    for width, height, boxes in pages:
        for box in _reading_order(boxes, width):
            if _is_furniture(box, height, running):
                continue
            blocks.append(Block(box.text, "text", box.page))
    return Extracted(blocks, meta)


def _metadata(data: bytes) -> dict[str, str]:
    """Title, author and creation date from the PDF's document information, where set."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    meta: dict[str, str] = {}
    try:
        info = PDFDocument(PDFParser(io.BytesIO(data))).info
        fields = resolve1(info[0]) if info else {}
        for key, name in (("Title", "title"), ("Author", "author"), ("CreationDate", "date")):
            value = resolve1(fields.get(key))
            text = decode_text(value) if isinstance(value, bytes) else value
            if isinstance(text, str) and text.strip():
                meta[name] = text.strip()
    except Exception:  # metadata is optional: a file that reads but has odd info keeps none
        return {}
    if "date" in meta:
        # "D:20240131120000+01'00'" -> "2024-01-31"
        match = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", meta["date"])
        if match:
            meta["date"] = "-".join(part for part in match.groups() if part)
        else:
            del meta["date"]
    return meta


def _join_lines(lines: tuple[str, ...]) -> str:
    """One paragraph: lines joined by spaces, an end-of-line hyphen joining its word."""
    out = ""
    for line in lines:
        if out and _HYPHEN_END.search(out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def _reading_order(boxes: list[_Box], width: float) -> list[_Box]:
    """Top to bottom; within a band of two columns, the left column first."""
    ordered: list[_Box] = []
    band: list[_Box] = []

    def flush() -> None:
        left = [b for b in band if (b.x0 + b.x1) / 2 < width / 2]
        right = [b for b in band if (b.x0 + b.x1) / 2 >= width / 2]
        ordered.extend(sorted(left, key=lambda b: b.top) + sorted(right, key=lambda b: b.top))
        band.clear()

    for box in sorted(boxes, key=lambda b: (b.top, b.x0)):
        full_width = box.x0 < width * 0.45 and box.x1 > width * 0.55
        if full_width:
            flush()
            ordered.append(box)
        else:
            band.append(box)
    flush()
    return ordered


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).casefold())


def _running_lines(pages: list[tuple[float, float, list[_Box]]]) -> set[str]:
    """Texts (digits masked) found in the top or bottom margin of at least two pages."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for _width, height, boxes in pages:
        keys = {_key(b.text) for b in boxes if _in_margin(b, height)}
        counts.update(keys)
    return {key for key, count in counts.items() if count >= 2}


def _in_margin(box: _Box, height: float) -> bool:
    return box.bottom < height * _MARGIN or box.top > height * (1 - _MARGIN)


def _is_furniture(box: _Box, height: float, running: set[str]) -> bool:
    if not _in_margin(box, height):
        return False
    return bool(_PAGE_NUMBER.match(box.text)) or _key(box.text) in running
