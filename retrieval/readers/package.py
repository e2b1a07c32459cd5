"""Zip packages of XML files (.odt, .epub): members read with a size limit, XML parsed safely.

lxml (already installed for trafilatura) parses the XML: no entity expansion, no DTD or
network access, so a hostile file cannot make the reader fetch or inflate anything.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from retrieval.errors import DocumentError
from retrieval.readers import Block

MAX_MEMBER_BYTES = 64 * 1024 * 1024
"""An unpacked member, or all of an e-book's chapters, larger than this is refused (a zip
bomb, not a document)."""


def open_zip(document_id: str, data: bytes, kind: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise DocumentError(document_id, f"corrupt {kind} (not a zip package)") from error


def member(document_id: str, package: zipfile.ZipFile, name: str, kind: str) -> bytes | None:
    """The bytes of member ``name``, ``None`` if the package has none by that name."""
    try:
        info = package.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_MEMBER_BYTES:
        raise DocumentError(document_id, f"too big unpacked ({name}: {info.file_size} bytes)")
    try:
        with package.open(info) as stream:
            data = stream.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as error:
        # RuntimeError: a member encrypted with a zip password.
        raise DocumentError(document_id, f"corrupt {kind} ({name} unreadable)") from error
    if len(data) > MAX_MEMBER_BYTES:
        raise DocumentError(document_id, f"too big unpacked ({name})")
    return data


def parse_xml(document_id: str, data: bytes, what: str, kind: str) -> Any:
    """The root element of an XML member; a ``corrupt`` :class:`DocumentError` if malformed."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise DocumentError(document_id, f"corrupt {kind} ({what} is not XML)") from error
    if root is None:
        raise DocumentError(document_id, f"corrupt {kind} ({what} is not XML)")
    return root


def local_name(element: Any) -> str:
    """The tag without its namespace (``""`` for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def table_rows(rows: list[list[str]], header_rows: int) -> tuple[str, list[list[str]]]:
    """The header text searched with a table's rows, and the rows quoted as units.

    ``header_rows`` is what the markup says (``thead``, ``th``, header rows); without it the
    first row of a table of several rows is its header, as the Word reader has it.
    """
    rows = [cells for cells in rows if any(cells)]
    if header_rows >= len(rows):
        return "", rows
    if header_rows == 0 and len(rows) > 1:
        header_rows = 1
    header = " ".join(" ".join(c for c in cells if c) for cells in rows[:header_rows])
    return header, rows[header_rows:]


def unique_cells(cells: list[str]) -> str:
    """A row's non-empty cells once each (merged cells repeat), joined as the other readers do."""
    return " · ".join(dict.fromkeys(c for c in cells if c))


def table_units(rows: list[list[str]], header_rows: int) -> list[Block]:
    """A table's rows as units (see :func:`table_rows`), each searched with the header."""
    header, body = table_rows(rows, header_rows)
    return [Block(text, "unit", context=header) for cells in body if (text := unique_cells(cells))]


def enclosing(element: Any, name: str) -> Any:
    """The nearest ancestor of ``element`` whose local name is ``name`` (None: there is none)."""
    parent = element.getparent()
    while parent is not None and local_name(parent) != name:
        parent = parent.getparent()
    return parent
