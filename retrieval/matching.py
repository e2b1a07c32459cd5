"""Which question terms a few dozen units hold, read from the segments as term ids.

Answer composition looks at the candidates of one question only (the sentences of the best
passages and the best sentences). Their tokens are read from the mapped token arrays by the
compiled kernel (:class:`retrieval.kernel.TokenMatcher`; without it, in one vectorised numpy step
per segment, with the same results) and matched against the question's term ids, so no token is
turned back into a string: the term frequencies give both levels' BM25 scores (the forward index holds
the same counts as the postings) and the positions give proximity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from retrieval.index import Index
from retrieval.kernel import FloatArray, Int64Array, sorted_distinct

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """The question's distinct terms, in question order, with vocabulary ids and weights."""

    terms: tuple[str, ...]
    ids: IntArray
    """Vocabulary id of each term, -1 for a term the corpus never uses."""
    weights: FloatArray
    """:meth:`Index.term_weight` of each term."""

    @classmethod
    def of(cls, index: Index, terms: Sequence[str]) -> QueryTerms:
        return cls.weighted(index, {t: index.term_weight(t) for t in terms})

    @classmethod
    def weighted(cls, index: Index, weights: Mapping[str, float]) -> QueryTerms:
        """The terms of ``weights``, in its order, with those weights."""
        known = index.vocabulary.ids
        return cls(
            tuple(weights),
            np.asarray([known.get(t, -1) for t in weights], dtype=np.int64),
            np.asarray(list(weights.values()), dtype=np.float64),
        )

    @property
    def total(self) -> float:
        return float(self.weights.sum())

    def column(self, term: str) -> int:
        return self.terms.index(term)


@dataclass(frozen=True, slots=True)
class Matches:
    """Occurrences of the question's terms in some units (rows, in the order asked for)."""

    tf: FloatArray
    """``tf[row, column]``: how often term ``column`` occurs in unit ``row``."""
    lengths: Int64Array
    """Number of tokens of each unit."""
    row: IntArray
    """For each occurrence: its unit's row, its position in the unit, its term's column."""
    position: IntArray
    column: IntArray
    _grouped: list[list[tuple[int, int]]] | None = field(default=None, repr=False, compare=False)

    @property
    def present(self) -> npt.NDArray[np.bool_]:
        return self.tf > 0

    def weight_present(self, query: QueryTerms) -> FloatArray:
        """Summed weight of the question's terms each unit holds."""
        return np.asarray(self.present @ query.weights, dtype=np.float64)

    def take(self, rows: IntArray) -> Matches:
        """The matches of the units at ``rows`` (in that order)."""
        renumbered = np.full(len(self.lengths), -1, dtype=np.int64)
        renumbered[rows] = np.arange(len(rows))
        kept = renumbered[self.row]
        keep = kept >= 0
        return Matches(
            self.tf[rows], self.lengths[rows], kept[keep], self.position[keep], self.column[keep]
        )

    def positions(self) -> list[list[tuple[int, int]]]:
        """For each unit, the ``(position, column)`` of its occurrences in text order."""
        if self._grouped is not None:
            return self._grouped
        grouped: list[list[tuple[int, int]]] = [[] for _ in range(len(self.lengths))]
        for row, position, column in zip(
            self.row.tolist(), self.position.tolist(), self.column.tolist(), strict=True
        ):
            grouped[row].append((position, column))
        object.__setattr__(self, "_grouped", grouped)
        return grouped


def sentence_matches(index: Index, sentences: Sequence[int], query: QueryTerms) -> Matches:
    """Occurrences of ``query`` in the given (global) sentences."""
    ids = np.asarray(sentences, dtype=np.int64)
    found = index.token_matcher(passages=False).match(ids, query.ids)
    if found is not None:
        return Matches(*found)
    runs = []
    for number, rows in _by_part(index.sentence_offsets, ids):
        part = index.parts[number]
        local = ids[rows] - part.sentence_offset
        offsets = part.segment.token_offsets
        runs.append((rows, part.segment.tokens, offsets[local], offsets[local + 1]))
    return _match(runs, len(ids), query)


def passage_matches(index: Index, passages: Sequence[int], query: QueryTerms) -> Matches:
    """Occurrences of ``query`` in the given (global) passages: the tokens of their sentences."""
    ids = np.asarray(passages, dtype=np.int64)
    found = index.token_matcher(passages=True).match(ids, query.ids)
    if found is not None:
        return Matches(*found)
    runs = []
    for number, rows in _by_part(index.passage_offsets, ids):
        part = index.parts[number]
        local = ids[rows] - part.passage_offset
        segment = part.segment
        offsets = segment.token_offsets
        runs.append(
            (
                rows,
                segment.tokens,
                offsets[segment.passage_first[local]],
                offsets[segment.passage_last[local] + 1],
            )
        )
    return _match(runs, len(ids), query)


def _by_part(offsets: Sequence[int], ids: IntArray) -> list[tuple[int, IntArray]]:
    """``(part number, rows of ids in it)`` for every part holding some of ``ids``."""
    parts = np.searchsorted(np.asarray(offsets, dtype=np.int64), ids, side="right") - 1
    return [(int(p), np.flatnonzero(parts == p)) for p in sorted_distinct(parts)]


def _match(
    runs: list[tuple[IntArray, npt.NDArray[np.int32], Int64Array, Int64Array]],
    units: int,
    query: QueryTerms,
) -> Matches:
    width = len(query.ids)
    tf = np.zeros((units, width), dtype=np.float64)
    lengths = np.zeros(units, dtype=np.int64)
    found_row, found_position, found_column = [], [], []
    order = np.argsort(query.ids, kind="stable")
    sorted_ids = query.ids[order]
    for rows, tokens, low, high in runs:
        sizes = (high - low).astype(np.int64)
        lengths[rows] = sizes
        total = int(sizes.sum())
        if not total or not width:
            continue
        starts = np.cumsum(sizes) - sizes
        owner = np.repeat(np.arange(len(rows)), sizes)
        within = np.arange(total) - np.repeat(starts, sizes)
        gathered = tokens[np.repeat(low, sizes) + within].astype(np.int64)
        where = np.minimum(np.searchsorted(sorted_ids, gathered), width - 1)
        hit = sorted_ids[where] == gathered
        row, column = rows[owner[hit]], order[where[hit]]
        np.add.at(tf, (row, column), 1.0)
        found_row.append(row)
        found_position.append(within[hit])
        found_column.append(column)

    def joined(parts: list[IntArray]) -> IntArray:
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)

    return Matches(tf, lengths, joined(found_row), joined(found_position), joined(found_column))
