"""The bot's profile texts, set at start: the description (shown in an empty chat, before
/start) and the short description (on the bot's profile page and in shared links)."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import ExtBot

from retrieval.models import IndexStats

logger = logging.getLogger(__name__)

# Telegram's limits: 512 and 120 characters.
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
SHORT_DESCRIPTION = (
    "I answer questions about my documents by quoting the sentences that answer them."
)


def description(stats: IndexStats) -> str:
    return (
        f"I answer questions about {stats.documents} document"
        f"{'' if stats.documents == 1 else 's'} by quoting the sentences that answer them, "
        "each with its source. When nothing answers, I say so.\n\n"
        "Send me a question in plain words, or press Start for examples."
    )[:MAX_DESCRIPTION]


async def initialize(bot: ExtBot[Any], stats: IndexStats) -> None:
    """Set both texts; a failure is logged and never stops the bot."""
    try:
        await bot.set_my_description(description(stats))
        await bot.set_my_short_description(SHORT_DESCRIPTION[:MAX_SHORT_DESCRIPTION])
    except TelegramError as exc:
        logger.warning("Bot description not set: %s", exc)
