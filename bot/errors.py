"""The one error handler, and the log redaction that keeps the bot token out of every log."""

from __future__ import annotations

import logging
import traceback
from collections import deque
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import CallbackContext

from bot.i18n import N_, for_update

logger = logging.getLogger(__name__)

REDACTED = "<redacted>"
_secrets: set[str] = set()
_factory_installed = False

FRIENDLY_ERROR = N_("😕 Sorry, something went wrong on my side. Please try again in a moment.")
# Recently answered callback queries (Telegram refuses a second answer); a few per update
# being handled at once is plenty.
ANSWERED_KEY = "qabot_answered_callbacks"
ANSWERED_REMEMBERED = 256
# Chats that blocked the bot (403), logged once each; bounded like the answered callbacks.
BLOCKED_KEY = "qabot_blocked_chats"
BLOCKED_REMEMBERED = 4096

Context = CallbackContext[Any, Any, Any, Any]


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def install_token_redaction(token: str) -> None:
    """Make every log record created from now on free of ``token``.

    The Bot API puts the token in every URL, and PTB (DEBUG) and httpx (INFO) log those URLs.
    A record factory, unlike a logger or handler filter, sees records from every logger and
    reaches handlers added later (pytest's caplog included).
    """
    global _factory_installed
    # The part after ':' is the secret; redacting it alone also covers the full token.
    _secrets.add(token.split(":", 1)[-1])
    # httpx logs each request line at INFO: noise at best, and it carries the token.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def _redact_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed call is logging's problem to report, not ours
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:
            # Formatters use a preset exc_text instead of formatting exc_info again.
            record.exc_text = clean


async def answer_callback(query: CallbackQuery, context: Context, text: str | None = None) -> None:
    """Answer ``query`` and remember it, so that the error handler never answers it again."""
    await query.answer(text)
    _answered(context).append(query.id)


def _answered(context: Context) -> deque[str]:
    answered = context.bot_data.get(ANSWERED_KEY)
    if isinstance(answered, deque):
        return answered
    fresh: deque[str] = deque(maxlen=ANSWERED_REMEMBERED)
    context.bot_data[ANSWERED_KEY] = fresh
    return fresh


class HideInvalidToken(logging.Filter):
    """Drops PTB's traceback for a rejected token: ``run_bot`` reports it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InvalidToken))


def describe(update: object) -> str:
    """Where an update came from, for logs (ids only: no message text)."""
    if not isinstance(update, Update):
        return repr(update)[:200] if update is not None else "no update"
    parts = [f"update {update.update_id}"]
    if update.effective_chat:
        parts.append(f"chat {update.effective_chat.id} ({update.effective_chat.type})")
    if update.effective_user:
        parts.append(f"user {update.effective_user.id}")
    if update.callback_query:
        parts.append(f"callback {update.callback_query.data!r}")
    elif update.inline_query:
        parts.append("inline query")
    elif update.effective_message:
        parts.append(f"message {update.effective_message.message_id}")
    return ", ".join(parts)


async def on_error(update: object, context: Context) -> None:
    """Log the failure with its update; tell the user something short, never a traceback."""
    error = context.error
    if update is None and isinstance(error, NetworkError):
        # Polling hiccups: PTB retries by itself; a warning without a traceback is enough.
        logger.warning("Network problem while polling: %s", error)
        return
    forbidden = isinstance(error, Forbidden)
    if forbidden:
        # The user blocked the bot or left the chat: nothing to fix, and no message can
        # reach them (a button or inline query still gets its short answer below).
        _log_forbidden_once(update, context, error)
    else:
        logger.error("Error while handling %s", describe(update), exc_info=error)
    if not isinstance(update, Update):
        return
    friendly = for_update(update).gettext(FRIENDLY_ERROR)
    try:
        if update.callback_query:
            # Answered already when what failed came after the answer (sending a page, say).
            if update.callback_query.id not in _answered(context):
                await answer_callback(update.callback_query, context, friendly)
        elif update.inline_query:
            # No results rather than a spinner until the client gives up.
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif update.effective_message and update.effective_chat and not forbidden:
            await update.effective_message.reply_text(friendly, do_quote=True)
    except TelegramError as exc:
        logger.warning("Could not tell the user about the error: %s", exc)


def _log_forbidden_once(update: object, context: Context, error: BaseException | None) -> None:
    chat = update.effective_chat if isinstance(update, Update) else None
    key = chat.id if chat is not None else None
    blocked = context.bot_data.get(BLOCKED_KEY)
    if not isinstance(blocked, dict):
        blocked = {}
        context.bot_data[BLOCKED_KEY] = blocked
    if key in blocked:
        return
    if len(blocked) >= BLOCKED_REMEMBERED:
        blocked.pop(next(iter(blocked)))
    blocked[key] = True
    logger.info("Telegram refused to deliver to %s: %s", describe(update), error)
