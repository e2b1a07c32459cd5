"""GNU gettext ``.po`` catalogs read into stdlib :class:`gettext.GNUTranslations`.

The ``.po`` file is the only file of a language: it is compiled in memory to the ``.mo``
format at first use (the algorithm of CPython's ``Tools/i18n/msgfmt.py``), so nothing needs
compiling before ``pip install`` and no compiled file can go stale. ``gettext`` itself then
parses the header (charset, ``Plural-Forms``) and answers ``gettext``/``ngettext``.

Fuzzy and untranslated entries are left out, so they fall back to the English msgid.
"""

from __future__ import annotations

import ast
import io
import struct
from array import array
from gettext import GNUTranslations
from pathlib import Path

_CONTEXT_SEPARATOR = "\x04"


class CatalogError(ValueError):
    """A ``.po`` file that cannot be read; the message names the file and the line."""


def parse_po(text: str, name: str = "<po>") -> dict[str, str]:
    """msgid → msgstr of the translated, non-fuzzy entries, keyed as in a ``.mo`` file
    (plurals: ``msgid\\0msgid_plural`` → ``form0\\0form1…``; the header under ``""``)."""
    messages: dict[str, str] = {}
    entry: dict[str, str] = {}
    fuzzy = False
    field: str | None = None

    def finish() -> None:
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            _add(messages, entry)
        entry, fuzzy = {}, False

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            if field is not None and field.startswith("msgstr"):
                finish()
                field = None
            if line.startswith("#,") and "fuzzy" in {f.strip() for f in line[2:].split(",")}:
                fuzzy = True
            continue
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if field is None:
                raise CatalogError(f"{name}:{number}: a string outside any entry")
            entry[field] += _string(line, name, number)
            continue
        if keyword in ("msgctxt", "msgid") and field is not None and field.startswith("msgstr"):
            finish()
        if keyword not in ("msgctxt", "msgid", "msgid_plural") and not keyword.startswith("msgstr"):
            raise CatalogError(f"{name}:{number}: unknown keyword {keyword!r}")
        field = keyword
        entry[field] = _string(rest.strip(), name, number)
    finish()
    return messages


def _add(messages: dict[str, str], entry: dict[str, str]) -> None:
    key = entry["msgid"]
    if "msgctxt" in entry:
        key = entry["msgctxt"] + _CONTEXT_SEPARATOR + key
    if "msgid_plural" in entry:
        forms = [
            entry[k] for k in sorted((k for k in entry if k.startswith("msgstr[")), key=_index)
        ]
        if forms and all(forms):
            messages[f"{key}\0{entry['msgid_plural']}"] = "\0".join(forms)
    elif entry.get("msgstr"):
        messages[key] = entry["msgstr"]


def _index(field: str) -> int:
    return int(field[len("msgstr[") : -1])


def _string(token: str, name: str, number: int) -> str:
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise CatalogError(f"{name}:{number}: expected a quoted string")
    try:
        value = ast.literal_eval(token)
    except (SyntaxError, ValueError) as exc:
        raise CatalogError(f"{name}:{number}: bad string ({exc})") from None
    assert isinstance(value, str)
    return value


def compile_mo(messages: dict[str, str]) -> bytes:
    """The ``.mo`` bytes of ``messages`` (little-endian, no hash table)."""
    keys = sorted(messages)
    ids = strs = b""
    offsets: list[tuple[int, int, int, int]] = []
    for key in keys:
        k, v = key.encode("utf-8"), messages[key].encode("utf-8")
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    table: list[int] = []
    for id_offset, id_length, _, _ in offsets:
        table += [id_length, id_offset + key_start]
    for _, _, str_offset, str_length in offsets:
        table += [str_length, str_offset + value_start]
    header = struct.pack(
        "<Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, key_start
    )
    body = array("i", table)
    if struct.pack("=i", 1) != struct.pack("<i", 1):  # pragma: no cover - big-endian hosts
        body.byteswap()
    return header + body.tobytes() + ids + strs


def load_po(path: Path) -> GNUTranslations:
    """The translations of one ``.po`` file."""
    messages = parse_po(path.read_text(encoding="utf-8"), str(path))
    return GNUTranslations(io.BytesIO(compile_mo(messages)))
