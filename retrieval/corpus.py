"""Reading a corpus directory into documents: metadata, boilerplate removal, sentences and tokens."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from retrieval.errors import CorpusError, DocumentError
from retrieval.language import document_language
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span
from retrieval.readers import SUFFIXES, has_questions, reader_for
from retrieval.readers import plain as plain_reader
from retrieval.structured import parse_extracted
from retrieval.text import lines, normalize_space, paragraphs, split_sentences, tokenize

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = SUFFIXES
# Bump when segmentation or tokenization changes: stored tokens of older versions are redone.
PIPELINE_VERSION = "8"
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024

_META_KEYS = ("title", "author", "date", "url", "source")
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?P<body>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = rf"(?:\d{{1,2}} (?:{_MONTHS})\.? \d{{4}}|(?:{_MONTHS})\.? \d{{1,2}},? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
_NAME = r"[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){1,3}?"
_KIND = r"(?:Analysis|Opinion|Commentary|News|Report|Interview|Feature|Editorial|Column)"
# "Fuad Muxtarlı Analysis 4 November 2020", "By Jane Doe | March 3, 2021", "By Jane Doe"
_BYLINE = re.compile(
    rf"^(?:By )?(?P<author>{_NAME})(?: {_KIND})?(?: ?[|,·–—-] ?| )(?P<date>{_DATE})$"
    rf"|^By (?P<author_only>{_NAME})$"
)
_SIGNATURE = re.compile(r"^[A-Z][\w'’-]+(?: [A-Z][\w'’.-]+){1,2}$")
# Lines that start the site furniture after an article: everything from there on is dropped.
_BOILERPLATE = re.compile(
    r"^(?:subscribe|sign up|donate|contribute|related (?:post|article|stor)|share this|follow us"
    r"|click here|read more|advertisement|all rights reserved|©|copyright|newsletter"
    r"|invest in yourself)",
    re.I,
)
_HEADING_MAX_WORDS = 12
_TITLE_MAX_WORDS = 30
_TITLE_MAX_CHARS = 200
_FIELD_MAX_CHARS = 120
_URL_MAX_CHARS = 1000
# Site furniture is a short tail of short lines; a long one is article text that happens to
# start with "Copyright" or "Read more".
_BOILERPLATE_MAX_LINES = 15
_BOILERPLATE_MARKER_MAX_WORDS = 8


@dataclass(frozen=True, slots=True)
class _Header:
    meta: dict[str, str]
    body_start: int


class CorpusFile(NamedTuple):
    """One file of a corpus scan."""

    document_id: str
    path: str
    stat: tuple[int, int] | None
    """``(size, mtime_ns)`` of the file (links followed), None when it could not be read."""


def iter_corpus_files(corpus_dir: Path) -> Iterator[tuple[str, Path]]:
    """``(document id, path)`` of every file under ``corpus_dir``, hidden ones excluded.

    Files of a type qabot cannot read are included: :func:`parse_bytes` names the reason.
    Links are followed while they stay inside the corpus directory.
    """
    for file in scan_corpus(corpus_dir):
        yield file.document_id, Path(file.path)


def scan_corpus(corpus_dir: Path) -> list[CorpusFile]:
    """:func:`iter_corpus_files` with each file's stat, in document id order: what a re-index
    compares with the stats it recorded (paths stay strings: building a ``Path`` for each of
    10^4 files cost more than their stats)."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory not found: {corpus_dir}")
    root = corpus_dir.resolve()
    found: list[tuple[tuple[str, ...], str, tuple[int, int] | None]] = []
    visited: set[str] = set()
    # Only links are resolved (a scan of 10^4 files must not cost one realpath each).
    pending: list[tuple[str, tuple[str, ...]]] = [(str(corpus_dir), ())]
    while pending:
        directory, parts = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            log.warning("skipped %s: %s", "/".join(parts) or ".", error.strerror or error)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = (*parts, entry.name)
            try:
                if entry.is_symlink():
                    target = Path(entry.path).resolve()
                    if not target.is_relative_to(root):
                        log.warning(
                            "skipped %s: a link to outside the corpus directory",
                            "/".join(relative),
                        )
                        continue
                    if target.is_dir():
                        if str(target) not in visited:
                            visited.add(str(target))
                            pending.append((entry.path, relative))
                        continue
                if entry.is_dir():
                    pending.append((entry.path, relative))
                elif entry.is_file():
                    try:
                        stat = entry.stat()
                        key: tuple[int, int] | None = (stat.st_size, stat.st_mtime_ns)
                    except OSError:
                        key = None
                    found.append((relative, entry.path, key))
            except OSError:
                continue
    found.sort()
    return [CorpusFile("/".join(relative), path, key) for relative, path, key in found]


def read_document_bytes(path: Path, document_id: str) -> bytes:
    """The file's bytes; :class:`DocumentError` when it cannot be read or is too big."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(document_id, f"too big ({size} bytes, limit {MAX_DOCUMENT_BYTES})")
        return path.read_bytes()
    except OSError as error:
        raise DocumentError(document_id, f"cannot be read ({error.strerror or error})") from error


def decode_document(document_id: str, data: bytes) -> str:
    """The text of a document file, or :class:`DocumentError` saying why it is not usable."""
    return plain_reader.decode(document_id, data)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_document(document_id: str, text: str, digest: str) -> ParsedDocument:
    """Metadata, paragraphs and tokenized sentences of one document's text."""
    header = _front_matter(text)
    language = document_language(text[header.body_start :])
    meta = dict(header.meta)
    paragraph_spans = paragraphs(text, header.body_start)
    all_lines = [
        (number, line) for number, p in enumerate(paragraph_spans) for line in lines(text, p)
    ]
    if not all_lines:
        raise DocumentError(document_id, "no text after the front matter")

    title = (
        meta.get("title")
        or _title_line(text, paragraph_spans, all_lines)
        or _file_title(document_id)
    )
    title_key = _key(title)
    cutoff = _boilerplate_start(text, all_lines)
    signature = _signature(text, all_lines[:cutoff])
    if signature and "author" not in meta:
        meta["author"] = signature

    kept: dict[int, list[Span]] = {}
    seen: set[str] = set()
    for index, (number, line) in enumerate(all_lines[:cutoff]):
        content = text[line.start : line.end]
        key = _key(content)
        if key == title_key or key in seen:
            continue
        seen.add(key)
        if index < 6 and (byline := _BYLINE.match(normalize_space(content))):
            meta.setdefault("author", byline["author"] or byline["author_only"])
            if byline["date"]:
                meta.setdefault("date", byline["date"])
            continue
        if _is_heading(content, single_line=_single_line(text, paragraph_spans[number])):
            continue
        kept.setdefault(number, []).append(line)

    records = [
        SentenceRecord(number, span.start, span.end, tokens)
        for number, line_spans in kept.items()
        for span in split_sentences(text, line_spans, language)
        if (tokens := tuple(tokenize(text[span.start : span.end], language)))
    ]
    if not records:
        raise DocumentError(document_id, "no sentences to quote (only a title, headings or blurbs)")

    document = DocumentMeta(
        id=document_id,
        title=_clip(title, _TITLE_MAX_CHARS) or title,
        author=_clip(meta.get("author"), _FIELD_MAX_CHARS),
        date=_clip(meta.get("date"), _FIELD_MAX_CHARS),
        url=_clip(meta.get("url"), _URL_MAX_CHARS),
        source=_clip(meta.get("source"), _FIELD_MAX_CHARS),
        language=language,
    )
    return ParsedDocument(document, text, digest, tuple(paragraph_spans), tuple(records))


def _front_matter(text: str) -> _Header:
    match = _FRONT_MATTER.match(text)
    if not match:
        return _Header({}, 0)
    meta: dict[str, str] = {}
    for line in match["body"].splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        value = value.strip().strip("\"'")
        if sep and key in _META_KEYS and value:
            meta[key] = value
    return _Header(meta, match.end())


def _title_line(
    text: str, paragraph_spans: list[Span], all_lines: list[tuple[int, Span]]
) -> str | None:
    """The first line if it reads as a title: short, alone, not a sentence ending in a period.

    A document that starts straight with prose keeps that sentence quotable.
    """
    number, first = all_lines[0]
    line = normalize_space(text[first.start : first.end].lstrip("#"))
    is_heading = text[first.start] == "#"
    looks_like_title = (
        len(line) <= _TITLE_MAX_CHARS
        and len(line.split()) <= _TITLE_MAX_WORDS
        and not line.endswith(".")
        and _single_line(text, paragraph_spans[number])
        and len(all_lines) > 1
    )
    return line if is_heading or looks_like_title else None


def _file_title(document_id: str) -> str:
    return Path(document_id).stem.replace("_", " ").replace("-", " ").strip() or document_id


def _clip(value: str | None, limit: int) -> str | None:
    """Metadata fields are shown in every answer: keep them to a sensible length."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def _key(line: str) -> str:
    return normalize_space(line.lstrip("#")).casefold()


def _single_line(text: str, paragraph: Span) -> bool:
    return "\n" not in text[paragraph.start : paragraph.end]


def _is_heading(line: str, *, single_line: bool) -> bool:
    """Section titles and similar one-line labels: not sentences worth quoting."""
    if line.startswith("#"):
        return True
    stripped = line.rstrip()
    return (
        single_line
        and len(stripped.split()) <= _HEADING_MAX_WORDS
        and stripped[-1] not in ".!?…\"'”’:;,)"
    )


def _boilerplate_start(text: str, all_lines: list[tuple[int, Span]]) -> int:
    """Index of the first line of trailing site furniture (subscribe, donate ...), if any."""
    first_candidate = max(len(all_lines) // 2, len(all_lines) - _BOILERPLATE_MAX_LINES)
    for index in range(first_candidate, len(all_lines)):
        line = text[all_lines[index][1].start : all_lines[index][1].end]
        if _BOILERPLATE.match(line) and len(line.split()) <= _BOILERPLATE_MARKER_MAX_WORDS:
            return index
    return len(all_lines)


def _signature(text: str, article_lines: list[tuple[int, Span]]) -> str | None:
    """An author's name standing alone on the last line of an article ("Hazem Zahab")."""
    if len(article_lines) < 3:
        return None
    last = article_lines[-1][1]
    previous = article_lines[-2][1]
    content = text[last.start : last.end]
    if _SIGNATURE.match(content) and text[previous.start : previous.end].rstrip()[-1:] in '.!?"”':
        return content
    return None


def parse_bytes(document_id: str, data: bytes) -> ParsedDocument:
    """Decode and parse one file's bytes; :class:`DocumentError` when it cannot be used.

    Plain text keeps its own loader (bylines, boilerplate); every other format, and a plain
    text FAQ, goes through its reader (:mod:`retrieval.readers`).
    """
    suffix = Path(document_id).suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(document_id, f"unsupported file type ({suffix or 'no extension'})")
    if not data.strip():
        raise DocumentError(document_id, "empty file")
    digest = content_hash(data)
    reader = reader_for(suffix)
    if reader is None:
        text = decode_document(document_id, data)
        if not has_questions(text):
            return parse_document(document_id, text, digest)
        reader = plain_reader.read
    return parse_extracted(document_id, reader(document_id, data), digest, _file_title(document_id))


def load_document(document_id: str, path: Path) -> ParsedDocument:
    """Read, decode and parse one file; :class:`DocumentError` when it cannot be used."""
    return parse_bytes(document_id, read_document_bytes(path, document_id))
