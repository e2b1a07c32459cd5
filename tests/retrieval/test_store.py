from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from retrieval.corpus import parse_document
from retrieval.errors import StoreError
from retrieval.models import SentenceRecord
from retrieval.store import _MIGRATIONS, FILE_STATS_QUERY, HASHES_QUERY, SCHEMA_VERSION, Store


async def test_new_database_is_created_at_the_current_schema_version(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "nested" / "index.sqlite3")
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        assert await store.meta("indexed_at") is None
        assert await store.load() == []
    finally:
        await store.close()
    with closing(sqlite3.connect(tmp_path / "nested" / "index.sqlite3")) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"documents", "passages", "sentences", "meta"} <= tables


@pytest.mark.parametrize("query", [HASHES_QUERY, FILE_STATS_QUERY])
async def test_what_every_scan_reads_comes_from_an_index_not_the_texts(
    tmp_path: Path, query: str
) -> None:
    """A scan reads every document's hash and file stat: from a covering index, since reading
    the stat columns from the rows walked every stored text."""
    store = await Store.open(tmp_path / "index.sqlite3")
    await store.close()
    with closing(sqlite3.connect(tmp_path / "index.sqlite3")) as db:
        plan = " ".join(str(row[-1]) for row in db.execute("EXPLAIN QUERY PLAN " + query))
    assert "COVERING INDEX documents_by_stat" in plan


async def test_version_1_database_migrates_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.executescript(_MIGRATIONS[0])
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute(
            "INSERT INTO documents VALUES (1, 'a.txt', 'h', 'A', NULL, NULL, NULL, NULL, 'Owls.', 0)"
        )
        db.execute("INSERT INTO passages VALUES (1, 1, 0, 0, 5)")
        db.execute("INSERT INTO sentences VALUES (1, 1, 0, 0, 5, 'owl')")
    store = await Store.open(path)
    try:
        assert await store.schema_version() == SCHEMA_VERSION == 4
        [document] = await store.load()
        assert document.meta.language is None
        assert document.sentences == (SentenceRecord(0, 0, 5, ("owl",)),)
    finally:
        await store.close()


async def test_page_section_and_language_round_trip(tmp_path: Path) -> None:
    from dataclasses import replace

    store = await Store.open(tmp_path / "index.sqlite3")
    document = parse_document("a.txt", "Title\n\nOwls hunt at night. They sleep.\n", "h1")
    located = replace(
        document,
        sentences=tuple(replace(s, page=3, section="Birds") for s in document.sentences),
    )
    try:
        async with store.transaction():
            await store.apply([located], [], {})
        [loaded] = await store.load()
        assert loaded.meta.language == "en"
        assert {(s.page, s.section) for s in loaded.sentences} == {(3, "Birds")}
    finally:
        await store.close()


async def test_database_from_a_newer_qabot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this qabot"):
        await Store.open(path)


async def test_documents_round_trip_and_failed_transaction_rolls_back(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "index.sqlite3")
    document = parse_document(
        "a.txt", "Title\n\nOwls hunt at night. They sleep by day.\n\nMice hide.\n", "h1"
    )
    try:
        async with store.transaction():
            await store.apply([document], [], {"pipeline": "p1"})
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.apply([], ["a.txt"], {"pipeline": "p1"})
                raise RuntimeError("interrupted")
        (loaded,) = await store.load()
        assert loaded == document
        assert await store.document_hashes() == {"a.txt": "h1"}
        assert await store.meta("pipeline") == "p1"
    finally:
        await store.close()
