"""The answering engine: a corpus directory, its SQLite index and the serving in-memory index."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from retrieval.answer import AnswerSettings, answer
from retrieval.corpus import (
    DOCUMENT_SUFFIXES,
    PIPELINE_VERSION,
    content_hash,
    iter_corpus_files,
    parse_bytes,
    read_document_bytes,
)
from retrieval.errors import DocumentError, IndexNotReadyError
from retrieval.examples import example_questions
from retrieval.index import Index, IndexSettings
from retrieval.models import (
    Answer,
    Context,
    DocumentMeta,
    IndexStats,
    ParsedDocument,
    ReindexReport,
    SkippedFile,
    Span,
)
from retrieval.store import Store
from retrieval.text import normalize_space

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (files done, files in all) while indexing."""

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Engine:
    """Open with :meth:`open`, ask with :meth:`ask`, reload with :meth:`reindex`, then :meth:`close`."""

    def __init__(
        self,
        corpus_dir: Path,
        store: Store,
        index_settings: IndexSettings | None = None,
        answer_settings: AnswerSettings | None = None,
    ) -> None:
        self.corpus_dir = corpus_dir
        self.store = store
        self.index_settings = index_settings or IndexSettings()
        self.answer_settings = answer_settings or AnswerSettings()
        self._index: Index | None = None
        self._examples: tuple[tuple[float, int], list[str]] | None = None
        # One re-index at a time; questions never wait for it, they use the serving index.
        self._reindex_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        corpus_dir: Path,
        db_path: Path,
        *,
        index_settings: IndexSettings | None = None,
        answer_settings: AnswerSettings | None = None,
        build: bool = True,
    ) -> Engine:
        """Open the database and load its index; index the corpus first if nothing is stored."""
        store = await Store.open(db_path)
        engine = cls(corpus_dir, store, index_settings, answer_settings)
        try:
            engine._index = await asyncio.to_thread(
                Index, await store.load(), engine.index_settings
            )
            if build and await engine._stale():
                await engine.reindex()
        except BaseException:
            await store.close()
            raise
        return engine

    async def _stale(self) -> bool:
        """Whether the stored index was never built, built by an older pipeline or from
        another corpus directory."""
        return (
            await self.store.meta("indexed_at") is None
            or await self.store.meta("pipeline") != PIPELINE_VERSION
            or await self.store.meta("corpus") != self._corpus_key
        )

    @property
    def _corpus_key(self) -> str:
        return str(self.corpus_dir.resolve())

    async def close(self) -> None:
        await self.store.close()

    @property
    def index(self) -> Index:
        if self._index is None:
            raise IndexNotReadyError("no index yet: run `qabot index` or /reload")
        return self._index

    async def ask(self, question: str, *, limit: int = 3, offset: int = 0) -> Answer:
        """Answer in a worker thread, so an event loop keeps serving other users meanwhile."""
        return await asyncio.to_thread(self.ask_sync, question, limit=limit, offset=offset)

    def ask_sync(self, question: str, *, limit: int = 3, offset: int = 0) -> Answer:
        return answer(
            self.index, question, limit=limit, offset=offset, settings=self.answer_settings
        )

    def stats(self) -> IndexStats:
        return self.index.stats()

    @property
    def reindexing(self) -> bool:
        """True while a re-index runs (a second one would wait for it)."""
        return self._reindex_lock.locked()

    def documents(self) -> tuple[DocumentMeta, ...]:
        return tuple(d.meta for d in self.index.documents)

    async def reindex(self, progress: Progress | None = None) -> ReindexReport:
        """Bring the database up to date with the corpus directory and swap in the new index.

        Only added or changed files are segmented and tokenized. If anything fails, the database
        transaction is rolled back and the previous index keeps serving.
        """
        async with self._reindex_lock:
            started = time.perf_counter()
            stored = await self.store.document_hashes()
            # Tokens made by an older pipeline, or for another corpus, are redone even where the
            # file is unchanged.
            stale = await self._stale()
            current = {} if stale else stored
            parsed, skipped, seen = await asyncio.to_thread(self._scan, current, progress)
            added = tuple(d.meta.id for d in parsed if d.meta.id not in stored)
            changed = tuple(d.meta.id for d in parsed if d.meta.id in stored)
            # A file that became unusable is dropped too: serving its old text would be stale.
            removed = tuple(sorted(set(stored) - seen))
            if parsed or removed or stale:
                # Build the new index first, then write the database in one short transaction
                # (the bot's writes wait for it), and swap only once the commit succeeded: a
                # failure anywhere leaves the previous index serving and the database as it was.
                index = await asyncio.to_thread(self._rebuild, self.index, parsed, removed)
                async with self.store.transaction():
                    await self.store.apply(
                        parsed, removed, {"pipeline": PIPELINE_VERSION, "corpus": self._corpus_key}
                    )
                self._index = index
            for item in skipped:
                log.warning("skipped %s: %s", item.path, item.reason)
            return ReindexReport(
                added=added,
                changed=changed,
                removed=removed,
                unchanged=len(seen) - len(parsed),
                skipped=tuple(skipped),
                seconds=time.perf_counter() - started,
                stats=self.stats(),
                tokenized=tuple(d.meta.id for d in parsed),
            )

    def _rebuild(
        self, serving: Index, parsed: list[ParsedDocument], removed: tuple[str, ...]
    ) -> Index:
        """The serving index's documents, minus the removed and replaced, plus the parsed."""
        dropped = set(removed) | {d.meta.id for d in parsed}
        documents = [d for d in serving.documents if d.meta.id not in dropped]
        documents += parsed
        documents.sort(key=lambda d: d.meta.id)
        return Index(documents, self.index_settings)

    def _scan(
        self, stored: dict[str, str], progress: Progress | None
    ) -> tuple[list[ParsedDocument], list[SkippedFile], set[str]]:
        """Parse the corpus files whose content differs from ``stored`` (path -> hash)."""
        files = list(iter_corpus_files(self.corpus_dir))
        parsed: list[ParsedDocument] = []
        skipped: list[SkippedFile] = []
        seen: set[str] = set()
        for done, (document_id, path) in enumerate(files, 1):
            try:
                data = read_document_bytes(path, document_id)
                if stored.get(document_id) != content_hash(data):
                    parsed.append(parse_bytes(document_id, data))
                seen.add(document_id)
            except DocumentError as error:
                skipped.append(SkippedFile(error.path, error.reason))
            if progress:
                progress(done, len(files))
        return parsed, skipped, seen

    async def add_document(self, filename: str, data: bytes, *, max_bytes: int) -> ReindexReport:
        """Validate an uploaded file, store it in the corpus directory and index it.

        Raises :class:`DocumentError` with a human reason (and stores nothing) when the file is
        not a usable .txt/.md document. The report's ``added`` names the stored file.
        """
        name = safe_document_name(filename)
        if len(data) > max_bytes:
            raise DocumentError(filename, f"too big ({len(data)} bytes, limit {max_bytes})")
        await asyncio.to_thread(parse_bytes, filename, data)
        target = await asyncio.to_thread(_create_unique, self.corpus_dir, name, data)
        try:
            return await self.reindex()
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    async def context(
        self, document_id: str, start: int, end: int, text: str | None = None
    ) -> Context | None:
        """The paragraph around a quote; ``None`` if the document changed or is gone (stale).

        A quote that is a whole paragraph gets the quotable paragraphs on either side.
        """
        index = self.index
        document = index.document(document_id)
        if document is None or start >= end or end > len(document.text):
            return None
        if text is not None and normalize_space(document.text[start:end]) != text:
            return None
        paragraphs = index.quotable_paragraphs(document)
        for number, paragraph in enumerate(paragraphs):
            if paragraph.start <= start and end <= paragraph.end:
                span = paragraph
                if (paragraph.start, paragraph.end) == (start, end):
                    span = Span(
                        paragraphs[max(number - 1, 0)].start,
                        paragraphs[min(number + 1, len(paragraphs) - 1)].end,
                    )
                return Context(
                    document=document.meta,
                    text=document.text[span.start : span.end],
                    quote_start=start - span.start,
                    quote_end=end - span.start,
                )
        return None

    async def example_questions(self, n: int = 3) -> list[str]:
        """Questions drawn from the corpus that it answers; computed once per index."""
        index = self.index
        key = (index.built_at, n)
        if self._examples is None or self._examples[0] != key:
            questions = await asyncio.to_thread(example_questions, index, n, self.answer_settings)
            self._examples = (key, questions)
        return list(self._examples[1])

    async def remove_document(self, document_id: str) -> ReindexReport:
        """Move a document's file to ``.trash/`` inside the corpus (never deleting it), then
        re-index; the file goes back where it was if the re-index fails.

        Raises :class:`DocumentError` when ``document_id`` is not an indexed document.
        """
        if self.index.document(document_id) is None:
            raise DocumentError(document_id, "no such document")
        source = self.corpus_dir / document_id
        target = await asyncio.to_thread(_move_to_trash, self.corpus_dir, document_id)
        try:
            return await self.reindex()
        except BaseException:
            await asyncio.to_thread(target.rename, source)
            raise


def _create_unique(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new file named like ``name`` (``name-2`` ... if taken).

    Exclusive creation never overwrites a file and never follows a link planted in the corpus.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(1, 10_000):
        target = directory / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            with target.open("xb") as file:
                file.write(data)
        except FileExistsError:
            continue
        return target
    raise DocumentError(name, "too many files with this name already")


def safe_document_name(filename: str) -> str:
    """A file name that cannot escape the corpus directory: ASCII letters, digits, ``._-``."""
    base = Path(filename.replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise DocumentError(filename, "only .txt and .md files can be added")
    ascii_stem = unicodedata.normalize("NFKD", Path(base).stem).encode("ascii", "ignore").decode()
    stem = _UNSAFE_NAME.sub("_", ascii_stem).strip("._-")[:80] or "document"
    return f"{stem}{suffix}"


TRASH_DIR = ".trash"
"""Removed documents go here, inside the corpus; hidden, so it is never indexed."""


def _move_to_trash(corpus_dir: Path, document_id: str) -> Path:
    """Move ``corpus_dir/document_id`` to ``corpus_dir/.trash/document_id`` (``name-2`` ... if
    that is taken) and return where it went."""
    source = corpus_dir / document_id
    root = corpus_dir.resolve()
    if not source.is_file() or not source.resolve().is_relative_to(root):
        raise DocumentError(document_id, "the file is not in the corpus folder any more")
    wanted = corpus_dir / TRASH_DIR / document_id
    wanted.parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10_000):
        target = wanted if number == 1 else wanted.with_stem(f"{wanted.stem}-{number}")
        if not target.exists():
            source.rename(target)
            return target
    raise DocumentError(document_id, "too many removed files with this name already")
