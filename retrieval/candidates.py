"""The candidate sentences of one question and their ranking features, one column each.

A question's candidates are the sentences of its best passages and its best sentences (a few
dozen). Each ranking feature is a column over them; :func:`retrieval.answer.rank_sentences`
adds the columns up, each times its weight in :class:`retrieval.answer.AnswerSettings`
(:data:`WEIGHTS`), to the normalised BM25 score of the sentence. ``bench/fit_ranking.py`` fits
those weights from the same columns. The positional features (proximity, phrases, written
forms) are :mod:`retrieval.positional`'s: they are only computed where they can change the top.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from retrieval.evidence import expected_type, holds_year, type_match
from retrieval.features import context_terms, feedback_share, feedback_terms, refers_back
from retrieval.index import Index, SentenceRows
from retrieval.kernel import BoolArray, FloatArray
from retrieval.matching import Matches, QueryTerms, passage_matches, sentence_matches

WEIGHTS: dict[str, str] = {
    "passage": "passage_weight",
    "title": "title_weight",
    "type": "type_weight",
    "year": "year_weight",
    "coverage": "coverage_weight",
    "context": "context_weight",
    "antecedent": "antecedent_weight",
    "feedback": "feedback_weight",
    "near": "near_weight",
}
"""Column name -> the ``AnswerSettings`` field that weighs it (the sentence's own BM25 weighs 1)."""


@dataclass(frozen=True, slots=True)
class Candidates:
    """One question's candidate sentences, and what their features are computed from."""

    index: Index
    question: str
    ids: list[int]
    rows: SentenceRows
    texts: list[str]
    terms: QueryTerms
    matches: Matches
    own: FloatArray
    """Each sentence's own BM25 score."""
    around: FloatArray
    """The BM25 score of each sentence's passage."""
    passage_scores: dict[int, float]
    """The best passages, best first, with their scores."""


def gather(
    index: Index, query: list[str], weights: dict[str, float], question: str, passages: int,
    sentences: int,
) -> Candidates | None:  # fmt: skip
    """The sentences of the ``passages`` best passages and the ``sentences`` best sentences
    (None: no candidate)."""
    passage_scores = {h.unit: h.score for h in index.passage_scorer.top(query, passages)}
    found = dict.fromkeys(index.passage_members(list(passage_scores)))
    found.update(dict.fromkeys(h.unit for h in index.sentence_scorer.top(query, sentences)))
    ids = list(found)
    if not ids:
        return None
    terms = QueryTerms.weighted(index, weights)
    rows = index.rows(ids)
    matches = sentence_matches(index, ids, terms)
    own = index.sentence_scorer.count_scores(terms.ids, matches.tf, matches.lengths)
    units, where = np.unique(rows.passage, return_inverse=True)
    around_matches = passage_matches(index, units.tolist(), terms)
    around = index.passage_scorer.count_scores(
        terms.ids, around_matches.tf, around_matches.lengths
    )[where]
    texts = [
        index.documents[d].text_slice(a, b)
        for d, a, b in zip(
            rows.document.tolist(), rows.start.tolist(), rows.end.tolist(), strict=True
        )
    ]
    return Candidates(
        index, question, ids, rows, texts, terms, matches, own, around, passage_scores
    )


def columns(
    candidates: Candidates,
    wanted: Collection[str],
    feedback: tuple[int, int] = (3, 10),
) -> dict[str, FloatArray]:
    """The ``wanted`` columns of :data:`WEIGHTS` (and ``"sentence"``, the normalised own score).

    ``feedback`` is how many of the best passages give feedback terms, and how many are kept.
    """
    c = candidates
    total = c.terms.total
    count = len(c.ids)
    result: dict[str, FloatArray] = {}
    if "sentence" in wanted:
        result["sentence"] = normalised(c.own)
    if "passage" in wanted:
        result["passage"] = normalised(c.around)
    if not total:
        return result | {name: np.zeros(count) for name in wanted if name not in result}
    present = c.matches.present
    if "title" in wanted:
        result["title"] = _title(c, present)
    if "coverage" in wanted:
        result["coverage"] = c.matches.weight_present(c.terms) / total
    kind = expected_type(c.question)
    if "type" in wanted:
        result["type"] = np.asarray(
            [float(type_match(kind, text, c.question)) for text in c.texts]
        ) if kind is not None else np.zeros(count)  # fmt: skip
    if "year" in wanted:
        result["year"] = np.asarray(
            [float(holds_year(text)) for text in c.texts]
        ) if kind == "date" else np.zeros(count)  # fmt: skip
    if "context" in wanted or "antecedent" in wanted:
        result.update(_before(c, present, wanted))
    if "feedback" in wanted:
        result["feedback"] = _feedback(c, *feedback)
    if "near" in wanted:
        result["near"] = _near(c, present)
    return result


NEAR_PREFIX = 5
"""Letters a question term and a sentence term must share at the start to be near forms."""


def _near(c: Candidates, present: np.ndarray) -> FloatArray:
    """The share of the question's weight the sentence holds only as a near form: a term
    beginning with the same :data:`NEAR_PREFIX` letters, the derivations Snowball keeps apart
    (``invent`` / ``inventor``, ``conquer`` / ``conquest``, ``found`` / ``foundat``)."""
    prefixes = [(j, t[:NEAR_PREFIX]) for j, t in enumerate(c.terms.terms) if len(t) >= NEAR_PREFIX]
    near = np.zeros_like(present)
    if prefixes:
        tokens = c.index.sentence_tokens
        for n, (sentence, held) in enumerate(zip(c.ids, present.tolist(), strict=True)):
            # Only the terms a sentence lacks can be held as near forms.
            lacking = [(j, prefix) for j, prefix in prefixes if not held[j]]
            if not lacking:
                continue
            starts = {u[:NEAR_PREFIX] for u in tokens[sentence]}
            for j, prefix in lacking:
                if prefix in starts:
                    near[n, j] = True
    result: FloatArray = (near @ c.terms.weights) / c.terms.total
    return result


def _title(c: Candidates, present: np.ndarray) -> FloatArray:
    """The share of the question's weight in the sentence or the title and section it stands
    under (they count as its own terms)."""
    # The candidates stand under a few places: each place's row is computed once.
    row_of: dict[tuple[int, str | None], int] = {}
    held: list[list[bool]] = []
    rows: list[int] = []
    for place in zip(c.rows.document.tolist(), c.rows.sections, strict=True):
        row = row_of.get(place)
        if row is None:
            row = row_of[place] = len(held)
            context = context_terms(c.index.documents[place[0]].meta.title, place[1])
            held.append([t in context for t in c.terms.terms])
        rows.append(row)
    table = np.asarray(held, dtype=bool).reshape(len(held), len(c.terms.terms))
    around = table[rows]
    result: FloatArray = ((present | around) @ c.terms.weights) / c.terms.total
    return result


def _before(c: Candidates, present: np.ndarray, wanted: Collection[str]) -> dict[str, FloatArray]:
    """What the sentence before a candidate (same paragraph) adds to it.

    ``context``: the share of the question's weight the two hold together (a sentence often
    names its subject only in the one before). ``antecedent``: the share the one before holds
    and the candidate lacks, only for a candidate that refers back ("It was commissioned by
    Odo").
    """
    index, ids, terms = c.index, c.ids, c.terms
    after = np.flatnonzero(follows_in_paragraph(index, c.rows)).tolist()
    leaning = {n for n in after if refers_back(c.texts[n])} if "antecedent" in wanted else set()
    asked = after if "context" in wanted else sorted(leaning)
    before = np.zeros_like(present)
    if asked:
        before[asked] = sentence_matches(index, [ids[n] - 1 for n in asked], terms).present
    result: dict[str, FloatArray] = {}
    if "context" in wanted:
        result["context"] = ((present | before) @ terms.weights) / terms.total
    if "antecedent" in wanted:
        lent = (before & ~present) @ terms.weights / terms.total
        mask = np.zeros(len(ids), dtype=bool)
        mask[list(leaning)] = True
        result["antecedent"] = np.where(mask, lent, 0.0)
    return result


def _feedback(c: Candidates, passages: int, kept: int) -> FloatArray:
    """The share of pseudo-relevance feedback terms (from the best passages) each one holds."""
    index = c.index
    weights = dict(zip(c.terms.terms, c.terms.weights.tolist(), strict=True))
    best = list(c.passage_scores.items())[:passages]
    feedback = [(_passage_tokens(index, p), score) for p, score in best]
    expansion = feedback_terms(feedback, weights, _TermWeights(index), kept)
    result = np.zeros(len(c.ids))
    if expansion:
        for n, sentence in enumerate(c.ids):
            result[n] = feedback_share(index.sentence_tokens[sentence], expansion)
    return result


class _TermWeights(dict[str, float]):
    """:meth:`Index.term_weight` as a mapping, computed on first use."""

    def __init__(self, index: Index) -> None:
        super().__init__()
        self._index = index

    def get(self, term: str, default: float | None = None) -> float:  # type: ignore[override]
        if term not in self:
            self[term] = self._index.term_weight(term)
        return self[term]


def _passage_tokens(index: Index, passage: int) -> list[tuple[str, ...]]:
    first, last = index.passages[passage]
    return [
        index.sentence_tokens[i]
        for i in range(first, last + 1)
        if index.sentences[i].passage == passage
    ]


def follows_in_paragraph(index: Index, rows: SentenceRows) -> BoolArray:
    """For each sentence of ``rows``, :func:`same_paragraph` (one gather for all of them)."""
    sentence = rows.sentence
    has_previous = (sentence > 0) & (sentence < len(index.sentences))
    previous = index.rows(np.where(has_previous, sentence - 1, 0))
    result: BoolArray = (
        has_previous & (previous.document == rows.document) & (previous.paragraph == rows.paragraph)
    )
    return result


def same_paragraph(index: Index, sentence: int) -> bool:
    """Whether the sentence before ``sentence`` belongs to the same paragraph."""
    if sentence <= 0 or sentence >= len(index.sentences):
        return False
    previous, current = index.sentences[sentence - 1], index.sentences[sentence]
    return (previous.document, previous.paragraph) == (current.document, current.paragraph)


def normalised(scores: FloatArray) -> FloatArray:
    """``scores`` over their maximum."""
    # rank-bm25's scores can all be 0 on tiny corpora (idf floor): then they carry no ranking.
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)
