"""The operator's view: one INFO line per question, reload, upload and removal, as plain
text or (``LOG_FORMAT=json``) one JSON object per line.

Lines carry ids, counts and timings only: never the token (``bot.errors`` redacts it from
every record anyway) and never a question's text.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from telegram import Update

from bot.errors import HideInvalidToken

logger = logging.getLogger("qabot")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields, "exception"?}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """The root logger for ``qabot run``: ``LOG_LEVEL`` and ``LOG_FORMAT`` (text or json)."""
    # force: the CLI may have configured terse logging for its other commands already.
    logging.basicConfig(level=level, format=TEXT_FORMAT, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(HideInvalidToken())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())


def log_question(update: Update, refused: bool, latency_ms: float) -> None:
    user = update.effective_user
    user_id = user.id if user else None
    logger.info(
        "question update %s user %s refused %s latency %.1f ms",
        update.update_id,
        user_id,
        "yes" if refused else "no",
        latency_ms,
        extra={
            "event": "question",
            "update_id": update.update_id,
            "user_id": user_id,
            "refused": refused,
            "latency_ms": round(latency_ms, 1),
        },
    )
