"""Lexical ranking features of candidate sentences, added to their normalised BM25 scores.

Every function here looks at one question and the candidates of :func:`retrieval.answer.
rank_sentences` (a few dozen sentences), never at the corpus, so its cost does not grow with
the index:

- :func:`context_terms`: the terms of a sentence's document title and section heading, the
  context a reader sees around the sentence ("Where was it filmed?" under "Dear John");
- :func:`phrase_share`: the share of the question's consecutive term pairs ("Super Bowl",
  "steel workers") found in the sentence in the same order, at most one term apart;
- :func:`feedback_terms` and :func:`feedback_share`: pseudo-relevance feedback over the best
  passages (RM3-like): the terms that dominate them besides the question's own, and how much
  of that weight a candidate holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import pairwise

from retrieval.text import tokenize

Pair = tuple[str, str]


@lru_cache(maxsize=10_000)
def heading_terms(heading: str | None) -> frozenset[str]:
    """Search terms of a title or section heading (empty for None)."""
    return frozenset(tokenize(heading)) if heading else frozenset()


def context_terms(title: str, section: str | None) -> frozenset[str]:
    """The terms a sentence inherits from where it stands: its document title and section."""
    if not section:
        return heading_terms(title)
    return _joined(title, section)


@lru_cache(maxsize=10_000)
def _joined(title: str, section: str) -> frozenset[str]:
    return heading_terms(title) | heading_terms(section)


def question_pairs(terms: Sequence[str], weights: Mapping[str, float]) -> dict[Pair, float]:
    """Consecutive pairs of the question's terms (in question order), each with the mean weight
    of its two terms. ``terms`` is the question's token list before de-duplication."""
    pairs: dict[Pair, float] = {}
    for a, b in pairwise(terms):
        # A name's stem and own form ("pari", "paris") are one word, not a pair.
        if a in weights and b in weights and not (a.startswith(b) or b.startswith(a)):
            pairs[(a, b)] = (weights[a] + weights[b]) / 2
    return pairs


def phrase_share(tokens: Sequence[str], pairs: Mapping[Pair, float], gap: int = 2) -> float:
    """The share of ``pairs``' weight whose first term is followed by its second within ``gap``
    tokens of ``tokens`` (so a name's two index forms or one inserted word do not break it)."""
    total = sum(pairs.values())
    if not total:
        return 0.0
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        positions.setdefault(token, []).append(i)
    found = 0.0
    for (a, b), weight in pairs.items():
        after = positions.get(b)
        before = positions.get(a)
        if after and before and any(0 < j - i <= gap for i in before for j in after):
            found += weight
    return found / total


def feedback_terms(
    passages: Sequence[tuple[Sequence[Sequence[str]], float]],
    weights: Mapping[str, float],
    term_weight: Mapping[str, float] | None = None,
    size: int = 10,
) -> dict[str, float]:
    """RM3-like expansion terms from the best passages, each given as its sentences' tokens and
    its score: a term's weight is the score-weighted sum of its relative frequency in each
    passage, times its informativeness (``term_weight``, 1 when absent); the question's own
    terms are left out and the ``size`` heaviest kept."""
    top = max((score for _, score in passages), default=0.0)
    if top <= 0:
        return {}
    mass: dict[str, float] = {}
    for sentences, score in passages:
        length = sum(len(s) for s in sentences)
        if not length or score <= 0:
            continue
        share = score / top / length
        for tokens in sentences:
            for token in tokens:
                if token not in weights:
                    mass[token] = mass.get(token, 0.0) + share
    if term_weight is not None:
        mass = {t: m * term_weight.get(t, 1.0) for t, m in mass.items()}
    best = sorted(mass.items(), key=lambda item: (-item[1], item[0]))[:size]
    return dict(best)


def feedback_share(tokens: Sequence[str], expansion: Mapping[str, float]) -> float:
    """The share of the expansion terms' weight found in ``tokens``."""
    total = sum(expansion.values())
    if not total:
        return 0.0
    held = set(tokens)
    return sum(w for t, w in expansion.items() if t in held) / total
