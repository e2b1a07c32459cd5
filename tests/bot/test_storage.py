"""The bot's own tables: schema, question log, answer pages, feedback, usage statistics."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION, QuoteRef, Storage, StorageError


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = Storage(tmp_path / "sub" / "db.sqlite3")
    await store.initialize()
    yield store
    await store.shutdown()


async def log(
    storage: Storage,
    *,
    abstained: bool = False,
    latency: float = 10.0,
    at: float | None = None,
    chat_type: str = "private",
) -> int:
    return await storage.log_question(
        user_id=1,
        chat_id=2,
        chat_type=chat_type,
        question="q?",
        abstained=abstained,
        quotes=[] if abstained else [QuoteRef("a.txt", 0, 5, "Hello")],
        latency_ms=latency,
        asked_at=at,
    )


async def test_schema_is_created_in_wal_mode_next_to_other_tables(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE documents (id TEXT)")
        db.execute("INSERT INTO documents VALUES ('kept')")
    for _ in range(2):  # a second start migrates nothing
        store = Storage(path)
        await store.initialize()
        await store.shutdown()
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"bot_schema_version", "bot_questions", "bot_answers", "bot_feedback"} <= tables
        assert all(t.startswith("bot_") for t in tables - {"documents"})
        assert db.execute("SELECT MAX(version) FROM bot_schema_version").fetchone() == (
            SCHEMA_VERSION,
        )
        assert db.execute("SELECT id FROM documents").fetchall() == [("kept",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE bot_schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO bot_schema_version VALUES (99)")
    with pytest.raises(StorageError, match="newer"):
        await Storage(path).initialize()


async def test_answer_pages_round_trip(storage: Storage) -> None:
    question_id = await log(storage)
    refs = [QuoteRef("a.txt", 0, 5, "Hello"), QuoteRef("dir/b.md", 10, 30, "World")]
    answer_id = await storage.save_answer(
        question_id=question_id, offset=3, quotes=refs, has_more=True, index_built_at=12.5
    )
    assert len(f"m:{answer_id}:9".encode()) <= 64
    stored = await storage.get_answer(answer_id)
    assert stored is not None
    assert (stored.question_id, stored.question, stored.offset) == (question_id, "q?", 3)
    assert stored.quotes == tuple(refs) and stored.has_more and stored.index_built_at == 12.5
    assert await storage.get_answer("unknown") is None


async def test_feedback_is_one_vote_per_user_and_question(storage: Storage) -> None:
    question_id = await log(storage)
    await storage.record_feedback(question_id=question_id, user_id=7, value=1)
    await storage.record_feedback(question_id=question_id, user_id=7, value=-1)
    await storage.record_feedback(question_id=question_id, user_id=8, value=1)
    async with storage.db.execute(
        "SELECT user_id, value FROM bot_feedback WHERE question_id = ? ORDER BY user_id",
        (question_id,),
    ) as cursor:
        assert list(await cursor.fetchall()) == [(7, -1), (8, 1)]
    usage = await storage.usage()
    assert (usage.feedback_up, usage.feedback_down) == (1, 1)
    with pytest.raises(ValueError):
        await storage.record_feedback(question_id=question_id, user_id=7, value=5)


async def test_usage_counts_total_and_last_day_and_median_latency(storage: Storage) -> None:
    assert (await storage.usage()).median_latency_ms is None
    old = time.time() - 2 * 86400
    await log(storage, latency=10, at=old)
    await log(storage, abstained=True, latency=30, at=old)
    await log(storage, latency=20)
    usage = await storage.usage()
    assert (usage.answered_total, usage.refused_total) == (2, 1)
    assert (usage.answered_24h, usage.refused_24h) == (1, 0)
    assert usage.median_latency_ms == 20
    await log(storage, latency=40)
    assert (await storage.usage()).median_latency_ms == 25


async def test_more_is_claimed_once_until_released(storage: Storage) -> None:
    question_id = await log(storage)
    answer_id = await storage.save_answer(
        question_id=question_id, offset=0, quotes=[], has_more=True, index_built_at=1.0
    )
    assert await storage.claim_more(answer_id)
    assert not await storage.claim_more(answer_id)
    await storage.release_more(answer_id)
    assert await storage.claim_more(answer_id)
    assert not await storage.claim_more("unknown")


async def test_a_version_1_database_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE bot_schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO bot_schema_version VALUES (1)")
        db.execute(
            "CREATE TABLE bot_answers (id TEXT PRIMARY KEY, question_id INTEGER NOT NULL,"
            " created_at REAL NOT NULL, result_offset INTEGER NOT NULL, quotes TEXT NOT NULL,"
            " has_more INTEGER NOT NULL, index_built_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO bot_answers VALUES ('old', 1, ?, 0, '[]', 1, 1.0)", (time.time(),))
    store = Storage(path)
    await store.initialize()
    try:
        assert await store.claim_more("old")
        assert not await store.claim_more("old")
    finally:
        await store.shutdown()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT MAX(version) FROM bot_schema_version").fetchone() == (2,)


async def test_inline_queries_are_counted_apart_from_questions(storage: Storage) -> None:
    await log(storage, latency=10)
    await log(storage, abstained=True, latency=20, chat_type="supergroup")
    for kind in ("inline", "inline:private", "inline:sender", "inline:group"):
        await log(storage, latency=1000, chat_type=kind)
    await log(storage, latency=1000, chat_type="inline", at=time.time() - 2 * 86400)
    usage = await storage.usage()
    assert (usage.answered_total, usage.refused_total) == (1, 1)
    assert (usage.answered_24h, usage.refused_24h) == (1, 1)
    assert (usage.inline_total, usage.inline_24h) == (5, 4)
    assert usage.median_latency_ms == 15
