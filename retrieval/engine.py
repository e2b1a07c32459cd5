"""The answering engine: a corpus directory, its SQLite index and the serving in-memory index."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from retrieval.answer import AnswerSettings, answer
from retrieval.corpus import (
    DOCUMENT_SUFFIXES,
    PIPELINE_VERSION,
    content_hash,
    decode_document,
    iter_corpus_files,
    parse_bytes,
    parse_document,
    read_document_bytes,
)
from retrieval.errors import DocumentError, IndexNotReadyError
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
            if build and (
                await store.indexed_at() is None or await store.pipeline() != PIPELINE_VERSION
            ):
                await engine.reindex()
            else:
                await engine._load()
        except BaseException:
            await store.close()
            raise
        return engine

    async def close(self) -> None:
        await self.store.close()

    @property
    def index(self) -> Index:
        if self._index is None:
            raise IndexNotReadyError("no index yet: run `qabot index` or /reload")
        return self._index

    async def _load(self) -> None:
        self._index = await self._build()

    async def _build(self) -> Index:
        documents = await self.store.load()
        return await asyncio.to_thread(Index, documents, self.index_settings)

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
            files = list(iter_corpus_files(self.corpus_dir))
            # Tokens made by an older pipeline are stale even where the file is unchanged.
            current = stored if await self.store.pipeline() == PIPELINE_VERSION else {}
            parsed, skipped, seen = await asyncio.to_thread(self._scan, files, current, progress)
            added = tuple(d.meta.id for d in parsed if d.meta.id not in stored)
            changed = tuple(d.meta.id for d in parsed if d.meta.id in stored)
            # A file that became unusable is dropped too: serving its old text would be stale.
            removed = tuple(sorted(set(stored) - seen))
            if parsed or removed or self._index is None:
                # The new index is built before the commit: if building fails, the database
                # rolls back and still matches the index that keeps serving.
                async with self.store.transaction():
                    await self.store.apply(parsed, removed, PIPELINE_VERSION)
                    index = await self._build()
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

    @staticmethod
    def _scan(
        files: list[tuple[str, Path]], stored: dict[str, str], progress: Progress | None
    ) -> tuple[list[ParsedDocument], list[SkippedFile], set[str]]:
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
        not a usable .txt/.md document.
        """
        name = safe_document_name(filename)
        if len(data) > max_bytes:
            raise DocumentError(filename, f"too big ({len(data)} bytes, limit {max_bytes})")
        text = decode_document(filename, data)
        document = await asyncio.to_thread(parse_document, name, text, content_hash(data))
        if not document.sentences:
            raise DocumentError(filename, "no sentences found in it")
        target = self.corpus_dir / name
        stem, suffix = target.stem, target.suffix
        number = 1
        while target.exists():
            number += 1
            target = self.corpus_dir / f"{stem}-{number}{suffix}"
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(target.write_bytes, data)
        try:
            return await self.reindex()
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    async def context(
        self, document_id: str, start: int, end: int, text: str | None = None
    ) -> Context | None:
        """The paragraph around a quote; ``None`` if the document changed or is gone (stale)."""
        document = self.index.document(document_id)
        if document is None or start >= end or end > len(document.text):
            return None
        if text is not None and " ".join(document.text[start:end].split()) != text:
            return None
        paragraphs = document.paragraphs
        for number, paragraph in enumerate(paragraphs):
            if paragraph.start <= start and end <= paragraph.end:
                span = paragraph
                if (paragraph.start, paragraph.end) == (start, end):
                    # The quote is the whole paragraph: its neighbours are the context.
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
        """Questions about the corpus's most quoted speakers and frequent names that it answers."""
        speakers: Counter[str] = Counter()
        names: Counter[str] = Counter()
        for document in self.index.documents:
            speakers.update(m["before"] or m["after"] for m in _SPEAKER.finditer(document.text))
            names.update(_NAMES.findall(document.text))
        candidates = [(name, f"What did {name} say?") for name, _ in speakers.most_common(n)]
        candidates += [(name, f"What about {name}?") for name, _ in names.most_common(40)]
        chosen: list[str] = []
        questions: list[str] = []
        for name, question in candidates:
            # "President Ilham Aliyev" and "Ilham Aliyev" are one example, not two.
            if any(name in other or other in name for other in chosen):
                continue
            if not (await self.ask(question, limit=1)).abstained:
                chosen.append(name)
                questions.append(question)
            if len(questions) == n:
                break
        return questions


# Runs of capitalised words not at a sentence start: names of people, places, organisations.
_NAMES = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}")
_SPEECH = r"(?:said|says|added|tweeted|wrote|told|stated|declared)"
_SPEAKER = re.compile(
    rf"(?P<before>[A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}}) {_SPEECH}\b"
    rf"|\b{_SPEECH} (?P<after>[A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}})"
)


def safe_document_name(filename: str) -> str:
    """A file name that cannot escape the corpus directory: ASCII letters, digits, ``._-``."""
    base = Path(filename.replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise DocumentError(filename, "only .txt and .md files can be added")
    ascii_stem = unicodedata.normalize("NFKD", Path(base).stem).encode("ascii", "ignore").decode()
    stem = _UNSAFE_NAME.sub("_", ascii_stem).strip("._-")[:80] or "document"
    return f"{stem}{suffix}"
