"""The bot's texts in the user's language: GNU gettext catalogs keyed by Telegram's
``language_code``, falling back to English.

Each language is one file, ``bot/locales/<lang>/LC_MESSAGES/qabot.po`` (compiled in memory
by :mod:`bot.po` at first use, then cached). The msgids are the English texts, so English
needs no catalog. ``ru``, ``ru-RU`` and ``pt-br`` select their base language (``ru``,
``pt``); a language without a catalog, or no ``language_code`` at all, gets English.

Texts are marked in the code with ``tr.gettext("…")`` / ``tr.ngettext("…", "…", n)`` where a
translator ``tr`` is at hand, and module constants with :func:`N_` (translated where used),
so that ``pybabel extract -k N_`` finds them all (see README, "Languages of the bot").
"""

from __future__ import annotations

import functools
import gettext
import logging
from pathlib import Path

from bot.po import CatalogError, load_po

logger = logging.getLogger(__name__)

DOMAIN = "qabot"
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).with_name("locales")

Translations = gettext.NullTranslations
"""What the render functions take as ``tr``: ``gettext``, ``ngettext`` (and ``pgettext``)."""

ENGLISH: Translations = gettext.NullTranslations()
"""The msgids themselves (English), with English plurals (``n == 1``)."""


def N_(message: str) -> str:
    """Marks a constant for extraction; it is translated where it is used."""
    return message


def catalog_path(language: str, root: Path | None = None) -> Path:
    """``<root>/<language>/LC_MESSAGES/qabot.po`` (root: :data:`LOCALES_DIR`)."""
    return (LOCALES_DIR if root is None else root) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def languages() -> frozenset[str]:
    """The languages with a catalog, and English."""
    found = {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset({DEFAULT_LANGUAGE, *found})


def language_of(code: str | None) -> str:
    """The catalog language for a Telegram ``language_code`` (IETF tag): its base language
    when there is a catalog for it, else English."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in languages() else DEFAULT_LANGUAGE


@functools.cache
def translation(language: str) -> Translations:
    """The translations of ``language`` (English for an unknown or unreadable catalog)."""
    path = catalog_path(language)
    if language not in languages() or not path.is_file():
        return ENGLISH
    try:
        return load_po(path)
    except (OSError, UnicodeDecodeError, CatalogError) as exc:
        logger.error("Catalog %s not used (English instead): %s", path, exc)
        return ENGLISH


def translator(code: str | None) -> Translations:
    """The translations for a Telegram ``language_code``."""
    return translation(language_of(code))


def for_update(update: object) -> Translations:
    """The translations for the user of an update (English without one)."""
    user = getattr(update, "effective_user", None)
    return translator(getattr(user, "language_code", None))


def other_languages() -> list[str]:
    """Languages besides English, loaded now (so a broken catalog is logged at start)."""
    found = sorted(languages() - {DEFAULT_LANGUAGE})
    for language in found:
        translation(language)
    return found
