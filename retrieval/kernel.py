"""BM25 top-k over postings: a small compiled kernel, with a numpy fallback of the same arithmetic.

Both compute rank-bm25's ``BM25Okapi`` term contribution
``idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)))`` in float64, summed per unit
in query order, so scores equal ``BM25Okapi.get_scores`` for the same tokens and parameters.
The kernel (``retrieval/_bm25kernel.c``) is built by ``pip install``; without a C compiler the
install still succeeds and the numpy fallback is used (same results, several times slower).
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Sequence
from functools import cache
from types import ModuleType
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Int32Array = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Postings(NamedTuple):
    """Units holding each term (ascending per term) and the term's frequency in them."""

    terms: Int32Array
    """Term ids present, ascending; the postings of ``terms[i]`` are ``[offsets[i], offsets[i+1])``."""
    offsets: Int64Array
    units: Int32Array
    tfs: Int32Array

    def spans(self, terms: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
        """``(start, end)`` of each term's postings (``(0, 0)`` when absent), in one search."""
        if not len(self.terms):
            return [(0, 0)] * len(terms)
        where = np.minimum(np.searchsorted(self.terms, terms), len(self.terms) - 1)
        found = self.terms[where] == terms
        starts = np.where(found, self.offsets[where], 0).tolist()
        ends = np.where(found, self.offsets[where + 1], 0).tolist()
        return list(zip(starts, ends, strict=True))


def sorted_distinct(values: npt.NDArray[np.integer]) -> npt.NDArray[np.integer]:
    """``np.unique(values)`` for integer arrays, without the ~35 ms import of ``numpy.ma`` that
    NumPy's own function does on its first call (a cost `qabot ask` would pay per process)."""
    ordered = np.sort(values, axis=None)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


@cache
def _library() -> ModuleType | None:
    try:
        from retrieval import _bm25kernel  # type: ignore[attr-defined]
    except ImportError:
        log.warning("compiled BM25 kernel not built; using the numpy fallback (slower)")
        return None
    return cast(ModuleType, _bm25kernel)


class _Part(ctypes.Structure):
    """One segment's postings as the kernel reads them (``Part`` in ``_bm25kernel.c``)."""

    _fields_ = [
        ("p_terms", ctypes.c_void_p),
        ("n_p_terms", ctypes.c_int64),
        ("p_offsets", ctypes.c_void_p),
        ("units", ctypes.c_void_p),
        ("tfs", ctypes.c_void_p),
        ("weights", ctypes.c_void_p),
        ("norms", ctypes.c_void_p),
        ("live", ctypes.c_void_p),
        ("offset", ctypes.c_int64),
        ("bounds", ctypes.c_void_p),
    ]


def compiled() -> bool:
    """Whether the compiled kernel is in use."""
    return _library() is not None


class _Scratch:
    """Zeroed per-unit buffers the kernel borrows (one slot per unit of the largest segment); one
    per concurrent caller."""

    def __init__(self, size: int) -> None:
        self.acc = np.zeros(size, dtype=np.float64)
        self.seen = np.zeros(size, dtype=np.uint8)


class TopK:
    """Scoring over one set of postings (one segment of one level).

    ``avgdl``, ``k1`` and ``b`` are those of the whole index; each unit's length normalisation
    ``k1 * (1 - b + b * length / avgdl)`` is computed once, with rank-bm25's operations. With
    ``weighted``, so is every posting's ``tf * (k1 + 1) / (tf + norm)`` (8 bytes per posting,
    about 1.6 times faster top-k with the compiled kernel; the scores are the same numbers).
    """

    def __init__(
        self, postings: Postings, lengths: Int32Array, live: BoolArray | None,
        avgdl: float, k1: float, b: float, *, weighted: bool = False,
    ) -> None:  # fmt: skip
        # The kernel reads these buffers as they are: the layout it expects (no copy when the
        # segment already has it, as segments are written).
        self.postings = Postings(
            np.ascontiguousarray(postings.terms, dtype=np.int32),
            np.ascontiguousarray(postings.offsets, dtype=np.int64),
            np.ascontiguousarray(postings.units, dtype=np.int32),
            np.ascontiguousarray(postings.tfs, dtype=np.int32),
        )
        self.lengths = lengths
        self.live = live
        self.avgdl, self.k1, self.b = avgdl, k1, b
        self.norms: FloatArray = (
            k1 * (1 - b + b * lengths.astype(np.float64) / avgdl)
            if avgdl
            else np.zeros(len(lengths))
        )
        self.weights: FloatArray | None = (
            self._posting_weights() if weighted and avgdl and compiled() else None
        )
        self.bounds: FloatArray | None = None
        if avgdl and compiled():
            self.bounds = self._bounds()

    def _bounds(self) -> FloatArray:
        """Each term's largest ``tf * (k1 + 1) / (tf + norm)``: the kernel's MaxScore bounds."""
        library = _library()
        assert library is not None
        bounds = np.zeros(len(self.postings.terms), dtype=np.float64)
        if len(bounds):
            part = self._struct(0)
            library.bounds(ctypes.addressof(part), self.k1, bounds)
        return bounds

    def _struct(self, offset: int) -> _Part:
        """This scorer's arrays as the kernel's ``Part``, its unit 0 at global id ``offset``."""

        def address(array: np.ndarray | None) -> int | None:
            return None if array is None else int(array.ctypes.data)

        return _Part(
            address(self.postings.terms),
            len(self.postings.terms),
            address(self.postings.offsets),
            address(self.postings.units),
            address(self.postings.tfs),
            address(self.weights),
            address(self.norms),
            address(self.live),
            offset,
            address(self.bounds),
        )

    def _posting_weights(self, chunk: int = 1 << 20) -> FloatArray:
        """``tf * (k1 + 1) / (tf + norm)`` of every posting, as rank-bm25 computes it (in
        chunks, so that the temporaries stay small next to the result)."""
        units, tfs = self.postings.units, self.postings.tfs
        weights = np.empty(len(units), dtype=np.float64)
        for start in range(0, len(units), chunk):
            tf = tfs[start : start + chunk].astype(np.float64)
            norm = self.norms[units[start : start + chunk]]
            np.divide(tf * (self.k1 + 1), tf + norm, out=weights[start : start + chunk])
        return weights

    def top_numpy(
        self, spans: Sequence[tuple[int, int]], idfs: Sequence[float], k: int
    ) -> tuple[Int32Array, FloatArray]:
        units = sorted_distinct(np.concatenate([self.postings.units[s:e] for s, e in spans]))
        if self.live is not None:
            units = units[self.live[units]]
        scores = self.scores(units, spans, idfs)
        order = np.lexsort((units, -scores))[:k]
        return units[order].astype(np.int32), scores[order]

    def scores(
        self, units: npt.NDArray[np.integer], spans: Sequence[tuple[int, int]],
        idfs: Sequence[float],
    ) -> FloatArray:  # fmt: skip
        """Scores of the given units (any order), as rank-bm25 computes them."""
        units = np.asarray(units, dtype=np.int64)
        total = np.zeros(len(units), dtype=np.float64)
        if len(units) == 0:
            return total
        norms = self.norms[units]
        k1 = self.k1
        for (start, end), idf in zip(spans, idfs, strict=True):
            posting = self.postings.units[start:end]
            where = np.searchsorted(posting, units)
            where = np.minimum(where, max(len(posting) - 1, 0))
            present = (posting[where] == units) if len(posting) else np.zeros(len(units), bool)
            tf = np.where(present, self.postings.tfs[start:end][where] if len(posting) else 0, 0)
            tf = tf.astype(np.float64)
            # rank-bm25's expression, operation for operation.
            total += idf * (tf * (k1 + 1) / (tf + norms))
        return total


class SegmentsTopK:
    """Top-k over the same level of several segments, in one kernel call: unit ids are global
    (``offset`` of its segment plus the id inside it), equal scores by ascending global id."""

    def __init__(self, parts: Sequence[tuple[int, TopK]]) -> None:
        self.parts = list(parts)

        # The arrays stay referenced by ``parts``, so these addresses stay valid.
        self._largest = max((len(t.lengths) for _, t in self.parts), default=0)
        structs = [t._struct(offset) for offset, t in self.parts]
        self._structs = (_Part * max(len(structs), 1))(*structs)
        self._address = ctypes.addressof(self._structs)
        self._free: list[_Scratch] = []
        self._lock = threading.Lock()

    def top(self, terms: Int64Array, idfs: FloatArray, k: int) -> tuple[Int64Array, FloatArray]:
        """The ``k`` best units (global ids, scores), best first; equal scores by ascending id.
        ``terms`` are vocabulary ids (query order, repeats counted), ``idfs`` their idfs."""
        if k <= 0 or not len(terms) or not self.parts:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        library = _library()
        if library is None:
            return self._top_numpy(terms, idfs, k)
        terms = np.ascontiguousarray(terms, dtype=np.int64)
        idfs = np.ascontiguousarray(idfs, dtype=np.float64)
        with self._lock:
            scratch = self._free.pop() if self._free else _Scratch(self._largest)
        try:
            ids = np.empty(k, dtype=np.int64)
            scores = np.empty(k, dtype=np.float64)
            found = library.top(
                len(self.parts), self._address, terms, idfs, self.parts[0][1].k1, scratch.acc,
                scratch.seen, ids, scores,
            )  # fmt: skip
        finally:
            with self._lock:
                self._free.append(scratch)
        if found < 0:
            raise MemoryError("the BM25 kernel could not allocate its buffers")
        return ids[:found], scores[:found]

    def _top_numpy(
        self, terms: Int64Array, idfs: FloatArray, k: int
    ) -> tuple[Int64Array, FloatArray]:
        weights = idfs.tolist()
        found_ids: list[Int64Array] = []
        found_scores: list[FloatArray] = []
        for offset, part in self.parts:
            local, scores = part.top_numpy(part.postings.spans(terms), weights, k)
            found_ids.append(local.astype(np.int64) + offset)
            found_scores.append(scores)
        ids, all_scores = np.concatenate(found_ids), np.concatenate(found_scores)
        order = np.lexsort((ids, -all_scores))[:k]
        return ids[order], all_scores[order]


class _TokenPart(ctypes.Structure):
    """Where one segment's units find their tokens (``TokenPart`` in ``_bm25kernel.c``)."""

    _fields_ = [
        ("offset", ctypes.c_int64),
        ("token_offsets", ctypes.c_void_p),
        ("tokens", ctypes.c_void_p),
        ("passage_first", ctypes.c_void_p),
        ("passage_last", ctypes.c_void_p),
    ]


class TokenMatcher:
    """Occurrences of a query's terms in some units of one level, read from the segments' token
    arrays by the compiled kernel (see :mod:`retrieval.matching`, whose numpy code it replaces).

    ``parts`` are, per segment, the global id of its unit 0, its token offsets and tokens, and for
    passages the first and last sentence of each passage (``None`` for sentences).
    """

    def __init__(
        self,
        parts: Sequence[tuple[int, Int64Array, Int32Array, Int32Array | None, Int32Array | None]],
    ) -> None:
        def address(array: np.ndarray | None) -> int | None:
            return None if array is None else int(array.ctypes.data)

        # Kept referenced, so that the addresses stay valid (no copy when already in this form).
        self._arrays = [
            (
                offset,
                np.ascontiguousarray(offsets, dtype=np.int64),
                np.ascontiguousarray(tokens, dtype=np.int32),
                None if first is None else np.ascontiguousarray(first, dtype=np.int32),
                None if last is None else np.ascontiguousarray(last, dtype=np.int32),
            )
            for offset, offsets, tokens, first, last in parts
        ]
        structs = [
            _TokenPart(offset, address(offsets), address(tokens), address(first), address(last))
            for offset, offsets, tokens, first, last in self._arrays
        ]
        self._structs = (_TokenPart * max(len(structs), 1))(*structs)
        self._address = ctypes.addressof(self._structs)

    def match(
        self, units: Int64Array, query: Int64Array
    ) -> tuple[FloatArray, Int64Array, Int64Array, Int64Array, Int64Array] | None:
        """``(tf, lengths, row, position, column)`` of the units (global ids) for the query's term
        ids (distinct; -1 for unknown terms), or ``None`` without the compiled kernel."""
        library = _library()
        if library is None:
            return None
        units = np.ascontiguousarray(units, dtype=np.int64)
        query = np.ascontiguousarray(query, dtype=np.int64)
        order = np.argsort(query, kind="stable")
        ordered = np.ascontiguousarray(query[order])
        width = len(query)
        lengths = np.zeros(len(units), dtype=np.int64)
        capacity = 8 * len(units) + 64
        while True:
            tf = np.zeros((len(units), width), dtype=np.float64)
            row = np.empty(capacity, dtype=np.int64)
            position = np.empty(capacity, dtype=np.int64)
            column = np.empty(capacity, dtype=np.int64)
            found = library.match(
                len(self._arrays), self._address, units, ordered, order, tf, lengths, row,
                position, column,
            )  # fmt: skip
            if found <= capacity:
                return tf, lengths, row[:found], position[:found], column[:found]
            capacity = int(found)


class ColumnGather:
    """Values of some int32 columns at global unit ids, over segments: ``offsets[q]`` is the
    global id of segment ``q``'s unit 0, ``columns[q][c]`` its column ``c``, to which
    ``adds[q][c]`` is added (a segment's first document, passage... as a global number)."""

    def __init__(
        self, offsets: Sequence[int], columns: Sequence[Sequence[Int32Array]],
        adds: Sequence[Sequence[int]],
    ) -> None:  # fmt: skip
        self._width = len(columns[0]) if columns else 0
        # Kept referenced, so that the addresses stay valid (no copy when already int32).
        self._columns = [np.ascontiguousarray(c, dtype=np.int32) for cs in columns for c in cs]
        self._pointers = np.asarray([c.ctypes.data for c in self._columns], dtype=np.uintp)
        self._adds = np.asarray([a for row in adds for a in row], dtype=np.int64)
        self._offsets = np.asarray(offsets, dtype=np.int64)

    def gather(self, units: Int64Array) -> Int64Array | None:
        """``(columns + 1, len(units))``: each column's values, then each unit's segment number;
        ``None`` without the compiled kernel."""
        library = _library()
        if library is None or not len(self._offsets):
            return None
        units = np.ascontiguousarray(units, dtype=np.int64)
        out = np.empty((self._width + 1, len(units)), dtype=np.int64)
        library.gather(self._offsets, self._width, self._pointers, self._adds, units, out)
        return out
