"""E-books (.epub, EPUB 2 and 3): the chapters in spine order, read from the zip with lxml.

META-INF/container.xml names the package document (OPF); its metadata gives the title,
author and date, its spine the order of the chapters. Each chapter's XHTML becomes blocks:
h1-h6 name the section of what follows, paragraphs are prose, list items and table rows are
units. Scripts, styles, the navigation document, tables of contents, page-break markers and
footnotes/endnotes (``epub:type`` or ``role``) are left out. A book whose chapters are
encrypted (DRM, listed in META-INF/encryption.xml) is refused as encrypted; obfuscated fonts
are not a reason to refuse.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from retrieval.errors import DocumentError
from retrieval.readers import Block, BlockKind, Extracted, pair_questions
from retrieval.readers.package import (
    MAX_MEMBER_BYTES,
    enclosing,
    local_name,
    member,
    open_zip,
    parse_xml,
    table_units,
)

_KIND = "EPUB file"
_CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
_OPF = "http://www.idpf.org/2007/opf"
_DC = "http://purl.org/dc/elements/1.1/"
_ENC = "http://www.w3.org/2001/04/xmlenc#"
_EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# Font obfuscation (IDPF, Adobe) is listed in encryption.xml too; it is not DRM.
_FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
_CHAPTER_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_UNITS = {"li", "dt", "dd"}
_BLOCKS = {
    *_HEADINGS,
    *_UNITS,
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "figure",
    "figcaption",
    "pre",
    "hr",
    "address",
    "center",
    "body",
}
_SKIPPED_TAGS = {
    "head",
    "script",
    "style",
    "nav",
    "noscript",
    "template",
    "svg",
    "math",
    "object",
    "iframe",
    "img",
    "audio",
    "video",
}
# epub:type / role values of what is not the text: notes, their markers, navigation.
_SKIPPED_TYPES = {
    "footnote",
    "footnotes",
    "endnote",
    "endnotes",
    "rearnote",
    "rearnotes",
    "note",
    "noteref",
    "toc",
    "landmarks",
    "page-list",
    "pagebreak",
    "doc-footnote",
    "doc-endnote",
    "doc-endnotes",
    "doc-noteref",
    "doc-toc",
    "doc-pagelist",
    "doc-pagebreak",
    "doc-backlink",
}
# EPUB 2 books mark notes with classes only.
_SKIPPED_CLASSES = {"footnote", "footnotes", "endnote", "endnotes", "pagenum", "pg-boilerplate"}
# Project Gutenberg's licence header and footer.
_SKIPPED_IDS = {"pg-header", "pg-footer", "pg-machine-header"}
# A link whose whole text is a note marker ("1", "[12]", "*", "†"): the reference of a note.
_NOTE_MARKER = re.compile(r"\[?(?:\d{1,3}|[a-z]|[*†‡§]+)\]?")
_NOTE_TARGET = re.compile(r"(?i)(?:fn|note|ftn|footnote|endnote|noteref)")
_SPACE = re.compile(r"\s+")


def read(document_id: str, data: bytes) -> Extracted:
    package = open_zip(document_id, data, _KIND)
    with package:
        container = member(document_id, package, "META-INF/container.xml", _KIND)
        if container is None:
            raise DocumentError(document_id, f"corrupt {_KIND} (no META-INF/container.xml)")
        opf_path = _rootfile(document_id, container)
        opf_data = member(document_id, package, opf_path, _KIND)
        if opf_data is None:
            raise DocumentError(document_id, f"corrupt {_KIND} (no {opf_path})")
        opf = parse_xml(document_id, opf_data, opf_path, _KIND)
        chapters = _spine(opf, posixpath.dirname(opf_path))
        if not chapters:
            raise DocumentError(document_id, f"corrupt {_KIND} (no chapters in the spine)")
        encryption = member(document_id, package, "META-INF/encryption.xml", _KIND)
        if encryption is not None and _encrypted(document_id, encryption, set(chapters)):
            raise DocumentError(document_id, "encrypted (DRM-protected e-book)")
        blocks: list[Block] = []
        unpacked = 0
        for path in chapters:
            chapter = member(document_id, package, path, _KIND)
            if chapter is not None:
                unpacked += len(chapter)
                if unpacked > MAX_MEMBER_BYTES:
                    raise DocumentError(
                        document_id, f"too big unpacked (over {MAX_MEMBER_BYTES} bytes of chapters)"
                    )
                blocks.extend(_chapter(document_id, path, chapter))
    return Extracted(pair_questions(blocks), _meta(opf))


def _rootfile(document_id: str, container: bytes) -> str:
    root = parse_xml(document_id, container, "META-INF/container.xml", _KIND)
    rootfiles = list(root.iter(f"{{{_CONTAINER}}}rootfile"))
    preferred = [
        r
        for r in rootfiles
        if r.get("media-type", "application/oebps-package+xml").endswith("oebps-package+xml")
    ]
    for rootfile in preferred or rootfiles:
        path = rootfile.get("full-path")
        if path:
            return unquote(path).lstrip("/")
    raise DocumentError(document_id, f"corrupt {_KIND} (container.xml names no package)")


def _spine(opf: Any, base: str) -> list[str]:
    """The zip paths of the chapters, in reading order; the navigation document left out."""
    # EPUB 2 names its table-of-contents page in the guide.
    contents = {
        _resolve(base, reference.get("href") or "")
        for reference in opf.iter(f"{{{_OPF}}}reference")
        if reference.get("type") == "toc" and reference.get("href")
    }
    manifest: dict[str, tuple[str, str]] = {}
    for item in opf.iter(f"{{{_OPF}}}item"):
        identifier, href = item.get("id"), item.get("href")
        if not identifier or not href or "nav" in (item.get("properties") or "").split():
            continue
        if (item.get("media-type") or "") not in _CHAPTER_TYPES:
            continue
        manifest[identifier] = (_resolve(base, href), item.get("media-type") or "")
    paths: list[str] = []
    for itemref in opf.iter(f"{{{_OPF}}}itemref"):
        entry = manifest.get(itemref.get("idref") or "")
        if entry is not None and entry[0] not in paths and entry[0] not in contents:
            paths.append(entry[0])
    return paths


def _resolve(base: str, href: str) -> str:
    path = unquote(urlsplit(href).path)
    return posixpath.normpath(posixpath.join(base, path)).lstrip("/")


def _encrypted(document_id: str, encryption: bytes, chapters: set[str]) -> bool:
    """Whether encryption.xml lists a chapter (or anything) under a cipher that is not just
    font obfuscation."""
    root = parse_xml(document_id, encryption, "META-INF/encryption.xml", _KIND)
    for data in root.iter(f"{{{_ENC}}}EncryptedData"):
        method = data.find(f"{{{_ENC}}}EncryptionMethod")
        algorithm = method.get("Algorithm") if method is not None else None
        if algorithm in _FONT_OBFUSCATION:
            continue
        reference = data.find(f"{{{_ENC}}}CipherData/{{{_ENC}}}CipherReference")
        uri = reference.get("URI") if reference is not None else None
        if uri is None or _resolve("", uri) in chapters or not _is_font(uri):
            return True
    return False


def _is_font(uri: str) -> bool:
    return uri.lower().rsplit(".", 1)[-1] in {"otf", "ttf", "woff", "woff2"}


def _meta(opf: Any) -> dict[str, str]:
    metadata = opf.find(f"{{{_OPF}}}metadata")
    if metadata is None:
        return {}

    def first(tag: str) -> str | None:
        for element in metadata.iter(f"{{{_DC}}}{tag}"):
            text = " ".join("".join(element.itertext()).split())
            if text:
                return text
        return None

    date = first("date")
    meta = {"title": first("title"), "author": first("creator"), "date": date}
    if date and len(date) > 10 and date[4:5] == "-" and date[10:11] in ("T", " "):
        meta["date"] = date[:10]
    return {key: value for key, value in meta.items() if value}


def _chapter(document_id: str, path: str, data: bytes) -> list[Block]:
    start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"<") and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(document_id, f"corrupt {_KIND} ({path} is not XHTML; encrypted?)")
    root = _parse_chapter(data)
    if root is None:
        return []
    body = next((e for e in root.iter() if local_name(e) == "body"), root)
    blocks: list[Block] = []
    buffer: list[str] = []
    _walk(body, "text", buffer, blocks)
    _flush(buffer, "text", blocks)
    return blocks


def _parse_chapter(data: bytes) -> Any:
    """XHTML as XML; a chapter that is not well-formed (tag soup, HTML entities) as HTML."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        pass
    from lxml import html

    try:
        return html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return None


def _walk(element: Any, kind: BlockKind, buffer: list[str], blocks: list[Block]) -> None:
    """Inline text goes to ``buffer`` (the enclosing block's), each block element its own."""
    if element.text:
        buffer.append(_SPACE.sub(" ", element.text))
    for child in element:
        name = local_name(child)
        if name and not _skipped(child, name):
            if name == "br":
                buffer.append("\n")
            elif name == "table":
                _flush(buffer, kind, blocks)
                _table(child, blocks)
            elif name in _BLOCKS:
                _flush(buffer, kind, blocks)
                inner = _kind(name, kind)
                own: list[str] = []
                _walk(child, inner, own, blocks)
                _flush(own, inner, blocks)
            else:
                _walk(child, kind, buffer, blocks)
        if child.tail:
            buffer.append(_SPACE.sub(" ", child.tail))


def _kind(name: str, outer: BlockKind) -> BlockKind:
    if name in _HEADINGS:
        return "heading"
    if name in _UNITS:
        return "unit"
    return outer


def _skipped(element: Any, name: str) -> bool:
    if name in _SKIPPED_TAGS:
        return True
    types = {
        *(element.get(_EPUB_TYPE) or element.get("epub:type") or "").split(),
        *(element.get("role") or "").split(),
    }
    if types & _SKIPPED_TYPES:
        return True
    if element.get("id") in _SKIPPED_IDS:
        return True
    if set((element.get("class") or "").split()) & _SKIPPED_CLASSES:
        return True
    return name in ("a", "sup") and _note_reference(element, name)


def _note_reference(element: Any, name: str) -> bool:
    """A superscript note number or a link to a note, in a book that does not mark them."""
    text = "".join(element.itertext()).strip()
    if not _NOTE_MARKER.fullmatch(text):
        return False
    links = [element] if name == "a" else [e for e in element.iter() if local_name(e) == "a"]
    parent = element.getparent()
    if name == "sup" and not links and parent is not None and local_name(parent) == "a":
        links = [parent]
    for link in links:
        fragment = urlsplit(link.get("href") or "").fragment
        if fragment and (name == "sup" or _in_sup(link) or _NOTE_TARGET.search(fragment)):
            return True
    return False


def _in_sup(element: Any) -> bool:
    parent = element.getparent()
    return any(local_name(e) == "sup" for e in element.iter()) or (
        parent is not None and local_name(parent) == "sup"
    )


def _flush(buffer: list[str], kind: BlockKind, blocks: list[Block]) -> None:
    text = _clean("".join(buffer))
    buffer.clear()
    if text:
        blocks.append(Block(text, kind))


def _clean(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _table(table: Any, blocks: list[Block]) -> None:
    rows: list[list[str]] = []
    header_rows = 0
    for row in table.iter():
        if local_name(row) != "tr" or enclosing(row, "table") is not table:
            continue
        cells: list[str] = []
        header = True
        for cell in row:
            name = local_name(cell)
            if name in ("td", "th"):
                parts: list[str] = []
                _inline_text(cell, parts)
                cells.append(" ".join("".join(parts).split()))
                header = header and name == "th"
        in_head = local_name(row.getparent()) == "thead"
        if (in_head or (header and cells)) and header_rows == len(rows):
            header_rows += 1
        rows.append(cells)
    blocks += table_units(rows, header_rows)


def _inline_text(element: Any, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        name = local_name(child)
        if name and not _skipped(child, name):
            _inline_text(child, parts)
        parts.append(" " if name in _BLOCKS or name == "br" else "")
        if child.tail:
            parts.append(child.tail)
