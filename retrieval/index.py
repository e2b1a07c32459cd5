"""The search index: segments of sentences and passages, with BM25 scorers over all of them.

An index is a list of immutable :class:`~retrieval.segment.Segment` objects plus the documents
deleted from them since they were written. Updating adds a segment for the changed files and
marks their old versions deleted, so an edit costs time proportional to the files edited; the
corpus-wide statistics BM25 needs (unit count, average length, document frequencies) are kept
per index and recomputed from what changed, so scores equal a from-scratch build. A new index is
built next to the serving one and swapped in with one assignment.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt

from retrieval.kernel import (
    BoolArray,
    ColumnGather,
    FloatArray,
    Int32Array,
    Int64Array,
    Postings,
    SegmentsTopK,
    TokenMatcher,
    TopK,
    sorted_distinct,
)
from retrieval.language import DEFAULT_LANGUAGE, main_language
from retrieval.models import DocumentMeta, IndexStats, ParsedDocument, SentenceRecord, Span
from retrieval.scoring import BM25Parameters, Hit
from retrieval.segment import Segment, Vocabulary

# Lucene's parameters: they beat rank-bm25's defaults on reqa_squad_dev (see the README).
LUCENE_BM25 = BM25Parameters(k1=0.9, b=0.4)
# rank-bm25's BM25Okapi default: negative idfs are floored at this share of the average idf.
EPSILON = 0.25


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How text is grouped and scored.

    ``passage_window`` is the number of sentences on each side of a sentence that form its
    passage; ``None`` makes the whole paragraph the passage.
    """

    passage_window: int | None = None
    sentence_bm25: BM25Parameters = LUCENE_BM25
    passage_bm25: BM25Parameters = LUCENE_BM25


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    document: int
    paragraph: int
    start: int
    end: int
    passage: int
    page: int | None = None
    section: str | None = None


@dataclass(frozen=True, slots=True)
class SentenceRows:
    """Where some sentences are (global numbers), as arrays: one entry per sentence asked for."""

    sentence: Int64Array
    document: Int64Array
    paragraph: Int64Array
    passage: Int64Array
    start: Int64Array
    end: Int64Array
    sections: list[str | None]
    """The nearest heading above each sentence."""


@dataclass(slots=True)
class Part:
    """A segment as one index sees it: where its ids start and which documents are deleted."""

    segment: Segment
    deleted: frozenset[int] = frozenset()
    document_offset: int = 0
    sentence_offset: int = 0
    passage_offset: int = 0
    sentence_live: BoolArray | None = None
    passage_live: BoolArray | None = None

    def __post_init__(self) -> None:
        # Masks carried over from the same segment and deletions are not computed again.
        if self.deleted and self.sentence_live is None:
            dead = np.zeros(len(self.segment.documents), dtype=bool)
            dead[list(self.deleted)] = True
            self.sentence_live = ~dead[self.segment.sentence_document]
            first_sentences = self.segment.passage_first
            self.passage_live = (
                self.sentence_live[first_sentences]
                if len(first_sentences)
                else np.zeros(0, dtype=bool)
            )

    @property
    def live_documents(self) -> int:
        return len(self.segment.documents) - len(self.deleted)


def _live_count(live: BoolArray | None, size: int) -> int:
    return size if live is None else int(live.sum())


def _term_counts(postings: Postings, size: int) -> Int64Array:
    counts = np.zeros(size, dtype=np.int64)
    counts[postings.terms] = np.diff(postings.offsets)
    return counts


def _dead_unit_terms(part: Part, passages: bool) -> Int32Array:
    """Distinct terms of each deleted unit of ``part`` (one entry per unit and term)."""
    segment = part.segment
    live = part.passage_live if passages else part.sentence_live
    if live is None:
        return np.empty(0, np.int32)
    dead = np.flatnonzero(~live)
    keys: list[np.ndarray] = []
    for unit in dead.tolist():
        first, last = (
            (int(segment.passage_first[unit]), int(segment.passage_last[unit]))
            if passages
            else (unit, unit)
        )
        low, high = int(segment.token_offsets[first]), int(segment.token_offsets[last + 1])
        keys.append(sorted_distinct(segment.tokens[low:high]))
    return np.concatenate(keys).astype(np.int32) if keys else np.empty(0, np.int32)


class LevelScorer:
    """BM25Okapi, as rank-bm25 defines it, over the live units of one level of every part."""

    def __init__(
        self,
        parts: Sequence[Part],
        vocabulary: Vocabulary,
        parameters: BM25Parameters,
        *,
        passages: bool,
    ) -> None:
        self._vocabulary = vocabulary
        self._k1, self._b = parameters.k1, parameters.b
        self._passages = passages
        size = len(vocabulary)
        self._frequency = np.zeros(size, dtype=np.int64)
        self._offsets: list[int] = []
        levels = []
        units = total_length = 0
        for part in parts:
            segment = part.segment
            postings = segment.passage_postings if passages else segment.sentence_postings
            lengths = segment.passage_length if passages else segment.sentence_length
            live = part.passage_live if passages else part.sentence_live
            self._frequency += _term_counts(postings, size)
            dead_terms = _dead_unit_terms(part, passages)
            if len(dead_terms):
                self._frequency -= np.bincount(dead_terms, minlength=size)
            units += int(len(lengths) if live is None else live.sum())
            total_length += int(
                lengths.sum(dtype=np.int64) if live is None else lengths[live].sum(dtype=np.int64)
            )
            offset = part.passage_offset if passages else part.sentence_offset
            self._offsets.append(offset)
            levels.append((offset, postings, lengths, live))
        self._size = units
        self._avgdl = total_length / units if units else 0.0
        self._parts = [
            # Sentences, the level with the most postings per question, trade 8 bytes per
            # posting for speed; passages keep the division (the memory of a re-index matters).
            (
                offset,
                TopK(
                    postings, lengths, live, self._avgdl, self._k1, self._b, weighted=not passages
                ),
            )
            for offset, postings, lengths, live in levels
        ]
        self._top = SegmentsTopK(self._parts)
        self._eps = EPSILON * self._average_idf()

    def _average_idf(self) -> float:
        present = self._frequency[self._frequency > 0].astype(np.float64)
        if not len(present):
            return 0.0
        n = self._size
        idf = np.log(n - present + 0.5) - np.log(present + 0.5)
        return float(idf.sum() / len(present))

    def __len__(self) -> int:
        return self._size

    def document_frequency(self, term: str) -> int:
        found = self._vocabulary.ids.get(term)
        return int(self._frequency[found]) if found is not None and found < len(
            self._frequency
        ) else 0  # fmt: skip

    @cached_property
    def unseen_mass(self) -> float:
        """Good-Turing's estimate of how often a new unit's term is one no unit holds: the
        share of the units' distinct terms (counted once per unit) that are a term's only
        occurrence. Small for a large collection, a third for a couple of articles."""
        frequency = np.asarray(self._frequency)
        total = int(frequency.sum())
        return int((frequency == 1).sum()) / total if total else 0.0

    def idf(self, term: str) -> float:
        """rank-bm25's idf: ``log((N - n + 0.5) / (n + 0.5))``, negative values floored."""
        found = self._vocabulary.ids.get(term)
        return 0.0 if found is None else self._idf_of(found)

    def _idf_of(self, term: int) -> float:
        n = int(self._frequency[term]) if 0 <= term < len(self._frequency) else 0
        if n == 0:
            return 0.0
        value = math.log(self._size - n + 0.5) - math.log(n + 0.5)
        return self._eps if value < 0 else value

    def count_scores(
        self, query: Sequence[int] | Int64Array, tf: FloatArray, lengths: npt.NDArray[np.integer]
    ) -> FloatArray:
        """Scores of units from their term frequencies: ``tf[u, j]`` counts term id
        ``query[j]`` (-1: unknown) in unit ``u`` of ``lengths[u]`` tokens.

        The same arithmetic as :meth:`top`, term by term in query order, so the scores are equal.
        """
        total = np.zeros(len(lengths), dtype=np.float64)
        if self._avgdl == 0:
            return total
        k1, b = self._k1, self._b
        norm = k1 * (1 - b + b * np.asarray(lengths, dtype=np.float64) / self._avgdl)
        for column, term in enumerate(np.asarray(query, dtype=np.int64).tolist()):
            if 0 <= term < len(self._frequency) and self._frequency[term]:
                counts = tf[:, column]
                total += self._idf_of(term) * (counts * (k1 + 1) / (counts + norm))
        return total

    def _query(self, query: Sequence[str]) -> list[tuple[int, float]]:
        ids = self._vocabulary.ids
        terms: list[tuple[int, float]] = []
        for term in query:
            found = ids.get(term)
            if found is not None and found < len(self._frequency) and self._frequency[found]:
                terms.append((found, self._idf_of(found)))
        return terms

    def top(self, query: Sequence[str], k: int) -> list[Hit]:
        """The ``k`` best live units holding a query term, best first; ties by ascending id."""
        terms = self._query(query)
        if not terms or k <= 0 or self._avgdl == 0:
            return []
        ids, scores = self._top.top(
            np.asarray([term for term, _ in terms], dtype=np.int64),
            np.asarray([idf for _, idf in terms], dtype=np.float64),
            k,
        )
        return [Hit(i, s) for i, s in zip(ids.tolist(), scores.tolist(), strict=True)]

    def scores(self, query: Sequence[str], units: Sequence[int]) -> list[float]:
        """Scores of the given units (0.0 for units without any query term)."""
        terms = self._query(query)
        result = [0.0] * len(units)
        if not terms or not units or self._avgdl == 0:
            return result
        idfs = [idf for _, idf in terms]
        by_part: dict[int, list[int]] = {}
        for position, unit in enumerate(units):
            by_part.setdefault(bisect.bisect_right(self._offsets, unit) - 1, []).append(position)
        for number, positions in by_part.items():
            offset, scorer = self._parts[number]
            local = np.asarray([units[p] - offset for p in positions], dtype=np.int64)
            spans = scorer.postings.spans(np.asarray([t for t, _ in terms], dtype=np.int64))
            values = scorer.scores(local, spans, idfs)
            for p, value in zip(positions, values.tolist(), strict=True):
                result[p] = value
        return result


class SentenceTable:
    """``index.sentences[i]``: where sentence ``i`` is, as an :class:`IndexedSentence`."""

    def __init__(self, index: Index) -> None:
        self._index = index
        # Composing a quote asks for the same few sentences many times.
        self._row = lru_cache(maxsize=4096)(self._read)

    def __len__(self) -> int:
        return self._index.sentence_count

    def __getitem__(self, sentence: int) -> IndexedSentence:
        return self._row(sentence)

    def _read(self, sentence: int) -> IndexedSentence:
        part, local = self._index.locate(sentence)
        s = part.segment
        return IndexedSentence(
            part.document_offset + int(s.sentence_document[local]),
            int(s.sentence_paragraph[local]),
            int(s.sentence_start[local]),
            int(s.sentence_end[local]),
            part.passage_offset + int(s.sentence_passage[local]),
            s.page(local),
            s.section(local),
        )


class TokenTable:
    """``index.sentence_tokens[i]``: the search terms of sentence ``i``."""

    def __init__(self, index: Index) -> None:
        self._index = index
        # A question's features read each candidate's terms several times.
        self._row = lru_cache(maxsize=4096)(self._read)

    def __len__(self) -> int:
        return self._index.sentence_count

    def __getitem__(self, sentence: int) -> tuple[str, ...]:
        return self._row(sentence)

    def _read(self, sentence: int) -> tuple[str, ...]:
        part, local = self._index.locate(sentence)
        return tuple(map(self._index.vocabulary.terms.__getitem__,
                         part.segment.sentence_terms(local).tolist()))  # fmt: skip


class PassageTable:
    """``index.passages[p]``: the first and last sentence of passage ``p``, inclusive."""

    def __init__(self, index: Index) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.passage_count

    def __getitem__(self, passage: int) -> tuple[int, int]:
        index = self._index
        part = index.parts[bisect.bisect_right(index.passage_offsets, passage) - 1]
        local = passage - part.passage_offset
        return (
            part.sentence_offset + int(part.segment.passage_first[local]),
            part.sentence_offset + int(part.segment.passage_last[local]),
        )


@dataclass(frozen=True)
class DocumentView:
    """A stored document; its text and sentences are read only when asked for."""

    meta: DocumentMeta
    part: Part = field(repr=False)
    number: int
    vocabulary: Vocabulary = field(repr=False)

    @property
    def text(self) -> str:
        return self.part.segment.text(self.number)

    def text_slice(self, start: int, end: int) -> str:
        """``text[start:end]``, decoding no more than it must."""
        return self.part.segment.text_slice(self.number, start, end)

    @property
    def content_hash(self) -> str:
        return self.part.segment.content_hashes[self.number]

    @cached_property
    def paragraphs(self) -> tuple[Span, ...]:
        return self.part.segment.paragraphs(self.number)

    @cached_property
    def sentences(self) -> tuple[SentenceRecord, ...]:
        return self.part.segment.records(self.number, self.vocabulary)

    def parsed(self) -> ParsedDocument:
        return self.part.segment.document(self.number, self.vocabulary)


class DocumentTable:
    """``index.documents``: ``[n]`` by the number sentences refer to; iteration and ``len`` cover
    the live documents, in id order."""

    def __init__(self, views: list[DocumentView | None]) -> None:
        self._views = views
        self._live = sorted((v for v in views if v is not None), key=lambda v: v.meta.id)

    def __getitem__(self, number: int) -> DocumentView:
        view = self._views[number]
        if view is None:
            raise IndexError(f"document {number} was deleted")
        return view

    def __iter__(self) -> Iterator[DocumentView]:
        return iter(self._live)

    def __len__(self) -> int:
        return len(self._live)


class Index:
    """Sentences and passages of every document, with a BM25 scorer for each level."""

    def __init__(
        self,
        documents: Sequence[ParsedDocument] = (),
        settings: IndexSettings | None = None,
        *,
        parts: Sequence[Part] | None = None,
        vocabulary: Vocabulary | None = None,
        built_at: float | None = None,
    ) -> None:
        """An index of ``parts`` (see :mod:`retrieval.store_index`), or an in-memory one of
        ``documents``."""
        self.settings = settings or IndexSettings()
        self.vocabulary = vocabulary or Vocabulary()
        if parts is None:
            ordered = sorted(documents, key=lambda d: d.meta.id)
            segment = Segment.in_memory(ordered, self.vocabulary, self.settings.passage_window)
            parts = [Part(segment)]
        self.parts: list[Part] = []
        documents_seen = sentences_seen = passages_seen = 0
        for part in parts:
            if part.live_documents == 0:
                continue
            self.parts.append(
                Part(
                    part.segment,
                    part.deleted,
                    documents_seen,
                    sentences_seen,
                    passages_seen,
                    part.sentence_live,
                    part.passage_live,
                )
            )
            documents_seen += len(part.segment.documents)
            sentences_seen += len(part.segment)
            passages_seen += part.segment.passages
        self.sentence_count, self.passage_count = sentences_seen, passages_seen
        self.sentence_offsets = [p.sentence_offset for p in self.parts]
        self.passage_offsets = [p.passage_offset for p in self.parts]
        # Built on first use: `qabot index` writes an index it never searches.
        self._scorers: tuple[LevelScorer, LevelScorer] | None = None
        self._matchers: tuple[TokenMatcher, TokenMatcher] | None = None
        self._row_gather: ColumnGather | None = None
        self._scorers_lock = threading.Lock()
        views: list[DocumentView | None] = []
        for part in self.parts:
            for number, meta in enumerate(part.segment.documents):
                live = number not in part.deleted
                views.append(DocumentView(meta, part, number, self.vocabulary) if live else None)
        self.documents = DocumentTable(views)
        self._by_id = {d.meta.id: d for d in self.documents}
        self.languages = frozenset(d.meta.language or DEFAULT_LANGUAGE for d in self.documents)
        self.main_language = main_language(d.meta.language for d in self.documents)
        self.sentences = SentenceTable(self)
        self.sentence_tokens = TokenTable(self)
        self.passages = PassageTable(self)
        self.built_at = time.time() if built_at is None else built_at

    @property
    def sentence_scorer(self) -> LevelScorer:
        return self._level_scorers()[0]

    @property
    def passage_scorer(self) -> LevelScorer:
        return self._level_scorers()[1]

    def _level_scorers(self) -> tuple[LevelScorer, LevelScorer]:
        scorers = self._scorers
        if scorers is None:
            with self._scorers_lock:
                if self._scorers is None:
                    self._scorers = (
                        LevelScorer(
                            self.parts, self.vocabulary, self.settings.sentence_bm25,
                            passages=False,
                        ),
                        LevelScorer(
                            self.parts, self.vocabulary, self.settings.passage_bm25,
                            passages=True,
                        ),
                    )  # fmt: skip
                scorers = self._scorers
        return scorers

    def token_matcher(self, passages: bool) -> TokenMatcher:
        """What :mod:`retrieval.matching` reads the tokens of sentences or passages with."""
        matchers = self._matchers
        if matchers is None:
            matchers = self._matchers = (
                TokenMatcher(
                    [
                        (p.sentence_offset, p.segment.token_offsets, p.segment.tokens, None, None)
                        for p in self.parts
                    ]
                ),
                TokenMatcher(
                    [
                        (
                            p.passage_offset,
                            p.segment.token_offsets,
                            p.segment.tokens,
                            p.segment.passage_first,
                            p.segment.passage_last,
                        )
                        for p in self.parts
                    ]
                ),
            )
        return matchers[passages]

    def warm(self) -> None:
        """Build what searching needs now, so that the first question does not wait for it."""
        self._level_scorers()

    def locate(self, sentence: int) -> tuple[Part, int]:
        """The part holding global sentence ``sentence`` and its id inside that segment."""
        if not 0 <= sentence < self.sentence_count:
            raise IndexError(sentence)
        part = self.parts[bisect.bisect_right(self.sentence_offsets, sentence) - 1]
        return part, sentence - part.sentence_offset

    def rows(self, sentences: Sequence[int] | Int64Array) -> SentenceRows:
        """:class:`SentenceRows` of the given sentences, gathered part by part."""
        ids = np.asarray(sentences, dtype=np.int64)
        if self._row_gather is None:
            self._row_gather = ColumnGather(
                self.sentence_offsets,
                [
                    [
                        p.segment.sentence_document,
                        p.segment.sentence_paragraph,
                        p.segment.sentence_passage,
                        p.segment.sentence_start,
                        p.segment.sentence_end,
                        p.segment.arrays["sentence_section"],
                    ]
                    for p in self.parts
                ],
                [[p.document_offset, 0, p.passage_offset, 0, 0, 0] for p in self.parts],
            )
        gathered = self._row_gather.gather(ids)
        if gathered is not None:
            document, paragraph, passage, start, end, section, part = gathered
            names = [p.segment.sections for p in self.parts]
            return SentenceRows(
                ids, document, paragraph, passage, start, end,
                [names[p][s] if s >= 0 else None
                 for p, s in zip(part.tolist(), section.tolist(), strict=True)],
            )  # fmt: skip
        columns = [np.zeros(len(ids), dtype=np.int64) for _ in range(5)]
        sections: list[str | None] = [None] * len(ids)
        parts = np.searchsorted(np.asarray(self.sentence_offsets), ids, side="right") - 1
        for number in sorted_distinct(parts).tolist():
            part = self.parts[number]
            rows = np.flatnonzero(parts == number)
            local = ids[rows] - part.sentence_offset
            s = part.segment
            columns[0][rows] = s.sentence_document[local] + part.document_offset
            columns[1][rows] = s.sentence_paragraph[local]
            columns[2][rows] = s.sentence_passage[local] + part.passage_offset
            columns[3][rows] = s.sentence_start[local]
            columns[4][rows] = s.sentence_end[local]
            for row, section in zip(
                rows.tolist(), s.arrays["sentence_section"][local].tolist(), strict=True
            ):
                sections[row] = s.sections[section] if section >= 0 else None
        document, paragraph, passage, start, end = columns
        return SentenceRows(ids, document, paragraph, passage, start, end, sections)

    def passage_members(self, passages: Sequence[int]) -> list[int]:
        """The sentences whose own passage is one of ``passages``, passage by passage."""
        members: list[int] = []
        for passage in passages:
            part = self.parts[bisect.bisect_right(self.passage_offsets, passage) - 1]
            local = passage - part.passage_offset
            s = part.segment
            first, last = int(s.passage_first[local]), int(s.passage_last[local])
            if self.settings.passage_window is None:  # a paragraph: all its sentences are its own
                members += range(first + part.sentence_offset, last + part.sentence_offset + 1)
                continue
            own = np.flatnonzero(s.sentence_passage[first : last + 1] == local) + first
            members += (own + part.sentence_offset).tolist()
        return members

    def stats(self) -> IndexStats:
        sentences = sum(_live_count(p.sentence_live, len(p.segment)) for p in self.parts)
        passages = sum(_live_count(p.passage_live, p.segment.passages) for p in self.parts)
        return IndexStats(len(self.documents), passages, sentences, self.built_at)

    def document(self, document_id: str) -> DocumentView | None:
        return self._by_id.get(document_id)

    def quotable_paragraphs(self, document: DocumentView | ParsedDocument) -> list[Span]:
        """The document's paragraphs that hold indexed sentences (not titles, bylines, blurbs)."""
        numbers = sorted({s.paragraph for s in document.sentences})
        return [document.paragraphs[n] for n in numbers]

    def sentence_text(self, sentence: int) -> str:
        row = self.sentences[sentence]
        return self.documents[row.document].text_slice(row.start, row.end)

    def term_weight(self, term: str) -> float:
        """A term's informativeness over sentences (BM25+ idf, positive even for common terms).

        Terms absent from the corpus get the weight of a term seen once, the most informative.
        """
        size = len(self.sentence_scorer)
        frequency = max(self.sentence_scorer.document_frequency(term), 1)
        return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))
