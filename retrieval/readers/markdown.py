"""Markdown (.md, .markdown) parsed with markdown-it-py: what a reader of the rendered page sees.

Headings name sections, list items and table rows are units of their own, code is never
quoted, emphasis markers and link syntax are dropped. YAML (``---``) and TOML (``+++``) front
matter fill the metadata.
"""

from __future__ import annotations

import re
from typing import Any

from retrieval.readers import Block, Extracted, pair_questions
from retrieval.readers.plain import decode

_FRONT_MATTER = re.compile(
    r"\A\ufeff?(?P<fence>---|\+\+\+)[ \t]*\n(?P<body>.*?)\n(?P=fence)[ \t]*(?:\n|\Z)", re.S
)
_META_KEYS = ("title", "author", "date", "url", "source")


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML ``key: value`` or TOML ``key = "value"`` front matter, and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    separator = ":" if match["fence"] == "---" else "="
    meta: dict[str, str] = {}
    for line in match["body"].splitlines():
        key, sep, value = line.partition(separator)
        key = key.strip().lower()
        value = value.strip().strip("\"'")
        if sep and key in _META_KEYS and value:
            meta[key] = value
    return meta, text[match.end() :]


def read(document_id: str, data: bytes) -> Extracted:
    meta, body = front_matter(decode(document_id, data))
    return Extracted(pair_questions(parse(body)), meta)


def parse(text: str) -> list[Block]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[Block] = []
    in_item = 0
    row: list[str] | None = None
    header: list[str] = []
    in_head = False
    for position, token in enumerate(tokens):
        kind = token.type
        if kind == "list_item_open":
            in_item += 1
        elif kind == "list_item_close":
            in_item -= 1
        elif kind == "thead_open":
            in_head = True
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            if in_head:
                header = row
            elif any(row):
                context = " ".join(header)
                blocks.append(Block(" · ".join(c for c in row if c), "unit", context=context))
            row = None
        elif kind == "inline":
            content = _inline_text(token.children or [])
            if row is not None:
                row.append(" ".join(content.split()))
                continue
            if not content.strip():
                continue
            opener = tokens[position - 1].type if position else ""
            if opener == "heading_open":
                blocks.append(Block(" ".join(content.split()), "heading"))
            elif in_item:
                blocks.append(Block(content, "unit"))
            else:
                blocks.append(Block(content))
        # fence, code_block and html_block are skipped: code is never quoted.
    return blocks


def _inline_text(children: list[Any]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts)
