"""Positional bonuses computed only where they can matter (:mod:`retrieval.positional`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from retrieval.answer import AnswerSettings, rank_sentences
from retrieval.corpus import iter_corpus_files, load_document
from retrieval.features import question_forms, question_pairs
from retrieval.index import Index
from retrieval.matching import QueryTerms, sentence_matches
from retrieval.positional import PositionalBonus, densest, rescore
from retrieval.text import tokenize

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def index() -> Index:
    return Index([load_document(name, path) for name, path in iter_corpus_files(CORPUS)])


QUESTIONS = [
    "When did the war in Nagorno-Karabakh start?",
    "Which drones did Azerbaijan use?",
    "What role did Turkey play in the conflict?",
    "How many soldiers were killed?",
    "Who brokered the ceasefire agreement?",
]


def _ranking(total: np.ndarray, exact: np.ndarray) -> list[int]:
    return sorted(range(len(total)), key=lambda n: (not exact[n], -total[n], n))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("depth", [1, 5, 12])
def test_rescore_ranks_the_best_depth_as_if_every_bonus_were_computed(
    seed: int, depth: int
) -> None:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 80))
    scores = rng.random(count)
    bounds = rng.random(count) * 0.5
    true_bonus = bounds * rng.random(count)
    asked: list[int] = []

    def bonus(rows: npt.NDArray[np.int64]) -> np.ndarray:
        asked.extend(rows.tolist())
        return np.asarray(true_bonus[rows])

    full, everywhere = rescore(scores, bounds, lambda rows: true_bonus[rows], None)
    assert everywhere.all()
    np.testing.assert_allclose(full, scores + true_bonus)
    total, exact = rescore(scores, bounds, bonus, depth)
    assert len(asked) == len(set(asked)) == int(exact.sum())
    assert _ranking(total, exact)[:depth] == _ranking(full, everywhere)[:depth]
    np.testing.assert_allclose(total[exact], full[exact])
    np.testing.assert_array_equal(total[~exact], scores[~exact])


def test_rescore_skips_candidates_that_cannot_reach_the_top() -> None:
    scores = np.asarray([10.0, 9.0, 1.0, 0.5, 0.2] + [0.1] * 20)
    bounds = np.full(len(scores), 0.5)
    calls: list[list[int]] = []

    def bonus(rows: npt.NDArray[np.int64]) -> np.ndarray:
        calls.append(rows.tolist())
        return np.full(len(rows), 0.5)

    total, exact = rescore(scores, bounds, bonus, 2)
    # After the first two, the second best total (9.5) is above every other bound (<= 1.5).
    assert calls == [[0, 1]]
    assert exact[:2].all() and not exact[-1]
    assert total[0] == 10.5 and total[-1] == 0.1


def test_densest_window_counts_each_term_once() -> None:
    weights = [1.0, 2.0, 4.0]
    assert densest([(0, 0), (1, 0), (3, 1)], weights) == 3.0
    # Terms 0 and 2 stand 20 tokens apart: no window of 8 holds both.
    assert densest([(0, 0), (2, 1), (22, 2)], weights) == 4.0


@pytest.mark.parametrize("question", QUESTIONS)
def test_bounds_are_never_below_the_bonuses(index: Index, question: str) -> None:
    query = list(dict.fromkeys(tokenize(question)))
    weights = {t: index.term_weight(t) for t in query}
    terms = QueryTerms.weighted(index, weights)
    ids = list(range(0, len(index.sentences), 3))
    matches = sentence_matches(index, ids, terms)
    texts = [index.sentence_text(s) for s in ids]
    positional = PositionalBonus(
        terms,
        matches,
        texts,
        question_pairs(query, weights),
        question_forms(question, weights),
        (0.3, 0.2, 0.1),
    )
    bonus = positional.bonus(np.arange(len(ids), dtype=np.int64))
    assert (bonus >= 0).all() and bonus.max() > 0
    assert (positional.bounds() >= bonus).all()


def test_matches_take_equals_matching_those_units_alone(index: Index) -> None:
    terms = QueryTerms.of(index, ["war", "karabakh", "drone"])
    ids = list(range(40))
    matches = sentence_matches(index, ids, terms)
    rows = np.asarray([7, 3, 30], dtype=np.int64)
    taken = matches.take(rows)
    alone = sentence_matches(index, [ids[r] for r in rows.tolist()], terms)
    np.testing.assert_array_equal(taken.tf, alone.tf)
    np.testing.assert_array_equal(taken.lengths, alone.lengths)
    assert taken.positions() == alone.positions()


@pytest.mark.parametrize("question", QUESTIONS)
def test_ranking_with_a_depth_keeps_the_best_depth_exactly(index: Index, question: str) -> None:
    settings = AnswerSettings()
    query = list(dict.fromkeys(tokenize(question)))
    weights = {t: index.term_weight(t) for t in query}
    full = rank_sentences(index, query, settings, weights, question)
    assert all(c.exact for c in full)
    for depth in (1, 6, 12):
        cut = rank_sentences(index, query, settings, weights, question, depth)
        assert [(c.sentence, c.score) for c in cut[:depth]] == [
            (c.sentence, c.score) for c in full[:depth]
        ]
