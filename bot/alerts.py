"""``ALERT_CHAT_ID``: unexpected errors reported to a chat the operators read.

Short (the error's type, its first 300 characters, where it was raised and which update, by
ids only), redacted (no token), and at most one a minute per kind, where a kind is the error's
type and the line that raised it: a storm of the same failure is one message a minute.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram.error import Forbidden, NetworkError, TelegramError
from telegram.ext import CallbackContext

from bot.errors import describe, redact
from bot.render import esc
from bot.state import STATE_KEY, BotState

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

ALERTS_KEY = "qabot_alerts"
ALERT_INTERVAL_SECONDS = 60.0
MAX_ERROR_CHARS = 300


def error_kind(error: BaseException) -> str:
    """The error's type and where it was raised (file:line of the innermost frame)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {where}"


class AlertLimiter:
    """At most one alert per kind per ``interval`` seconds (bounded memory)."""

    def __init__(
        self,
        interval: float = ALERT_INTERVAL_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        remembered: int = 1024,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sent: dict[str, float] = {}
        self._remembered = remembered
        self.suppressed: dict[str, int] = {}

    def allow(self, kind: str) -> bool:
        now = self._clock()
        last = self._sent.get(kind)
        if last is not None and now - last < self.interval:
            self.suppressed[kind] = self.suppressed.get(kind, 0) + 1
            return False
        if len(self._sent) >= self._remembered:
            self._sent.pop(next(iter(self._sent)))
        self._sent[kind] = now
        return True


def render_alert(error: BaseException, update: object, suppressed: int) -> str:
    kind = error_kind(error)
    detail = redact(str(error))[:MAX_ERROR_CHARS]
    lines = [f"⚠️ <b>qabot error</b>: {esc(kind)}"]
    if detail:
        lines.append(f"<code>{esc(detail)}</code>")
    lines.append(esc(redact(describe(update))))
    if suppressed:
        lines.append(f"({suppressed} more of this kind since the last report)")
    return "\n".join(lines)


async def on_error(update: object, context: Context) -> None:
    """A second error handler, next to :func:`bot.errors.on_error`: report what it logs as an
    error (not polling hiccups, not users who blocked the bot) to ``ALERT_CHAT_ID``."""
    error = context.error
    state = context.application.bot_data.get(STATE_KEY)
    chat_id = state.config.alert_chat_id if isinstance(state, BotState) else None
    if chat_id is None or error is None or isinstance(error, Forbidden):
        return
    if update is None and isinstance(error, NetworkError):
        return
    limiter = context.bot_data.get(ALERTS_KEY)
    if not isinstance(limiter, AlertLimiter):
        limiter = AlertLimiter()
        context.bot_data[ALERTS_KEY] = limiter
    kind = error_kind(error)
    if not limiter.allow(kind):
        return
    suppressed = limiter.suppressed.pop(kind, 0)
    try:
        await context.bot.send_message(chat_id, render_alert(error, update, suppressed))
    except TelegramError as exc:
        logger.warning("Alert not delivered to chat %s: %s", chat_id, exc)
