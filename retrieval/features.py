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
  of that weight a candidate holds;
- :func:`question_forms` and :func:`form_share`: the question's words as written, matched
  without stemming;
- :func:`refers_back`: a sentence whose first words point at an earlier one ("It was
  commissioned by Odo"), which then lends it the question terms it names ("the Tapestry");
- :func:`compound_terms`: a closed compound and its parts match each other ("steelworkers",
  "steel workers"), where the index holds the other form;
- :func:`rewrite_query`: a short curated list of question forms whose words the answer does
  not repeat ("*how many* people", "*in what year*", "*what is the name of*").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import TypeVar

from retrieval.text import tokenize

_SURFACE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

Pair = tuple[str, str]
K = TypeVar("K")
"""What :func:`phrase_share_at` knows terms by: the terms themselves, or their columns."""


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
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        positions.setdefault(token, []).append(i)
    return phrase_share_at(positions, pairs, gap)


def phrase_share_at(
    positions: Mapping[K, Sequence[int]], pairs: Mapping[tuple[K, K], float], gap: int = 2
) -> float:
    """:func:`phrase_share` of a sentence given as the positions of its terms (those of the
    question's terms are enough)."""
    total = sum(pairs.values())
    if not total:
        return 0.0
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


def question_forms(
    question: str, weights: Mapping[str, float], names_only: bool = False
) -> dict[str, float]:
    """The question's words as written (lowercased), each with the weight of its term: what an
    exact match rewards beyond the stem ("Mathes" is not "math"). ``names_only`` keeps the
    capitalised words after the first."""
    forms: dict[str, float] = {}
    for n, match in enumerate(_SURFACE.finditer(question)):
        word = match.group()
        if names_only and (n == 0 or not word[0].isupper()):
            continue
        terms = tokenize(word)
        if len(terms) == 1 and terms[0] in weights:
            forms[word.lower()] = weights[terms[0]]
    return forms


def form_share(text: str, forms: Mapping[str, float]) -> float:
    """The share of ``forms``' weight found written the same way in ``text``: as whole words of
    :data:`_SURFACE`, case aside (not inside "o'brien" or "paris2")."""
    total = sum(forms.values())
    if not total:
        return 0.0
    lowered = text.lower()
    return sum(w for f, w in forms.items() if holds_word(lowered, f)) / total


def holds_word(text: str, word: str) -> bool:
    """Whether ``word`` is one of ``_SURFACE.findall(text)``, found by searching for it instead
    of splitting the whole text into words."""
    if not _is_surface(word):
        return False  # no word of the text can equal it
    end = len(text)
    start = text.find(word)
    while start >= 0:
        after = start + len(word)
        # A word of _SURFACE is a maximal run of letters and digits (str.isalnum is [^\W_]),
        # runs joined by single apostrophes: the match must neither continue one nor go on.
        if not (
            start
            and (
                text[start - 1].isalnum()
                or (text[start - 1] == "'" and start > 1 and text[start - 2].isalnum())
            )
        ) and not (
            after < end
            and (
                text[after].isalnum()
                or (text[after] == "'" and after + 1 < end and text[after + 1].isalnum())
            )
        ):
            return True
        start = text.find(word, start + 1)
    return False


@lru_cache(maxsize=10_000)
def _is_surface(word: str) -> bool:
    return _SURFACE.fullmatch(word) is not None


# Question forms whose marked word asks for the answer instead of naming it: the answer
# sentence says "12,000 people", "in 1990", "the Nile", not "many", "year", "name".
_FORMS = re.compile(
    r"\bhow\s+(?P<a>many|much)\b"
    r"|\b(?:in\s+|on\s+|during\s+)?(?:what|which)\s+(?P<b>year|century|decade|month|day|date)\b"
    r"|\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+|an?\s+)?(?P<c>name|names)\s+of\b"
    r"|\bwhat\s+(?P<d>name)\b"
    r"|\b(?:what|which)\s+(?P<e>type|types|kind|kinds|sort|sorts)\s+of\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _asking_terms(question: str) -> frozenset[str]:
    found: set[str] = set()
    for match in _FORMS.finditer(question):
        word = next(g for g in match.groups() if g)
        found.update(tokenize(word.lower()))
    return frozenset(found)


def rewrite_query(question: str, query: Sequence[str]) -> list[str]:
    """``query`` without the terms of the question's asking forms (:data:`_FORMS`); the query
    unchanged when nothing else would be left."""
    asking = _asking_terms(question)
    kept = [t for t in query if t not in asking]
    return kept if kept else list(query)


# A pronoun or demonstrative among the first words: the sentence names its subject earlier.
_REFERS_BACK = re.compile(
    r"^\W*(?:\S+\s+){0,4}?(?:he|she|it|they|his|her|its|their|him|them|this|these|those"
    r"|that\s+(?:year|time|day|period)|the\s+same)\b",
    re.IGNORECASE,
)


def refers_back(text: str) -> bool:
    """Whether ``text`` refers to something named before it (a pronoun in its first words)."""
    return bool(_REFERS_BACK.match(text))


def lent_share(
    tokens: Sequence[str], previous: Sequence[str], weights: Mapping[str, float]
) -> float:
    """The share of the question's weight the previous sentence holds and this one lacks."""
    total = sum(weights.values())
    if not total:
        return 0.0
    held, before = set(tokens), set(previous)
    return sum(w for t, w in weights.items() if t in before and t not in held) / total


_LETTERS = re.compile(r"[^\W\d_]+")
_MIN_PART = 3


def compound_terms(question: str, known: Callable[[str], bool]) -> list[str]:
    """Terms for the other spelling of the question's compounds that the index knows (``known``
    says whether a term occurs): two adjacent words written as one ("steel workers" ->
    "steelwork"), and a word the index lacks split in two known words ("steelworkers" ->
    "steel", "worker")."""
    words = [w.lower() for w in _LETTERS.findall(question)]
    found: list[str] = []
    for a, b in pairwise(words):
        if len(a) >= _MIN_PART and len(b) >= _MIN_PART:
            joined = tokenize(a + b)
            if len(joined) == 1 and tokenize(a) and tokenize(b) and known(joined[0]):
                found.append(joined[0])
    for word in words:
        terms = tokenize(word)
        if len(word) < 2 * _MIN_PART + 1 or len(terms) != 1 or known(terms[0]):
            continue
        for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
            left, right = tokenize(word[:cut]), tokenize(word[cut:])
            if len(left) == len(right) == 1 and known(left[0]) and known(right[0]):
                found += [left[0], right[0]]
                break
    return found
