"""``WATCH_CORPUS=1``: index files added, changed or removed in the corpus folder without a
/reload, once the folder has been quiet for a moment (a file being copied is not read half
written). Polling (``stat`` of each file), so it works on every file system and in containers.
The engine's re-index swaps the new index in atomically, as /reload does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from retrieval.corpus import scan_corpus
from retrieval.engine import Engine
from retrieval.errors import QabotError

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
"""How often the folder is looked at; a change is indexed after one more quiet look."""

Snapshot = dict[str, tuple[int, int]]


def snapshot(corpus_dir: Path) -> Snapshot:
    """Document id → (modification time, size) of every file the engine would index."""
    files: Snapshot = {}
    try:
        for document_id, _, stat in scan_corpus(corpus_dir):
            if stat is not None:  # None: removed while we looked
                files[document_id] = (stat[1], stat[0])
    except QabotError:
        pass  # the folder itself is gone: nothing to index until it is back
    return files


class CorpusWatcher:
    """Start with :meth:`initialize` (in ``post_init``), stop with :meth:`shutdown`."""

    def __init__(self, engine: Engine, corpus_dir: Path, poll_seconds: float | None = None):
        self.engine = engine
        self.corpus_dir = corpus_dir
        self.poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def initialize(self) -> None:
        indexed = await asyncio.to_thread(snapshot, self.corpus_dir)
        self._task = asyncio.create_task(self._run(indexed), name="qabot corpus watch")
        logger.info("watching %s for changes every %.1f s", self.corpus_dir, self.poll_seconds)

    async def shutdown(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, indexed: Snapshot) -> None:
        previous = indexed
        while True:
            await asyncio.sleep(self.poll_seconds)
            current = await asyncio.to_thread(snapshot, self.corpus_dir)
            # Index only once the folder looks the same twice in a row (quiet period).
            if current != indexed and current == previous:
                indexed = await self._reindex(indexed, current)
            previous = current

    async def _reindex(self, indexed: Snapshot, current: Snapshot) -> Snapshot:
        try:
            report = await self.engine.reindex()
        except QabotError as exc:
            logger.warning("corpus watch: re-index failed, the previous index serves: %s", exc)
            return current  # not retried until the folder changes again
        except Exception:
            logger.exception("corpus watch: re-index failed")
            return current
        for kind, ids in (
            ("added", report.added),
            ("changed", report.changed),
            ("removed", report.removed),
        ):
            for document_id in ids:
                logger.info(
                    "corpus watch: %s %s",
                    kind,
                    document_id,
                    extra={"event": "watch", "change": kind, "document": document_id},
                )
        return current
