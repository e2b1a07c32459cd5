"""Every request the bot sends goes through here: Telegram's rate limits, bounded retries of
transient failures, and a plain-text second try for text Telegram cannot parse.

``AIORateLimiter`` alone retries only "429 Too Many Requests". This subclass also retries, with
exponential backoff and a bound, what is worth retrying: 5xx answers (JSON or an HTML page from
a proxy), timeouts and connection errors. It never retries what would fail again (400, 403,
401/404, 409).

A connection dropped after Telegram acted on the request cannot be told apart from one dropped
before: both are retried, so in that rare case a message may arrive twice; never zero times.
"""

from __future__ import annotations

import asyncio
import html
import logging
import random
import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter, Defaults
from telegram.request import HTTPXRequest

from bot.config import BotConfig
from bot.journal import UpdateJournal
from bot.updates import ScreeningBot

logger = logging.getLogger(__name__)

# Retries after Telegram's "Too Many Requests" (AIORateLimiter's default is none).
RATE_LIMIT_RETRIES = 3
REQUEST_POOL_SIZE = 256
# Attempts after the first for a transient failure, and the first backoff (doubling).
TRANSIENT_RETRIES = 4
BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 4.0
MAX_LOGGED_ERROR = 160
# Telegram's answer to text whose HTML (or other markup) it cannot read.
PARSE_ERROR = "can't parse entities"
_TEXT_METHODS = ("sendMessage", "editMessageText")
_TAG = re.compile(r"<[^<>]*>")

Result = bool | dict[str, Any] | list[dict[str, Any]]


def is_transient(exc: BaseException) -> bool:
    """Worth sending again: a server error, a timeout, a connection that broke."""
    # BadRequest is a NetworkError in PTB; it is the client's fault and would fail again.
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def is_parse_error(exc: BaseException) -> bool:
    return isinstance(exc, BadRequest) and PARSE_ERROR in exc.message.lower()


def html_to_plain(text: str) -> str:
    """What the reader would have seen, without the markup."""
    return html.unescape(_TAG.sub("", text))


def as_plain_text(data: dict[str, Any]) -> dict[str, Any] | None:
    """``data`` of a text request resent without markup, or None when there is no markup."""
    if not data.get("parse_mode") and not data.get("entities"):
        return None
    plain = dict(data)
    text = plain.get("text")
    if isinstance(text, str) and str(plain.get("parse_mode") or "").upper() == "HTML":
        plain["text"] = html_to_plain(text)
    plain.pop("parse_mode", None)
    plain.pop("entities", None)
    return plain if str(plain.get("text") or "").strip() else None


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's rate limits (``AIORateLimiter``), plus bounded retries with backoff."""

    def __init__(
        self,
        *,
        max_retries: int,
        transient_retries: int = TRANSIENT_RETRIES,
        backoff_seconds: float | None = None,
    ) -> None:
        super().__init__(max_retries=max_retries)
        self.transient_retries = transient_retries
        self.backoff_seconds = BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        attempt = 0
        while True:
            try:
                # Each attempt waits for its turn under the limits again.
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest as exc:
                plain = as_plain_text(data) if endpoint in _TEXT_METHODS else None
                if not is_parse_error(exc) or plain is None:
                    raise
                logger.warning(
                    "Telegram could not parse %s for chat %s (%s): sending it as plain text",
                    endpoint,
                    data.get("chat_id"),
                    exc.message,
                )
                data, args = plain, (endpoint, plain)
            except NetworkError as exc:
                if not is_transient(exc) or attempt >= self.transient_retries:
                    raise
                delay = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2**attempt)
                delay *= random.uniform(0.8, 1.2)  # jitter, not security
                attempt += 1
                logger.info(
                    "%s%s failed (%s); retry %d/%d in %.2f s",
                    endpoint,
                    f" for chat {data['chat_id']}" if "chat_id" in data else "",
                    # A proxy's error page can be long: its first words say enough.
                    str(exc)[:MAX_LOGGED_ERROR],
                    attempt,
                    self.transient_retries,
                    delay,
                )
                await asyncio.sleep(delay)


class QuietInvalidJSON(logging.Filter):
    """PTB logs an ERROR with a traceback for every error page that is not JSON (a proxy's
    "502 Bad Gateway" HTML). The request is retried and logged here at INFO; one warning line
    without the page or the traceback is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Can not load invalid JSON data"):
            record.msg, record.args = "Telegram answered with a body that is not JSON", None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_invalid_json() -> None:
    ptb_request = logging.getLogger("telegram.request.BaseRequest")
    if not any(isinstance(f, QuietInvalidJSON) for f in ptb_request.filters):
        ptb_request.addFilter(QuietInvalidJSON())


def build_bot(config: BotConfig, journal: UpdateJournal | None = None) -> ScreeningBot:
    """The bot ``qabot run`` uses: screened updates, retried requests, HTML by default, and
    the proxy of ``PROXY_URL`` (if any) for every request, long polls included."""
    quiet_invalid_json()
    return ScreeningBot(
        config.token,
        base_url=config.base_url,
        base_file_url=config.base_file_url,
        # What ApplicationBuilder would use: many requests at once, one long poll.
        request=HTTPXRequest(connection_pool_size=REQUEST_POOL_SIZE, proxy=config.proxy_url),
        get_updates_request=HTTPXRequest(connection_pool_size=1, proxy=config.proxy_url),
        rate_limiter=RetryingRateLimiter(max_retries=RATE_LIMIT_RETRIES),
        journal=journal,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            # Replies quote the message they answer: in groups that says whom we answer.
            do_quote=True,
        ),
    )
