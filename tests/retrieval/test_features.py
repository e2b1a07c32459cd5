"""The ranking features of :mod:`retrieval.features`, alone and inside the answer ranking."""

from __future__ import annotations

from pathlib import Path

from retrieval.answer import AnswerSettings, rank_sentences
from retrieval.corpus import iter_corpus_files, load_document
from retrieval.features import (
    context_terms,
    feedback_share,
    feedback_terms,
    phrase_share,
    question_pairs,
)
from retrieval.index import Index
from retrieval.text import tokenize


def build_index(corpus: Path) -> Index:
    return Index([load_document(name, path) for name, path in iter_corpus_files(corpus)])


def test_context_terms_join_the_title_and_the_section() -> None:
    assert context_terms("Staff handbook", None) == frozenset({"staff", "handbook"})
    assert context_terms("Staff handbook", "Remote work") >= {"staff", "remot", "work"}


def test_a_sentence_inherits_its_section_heading(tmp_path: Path) -> None:
    # Both sentences hold "days" and "employees"; only the heading above the first says what
    # the days are for, as a reader of the document sees.
    (tmp_path / "handbook.md").write_text(
        "# Staff handbook\n\n## Leave\n\nEmployees choose five days.\n\n## Remote work\n\n"
        "Employees choose two days a week.\n\n## Office\n\n"
        "The office opens at eight.\n\nLunch is served at noon.\n\nVisitors sign in at the desk."
        "\n\nParking is free for cyclists.\n",
        encoding="utf-8",
    )
    index = build_index(tmp_path)
    question = "How many days of remote work do employees choose?"
    query = list(dict.fromkeys(tokenize(question)))
    weights = {t: index.term_weight(t) for t in query}
    top = rank_sentences(index, query, AnswerSettings(), weights, question)[0]
    assert index.sentences[top.sentence].section == "Remote work"
    assert index.sentence_text(top.sentence).startswith("Employees choose two days")


def test_question_pairs_follow_the_question_order() -> None:
    weights = {"super": 1.0, "bowl": 3.0, "50": 2.0}
    assert question_pairs(["super", "bowl", "50"], weights) == {
        ("super", "bowl"): 2.0,
        ("bowl", "50"): 2.5,
    }
    # A name's stem and its own form are one word, not a phrase.
    assert question_pairs(tokenize("Paris"), {"pari": 1.0, "paris": 1.0}) == {}


def test_phrase_share_counts_pairs_in_order_and_close_together() -> None:
    pairs = {("steel", "worker"): 1.0, ("worker", "strike"): 1.0}
    assert phrase_share(["steel", "worker", "strike"], pairs) == 1.0
    assert phrase_share(["steel", "union", "worker"], pairs) == 0.5  # one word between
    assert phrase_share(["strike", "worker", "steel"], pairs) == 0.0  # order
    assert phrase_share(["steel", "worker"], {}) == 0.0


def test_phrase_bonus_prefers_the_sentence_with_the_question_phrase(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Notes\n\nThe red army crossed the white river in the spring.\n\n"
        "The white army crossed the red river in the spring.\n",
        encoding="utf-8",
    )
    index = build_index(tmp_path)
    question = "When did the white army cross the river?"
    query = list(dict.fromkeys(tokenize(question)))
    weights = {t: index.term_weight(t) for t in query}
    with_phrase = AnswerSettings(phrase_weight=0.5)
    top = rank_sentences(index, query, with_phrase, weights, question)[0]
    assert index.sentence_text(top.sentence).startswith("The white army")
    without = rank_sentences(index, query, AnswerSettings(phrase_weight=0.0), weights, question)
    assert without[0].score == without[1].score


def test_feedback_terms_come_from_the_best_passages_without_the_question_terms() -> None:
    passages = [
        ([("nile", "flood", "egypt"), ("flood", "silt")], 2.0),
        ([("flood", "delta", "sea", "sand")], 1.0),
    ]
    terms = feedback_terms(passages, {"nile": 1.0}, size=2)
    assert list(terms) == ["flood", "egypt"]
    assert "nile" not in feedback_terms(passages, {"nile": 1.0})
    assert feedback_terms([], {"nile": 1.0}) == {}
    assert feedback_share(("flood", "x"), terms) > feedback_share(("egypt",), terms) > 0
