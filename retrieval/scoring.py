"""Ranking of text units (sentences or passages) for a query, behind one small interface.

Loading, storage and answer composition only see :class:`Scorer`; swapping rank-bm25 for another
BM25 engine later means writing one class here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval.kernel import sorted_distinct


class BM25Parameters(NamedTuple):
    k1: float = 1.2
    b: float = 0.75


class Hit(NamedTuple):
    """A unit (by its position in the list the scorer was built from) and its score."""

    unit: int
    score: float


class Scorer(Protocol):
    """Ranks the units a scorer was built from against a tokenized query."""

    def top(self, query: Sequence[str], k: int) -> list[Hit]:
        """The ``k`` best units that contain at least one query term, best first."""
        ...

    def scores(self, query: Sequence[str], units: Sequence[int]) -> list[float]:
        """Scores of the given units (0.0 for units without any query term)."""
        ...

    def document_frequency(self, term: str) -> int:
        """How many units contain ``term``."""
        ...

    def __len__(self) -> int: ...


class RankBM25Scorer:
    """BM25 (Okapi, as rank-bm25 computes it) over pre-tokenized units.

    rank-bm25's ``get_scores`` visits every unit for every query term; we first collect the units
    that hold a query term from a small inverted index and score only those with
    ``get_batch_scores``, which gives the same scores for them (units without a query term score 0).
    """

    def __init__(self, units: Sequence[Sequence[str]], parameters: BM25Parameters) -> None:
        self._size = len(units)
        postings: dict[str, list[int]] = {}
        for number, tokens in enumerate(units):
            for term in set(tokens):
                postings.setdefault(term, []).append(number)
        self._postings = {term: np.asarray(ids, dtype=np.int64) for term, ids in postings.items()}
        # rank-bm25 divides by the corpus size: an empty index is legal here, an empty model is not.
        self._bm25 = BM25Okapi(units, k1=parameters.k1, b=parameters.b) if units else None

    def __len__(self) -> int:
        return self._size

    def document_frequency(self, term: str) -> int:
        ids = self._postings.get(term)
        return 0 if ids is None else len(ids)

    def candidates(self, query: Sequence[str]) -> np.ndarray:
        """Ids of the units holding at least one query term, ascending."""
        lists = [self._postings[t] for t in dict.fromkeys(query) if t in self._postings]
        if not lists:
            return np.empty(0, dtype=np.int64)
        return sorted_distinct(np.concatenate(lists))

    def scores(self, query: Sequence[str], units: Sequence[int]) -> list[float]:
        if self._bm25 is None or len(units) == 0:
            return [0.0] * len(units)
        return [float(s) for s in self._bm25.get_batch_scores(list(query), list(units))]

    def top(self, query: Sequence[str], k: int) -> list[Hit]:
        ids = self.candidates(query)
        if len(ids) == 0 or k <= 0:
            return []
        scores = np.asarray(self.scores(query, ids.tolist()))
        # Stable sort on the negated score: ties keep reading order, so results are reproducible.
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(int(ids[i]), float(scores[i])) for i in order]
