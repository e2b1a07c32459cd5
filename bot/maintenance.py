"""``qabot export --csv FILE`` and ``qabot backup FILE``: the database, read while the bot
may be running (WAL mode lets a reader work beside the bot's writes)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from pathlib import Path

CSV_HEADER = (
    "time",
    "user_id",
    "chat_id",
    "question",
    "refused",
    "documents",
    "latency_ms",
    "feedback",
)
_NOT_INLINE = "NOT (q.chat_type = 'inline' OR q.chat_type LIKE 'inline:%')"


class MaintenanceError(Exception):
    """The database cannot be exported or backed up; the message is one line."""


def _connect(database: Path) -> sqlite3.Connection:
    if not database.is_file():
        raise MaintenanceError(f"database not found: {database}")
    db = sqlite3.connect(database, timeout=30)
    db.execute("PRAGMA busy_timeout=30000")
    return db


def export_csv(database: Path, target: Path) -> int:
    """Write the question log (inline queries left out) as CSV with a header row; the rows.

    ``documents``: the documents of the quotes shown, space-separated, in order;
    ``feedback``: the sum of 👍 (+1) and 👎 (-1), empty when nobody voted.
    """
    db = _connect(database)
    try:
        try:
            rows = db.execute(
                "SELECT q.asked_at, q.user_id, q.chat_id, q.question, q.abstained, q.quote_ids,"
                " q.latency_ms, (SELECT SUM(f.value) FROM bot_feedback f"
                "  WHERE f.question_id = q.id)"
                f" FROM bot_questions q WHERE {_NOT_INLINE} ORDER BY q.id"
            )
        except sqlite3.OperationalError as exc:
            raise MaintenanceError(f"no question log in {database} ({exc})") from None
        count = 0
        with _atomic(target) as partial, partial.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(CSV_HEADER)
            for asked_at, user_id, chat_id, question, refused, quote_ids, latency, vote in rows:
                writer.writerow(
                    (
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(asked_at)),
                        "" if user_id is None else user_id,
                        "" if chat_id is None else chat_id,
                        question,
                        int(refused),
                        " ".join(_documents(quote_ids)),
                        f"{latency:.1f}",
                        "" if vote is None else int(vote),
                    )
                )
                count += 1
        return count
    finally:
        db.close()


def _documents(quote_ids: str) -> list[str]:
    """Document ids of ``["doc:start-end", ...]``, first appearance order."""
    seen: dict[str, None] = {}
    for key in json.loads(quote_ids or "[]"):
        seen.setdefault(str(key).rsplit(":", 1)[0], None)
    return list(seen)


def backup(database: Path, target: Path) -> int:
    """A consistent copy of ``database`` with SQLite's online backup API, safe while the bot
    runs; checked with ``PRAGMA integrity_check``. Returns the number of questions copied."""
    if target.exists() and target.resolve() == database.resolve():
        raise MaintenanceError("the backup file must not be the database itself")
    source = _connect(database)
    try:
        with _atomic(target) as partial:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                # One self-contained file, without a -wal beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
                (check,) = copy.execute("PRAGMA integrity_check").fetchone()
                if check != "ok":
                    raise MaintenanceError(f"the copy failed its integrity check: {check}")
                try:
                    (questions,) = copy.execute("SELECT COUNT(*) FROM bot_questions").fetchone()
                except sqlite3.OperationalError:
                    questions = 0
            finally:
                copy.close()
        return int(questions)
    finally:
        source.close()


class _atomic:
    """A ``.partial`` file beside ``target``, renamed over it only when the block succeeds."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.partial = target.with_name(f".{target.name}.partial")

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.partial.unlink(missing_ok=True)
        return self.partial

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            os.replace(self.partial, self.target)
        else:
            self.partial.unlink(missing_ok=True)
