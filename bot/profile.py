"""The bot's profile texts, set at start: the description (shown in an empty chat, before
/start) and the short description (on the bot's profile page and in shared links)."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.i18n import DEFAULT_LANGUAGE, ENGLISH, N_, Translations, other_languages, translation
from retrieval.models import IndexStats

logger = logging.getLogger(__name__)

# Telegram's limits: 512 and 120 characters.
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
SHORT_DESCRIPTION = N_(
    "I answer questions about my documents by quoting the sentences that answer them."
)


def description(stats: IndexStats, *, tr: Translations = ENGLISH) -> str:
    return tr.ngettext(
        "I answer questions about {count} document by quoting the sentences that answer "
        "them, each with its source. When nothing answers, I say so.\n\n"
        "Send me a question in plain words, or press Start for examples.",
        "I answer questions about {count} documents by quoting the sentences that answer "
        "them, each with its source. When nothing answers, I say so.\n\n"
        "Send me a question in plain words, or press Start for examples.",
        stats.documents,
    ).format(count=stats.documents)[:MAX_DESCRIPTION]


async def initialize(bot: ExtBot[Any], stats: IndexStats) -> None:
    """Set both texts, in English by default and in each catalog's language for its users;
    a failure is logged and never stops the bot."""
    try:
        for language in [None, *other_languages()]:
            tr = translation(language or DEFAULT_LANGUAGE)
            await bot.set_my_description(description(stats, tr=tr), language_code=language)
            await bot.set_my_short_description(
                tr.gettext(SHORT_DESCRIPTION)[:MAX_SHORT_DESCRIPTION], language_code=language
            )
    except TelegramError as exc:
        logger.warning("Bot description not set: %s", exc)
