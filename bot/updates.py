"""Updates as Telegram delivers them, made safe before python-telegram-bot parses them.

* An update the library cannot parse (``Update.de_json`` raising, e.g. a field a newer Bot API
  made mandatory) would make PTB's Updater fetch the same batch forever, answering no one. It
  is logged (its id, the reason, at most 200 characters of its text) and replaced by an empty
  update with the same id: no handler matches it, and confirming it lets the rest through.
* Strings with lone UTF-16 surrogates (JSON ``"\\ud800"``), which Python can hold but SQLite
  and UTF-8 cannot, get U+FFFD in their place. One code unit for one, so entity offsets stay.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

from bot.journal import UpdateJournal

logger = logging.getLogger(__name__)

MAX_LOGGED_CHARS = 200
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (valid text is unchanged)."""
    return _SURROGATE.sub("\ufffd", text)


def clean(value: Any) -> Any:
    """A JSON value with every string (keys too) passed through :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def _excerpt(raw: Any) -> str:
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    return text if len(text) <= MAX_LOGGED_CHARS else text[:MAX_LOGGED_CHARS] + "…"


def screen_updates(raw_updates: list[Any], bot: ExtBot[Any]) -> list[Any]:
    """The batch with lone surrogates replaced and unparseable updates emptied (kept by id,
    so that the Updater confirms them)."""
    screened: list[Any] = []
    for raw in raw_updates:
        update = clean(raw)
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int):
            # Without an id it cannot even be confirmed; Telegram never sends one.
            logger.warning("Skipped an update without update_id: %s", _excerpt(update))
            continue
        try:
            Update.de_json(update, bot)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"[:MAX_LOGGED_CHARS]
            logger.warning(
                "Skipped update %d that cannot be parsed (%s); it was: %s",
                update_id,
                reason,
                _excerpt(update),
            )
            update = {"update_id": update_id}
        screened.append(update)
    return screened


class ScreeningBot(ExtBot[Any]):
    """``ExtBot`` whose ``getUpdates`` results go through :func:`screen_updates`, then into
    the update journal (when one is open) before PTB confirms them to Telegram."""

    def __init__(self, *args: Any, journal: UpdateJournal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.journal = journal

    async def _do_post(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        result = await super()._do_post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            screened = screen_updates(result, self)
            if self.journal is not None and self.journal.is_open:
                try:
                    screened = await self.journal.receive(screened)
                except Exception:
                    # Answering matters more than the journal; the failure is logged.
                    logger.exception("Updates %s not journaled", [u["update_id"] for u in screened])
            return screened
        return result
