from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval.scoring import BM25Parameters, RankBM25Scorer
from retrieval.text import tokenize

SENTENCES = [
    "The army liberated villages of Fuzuli district.",
    "NATO is deeply concerned by violations of the cease-fire.",
    "The region became part of the Russian empire in the 19th century.",
    "Villages near the border with Iran were liberated by the army.",
    "Tourists ride the yellow trams of Lisbon.",
    "The cease-fire was signed in May 1994 in Bishkek.",
    "Iran called for respect of international borders.",
]


@pytest.mark.parametrize("parameters", [BM25Parameters(1.5, 0.75), BM25Parameters(0.9, 0.4)])
@pytest.mark.parametrize(
    "question", ["Which villages were liberated?", "cease-fire violations", "border Iran army"]
)
def test_ranking_equals_rank_bm25_get_scores(parameters: BM25Parameters, question: str) -> None:
    tokens = [tokenize(s) for s in SENTENCES]
    query = list(dict.fromkeys(tokenize(question)))
    reference = BM25Okapi(tokens, k1=parameters.k1, b=parameters.b).get_scores(query)
    expected = [int(i) for i in np.argsort(-reference, kind="stable") if reference[i] > 0]

    hits = RankBM25Scorer(tokens, parameters).top(query, k=len(SENTENCES))

    assert [h.unit for h in hits] == expected
    assert [h.score for h in hits] == pytest.approx([reference[i] for i in expected])


def test_scores_of_units_without_query_terms_are_zero() -> None:
    tokens = [tokenize(s) for s in SENTENCES]
    scorer = RankBM25Scorer(tokens, BM25Parameters())
    assert scorer.scores(tokenize("trams"), [0, 4]) == [
        0.0,
        pytest.approx(scorer.top(tokenize("trams"), 1)[0].score),
    ]
    assert scorer.document_frequency(tokenize("liberated")[0]) == 2


def test_empty_scorer_returns_nothing() -> None:
    scorer = RankBM25Scorer([], BM25Parameters())
    assert scorer.top(["anything"], 5) == []
    assert len(scorer) == 0
