"""Who may use the bot (``ALLOWED_USER_IDS``, ``ALLOWED_CHAT_IDS``), and the admin audit log.

Both lists empty: everyone may ask (the bot is public). Otherwise an update is allowed when
its sender is an admin or in ``ALLOWED_USER_IDS``, or when its chat is in ``ALLOWED_CHAT_IDS``
(an allowed group is open to all its members; a user allowed by id may ask anywhere). Anyone
else gets, in a private chat, one short refusal with no corpus text (at most one a minute);
in groups silence; for inline queries no results; for buttons a toast and nothing else.

The check runs as a handler in group -1, before every other handler, so no command, question
or button is reached by an update it refuses.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackContext

from bot.commands import ADMIN_COMMANDS
from bot.config import BotConfig
from bot.i18n import N_, for_update
from bot.state import get_state

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

ACCESS_GROUP = -1
NOT_ALLOWED = N_("🔒 Sorry, this bot is private. Ask its owner to add you.")
NOT_ALLOWED_TOAST = N_("🔒 This bot is private.")
REFUSAL_INTERVAL_SECONDS = 60.0
_REFUSED_REMEMBERED = 4096
_REFUSED_KEY = "qabot_access_refused"
_ADMIN_COMMANDS = frozenset(c.command for c in ADMIN_COMMANDS)


def is_allowed(config: BotConfig, user_id: int | None, chat_id: int | None) -> bool:
    if not config.allowed_user_ids and not config.allowed_chat_ids:
        return True
    if user_id is not None and (
        user_id in config.admin_user_ids or user_id in config.allowed_user_ids
    ):
        return True
    return chat_id is not None and chat_id in config.allowed_chat_ids


def admin_action(update: Update, admin_ids: frozenset[int]) -> str | None:
    """What an admin asked the bot to do (an admin command or an upload), else None."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.id not in admin_ids:
        return None
    if message.document is not None:
        return f"upload {message.document.file_name!r} ({message.document.file_size} bytes)"
    text = message.text or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
        if command in _ADMIN_COMMANDS:
            return f"/{command}"
    return None


async def gate(update: object, context: Context) -> None:
    """Log admin actions; stop every update the allow-lists refuse, after the refusal."""
    if not isinstance(update, Update):
        return
    config = get_state(context).config
    if (action := admin_action(update, config.admin_user_ids)) is not None:
        chat = update.effective_chat
        logger.info(
            "Admin %s: %s (chat %s)",
            update.effective_user.id if update.effective_user else None,
            action,
            chat.id if chat else None,
        )
    user, chat = update.effective_user, update.effective_chat
    if is_allowed(config, user.id if user else None, chat.id if chat else None):
        return
    logger.info(
        "Refused update %s: user %s in chat %s is not allowed",
        update.update_id,
        user.id if user else None,
        chat.id if chat else None,
    )
    try:
        await _refuse(update, context)
    except TelegramError as exc:
        logger.info("Refusal not delivered: %s", exc)
    raise ApplicationHandlerStop


async def _refuse(update: Update, context: Context) -> None:
    tr = for_update(update)
    if update.callback_query is not None:
        await update.callback_query.answer(tr.gettext(NOT_ALLOWED_TOAST))
    elif update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif (
        update.effective_message is not None
        and update.effective_chat is not None
        and update.effective_chat.type == ChatType.PRIVATE
        and _first_refusal(context, update.effective_chat.id)
    ):
        await update.effective_message.reply_text(tr.gettext(NOT_ALLOWED), do_quote=True)
    # Groups, channels and anything else: silence.


def _first_refusal(context: Context, chat_id: int) -> bool:
    refused = context.bot_data.setdefault(_REFUSED_KEY, {})
    now = time.monotonic()
    last = refused.get(chat_id)
    if last is not None and now - last < REFUSAL_INTERVAL_SECONDS:
        return False
    if len(refused) >= _REFUSED_REMEMBERED:
        refused.pop(next(iter(refused)))
    refused.pop(chat_id, None)
    refused[chat_id] = now
    return True
