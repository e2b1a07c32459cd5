"""One small interface for every document format: bytes in, text blocks with structure out.

Each format lives in its own module with a ``read(document_id, data) -> Extracted`` function;
its library is imported only when a file of that format is read, so a plain-text corpus never
loads it. Readers raise :class:`~retrieval.errors.DocumentError` with a human reason.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["text", "unit", "heading"]


@dataclass(frozen=True, slots=True)
class Block:
    """A piece of a document as a reader sees it.

    ``text`` blocks are prose split into sentences; a ``unit`` (list item, table row, short
    note line) is quoted whole; a ``heading`` is never quoted but names the section of what
    follows. ``context`` is searched with the block but never shown (an FAQ answer's question,
    a table's header).
    """

    text: str
    kind: BlockKind = "text"
    page: int | None = None
    context: str = ""


@dataclass(frozen=True, slots=True)
class Extracted:
    blocks: list[Block]
    meta: dict[str, str] = field(default_factory=dict)


Reader = Callable[[str, bytes], Extracted]

# Suffix -> module (in this package) whose ``read`` handles it.
_READERS = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".odt": "odt",
    ".epub": "epub",
    ".md": "markdown",
    ".markdown": "markdown",
}
SUFFIXES = (".txt", *_READERS)
"""Every suffix qabot indexes."""


def reader_for(suffix: str) -> Reader | None:
    """The reader of files ending in ``suffix`` (lower case), ``None`` for plain text."""
    module = _READERS.get(suffix)
    if module is None:
        return None
    read: Reader = importlib.import_module(f"retrieval.readers.{module}").read
    return read


# "Q: …", "Question: …", "Q. …" (after "**Q.**" lost its emphasis), "Вопрос: …".
_Q = r"(?:Q|Question|Frage|Вопрос)\s*[:.)]\s+"
_A = r"(?:A|Answer|Antwort|Ответ)\s*[:.)]\s+"
_QUESTION = re.compile(rf"^\s*{_Q}(?P<rest>\S.*)$", re.S | re.I)
_ANSWER = re.compile(rf"^\s*{_A}(?P<rest>\S.*)$", re.S | re.I)
_PAIR_LINE = re.compile(rf"\n(?=\s*(?:{_Q}|{_A}))", re.I)


def pair_questions(blocks: list[Block]) -> list[Block]:
    """FAQ pairs: the answer becomes the quotable block, its question its context.

    The question may share the answer's block ("Q: …\\nA: …") or be the block before it.
    """
    pieces = [
        Block(piece, block.kind, block.page, block.context)
        for block in blocks
        for piece in (_PAIR_LINE.split(block.text) if block.kind != "heading" else [block.text])
    ]
    result: list[Block] = []
    pending: Block | None = None
    for block in pieces:
        question = _QUESTION.match(block.text) if block.kind != "heading" else None
        answer = _ANSWER.match(block.text) if pending is not None else None
        if pending is not None and answer:
            result.append(Block(answer["rest"].strip(), "text", block.page, pending.text))
            pending = None
            continue
        if pending is not None:
            result.append(pending)
            pending = None
        if question:
            pending = Block(question["rest"].strip(), block.kind, block.page)
        else:
            result.append(block)
    if pending is not None:
        result.append(pending)
    return result


def has_questions(text: str) -> bool:
    """Whether plain text reads as an FAQ (at least two Q:/A: pairs)."""
    lines = text.splitlines()
    questions = sum(1 for line in lines if _QUESTION.match(line))
    answers = sum(1 for line in lines if _ANSWER.match(line))
    return questions >= 2 and answers >= 2
