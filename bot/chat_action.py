"""The "typing…" indicator, shown only when an answer is slow.

Every ``sendChatAction`` counts towards Telegram's ~30 requests a second, so sending one per
answer halves the bot's throughput for an indicator nobody sees on a fast answer. It is sent
once an answer has taken ``TYPING_AFTER_SECONDS``, and again while it keeps taking (Telegram
shows it for about 5 seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

logger = logging.getLogger(__name__)

TYPING_AFTER_SECONDS = 1.0
TYPING_REPEAT_SECONDS = 4.5


@contextlib.asynccontextmanager
async def typing_while_slow(
    bot: Bot, chat_id: int, *, thread_id: int | None = None
) -> AsyncIterator[None]:
    """Show "typing…" in ``chat_id`` if the body takes longer than ``TYPING_AFTER_SECONDS``."""
    task = asyncio.create_task(_typing(bot, chat_id, thread_id))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _typing(bot: Bot, chat_id: int, thread_id: int | None) -> None:
    await asyncio.sleep(TYPING_AFTER_SECONDS)
    while True:
        kwargs: dict[str, Any] = {}
        if thread_id is not None:
            kwargs["message_thread_id"] = thread_id
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING, **kwargs)
        except TelegramError as exc:  # cosmetic: never worth failing the answer for
            logger.debug("typing indicator failed: %s", exc)
        await asyncio.sleep(TYPING_REPEAT_SECONDS)
