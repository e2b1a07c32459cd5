"""From a question to quotes: passage retrieval, sentence ranking, abstention, quote assembly."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from retrieval.candidates import (
    WEIGHTS,
    Candidates,
    columns,
    gather,
    normalised,
    same_paragraph,
)
from retrieval.evidence import (
    FEATURES,
    edit_evidence,
    expected_type,
    refusal_model,
    type_match,
)
from retrieval.features import (
    compound_terms,
    heading_terms,
    question_forms,
    question_pairs,
    rewrite_query,
)
from retrieval.index import Index
from retrieval.kernel import FloatArray
from retrieval.language import question_language
from retrieval.matching import QueryTerms, sentence_matches
from retrieval.models import Answer, Quote
from retrieval.positional import PositionalBonus, rescore
from retrieval.text import TermFinder, normalize_space, tokenize
from retrieval.unknown import has_unknown_name, unknown_shares


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """Knobs of answer composition; defaults were chosen on the dev set and reqa_squad_dev."""

    passages: int = 10
    """How many top passages contribute candidate sentences."""
    sentences: int = 20
    """How many top sentences (by their own BM25) join the candidates."""
    passage_weight: float = 3.27
    """Weight of the (normalised) passage score next to the sentence's own score."""
    min_coverage: float = 0.25
    """Share of the question's term weight a quote must contain, else it is not an answer."""
    min_relative_score: float = 0.4
    """Quotes after the first must score at least this share of the first."""
    title_weight: float = 3.31
    """Weight of the share of the question's term weight found in a sentence or its title."""
    type_weight: float = 0.87
    """Bonus of a sentence holding the answer type the question word asks for."""
    proximity_weight: float = 0.68
    """Weight of the share of the question's term weight in the densest 8-token window."""
    coverage_weight: float = -3.16
    """Weight of the share of the question's term weight the sentence itself holds."""
    phrase_weight: float = 0.52
    """Weight of the share of the question's consecutive term pairs found in the sentence."""
    feedback_weight: float = 0.0
    """Weight of the share of pseudo-relevance feedback terms (from the best passages) held."""
    antecedent_weight: float = 0.0
    """Weight of the question's share that a sentence referring back gets from the one before."""
    context_weight: float = 2.25
    """Weight of the share of the question's weight a sentence holds with the one before it."""
    year_weight: float = 0.84
    """Bonus of a sentence naming a year or a month when the question asks for a date."""
    near_weight: float = 3.01
    """Weight of the share of the question's weight held only as near forms (same first
    letters: ``inventor`` for ``invented``)."""
    compounds: int = 0
    """1: add the other spelling of the question's compounds ("steel workers", "steelworkers")."""
    rewrites: int = 0
    """1: drop the words of asking forms ("how *many*", "in what *year*") from the query."""
    form_weight: float = 1.60
    """Weight of the share of the question's words found written the same way (not stemmed)."""
    form_names: int = 0
    """1: only the question's capitalised words (names) count for ``form_weight``."""
    feedback_passages: int = 3
    """How many of the best passages give the feedback terms."""
    feedback_terms: int = 10
    """How many feedback terms are kept."""
    min_confidence: float | None = None
    """Refuse when the refusal model's probability is below this (None: the model's own)."""
    min_context_coverage: float = 0.35
    """Refuse (confidence 0) when the question's most informative term is nowhere in the first
    quote, its paragraph or title, and they hold less than this share of its weight (0: off)."""
    refuse_unknown_names: bool = True
    """Refuse (confidence 0) when the question names something no sentence or title mentions
    in any near form (:func:`retrieval.unknown.unknown_names`)."""


_WORD = re.compile(r"[^\W\d_](?:\.[^\W\d_])+\.?(?![^\W_])|[^\W_]+(?:['’-][^\W_]+)*")
# A sentence that starts like this leans on the one before it.
_LEANS_BACK = re.compile(
    r"^[\"'“‘(]?(?:But|However|And|So|Yet|Also|This|That|These|Those|It|Its|He|She|They|His|Her"
    r"|Their|Such|Moreover|Furthermore|Therefore|Thus|Meanwhile|Instead|Still)\b"
)
_MAX_SENTENCES_PER_QUOTE = 4
_MIN_DEPTH = 12
MAX_QUOTE_CHARS = 1200
"""A quote never exceeds this; a longer run-on sentence is cut to the words around the match."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    sentence: int
    score: float
    weight_present: float
    """Summed weight of the question's terms found in the sentence."""
    own: float = 0.0
    """The sentence's own BM25 score."""
    exact: bool = True
    """False: ``score`` lacks the positional bonuses (the candidate was out of reach of the top)."""


def question_terms(
    index: Index, question: str, language: str | None = None
) -> tuple[list[str], dict[str, float]]:
    """The question's distinct search terms in its language (detected when None), and each
    one's weight in ``index``."""
    language = language or question_language(question, index.languages, index.main_language)
    query = list(dict.fromkeys(tokenize(question, language)))
    return query, {term: index.term_weight(term) for term in query}


def answer(
    index: Index,
    question: str,
    *,
    limit: int = 3,
    offset: int = 0,
    settings: AnswerSettings | None = None,
) -> Answer:
    """Quotes from ``index`` that answer ``question``, best first, or an abstention."""
    settings = settings or AnswerSettings()
    started = time.perf_counter()
    language = question_language(question, index.languages, index.main_language)
    query, weights = question_terms(index, question, language)
    wanted = offset + limit + 1
    ranked = rank_sentences(index, query, settings, weights, question, _depth(wanted))
    assembled = _assemble(index, query, weights, ranked, settings, wanted)
    confidence = 0.0
    if assembled:
        evidence = _evidence(index, question, weights, ranked, assembled[0])
        confidence = refusal_model().probability(evidence)
        if lacks_context(index, weights, evidence, settings.min_context_coverage) or (
            settings.refuse_unknown_names and has_unknown_name(index, question, language)
        ):
            confidence = 0.0
    threshold = (
        refusal_model().threshold if settings.min_confidence is None else settings.min_confidence
    )
    quotes = [q for q, _ in assembled] if assembled and confidence >= threshold else []
    page = quotes[offset : offset + limit]
    return Answer(
        question=question,
        abstained=not quotes,
        quotes=tuple(page),
        latency_ms=(time.perf_counter() - started) * 1000,
        has_more=len(quotes) > offset + limit,
        index_built_at=index.built_at,
        confidence=round(confidence, 4),
    )


def evidence(
    index: Index, question: str, settings: AnswerSettings | None = None
) -> dict[str, float] | None:
    """The refusal model's inputs for the first quote of ``question`` (None: nothing to quote)."""
    settings = settings or AnswerSettings()
    query, weights = question_terms(index, question)
    ranked = rank_sentences(index, query, settings, weights, question, _depth(1))
    assembled = _assemble(index, query, weights, ranked, settings, wanted=1)
    return _evidence(index, question, weights, ranked, assembled[0]) if assembled else None


def lacks_context(
    index: Index, weights: dict[str, float], evidence: dict[str, float], min_coverage: float
) -> bool:
    """The quote's context lacks the question's most informative term and most of the rest:
    what a question about something the collection does not hold looks like. Unknown words
    up to the collection's unseen mass count as held (a small collection lacks many words of
    questions on topic)."""
    if evidence["rarest_in_context"]:
        return False
    unknown, expected = unknown_shares(index, weights)
    return evidence["coverage_context"] + min(unknown, expected) < min_coverage


def _depth(wanted: int) -> int:
    """How many candidates must rank exactly for ``wanted`` quotes and the refusal's margin (a
    quote may take up to four, some are skipped as too weak)."""
    return max(_MIN_DEPTH, 3 * wanted)


def _evidence(
    index: Index,
    question: str,
    weights: dict[str, float],
    ranked: list[_Candidate],
    first: tuple[Quote, tuple[int, int, int]],
) -> dict[str, float]:
    """:data:`retrieval.evidence.FEATURES` of the first quote."""
    quote, (sentence, low, high) = first
    total = sum(weights.values()) or 1.0
    quote_terms = {t for i in range(low, high + 1) for t in index.sentence_tokens[i]}
    row = index.sentences[sentence]
    p_first, p_last = index.passages[row.passage]
    paragraph_terms = {t for i in range(p_first, p_last + 1) for t in index.sentence_tokens[i]}
    title = index.documents[row.document].meta.title
    context = quote_terms | paragraph_terms | heading_terms(title)
    top = max(weights.values(), default=0.0) or 1.0
    rarest = max(weights, key=lambda t: weights[t]) if weights else ""
    missing = [w for t, w in weights.items() if t not in context]
    unknown, expected = unknown_shares(index, weights)
    kind = expected_type(question)
    candidate = next(c for c in ranked if c.sentence == sentence)
    second = next((c.score for c in ranked if c.sentence < low or c.sentence > high), 0.0)
    values = {
        "coverage_quote": sum(w for t, w in weights.items() if t in quote_terms) / total,
        "coverage_paragraph": sum(w for t, w in weights.items() if t in paragraph_terms) / total,
        "coverage_context": sum(w for t, w in weights.items() if t in context) / total,
        "rarest_in_quote": float(rarest in quote_terms),
        "rarest_in_context": float(rarest in context),
        "missing_max": max(missing, default=0.0) / top,
        # Beyond what a question on topic would have: in a small collection ordinary words
        # are often unknown (paraphrase), in a large one they are not.
        "unknown_share": max(0.0, unknown - expected),
        "type_expected": float(kind is not None),
        "type_match": float(
            type_match(
                kind, "".join(index.sentence_text(i) + " " for i in range(low, high + 1)), question
            )
        ),
        "margin": (candidate.score - second) / candidate.score if candidate.score > 0 else 0.0,
        "sentence_bm25": candidate.own / total,
        "terms": math.log1p(len(weights)),
        **edit_evidence(
            question,
            quote.text,
            title,
            " ".join(index.sentence_text(i) for i in range(p_first, p_last + 1)),
        ),
    }
    assert tuple(values) == FEATURES
    return values


def rank_sentences(
    index: Index,
    query: list[str],
    settings: AnswerSettings,
    weights: dict[str, float],
    question: str = "",
    depth: int | None = None,
) -> list[_Candidate]:
    """Candidate sentences scored by their own BM25 plus that of their passage, best first.

    ``weights`` are the query terms' weights (:meth:`Index.term_weight`), used to break ties and
    for the features computed over the candidates only (title, answer type, proximity);
    ``question`` is the question's text, for its answer type. With a ``depth``, only the best
    ``depth`` candidates are sure to be ranked as without it
    (:func:`retrieval.positional.rescore`).
    """
    query, weights = _query(index, query, settings, weights, question)
    found = _gather(index, query, settings, weights, question)
    if found is None:
        return []
    ids, terms, matches, texts = found.ids, found.terms, found.matches, found.texts
    wanted = [name for name, field in WEIGHTS.items() if getattr(settings, field)]
    features = columns(found, wanted, (settings.feedback_passages, settings.feedback_terms))
    cheap = normalised(found.own)
    for name, column in features.items():
        cheap = cheap + getattr(settings, WEIGHTS[name]) * column
    pairs = question_pairs(query, weights) if settings.phrase_weight else {}
    forms = (
        question_forms(question, weights, bool(settings.form_names)) if settings.form_weight else {}
    )
    positional = PositionalBonus(
        terms,
        matches,
        texts,
        pairs,
        forms,
        (settings.proximity_weight, settings.phrase_weight, settings.form_weight),
    )
    combined, exact = rescore(cheap, positional.bounds(), positional.bonus, depth)
    present = matches.weight_present(terms)
    ranked = [
        _Candidate(s, float(score), float(w), float(o), bool(e))
        for s, score, w, o, e in zip(
            ids,
            combined.tolist(),
            present.tolist(),
            found.own.tolist(),
            exact.tolist(),
            strict=True,
        )
    ]
    # Equal scores (all of them 0 on a tiny corpus) are ordered by how much of the question
    # each sentence holds.
    # Those left out by ``depth`` follow, by the part of their score that is known.
    ranked.sort(key=lambda c: (not c.exact, -c.score, -c.weight_present, c.sentence))
    return ranked


def ranking_features(
    index: Index, question: str, settings: AnswerSettings | None = None
) -> tuple[list[int], tuple[str, ...], FloatArray] | None:
    """Every ranking feature of ``question``'s candidates, unweighted (``bench/fit_ranking.py``
    fits their weights): candidate sentence ids, feature names and a candidates × features
    matrix. :func:`rank_sentences`' score is this matrix times :func:`ranking_weights`."""
    settings = settings or AnswerSettings()
    query, weights = question_terms(index, question)
    query, weights = _query(index, query, settings, weights, question)
    found = _gather(index, query, settings, weights, question)
    if found is None:
        return None
    features = columns(
        found, ["sentence", *WEIGHTS], (settings.feedback_passages, settings.feedback_terms)
    )
    pairs = question_pairs(query, weights)
    forms = question_forms(question, weights, bool(settings.form_names))
    every = np.arange(len(found.ids))
    for name, unit in _POSITIONAL.items():
        bonus = PositionalBonus(found.terms, found.matches, found.texts, pairs, forms, unit)
        features[name] = bonus.bonus(every)
    names = tuple(features)
    return found.ids, names, np.column_stack([features[n] for n in names])


def ranking_weights(settings: AnswerSettings, names: Sequence[str]) -> FloatArray:
    """The weights ``settings`` give the features ``names`` of :func:`ranking_features`."""
    return np.asarray(
        [
            1.0 if (field := RANKING_FIELDS[n]) is None else float(getattr(settings, field))
            for n in names
        ]
    )


_POSITIONAL = {"proximity": (1.0, 0.0, 0.0), "phrase": (0.0, 1.0, 0.0), "form": (0.0, 0.0, 1.0)}
""":class:`retrieval.positional.PositionalBonus`'s features, each alone."""
RANKING_FIELDS: dict[str, str | None] = {
    "sentence": None,
    **WEIGHTS,
    **{name: f"{name}_weight" for name in _POSITIONAL},
}
"""Each feature of :func:`ranking_features` -> the ``AnswerSettings`` field of its weight (the
sentence's own normalised BM25 weighs 1)."""


def _query(
    index: Index,
    query: list[str],
    settings: AnswerSettings,
    weights: dict[str, float],
    question: str,
) -> tuple[list[str], dict[str, float]]:
    """The query terms and their weights after the optional rewrites and compounds."""
    if settings.rewrites:
        query = rewrite_query(question, query)
    if settings.compounds:
        extra = compound_terms(question, lambda t: index.sentence_scorer.document_frequency(t) > 0)
        if extra := [t for t in dict.fromkeys(extra) if t not in query]:
            query = query + extra
            weights = {**weights, **{t: index.term_weight(t) for t in extra}}
    return query, weights


def _gather(
    index: Index,
    query: list[str],
    settings: AnswerSettings,
    weights: dict[str, float],
    question: str,
) -> Candidates | None:
    if not query or not index.sentences:
        return None
    return gather(index, query, weights, question, settings.passages, settings.sentences)


def _assemble(
    index: Index,
    query: list[str],
    weights: dict[str, float],
    ranked: list[_Candidate],
    settings: AnswerSettings,
    wanted: int,
) -> list[tuple[Quote, tuple[int, int, int]]]:
    """Quotes, each with ``(sentence, first, last)``: the candidate and the span quoted."""
    total = sum(weights.values())
    terms = QueryTerms.weighted(index, weights)
    quotes: list[tuple[Quote, tuple[int, int, int]]] = []
    used: set[int] = set()
    best: float | None = None
    for candidate in ranked:
        if len(quotes) >= wanted:
            break
        if candidate.sentence in used:
            continue
        if best is not None and candidate.score < settings.min_relative_score * best:
            break
        first, last = _quote_span(index, candidate.sentence, set(query))
        if _length(index, first, last) > MAX_QUOTE_CHARS:
            first = last = candidate.sentence
        span = range(first, last + 1)
        held = (
            candidate.weight_present
            if first == last == candidate.sentence
            else float(sentence_matches(index, span, terms).present.any(axis=0) @ terms.weights)
        )
        coverage = held / total if total else 0.0
        if coverage < settings.min_coverage or any(i in used for i in span):
            continue
        best = candidate.score if best is None else best
        used.update(span)
        quotes.append(
            (_quote(index, first, last, candidate.score, query), (candidate.sentence, first, last))
        )
    return quotes


def _quote_span(index: Index, sentence: int, query: set[str]) -> tuple[int, int]:
    """The sentence with the neighbours it needs: an open quotation, a pronoun's antecedent.

    A following sentence that leans on this one ("It was inaugurated in 1966.") joins too when
    it carries question terms this one lacks.
    """
    first = last = sentence
    text = index.sentence_text(sentence)
    if _closes_quotation(text):
        while sentence - first < _MAX_SENTENCES_PER_QUOTE - 1 and same_paragraph(index, first):
            first -= 1
            if _opens_quotation(index.sentence_text(first)):
                break
    elif _LEANS_BACK.match(text) and same_paragraph(index, first):
        first -= 1
    if _opens_quotation(text) and not _closes_quotation(text):
        # Read on to the end of the quotation: that is usually where its speaker is named.
        while last - first < _MAX_SENTENCES_PER_QUOTE - 1 and same_paragraph(index, last + 1):
            last += 1
            if _closes_quotation(index.sentence_text(last)):
                break
        if not _closes_quotation(index.sentence_text(last)):
            last = sentence
    covered = {t for i in range(first, last + 1) for t in index.sentence_tokens[i]}
    following = last + 1
    if (
        last - first < _MAX_SENTENCES_PER_QUOTE - 1
        and following < len(index.sentences)
        and same_paragraph(index, following)
        and _LEANS_BACK.match(index.sentence_text(following))
        and (set(index.sentence_tokens[following]) & query) - covered
    ):
        last = following
    return first, last


def _length(index: Index, first: int, last: int) -> int:
    return index.sentences[last].end - index.sentences[first].start


def _closes_quotation(text: str) -> bool:
    """The sentence ends a quotation that an earlier sentence opened."""
    straight = text.count('"') % 2 == 1 and not text.lstrip().startswith('"')
    return straight or text.count("”") > text.count("“")


def _opens_quotation(text: str) -> bool:
    straight = text.count('"') % 2 == 1 and text.lstrip().startswith('"')
    return straight or text.count("“") > text.count("”")


def _quote(index: Index, first: int, last: int, score: float, query: list[str]) -> Quote:
    head, tail = index.sentences[first], index.sentences[last]
    document = index.documents[head.document]
    wanted = set(query)
    language = document.meta.language or "en"
    # The quoted span alone is decoded (see Segment.text_slice), not the document's text.
    span = document.text_slice(head.start, tail.end)
    low, high = _window(span, 0, len(span), wanted, language)
    text = normalize_space(span[low:high])
    start, end = head.start + low, head.start + high
    # A stem keeps its word's first letter: only words starting like a query term are stemmed.
    initials = {t[:1] for t in wanted}
    finder = TermFinder(wanted) if language == "en" else None
    terms = tuple(
        dict.fromkeys(
            w
            for w in _WORD.findall(text)
            if w[:1].lower() in initials
            and (
                finder.found_in(w)
                if finder is not None
                else wanted.intersection(_terms(w, language))
            )
        )
    )
    return Quote(
        text=text,
        score=round(score, 4),
        document=document.meta,
        start=start,
        end=end,
        terms=terms,
        page=head.page,
        section=head.section,
    )


def _window(
    text: str, start: int, end: int, wanted: set[str], language: str = "en"
) -> tuple[int, int]:
    """``[start, end)``, or, for a run-on "sentence" longer than a quote may be, the stretch of
    whole words around its first question term."""
    if end - start <= MAX_QUOTE_CHARS:
        return start, end
    anchor = start
    for match in _WORD.finditer(text, start, end):
        if wanted.intersection(_terms(match.group(), language)):
            anchor = match.start()
            break
    low = max(start, anchor - MAX_QUOTE_CHARS // 4)
    high = min(end, low + MAX_QUOTE_CHARS)
    if low > start:
        low = text.find(" ", low, anchor) + 1 or low
    if high < end:
        high = text.rfind(" ", low, high) if text.rfind(" ", low, high) > low else high
    return low, high


@lru_cache(maxsize=100_000)
def _terms(word: str, language: str = "en") -> tuple[str, ...]:
    return tuple(tokenize(word, language))
