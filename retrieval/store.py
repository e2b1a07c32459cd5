"""The SQLite file (via aiosqlite) that keeps documents, passages, sentences and their tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from retrieval.errors import StoreError
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span

SCHEMA_VERSION = 4

# Each entry migrates the schema from version i to i + 1; never edit a released step, append one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        author TEXT,
        date TEXT,
        url TEXT,
        source TEXT,
        text TEXT NOT NULL,
        indexed_at REAL NOT NULL
    );
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        UNIQUE (document_id, position)
    );
    CREATE TABLE sentences (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        passage INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        tokens TEXT NOT NULL
    );
    CREATE INDEX sentences_by_document ON sentences(document_id, start);
    """,
    """
    ALTER TABLE documents ADD COLUMN language TEXT;
    ALTER TABLE sentences ADD COLUMN page INTEGER;
    ALTER TABLE sentences ADD COLUMN section TEXT;
    """,
    # The file's size and modification time when its hash was last checked: a scan reads and
    # hashes only the files whose stat differs (NULL: always read).
    """
    ALTER TABLE documents ADD COLUMN file_size INTEGER;
    ALTER TABLE documents ADD COLUMN file_mtime_ns INTEGER;
    """,
    # What every scan reads of every document, apart from its text: the stat columns come
    # after the text in a row, where reading them walked each text's overflow pages (0.13 s
    # for 8,000 documents of 150 MB, growing with the corpus).
    """
    CREATE INDEX documents_by_stat ON documents(path, content_hash, file_size, file_mtime_ns);
    """,
)

# What every scan reads of every document, both answered from ``documents_by_stat``.
HASHES_QUERY = "SELECT path, content_hash FROM documents"
FILE_STATS_QUERY = (
    "SELECT path, file_size, file_mtime_ns FROM documents WHERE file_size IS NOT NULL"
)


@dataclass(slots=True)
class _DocumentRows:
    meta: DocumentMeta
    digest: str
    text: str
    paragraphs: list[Span] = field(default_factory=list)
    sentences: list[SentenceRecord] = field(default_factory=list)


class Store:
    """One connection to the index database; use :meth:`open` and :meth:`close`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(path)
        except (OSError, aiosqlite.Error) as error:
            raise StoreError(f"cannot open the index database {path}: {error}") from error
        store = cls(connection, path)
        try:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA foreign_keys=ON")
            await store._migrate()
        except BaseException as error:
            await connection.close()
            if isinstance(error, aiosqlite.Error):
                raise StoreError(f"cannot use the index database {path}: {error}") from error
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        await self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the index database {self.path} has schema version {version}, newer than this "
                f"qabot ({SCHEMA_VERSION}); upgrade qabot or use another DATABASE_PATH"
            )
        for step in range(version, SCHEMA_VERSION):
            await self._db.executescript(
                "BEGIN;"
                + _MIGRATIONS[step]
                + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{step + 1}');COMMIT;"
            )

    async def schema_version(self) -> int:
        return int(await self.meta("schema_version") or 0)

    async def document_hashes(self) -> dict[str, str]:
        """``{path: content hash}`` of every stored document."""
        # One fetch: iterating the cursor costs a round trip to the database thread per 64 rows.
        async with self._db.execute(HASHES_QUERY) as cursor:
            return {path: digest for path, digest in await cursor.fetchall()}

    async def file_stats(self) -> dict[str, tuple[int, int]]:
        """``{path: (size, mtime_ns)}`` of the stored documents whose file stat is known."""
        async with self._db.execute(FILE_STATS_QUERY) as cursor:
            return {path: (size, mtime) for path, size, mtime in await cursor.fetchall()}

    async def set_file_stats(self, stats: dict[str, tuple[int, int] | None]) -> None:
        """Record (or forget, for ``None``) the stat of stored documents' files."""
        await self._db.executemany(
            "UPDATE documents SET file_size = ?, file_mtime_ns = ? WHERE path = ?",
            [(*(stat or (None, None)), path) for path, stat in stats.items()],
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Commit what happens inside on success, roll everything back on any exception."""
        await self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            await self._db.rollback()
            raise
        await self._db.commit()

    async def apply(
        self, upserts: Sequence[ParsedDocument], removals: Iterable[str], meta: dict[str, str]
    ) -> None:
        """Store new or changed documents, drop removed ones and record ``meta`` (such as the
        pipeline that made the tokens); call inside :meth:`transaction`."""
        for path in removals:
            await self._db.execute("DELETE FROM documents WHERE path = ?", (path,))
        for document in upserts:
            await self._write(document)
        await self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("indexed_at", str(time.time())), *meta.items()],
        )

    async def _write(self, document: ParsedDocument) -> None:
        meta = document.meta
        await self._db.execute("DELETE FROM documents WHERE path = ?", (meta.id,))
        cursor = await self._db.execute(
            "INSERT INTO documents (path, content_hash, title, author, date, url, source, text,"
            " indexed_at, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                meta.id,
                document.content_hash,
                meta.title,
                meta.author,
                meta.date,
                meta.url,
                meta.source,
                document.text,
                time.time(),
                meta.language,
            ),
        )
        document_id = cursor.lastrowid
        await self._db.executemany(
            "INSERT INTO passages (document_id, position, start, end) VALUES (?, ?, ?, ?)",
            [(document_id, n, p.start, p.end) for n, p in enumerate(document.paragraphs)],
        )
        await self._db.executemany(
            "INSERT INTO sentences (document_id, passage, start, end, tokens, page, section)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (document_id, s.paragraph, s.start, s.end, " ".join(s.tokens), s.page, s.section)
                for s in document.sentences
            ],
        )

    async def load(self) -> list[ParsedDocument]:
        """Every stored document with its passages and sentences, in path order."""
        rows: dict[int, _DocumentRows] = {}
        async with self._db.execute(
            "SELECT id, path, title, author, date, url, source, content_hash, text, language"
            " FROM documents"
        ) as cursor:
            async for row in cursor:
                meta = DocumentMeta(row[1], row[2], row[3], row[4], row[5], row[6], row[9])
                rows[row[0]] = _DocumentRows(meta, row[7], row[8])
        async with self._db.execute(
            "SELECT document_id, start, end FROM passages ORDER BY document_id, position"
        ) as cursor:
            async for document_id, start, end in cursor:
                rows[document_id].paragraphs.append(Span(start, end))
        async with self._db.execute(
            "SELECT document_id, passage, start, end, tokens, page, section FROM sentences"
            " ORDER BY document_id, start"
        ) as cursor:
            async for document_id, passage, start, end, tokens, page, section in cursor:
                rows[document_id].sentences.append(
                    SentenceRecord(passage, start, end, tuple(tokens.split()), page, section)
                )
        documents = [
            ParsedDocument(r.meta, r.text, r.digest, tuple(r.paragraphs), tuple(r.sentences))
            for r in rows.values()
        ]
        documents.sort(key=lambda d: d.meta.id)
        return documents

    async def set_meta(self, values: dict[str, str]) -> None:
        """Record ``values`` in the meta table; call inside :meth:`transaction`."""
        await self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    async def meta(self, key: str) -> str | None:
        """A value recorded by :meth:`apply` (``indexed_at``, ``pipeline`` ...), if any."""
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None
