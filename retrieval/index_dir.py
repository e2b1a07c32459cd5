"""The index's files next to the database: segments, the vocabulary and one manifest.

Crash safety: segments are written into new folders and never changed; the manifest, which names
the segments, their deleted documents and the vocabulary's length, is replaced atomically
(``os.replace``) only after the database committed the same generation. A manifest whose
generation, pipeline or settings differ from the database's is stale and never opened; the
index is then rebuilt from the database, which stays the source of truth.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from retrieval.index import Index, IndexSettings, Part
from retrieval.models import ParsedDocument
from retrieval.segment import Segment, Vocabulary

log = logging.getLogger(__name__)

FORMAT = 2
MANIFEST = "manifest.json"
VOCABULARY = "vocabulary.txt"
# Segments built at once are cut at about this many sentences, which bounds indexing memory.
SEGMENT_SENTENCES = 250_000
# More segments than this and the smallest are merged into one.
MAX_SEGMENTS = 8


def settings_key(settings: IndexSettings) -> str:
    return repr(settings)


class IndexDirectory:
    """The folder holding one database's index (``<database>.index``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def beside(cls, database: Path) -> IndexDirectory:
        return cls(database.with_name(database.name + ".index"))

    def _manifest(self) -> dict[str, object] | None:
        try:
            value = json.loads((self.path / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def open(
        self, generation: str | None, pipeline: str | None, settings: IndexSettings
    ) -> tuple[Index | None, str]:
        """The index the database's ``generation`` refers to, or ``None`` and why not."""
        manifest = self._manifest()
        if manifest is None:
            return None, "no index files"
        expected = {
            "format": FORMAT,
            "generation": generation,
            "pipeline": pipeline,
            "settings": settings_key(settings),
        }
        for key, value in expected.items():
            if manifest.get(key) != value:
                return None, f"index files are stale ({key} {manifest.get(key)!r} != {value!r})"
        try:
            count = int(manifest["vocabulary"])  # type: ignore[call-overload]
            with (self.path / VOCABULARY).open(encoding="utf-8", newline="\n") as file:
                terms = file.read().split("\n")[:count]
            if len(terms) != count:
                return None, "the vocabulary file is shorter than the manifest says"
            vocabulary = Vocabulary(terms)
            parts = [
                Part(Segment.open(self.path / str(s["name"])), frozenset(s["deleted"]))
                for s in manifest["segments"]  # type: ignore[attr-defined]
            ]
        except (OSError, ValueError, KeyError, TypeError) as error:
            return None, f"index files are unreadable ({error})"
        built_at = float(manifest["built_at"])  # type: ignore[arg-type]
        return Index(settings=settings, parts=parts, vocabulary=vocabulary, built_at=built_at), ""

    def write_segments(
        self, documents: Iterable[ParsedDocument], vocabulary: Vocabulary, settings: IndexSettings
    ) -> list[Part]:
        """New segments holding ``documents``, cut every :data:`SEGMENT_SENTENCES` sentences."""
        parts: list[Part] = []
        batch: list[ParsedDocument] = []
        sentences = 0
        for document in documents:
            batch.append(document)
            sentences += len(document.sentences)
            if sentences >= SEGMENT_SENTENCES:
                parts.append(self._segment(batch, vocabulary, settings))
                batch, sentences = [], 0
        if batch:
            parts.append(self._segment(batch, vocabulary, settings))
        return parts

    def _segment(
        self, documents: Sequence[ParsedDocument], vocabulary: Vocabulary, settings: IndexSettings
    ) -> Part:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.path / f"segment-{uuid.uuid4().hex[:12]}"
        ordered = sorted(documents, key=lambda d: d.meta.id)
        return Part(Segment.write(path, ordered, vocabulary, settings.passage_window))

    def merge_small(
        self, parts: list[Part], index_vocabulary: Vocabulary, settings: IndexSettings
    ) -> list[Part]:
        """``parts`` with the smallest merged into one while there are too many, and segments
        that are mostly deleted rewritten; cost proportional to the segments merged."""
        live = [p for p in parts if p.live_documents]
        wasteful = [p for p in live if len(p.deleted) > len(p.segment.documents) // 2]
        keep = [p for p in live if p not in wasteful]
        if len(keep) + bool(wasteful) > MAX_SEGMENTS:
            keep.sort(key=lambda p: len(p.segment))
            cut = len(keep) - MAX_SEGMENTS // 2
            wasteful += keep[:cut]
            keep = keep[cut:]
        if not wasteful:
            return live
        documents = [
            p.segment.document(n, index_vocabulary)
            for p in wasteful
            for n in range(len(p.segment.documents))
            if n not in p.deleted
        ]
        log.info("merging %d index segments (%d documents)", len(wasteful), len(documents))
        merged = self.write_segments(documents, index_vocabulary, settings)
        order = {id(p): n for n, p in enumerate(parts)}
        return sorted(keep, key=lambda p: order[id(p)]) + merged

    def commit(self, index: Index, generation: str, pipeline: str) -> None:
        """Make ``index`` the one this folder opens, then delete segments nothing names."""
        self.path.mkdir(parents=True, exist_ok=True)
        manifest = self._manifest() or {}
        terms = index.vocabulary.terms
        vocabulary = self.path / VOCABULARY
        stored = int(manifest.get("vocabulary", 0)) if vocabulary.exists() else 0  # type: ignore[call-overload]
        stored_bytes = int(manifest.get("vocabulary_bytes", 0)) if stored else 0  # type: ignore[call-overload]
        # Cut whatever an interrupted commit appended after the last manifest, then append.
        with vocabulary.open("a+b") as file:
            file.truncate(stored_bytes)
            file.seek(stored_bytes)
            tail = "".join(f"{t}\n" for t in terms[stored:]).encode("utf-8")
            file.write(tail)
            file.flush()
            os.fsync(file.fileno())
            size = stored_bytes + len(tail)
        value = {
            "format": FORMAT,
            "generation": generation,
            "pipeline": pipeline,
            "settings": settings_key(index.settings),
            "built_at": index.built_at,
            "vocabulary": len(terms),
            "vocabulary_bytes": size,
            "segments": [
                {"name": p.segment.name, "deleted": sorted(p.deleted)} for p in index.parts
            ],
        }
        temporary = self.path / f"{MANIFEST}.tmp"
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(value, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path / MANIFEST)
        self.collect({p.segment.name for p in index.parts})

    def collect(self, keep: set[str]) -> None:
        """Delete segment folders that the manifest does not name (left by failed updates)."""
        for path in self.path.glob("segment-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def discard(self, parts: Iterable[Part]) -> None:
        """Delete the folders of segments that never made it into a manifest."""
        for part in parts:
            if part.segment.path is not None:
                shutil.rmtree(part.segment.path, ignore_errors=True)
