"""Saved web pages (.html, .htm) with trafilatura: the main text and the page's metadata.

Navigation, menus, cookie banners, comments and footers are left out by trafilatura; its XML
output keeps headings, paragraphs, list items and table rows apart.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from retrieval.errors import DocumentError
from retrieval.readers import Block, BlockKind, Extracted, pair_questions
from retrieval.readers.plain import decode

_UNITS = {"item", "row"}


def read(document_id: str, data: bytes) -> Extracted:
    import trafilatura

    html = decode(document_id, data)
    xml = trafilatura.extract(
        html,
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        favor_recall=True,
    )
    if not xml:
        raise DocumentError(document_id, "no main text found in the page")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as error:
        raise DocumentError(document_id, f"unreadable page ({error})") from error
    meta = {
        key: value.strip()
        for key in ("title", "author", "date", "url", "sitename")
        if (value := root.get(key)) and value.strip()
    }
    if "sitename" in meta:
        meta["source"] = meta.pop("sitename")
    blocks: list[Block] = []
    for element in root.iter():
        if element.tag in ("head", "p", "item", "row", "quote"):
            if element.tag == "row":
                text = " · ".join(
                    " ".join("".join(cell.itertext()).split()) for cell in element.findall("cell")
                )
            else:
                text = "".join(_own_text(element)).strip()
            if not text:
                continue
            kind: BlockKind = (
                "heading" if element.tag == "head" else "unit" if element.tag in _UNITS else "text"
            )
            blocks.append(Block(text, kind))
    return Extracted(pair_questions(blocks), meta)


def _own_text(element: ET.Element) -> list[str]:
    """The element's text without that of nested blocks (a list inside a list item)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag not in ("list", "item", "p", "table", "head"):
            parts.extend(child.itertext())
        parts.append(child.tail or "")
    return parts
