"""The bot's own tables (prefixed ``bot_``) in the shared SQLite database.

The retrieval library keeps its index in the same file through its own connection; this
module never reads or writes those tables. WAL mode and a busy timeout let both connections
work side by side while a reindex writes.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.texts import UsageStats

SCHEMA_VERSION = 2

# Each entry migrates from version ``index`` to ``index + 1``; append, never edit.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE bot_questions (
            id INTEGER PRIMARY KEY,
            asked_at REAL NOT NULL,
            user_id INTEGER,
            chat_id INTEGER,
            chat_type TEXT NOT NULL,
            question TEXT NOT NULL,
            abstained INTEGER NOT NULL,
            quote_ids TEXT NOT NULL,
            latency_ms REAL NOT NULL
        )""",
        "CREATE INDEX bot_questions_asked_at ON bot_questions (asked_at)",
        """CREATE TABLE bot_answers (
            id TEXT PRIMARY KEY,
            question_id INTEGER NOT NULL REFERENCES bot_questions (id),
            created_at REAL NOT NULL,
            result_offset INTEGER NOT NULL,
            quotes TEXT NOT NULL,
            has_more INTEGER NOT NULL,
            index_built_at REAL NOT NULL
        )""",
        "CREATE INDEX bot_answers_created_at ON bot_answers (created_at)",
        """CREATE TABLE bot_feedback (
            question_id INTEGER NOT NULL REFERENCES bot_questions (id),
            user_id INTEGER NOT NULL,
            value INTEGER NOT NULL CHECK (value IN (-1, 1)),
            created_at REAL NOT NULL,
            PRIMARY KEY (question_id, user_id)
        )""",
    ),
    # 1 → 2: a page's "More" is claimed once, so that a double tap sends one next page.
    ("ALTER TABLE bot_answers ADD COLUMN more_used INTEGER NOT NULL DEFAULT 0",),
)

# Buttons older than this answer "expired" instead of keeping rows forever.
ANSWER_RETENTION_SECONDS = 30 * 86400
DAY_SECONDS = 86400
# Inline queries are logged with chat_type "inline" or "inline:<chat type>".
_INLINE = "(chat_type = 'inline' OR chat_type LIKE 'inline:%')"


class StorageError(Exception):
    """The bot's tables cannot be used (newer schema, or the file is not a database)."""


@dataclass(frozen=True, slots=True)
class QuoteRef:
    """Where a shown quote comes from, enough to fetch its context later."""

    document_id: str
    start: int
    end: int
    text: str = ""
    """The quote as shown, so that a changed document is detected even at equal offsets."""

    def key(self) -> str:
        return f"{self.document_id}:{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One page of quotes shown under a question, as its buttons refer to it."""

    id: str
    question_id: int
    question: str
    offset: int
    quotes: tuple[QuoteRef, ...]
    has_more: bool
    index_built_at: float


class Storage:
    """Question log, answer pages for buttons, and feedback."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("storage is not initialized")
        return self._db

    async def initialize(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit, so a migration is all-or-nothing.
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute("PRAGMA foreign_keys=ON")
            await _migrate(db)
            await db.execute(
                "DELETE FROM bot_answers WHERE created_at < ?",
                (time.time() - ANSWER_RETENTION_SECONDS,),
            )
        except Exception:
            await db.close()
            raise
        self._db = db

    async def shutdown(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def log_question(
        self,
        *,
        user_id: int | None,
        chat_id: int | None,
        chat_type: str,
        question: str,
        abstained: bool,
        quotes: Sequence[QuoteRef],
        latency_ms: float,
        asked_at: float | None = None,
    ) -> int:
        cursor = await self.db.execute(
            "INSERT INTO bot_questions (asked_at, user_id, chat_id, chat_type, question,"
            " abstained, quote_ids, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time() if asked_at is None else asked_at,
                user_id,
                chat_id,
                chat_type,
                question,
                int(abstained),
                json.dumps([q.key() for q in quotes]),
                latency_ms,
            ),
        )
        question_id = cursor.lastrowid
        await cursor.close()
        if question_id is None:  # pragma: no cover - sqlite always sets it after an INSERT
            raise StorageError("no row id after insert")
        return question_id

    async def save_answer(
        self,
        *,
        question_id: int,
        offset: int,
        quotes: Sequence[QuoteRef],
        has_more: bool,
        index_built_at: float,
    ) -> str:
        """Store one answer page and return its short id (used in ``callback_data``)."""
        answer_id = secrets.token_urlsafe(8)
        await self.db.execute(
            "INSERT INTO bot_answers (id, question_id, created_at, result_offset, quotes,"
            " has_more, index_built_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                answer_id,
                question_id,
                time.time(),
                offset,
                json.dumps([[q.document_id, q.start, q.end, q.text] for q in quotes]),
                int(has_more),
                index_built_at,
            ),
        )
        return answer_id

    async def get_answer(self, answer_id: str) -> StoredAnswer | None:
        async with self.db.execute(
            "SELECT a.id, a.question_id, q.question, a.result_offset, a.quotes, a.has_more,"
            " a.index_built_at FROM bot_answers a JOIN bot_questions q ON q.id = a.question_id"
            " WHERE a.id = ?",
            (answer_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        quotes = tuple(
            QuoteRef(str(d), int(s), int(e), str(t)) for d, s, e, t in json.loads(row[4])
        )
        return StoredAnswer(
            id=str(row[0]),
            question_id=int(row[1]),
            question=str(row[2]),
            offset=int(row[3]),
            quotes=quotes,
            has_more=bool(row[5]),
            index_built_at=float(row[6]),
        )

    async def claim_more(self, answer_id: str) -> bool:
        """Mark the page's "More" as used; True for the one caller that changed it."""
        cursor = await self.db.execute(
            "UPDATE bot_answers SET more_used = 1 WHERE id = ? AND more_used = 0", (answer_id,)
        )
        claimed = cursor.rowcount == 1
        await cursor.close()
        return claimed

    async def release_more(self, answer_id: str) -> None:
        """Make "More" usable again after it failed to send the next page."""
        await self.db.execute("UPDATE bot_answers SET more_used = 0 WHERE id = ?", (answer_id,))

    async def record_feedback(self, *, question_id: int, user_id: int, value: int) -> None:
        """Store (or change) one user's 👍 (+1) or 👎 (-1) for a question."""
        if value not in (-1, 1):
            raise ValueError("feedback value must be -1 or 1")
        await self.db.execute(
            "INSERT INTO bot_feedback (question_id, user_id, value, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, user_id)"
            " DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
            (question_id, user_id, value, time.time()),
        )

    async def usage(self, *, now: float | None = None) -> UsageStats:
        since = (time.time() if now is None else now) - DAY_SECONDS
        # Inline queries arrive every few keystrokes: counted apart, never as questions.
        async with self.db.execute(
            "SELECT"
            " COALESCE(SUM(NOT inline AND abstained = 0), 0),"
            " COALESCE(SUM(NOT inline AND abstained = 1), 0),"
            " COALESCE(SUM(NOT inline AND abstained = 0 AND asked_at >= ?), 0),"
            " COALESCE(SUM(NOT inline AND abstained = 1 AND asked_at >= ?), 0),"
            " COALESCE(SUM(inline), 0), COALESCE(SUM(inline AND asked_at >= ?), 0)"
            f" FROM (SELECT *, {_INLINE} AS inline FROM bot_questions)",
            (since, since, since),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        answered, refused, answered_24h, refused_24h, inline, inline_24h = (int(v) for v in row)
        async with self.db.execute(
            "SELECT COALESCE(SUM(value = 1), 0), COALESCE(SUM(value = -1), 0) FROM bot_feedback"
        ) as cursor:
            fb = await cursor.fetchone()
        assert fb is not None
        return UsageStats(
            answered_total=answered,
            refused_total=refused,
            answered_24h=answered_24h,
            refused_24h=refused_24h,
            feedback_up=int(fb[0]),
            feedback_down=int(fb[1]),
            median_latency_ms=await self._median_latency(answered + refused),
            inline_total=inline,
            inline_24h=inline_24h,
        )

    async def _median_latency(self, count: int) -> float | None:
        """The median latency of the ``count`` questions (inline queries left out)."""
        if count == 0:
            return None
        # Median without loading every row: the middle one (or two) in latency order.
        offset = (count - 1) // 2
        take = 2 if count % 2 == 0 else 1
        async with self.db.execute(
            f"SELECT latency_ms FROM bot_questions WHERE NOT {_INLINE}"
            " ORDER BY latency_ms LIMIT ? OFFSET ?",
            (take, offset),
        ) as cursor:
            values = [float(r[0]) for r in await cursor.fetchall()]
        return sum(values) / len(values)


async def _migrate(db: aiosqlite.Connection) -> None:
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS bot_schema_version (version INTEGER NOT NULL)")
        async with db.execute("SELECT MAX(version) FROM bot_schema_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"database schema version {current} is newer than this bot ({SCHEMA_VERSION})"
            )
        for version in range(current, SCHEMA_VERSION):
            for statement in _MIGRATIONS[version]:
                await db.execute(statement)
            await db.execute("INSERT INTO bot_schema_version (version) VALUES (?)", (version + 1,))
        await db.execute("COMMIT")
    except Exception:
        await db.execute("ROLLBACK")
        raise
