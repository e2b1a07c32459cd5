"""Ranking features as columns (:mod:`retrieval.candidates`) and the matrix the fit reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from retrieval.answer import (
    AnswerSettings,
    question_terms,
    rank_sentences,
    ranking_features,
    ranking_weights,
)
from retrieval.candidates import Candidates, columns, gather
from retrieval.evidence import holds_year
from retrieval.index import Index

IndexOf = Callable[[Path], Index]


def test_the_ranking_is_the_feature_matrix_times_the_weights(
    index_of: IndexOf, shipped_corpus: Path
) -> None:
    # bench/fit_ranking.py fits weights on ranking_features: its matrix must be what ranks.
    index = index_of(shipped_corpus)
    settings = AnswerSettings()
    for question in (
        "What did Aliyev call a source of great threat to the region?",
        "When was the ceasefire signed?",
        "How many villages were recaptured in the anti-terror operation?",
    ):
        query, weights = question_terms(index, question)
        ranked = {
            c.sentence: c.score for c in rank_sentences(index, query, settings, weights, question)
        }
        found = ranking_features(index, question, settings)
        assert found is not None
        ids, names, matrix = found
        scores = matrix @ ranking_weights(settings, names)
        assert set(ids) == set(ranked)
        assert np.allclose(scores, [ranked[i] for i in ids], rtol=0, atol=1e-9)


def indexed(tmp_path: Path, index_of: IndexOf, text: str) -> Index:
    (tmp_path / "doc.txt").write_text(text, encoding="utf-8")
    return index_of(tmp_path)


def candidates_of(index: Index, question: str) -> tuple[Candidates, dict[str, float]]:
    """The question's candidates (as ranking gathers them) and its term weights."""
    query, weights = question_terms(index, question)
    found = gather(index, query, weights, question, 10, 20)
    assert found is not None
    return found, weights


def test_context_is_what_a_sentence_holds_with_the_one_before(
    tmp_path: Path, index_of: IndexOf
) -> None:
    index = indexed(
        tmp_path,
        index_of,
        "The harbour of Kessel\n\nThe harbour of Kessel was dredged last spring. "
        "It now takes ships of ten metres.\n\nFishing boats leave at dawn.\n",
    )
    found, _ = candidates_of(index, "How deep are ships in the harbour of Kessel?")
    result = columns(found, ["coverage", "context"])
    for n, sentence in enumerate(found.ids):
        if index.sentence_text(sentence).startswith("It now takes ships"):
            # Alone it holds "ship"; with the sentence before it, "harbour" and "kessel" too.
            assert result["context"][n] > result["coverage"][n]
        if index.sentence_text(sentence).startswith("The harbour"):
            # First of its paragraph: nothing before it to lend.
            assert result["context"][n] == result["coverage"][n]


def test_near_is_the_share_held_only_as_a_form_with_the_same_first_letters(
    tmp_path: Path, index_of: IndexOf
) -> None:
    index = indexed(
        tmp_path,
        index_of,
        "Telephones\n\nBell was the inventor of the telephone.\n\n"
        "The telephone rang twice.\n\nBell invented the telephone in 1876.\n",
    )
    question = "Who invented the telephone?"
    found, weights = candidates_of(index, question)
    near = dict(zip(found.ids, columns(found, ["near"])["near"].tolist(), strict=True))
    by_text = {index.sentence_text(i): share for i, share in near.items()}
    share = weights["invent"] / sum(weights.values())
    # "inventor" is not "invent" to Snowball: held as a near form.
    assert by_text["Bell was the inventor of the telephone."] == share
    # Held as the very term is not near; a sentence without any form of it holds nothing.
    assert by_text["Bell invented the telephone in 1876."] == 0
    assert by_text["The telephone rang twice."] == 0
    query = list(weights)
    ranked = rank_sentences(index, query, AnswerSettings(), weights, question)
    texts = [index.sentence_text(c.sentence) for c in ranked]
    assert texts.index("Bell was the inventor of the telephone.") < texts.index(
        "The telephone rang twice."
    )


def test_holds_year_takes_years_decades_and_months_only() -> None:
    assert holds_year("In 1896, the university affiliated with Shimer College.")
    assert holds_year("It grew in the 1970s.") and holds_year("It was played on February 7.")
    assert not holds_year("He played at age 39 during the season.")
    assert not holds_year("It cost 12000 dollars on Monday.")
