"""Word files (.docx) with python-docx: paragraphs, headings, list items and tables in order.

Core properties (title, author, created) become the document's metadata.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from retrieval.errors import DocumentError
from retrieval.readers import Block, BlockKind, Extracted, pair_questions


def read(document_id: str, data: bytes) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DocumentError(document_id, "corrupt Word file (not a .docx package)") from error
    blocks: list[Block] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text = paragraph.text.strip()
            if text:
                blocks.append(Block(text, _kind(paragraph)))
        elif tag == "tbl":
            table = Table(element, document)
            rows = [[" ".join(cell.text.split()) for cell in row.cells] for row in table.rows]
            header = " ".join(rows[0]) if len(rows) > 1 else ""
            for cells in rows[1:] if header else rows:
                # Merged cells repeat in python-docx: keep each text once.
                unique = list(dict.fromkeys(c for c in cells if c))
                if unique:
                    blocks.append(Block(" · ".join(unique), "unit", context=header))
    properties = document.core_properties
    meta = {
        key: value
        for key, value in (
            ("title", properties.title),
            ("author", properties.author),
            ("date", properties.created.date().isoformat() if properties.created else None),
        )
        if value
    }
    return Extracted(pair_questions(blocks), meta)


def _kind(paragraph: Any) -> BlockKind:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.startswith(("Heading", "Title")):
        return "heading"
    properties = paragraph._p.pPr
    if style.startswith("List") or (properties is not None and properties.numPr is not None):
        return "unit"
    return "text"
