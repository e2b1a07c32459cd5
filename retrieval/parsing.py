"""Parsing changed corpus files on every core: segmentation and tokenizing run in processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from retrieval.corpus import parse_bytes, read_document_bytes
from retrieval.errors import DocumentError
from retrieval.models import ParsedDocument, SkippedFile

FileProgress = Callable[[int, int, int], None]
"""Called with (files done, files in all, bytes done) while parsing."""

# Below this much text, starting worker processes costs more than it saves.
_PARALLEL_BYTES = 4 * 1024 * 1024


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _parse(item: tuple[str, str]) -> tuple[ParsedDocument | SkippedFile, int]:
    document_id, path = item
    try:
        data = read_document_bytes(Path(path), document_id)
        return parse_bytes(document_id, data), len(data)
    except DocumentError as error:
        return SkippedFile(error.path, error.reason), 0


def parse_files(
    files: Sequence[tuple[str, Path]],
    *,
    jobs: int,
    total_bytes: int,
    progress: FileProgress | None = None,
) -> Iterator[ParsedDocument | SkippedFile]:
    """Each file parsed (or skipped with its reason), in the order given."""
    items = [(document_id, str(path)) for document_id, path in files]
    done = done_bytes = 0
    if jobs <= 1 or total_bytes < _PARALLEL_BYTES or len(items) < 2:
        results: Iterator[tuple[ParsedDocument | SkippedFile, int]] = map(_parse, items)
        for result, size in results:
            done, done_bytes = done + 1, done_bytes + size
            if progress:
                progress(done, len(items), done_bytes)
            yield result
        return
    # "spawn": the caller may be a threaded asyncio program, where fork is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        chunk = max(1, min(64, len(items) // (jobs * 8)))
        for result, size in pool.map(_parse, items, chunksize=chunk):
            done, done_bytes = done + 1, done_bytes + size
            if progress:
                progress(done, len(items), done_bytes)
            yield result
