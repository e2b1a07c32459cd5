"""The ranking bonuses that read where the question's terms stand in a candidate (proximity,
consecutive pairs, written forms), computed only for the candidates that can still reach the top.

They are the dearest part of ranking (Python over every occurrence of every candidate), yet
each is bounded by something a matrix product gives for all candidates at once: proximity by
the share of the question's weight the sentence holds, the phrase share by the share of pairs
whose two terms it holds, the written-form share by the forms its text contains as substrings.
:func:`rescore` adds the exact bonuses best bound first and stops once the best ``depth``
scores beat every bound left, so those come out exactly as if all had been computed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property

import numpy as np
import numpy.typing as npt

from retrieval.features import Pair, holds_word, phrase_share_at
from retrieval.kernel import BoolArray, FloatArray
from retrieval.matching import Matches, QueryTerms

_SLACK = 1e-9
"""Added to every bound so that floating-point rounding never makes one fall below its bonus."""
_STEP = 8
"""Candidates rescored at a time once the first ``depth`` are done."""


class PositionalBonus:
    """Proximity, phrase and written-form bonuses of one question's candidates."""

    def __init__(
        self,
        terms: QueryTerms,
        matches: Matches,
        texts: Sequence[str],
        pairs: Mapping[Pair, float],
        forms: Mapping[str, float],
        weights: tuple[float, float, float],
    ) -> None:
        """``weights`` are those of proximity, phrases and forms (settings of the answer)."""
        self._terms, self._matches, self._texts = terms, matches, texts
        self._pairs, self._forms = pairs, forms
        self._proximity, self._phrase, self._form = weights

    def bounds(self) -> FloatArray:
        """For each candidate, a number its bonus never exceeds."""
        terms, present = self._terms, self._matches.present
        bound = np.zeros(len(self._texts))
        total = terms.total
        if self._proximity and total:
            bound += self._proximity * self._matches.weight_present(terms) / total
        if self._phrase and self._pairs:
            both = np.column_stack(
                [present[:, terms.column(a)] & present[:, terms.column(b)] for a, b in self._pairs]
            )
            weights = np.fromiter(self._pairs.values(), dtype=np.float64)
            bound += self._phrase * (both @ weights) / weights.sum()
        if self._form and self._forms:
            held = [sum([w for _, w in inside]) for inside in self._inside]
            bound += self._form * np.asarray(held) / sum(self._forms.values())
        return bound + _SLACK

    @cached_property
    def _lowered(self) -> list[str]:
        return [text.lower() for text in self._texts]

    @cached_property
    def _inside(self) -> list[list[tuple[str, float]]]:
        """For each candidate, the forms (with their weights, in order) its lowercased text holds
        as substrings: those it can hold as words."""
        forms = list(self._forms.items())
        return [[(f, w) for f, w in forms if f in text] for text in self._lowered]

    @cached_property
    def _column_pairs(self) -> dict[tuple[int, int], float]:
        """:attr:`_pairs` by the columns of their terms (occurrences come as columns)."""
        column = self._terms.column
        return {(column(a), column(b)): w for (a, b), w in self._pairs.items()}

    def bonus(self, rows: npt.NDArray[np.int64]) -> FloatArray:
        """The exact bonuses of the candidates at ``rows``."""
        bonus = np.zeros(len(rows))
        terms = self._terms
        total = terms.total
        if not total:
            return bonus
        weights = terms.weights.tolist()
        proximity, phrase, form = self._proximity, self._phrase, self._form
        pairs = self._column_pairs if phrase and self._pairs else None
        forms = form and self._forms
        forms_total = sum(self._forms.values())
        positions = self._matches.take(rows).positions()
        for n, (row, found) in enumerate(zip(rows.tolist(), positions, strict=True)):
            # Summed in a float, in the order the bonuses always were, and stored once.
            value = 0.0
            if proximity:
                value += proximity * densest(found, weights) / total
            if pairs is not None:
                # Only the question's terms can form its pairs: their positions are all it takes.
                where: dict[int, list[int]] = {}
                for position, column in found:
                    where.setdefault(column, []).append(position)
                value += phrase * phrase_share_at(where, pairs)
            if forms:
                # form_share(text, forms), over the forms the text holds at all.
                text = self._lowered[row]
                held = sum([w for f, w in self._inside[row] if holds_word(text, f)])
                value += form * (held / forms_total if forms_total else 0.0)
            bonus[n] = value
        return bonus


def rescore(
    scores: FloatArray,
    bounds: FloatArray,
    bonus: Callable[[npt.NDArray[np.int64]], FloatArray],
    depth: int | None,
) -> tuple[FloatArray, BoolArray]:
    """``scores`` plus ``bonus`` where it was computed, and which those are.

    The candidates are taken by ``scores + bounds``, best first, until the ``depth`` best
    totals are above every bound left (``None``: all candidates). Those left keep ``scores``,
    a lower bound of their total; all of them rank below the best ``depth``.
    """
    count = len(scores)
    upper = scores + bounds
    order = np.argsort(-upper, kind="stable")
    total = scores.copy()
    exact = np.zeros(count, dtype=bool)
    done, step = 0, count if depth is None else max(depth, 1)
    while done < count:
        batch = order[done : done + step]
        total[batch] = scores[batch] + bonus(batch)
        exact[batch] = True
        done += len(batch)
        if depth is None or done >= count:
            break
        best = np.partition(total[order[:done]], done - depth)[done - depth]
        if best > upper[order[done]]:
            break
        step = _STEP
    return total, exact


def densest(positions: list[tuple[int, int]], weights: list[float], width: int = 8) -> float:
    """The largest summed weight of distinct question terms within ``width`` consecutive tokens;
    ``positions`` are ``(position, term column)`` in text order."""
    columns = {c for _, c in positions}
    if len(columns) <= 1 or positions[-1][0] - positions[0][0] < width:
        return sum(weights[c] for c in columns)
    best = 0.0
    for start, (i, _) in enumerate(positions):
        seen: set[int] = set()
        for j, column in positions[start:]:
            if j - i >= width:
                break
            seen.add(column)
        best = max(best, sum(weights[c] for c in seen))
    return best
