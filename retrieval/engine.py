"""The answering engine: a corpus directory, its SQLite index and the serving in-memory index."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from retrieval.answer import AnswerSettings, answer
from retrieval.corpus import (
    DOCUMENT_SUFFIXES,
    PIPELINE_VERSION,
    content_hash,
    parse_bytes,
    read_document_bytes,
    scan_corpus,
)
from retrieval.errors import DocumentError, IndexNotReadyError
from retrieval.examples import example_questions
from retrieval.index import Index, IndexSettings, Part
from retrieval.index_dir import IndexDirectory
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
from retrieval.parsing import FileProgress, default_jobs, parse_files
from retrieval.segment import Vocabulary
from retrieval.store import Store
from retrieval.text import normalize_space

log = logging.getLogger(__name__)


# Letters and digits of any script, "." "_" "-"; everything else (separators, spaces,
# punctuation, control and format characters) becomes "_".
_UNSAFE_NAME = re.compile(r"[^\w.-]+|_+")


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
        self.jobs = default_jobs()
        """Processes that parse changed files in a re-index."""
        self._directory = IndexDirectory.beside(store.path)
        self.serve = True
        """Whether questions are asked: a new index is made ready for them before the swap."""
        # Document id -> why its file failed at the last re-index (its old version serves).
        self._failed: dict[str, str] = {}

    @classmethod
    async def open(
        cls,
        corpus_dir: Path,
        db_path: Path,
        *,
        index_settings: IndexSettings | None = None,
        answer_settings: AnswerSettings | None = None,
        build: bool = True,
        jobs: int | None = None,
        serve: bool = True,
    ) -> Engine:
        """Open the database and map its index files; index the corpus first if nothing is
        stored. Index files that are missing or stale are rebuilt from the database.

        ``serve=False`` is for an engine that only updates the index (``qabot index``): what
        searching needs is then not prepared (it still is on the first question)."""
        store = await Store.open(db_path)
        engine = cls(corpus_dir, store, index_settings, answer_settings)
        engine.jobs = jobs or default_jobs()
        engine.serve = serve
        engine._directory = IndexDirectory.beside(store.path)
        try:
            engine._index = await engine._open_index()
            if build and await engine._stale():
                await engine.reindex()
            elif serve:
                await asyncio.to_thread(engine._index.warm)
        except BaseException:
            await store.close()
            raise
        return engine

    async def _open_index(self) -> Index:
        generation = await self.store.meta("index_generation")
        pipeline = await self.store.meta("pipeline")
        index, reason = await asyncio.to_thread(
            self._directory.open, generation, pipeline, self.index_settings
        )
        if index is not None:
            return index
        if generation is None and await self.store.meta("indexed_at") is None:
            return Index(settings=self.index_settings, parts=[])
        log.warning("%s: %s; rebuilding it from the database", self._directory.path, reason)
        documents = await self.store.load()
        index = await asyncio.to_thread(self._build, documents)
        generation = await self._next_generation()
        await asyncio.to_thread(self._directory.commit, index, generation, pipeline or "")
        return index

    def _build(self, documents: list[ParsedDocument]) -> Index:
        vocabulary = Vocabulary()
        parts = self._directory.write_segments(documents, vocabulary, self.index_settings)
        return Index(settings=self.index_settings, parts=parts, vocabulary=vocabulary)

    async def _next_generation(self) -> str:
        """A new index generation, recorded in the database (commit it with the change)."""
        generation = uuid.uuid4().hex
        async with self.store.transaction():
            await self.store.set_meta({"index_generation": generation})
        return generation

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

    def failed_files(self) -> dict[str, str]:
        """Documents whose file could not be read at the last re-index, with the reason;
        their previous version is still served."""
        return dict(self._failed)

    def documents(self) -> tuple[DocumentMeta, ...]:
        return tuple(d.meta for d in self.index.documents)

    async def reindex(self, progress: FileProgress | None = None) -> ReindexReport:
        """Bring the database up to date with the corpus directory and swap in the new index.

        Only added or changed files are parsed (on :attr:`jobs` processes), and only they are
        written into a new index segment; their old versions are marked deleted. If anything
        fails, the database transaction is rolled back, the new segments are deleted and the
        previous index keeps serving.
        """
        async with self._reindex_lock:
            started = time.perf_counter()
            stored = await self.store.document_hashes()
            # Tokens made by an older pipeline, or for another corpus, are redone even where the
            # file is unchanged.
            stale = await self._stale()
            current = {} if stale else stored
            known_stats = {} if stale else await self.store.file_stats()
            serving = self.index
            new_parts: list[Part] = []
            file_stats: dict[str, tuple[int, int] | None] = {}
            try:
                index, parsed, skipped, seen, new_parts = await asyncio.to_thread(
                    self._update, serving, current, stale, progress, known_stats, file_stats
                )
                changed_ids = tuple(sorted(d.meta.id for d in parsed))
                added = tuple(i for i in changed_ids if i not in stored)
                changed = tuple(i for i in changed_ids if i in stored)
                # A file that became unusable is dropped too: serving its old text would be stale.
                removed = tuple(sorted(set(stored) - seen))
                if index is not None:
                    # The database first, in one short transaction (the bot's writes wait for
                    # it), then the manifest, then the swap: a failure anywhere leaves the
                    # previous index serving and the database as it was.
                    generation = uuid.uuid4().hex
                    async with self.store.transaction():
                        await self.store.apply(
                            parsed,
                            removed,
                            {
                                "pipeline": PIPELINE_VERSION,
                                "corpus": self._corpus_key,
                                "index_generation": generation,
                            },
                        )  # fmt: skip
                        await self.store.set_file_stats(file_stats)
                    await asyncio.to_thread(
                        self._directory.commit, index, generation, PIPELINE_VERSION
                    )
                    self._index = index
                elif file_stats:
                    async with self.store.transaction():
                        await self.store.set_file_stats(file_stats)
            except BaseException:
                await asyncio.to_thread(self._directory.discard, new_parts)
                raise
            self._failed = {item.path: item.reason for item in skipped if item.kept_previous}
            for item in skipped:
                kept = " (its previous version keeps serving)" if item.kept_previous else ""
                log.warning("skipped %s: %s%s", item.path, item.reason, kept)
            return ReindexReport(
                added=added,
                changed=changed,
                removed=removed,
                unchanged=len(seen) - len(changed_ids),
                skipped=tuple(skipped),
                seconds=time.perf_counter() - started,
                stats=self.stats(),
                tokenized=changed_ids,
            )

    def _update(
        self,
        serving: Index,
        stored: dict[str, str],
        stale: bool,
        progress: FileProgress | None,
        known_stats: dict[str, tuple[int, int]],
        file_stats: dict[str, tuple[int, int] | None],
    ) -> tuple[Index | None, list[ParsedDocument], list[SkippedFile], set[str], list[Part]]:
        """Parse the files whose content differs from ``stored`` (path -> hash) into new
        segments; the updated index (``None`` when nothing changed) and the documents parsed.

        A file whose size and modification time equal ``known_stats`` is not read. The stats
        to record for the files read go into ``file_stats``.
        """
        files = scan_corpus(self.corpus_dir)
        skipped: list[SkippedFile] = []
        seen: set[str] = set()
        todo: list[tuple[str, Path]] = []
        pending_stats: dict[str, tuple[int, int] | None] = {}
        size = 0
        # A file modified this close to the scan may change again within the clock's
        # resolution without its stat changing: its stat is not trusted (as git does).
        trusted_before = time.time_ns() - 2_000_000_000
        for document_id, name, key in files:
            if key is not None and document_id in stored and known_stats.get(document_id) == key:
                seen.add(document_id)
                continue
            trusted = key if key is not None and key[1] < trusted_before else None
            path = Path(name)
            try:
                data = read_document_bytes(path, document_id)
            except DocumentError as error:
                # A file indexed before keeps its last good version (not after a pipeline
                # change, when ``stored`` is empty: its old tokens would not match new ones).
                kept = document_id in stored
                if kept:
                    seen.add(document_id)
                skipped.append(SkippedFile(error.path, error.reason, kept_previous=kept))
                continue
            seen.add(document_id)
            if stored.get(document_id) != content_hash(data):
                todo.append((document_id, path))
                pending_stats[document_id] = trusted
                size += len(data)
            elif known_stats.get(document_id) != trusted:
                file_stats[document_id] = trusted
        parsed: list[ParsedDocument] = []

        def documents() -> Iterator[ParsedDocument]:
            for result in parse_files(todo, jobs=self.jobs, total_bytes=size, progress=progress):
                if isinstance(result, SkippedFile):
                    kept = result.path in stored
                    skipped.append(replace(result, kept_previous=kept))
                    if not kept:
                        seen.discard(result.path)
                else:
                    parsed.append(result)
                    yield result

        vocabulary = serving.vocabulary
        new_parts = self._directory.write_segments(documents(), vocabulary, self.index_settings)
        changed_ids = tuple(sorted(d.meta.id for d in parsed))
        file_stats.update((i, pending_stats.get(i)) for i in changed_ids)
        serving_ids = {d.meta.id for d in serving.documents}
        dropped = set(changed_ids) | (set(stored) - seen) | (serving_ids - seen)
        if not new_parts and not (dropped & serving_ids) and not stale:
            return None, parsed, skipped, seen, []
        parts = [
            Part(
                p.segment,
                p.deleted
                | {n for n, m in enumerate(p.segment.documents) if m.id in dropped or stale},
            )
            for p in serving.parts
        ]
        merged = self._directory.merge_small(parts + new_parts, vocabulary, self.index_settings)
        new_parts += [p for p in merged if p not in parts and p not in new_parts]
        index = Index(settings=self.index_settings, parts=merged, vocabulary=vocabulary)
        if self.serve:
            index.warm()
        return index, parsed, skipped, seen, new_parts

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
    """A file name that cannot escape the corpus directory: letters and digits of any script
    (NFC-normalised), ``._-``; ``Отпуск 2024.txt`` -> ``Отпуск_2024.txt``."""
    base = Path(filename.replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        kinds = ", ".join(DOCUMENT_SUFFIXES)
        raise DocumentError(filename, f"only these file types can be added: {kinds}")
    stem = unicodedata.normalize("NFKC", Path(base).stem)
    stem = _UNSAFE_NAME.sub("_", stem).strip("._-")[:80] or "document"
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
