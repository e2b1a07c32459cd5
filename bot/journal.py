"""No update lost at shutdown: every fetched update is journaled before Telegram is told it
was received, and marked done once handled.

* On fetch (``getUpdates``), before PTB confirms the batch with its next call, each update is
  written to ``bot_update_journal``; one seen before (re-delivered after a crash) is emptied, so
  that it is never answered twice.
* After :meth:`Application.process_update` returns (handlers and error handlers have run) the
  update is marked done.
* ``stop`` (SIGTERM, Ctrl-C) answers the backlog for at most ``DRAIN_SECONDS``; the updates
  left are not handled but stay in the journal, and the next start answers them first.

Exactly once, except for a crash in the middle of handling an update: it is answered again
after the restart (never zero times).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import Application

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 5.0
# Telegram keeps an unconfirmed update for 24 hours: ids of handled ones are kept that long
# (to recognise a re-delivery), their text is dropped as soon as they are handled.
KEEP_DONE_SECONDS = 86400
PRUNE_EVERY_BATCHES = 1000

_SCHEMA = """CREATE TABLE IF NOT EXISTS bot_update_journal (
    update_id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    raw TEXT NOT NULL,
    done_at REAL
)"""


class UpdateJournal:
    """The ``bot_update_journal`` table, on a connection of its own."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._batches = 0

    @property
    def is_open(self) -> bool:
        return self._db is not None

    async def open(self) -> None:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA busy_timeout=5000")
            # Durable across a crash of the process; only a power loss could lose a commit.
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute(_SCHEMA)
            await _prune(db)
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def receive(self, updates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Journal a fetched batch; updates seen before come back emptied (id only)."""
        db = self._db
        ids = [u["update_id"] for u in updates]
        if db is None or not ids:
            return list(updates)
        self._batches += 1
        if self._batches % PRUNE_EVERY_BATCHES == 0:
            await _prune(db)
        marks = ",".join("?" * len(ids))
        async with db.execute(
            f"SELECT update_id FROM bot_update_journal WHERE update_id IN ({marks})", ids
        ) as cursor:
            known = {row[0] for row in await cursor.fetchall()}
        now = time.time()
        await db.executemany(
            "INSERT OR IGNORE INTO bot_update_journal (update_id, received_at, raw) "
            "VALUES (?, ?, ?)",
            [
                (u["update_id"], now, json.dumps(u, ensure_ascii=False))
                for u in updates
                if u["update_id"] not in known
            ],
        )
        if known:
            logger.info("Ignored %d update(s) received before: %s", len(known), sorted(known))
        return [{"update_id": u["update_id"]} if u["update_id"] in known else u for u in updates]

    async def done(self, update_id: int) -> None:
        if self._db is not None:
            await self._db.execute(
                "UPDATE bot_update_journal SET done_at = ?, raw = '' WHERE update_id = ?",
                (time.time(), update_id),
            )

    async def pending(self) -> list[dict[str, Any]]:
        """Updates received but never handled (by an earlier run), oldest first."""
        if self._db is None:
            return []
        async with self._db.execute(
            "SELECT raw FROM bot_update_journal WHERE done_at IS NULL ORDER BY update_id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [json.loads(row[0]) for row in rows]


async def _prune(db: aiosqlite.Connection) -> None:
    await db.execute(
        "DELETE FROM bot_update_journal WHERE done_at < ?", (time.time() - KEEP_DONE_SECONDS,)
    )


class JournaledApplication(Application[Any, Any, Any, Any, Any, Any]):
    """An Application that marks updates done and stops within ``DRAIN_SECONDS``."""

    journal: UpdateJournal | None = None
    _drain_until: float | None = None

    async def process_update(self, update: object) -> None:
        if (
            self._drain_until is not None
            and time.monotonic() > self._drain_until
            and isinstance(update, Update)
        ):
            # Stopping, and out of time: the update stays in the journal for the next start.
            return
        await super().process_update(update)
        if isinstance(update, Update) and self.journal is not None:
            try:
                await self.journal.done(update.update_id)
            except Exception:
                logger.exception("Update %s not marked done", update.update_id)

    async def stop(self) -> None:
        backlog = self.update_queue.qsize()
        self._drain_until = time.monotonic() + DRAIN_SECONDS
        if backlog:
            logger.info(
                "Stopping: answering the %d waiting update(s) for at most %.0f s; the rest "
                "are answered after the next start",
                backlog,
                DRAIN_SECONDS,
            )
        try:
            await super().stop()
        finally:
            self._drain_until = None

    async def replay_pending(self) -> int:
        """Queue the updates an earlier run received but did not handle; returns how many."""
        if self.journal is None:
            return 0
        replayed = 0
        for raw in await self.journal.pending():
            try:
                update = Update.de_json(raw, self.bot)
            except Exception as exc:
                logger.warning("Journaled update %s skipped: %s", raw.get("update_id"), exc)
                await self.journal.done(int(raw.get("update_id", 0)))
                continue
            await self.update_queue.put(update)
            replayed += 1
        if replayed:
            logger.info("Answering %d update(s) received before the last stop", replayed)
        return replayed
