"""OpenDocument text (.odt): content.xml and meta.xml read from the zip with lxml.

Headings (``text:h``, or paragraphs in a Title/Heading style) name the section of what follows,
paragraphs are prose, list items and table rows are units (cells joined by `` · ``, the header
row searched with them). Footnotes, comments, tracked deletions, frames and generated indexes
(table of contents) are left out. meta.xml gives the title, author and creation date.
"""

from __future__ import annotations

from typing import Any

from retrieval.errors import DocumentError
from retrieval.readers import Block, BlockKind, Extracted, pair_questions
from retrieval.readers.package import (
    enclosing,
    local_name,
    member,
    open_zip,
    parse_xml,
    table_units,
)

_KIND = "OpenDocument file"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_DC = "http://purl.org/dc/elements/1.1/"

# Never quoted: declarations, forms, tracked changes (deleted text), generated indexes.
_SKIPPED = {
    "sequence-decls",
    "variable-decls",
    "user-field-decls",
    "dde-connection-decls",
    "tracked-changes",
    "forms",
    "table-of-content",
    "illustration-index",
    "table-index",
    "object-index",
    "user-index",
    "alphabetical-index",
    "bibliography",
}
# Inside a paragraph: footnotes and endnotes, comments, images and text boxes.
_INLINE_SKIPPED = {"note", "annotation", "annotation-end", "frame", "a-frame", "tracked-changes"}


def read(document_id: str, data: bytes) -> Extracted:
    package = open_zip(document_id, data, _KIND)
    with package:
        mimetype = member(document_id, package, "mimetype", _KIND)
        kind = (mimetype or b"").decode("ascii", "replace").strip()
        if kind and not kind.startswith("application/vnd.oasis.opendocument.text"):
            raise DocumentError(document_id, f"not an OpenDocument text ({kind})")
        manifest = member(document_id, package, "META-INF/manifest.xml", _KIND)
        # ODF 1.4 encrypts the whole package (OpenPGP) into one member.
        if "encrypted-package" in package.namelist() or (
            manifest is not None and _encrypted(document_id, manifest)
        ):
            raise DocumentError(document_id, "encrypted (password-protected document)")
        content = member(document_id, package, "content.xml", _KIND)
        if content is None:
            raise DocumentError(document_id, f"corrupt {_KIND} (no content.xml)")
        root = parse_xml(document_id, content, "content.xml", _KIND)
        meta_xml = member(document_id, package, "meta.xml", _KIND)
    meta = _meta(document_id, meta_xml) if meta_xml is not None else {}
    body = root.find(f"{{{_OFFICE}}}body/{{{_OFFICE}}}text")
    if body is None:
        raise DocumentError(document_id, "not an OpenDocument text (no text body)")
    blocks: list[Block] = []
    _walk(body, _heading_styles(root), blocks, "text")
    return Extracted(pair_questions(blocks), meta)


def _encrypted(document_id: str, manifest: bytes) -> bool:
    root = parse_xml(document_id, manifest, "META-INF/manifest.xml", _KIND)
    return any(
        entry.find(f"{{{_MANIFEST}}}encryption-data") is not None
        for entry in root.iter(f"{{{_MANIFEST}}}file-entry")
        if entry.get(f"{{{_MANIFEST}}}full-path") in ("content.xml", "encrypted-package")
    )


def _heading_styles(root: Any) -> set[str]:
    """Automatic paragraph styles whose parent is a Title or Heading style, and those names."""
    headings: set[str] = set()
    for style in root.iter(f"{{{_STYLE}}}style"):
        name = style.get(f"{{{_STYLE}}}name") or ""
        parent = style.get(f"{{{_STYLE}}}parent-style-name") or ""
        if _is_heading_style(parent):
            headings.add(name)
    return headings


def _is_heading_style(name: str) -> bool:
    return name == "Title" or name.startswith("Heading")


def _walk(element: Any, headings: set[str], blocks: list[Block], kind: BlockKind) -> None:
    for child in element:
        name = local_name(child)
        namespace = child.tag.split("}", 1)[0][1:] if name else ""
        if not name or name in _SKIPPED:
            continue
        if namespace == _TEXT and name == "h":
            _add(blocks, _inline(child), "heading")
        elif namespace == _TEXT and name == "p":
            style = child.get(f"{{{_TEXT}}}style-name") or ""
            heading = kind == "text" and (style in headings or _is_heading_style(style))
            _add(blocks, _inline(child), "heading" if heading else kind)
        elif namespace == _TEXT and name in ("list-item", "list-header"):
            _walk(child, headings, blocks, "unit")
        elif namespace == _TABLE and name == "table":
            _table(child, blocks)
        else:
            # Sections, lists, soft page breaks and anything unknown: look inside.
            _walk(child, headings, blocks, kind)


def _table(table: Any, blocks: list[Block]) -> None:
    rows: list[list[str]] = []
    header_rows = 0
    for row in table.iter(f"{{{_TABLE}}}table-row"):
        if enclosing(row, "table") is not table:
            continue  # a row of a table nested in a cell: part of that cell's text
        cells = [
            " ".join(_cell_text(cell).split()) for cell in row if local_name(cell) == "table-cell"
        ]
        if local_name(row.getparent()) == "table-header-rows":
            header_rows += 1
        rows.append(cells)
    blocks += table_units(rows, header_rows)


def _cell_text(cell: Any) -> str:
    return " ".join(_inline(paragraph) for paragraph in cell.iter(f"{{{_TEXT}}}p", f"{{{_TEXT}}}h"))


def _inline(element: Any) -> str:
    """A paragraph's text: spans and links kept, ``text:s``/tab/line-break spelled out."""
    parts: list[str] = []
    _collect(element, parts)
    lines = "".join(parts).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _collect(element: Any, parts: list[str]) -> None:
    if element.text:
        parts.append(" ".join(element.text.split("\n")))
    for child in element:
        name = local_name(child)
        if name in ("s", "tab"):
            parts.append(" ")
        elif name == "line-break":
            parts.append("\n")
        elif name and name not in _INLINE_SKIPPED:
            _collect(child, parts)
        if child.tail:
            parts.append(" ".join(child.tail.split("\n")))


def _add(blocks: list[Block], text: str, kind: BlockKind) -> None:
    if text:
        blocks.append(Block(text, kind))


def _meta(document_id: str, data: bytes) -> dict[str, str]:
    root = parse_xml(document_id, data, "meta.xml", _KIND)

    def first(tag: str) -> str | None:
        element = root.find(f".//{tag}")
        text = " ".join((element.text or "").split()) if element is not None else ""
        return text or None

    created = first(f"{{{_META}}}creation-date")
    meta = {
        "title": first(f"{{{_DC}}}title"),
        # dc:creator is who saved last; the author is the initial creator when it is given.
        "author": first(f"{{{_META}}}initial-creator") or first(f"{{{_DC}}}creator"),
        "date": created[:10] if created else None,
    }
    return {key: value for key, value in meta.items() if value}
