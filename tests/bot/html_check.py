"""A strict checker for the HTML subset Telegram accepts with ``parse_mode=HTML``."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

# tag → attributes it may carry (Bot API "HTML style" formatting options).
ALLOWED: dict[str, set[str]] = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}


class TelegramHTMLError(AssertionError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.entities = 0
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise TelegramHTMLError(f"unsupported tag <{tag}>")
        for name, value in attrs:
            if name not in ALLOWED[tag]:
                raise TelegramHTMLError(f"unsupported attribute {name!r} on <{tag}>")
            if tag == "span" and value != "tg-spoiler":
                raise TelegramHTMLError("<span> must be class=tg-spoiler")
        if tag == "span" and not attrs:
            raise TelegramHTMLError("<span> without class=tg-spoiler")
        if tag == "a" and not dict(attrs).get("href"):
            raise TelegramHTMLError("<a> without href")
        self.stack.append(tag)
        self.entities += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHTMLError(f"self-closing <{tag}/> is not supported")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(f"unbalanced </{tag}> (open: {self.stack})")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for char in "<&":
            if char in data:
                raise TelegramHTMLError(f"unescaped {char!r} in text: {data[:60]!r}")
        self.plain.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise TelegramHTMLError(f"unsupported entity &{name};")
        self.plain.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.plain.append(unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise TelegramHTMLError("comments are not supported")

    def handle_decl(self, decl: str) -> None:
        raise TelegramHTMLError("declarations are not supported")

    def handle_pi(self, data: str) -> None:
        raise TelegramHTMLError("processing instructions are not supported")

    def unknown_decl(self, data: str) -> None:
        raise TelegramHTMLError("declarations are not supported")


def assert_telegram_html(text: str) -> None:
    """Raise :class:`TelegramHTMLError` unless ``text`` would parse under ``parse_mode=HTML``."""
    parse_telegram_html(text)


def parse_telegram_html(text: str) -> tuple[str, int]:
    """The text a user sees and the number of formatting entities, as Telegram would parse
    ``text`` under ``parse_mode=HTML``; :class:`TelegramHTMLError` when it would not parse."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.rawdata:
        raise TelegramHTMLError(f"unterminated markup: {checker.rawdata[:60]!r}")
    if checker.stack:
        raise TelegramHTMLError(f"unclosed tags: {checker.stack}")
    return "".join(checker.plain), checker.entities
