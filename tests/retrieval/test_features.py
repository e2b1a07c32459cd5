"""The ranking features of :mod:`retrieval.features`, alone and inside the answer ranking."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from retrieval.answer import AnswerSettings, rank_sentences
from retrieval.corpus import iter_corpus_files, load_document
from retrieval.features import (
    compound_terms,
    context_terms,
    feedback_share,
    feedback_terms,
    form_share,
    holds_word,
    lent_share,
    phrase_share,
    question_forms,
    question_pairs,
    refers_back,
    rewrite_query,
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


def test_question_forms_keep_words_as_written() -> None:
    weights = {"paper": 2.0, "math": 1.0, "write": 0.5}
    forms = question_forms("What paper did Mathes write?", weights)
    assert forms == {"paper": 2.0, "mathes": 1.0, "write": 0.5}
    assert question_forms("What paper did Mathes write?", weights, names_only=True) == {
        "mathes": 1.0
    }
    # "maths" and "Mathes" share the stem "math"; only the written form tells them apart.
    assert form_share("Professor Mathes wrote a paper.", forms) > form_share(
        "The maths paper.", forms
    )
    assert form_share("anything", {}) == 0.0


def test_holds_word_is_membership_in_the_words_of_the_text() -> None:
    surface = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # features._SURFACE
    alphabet = [*"ab'_ 1.-", "é", "\u0307", "İ", "²", "’"]
    draw = random.Random(7)
    for _ in range(20_000):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 12)))
        words = surface.findall(text)
        word = (
            draw.choice(words)
            if words and draw.random() < 0.5
            else "".join(draw.choice(alphabet) for _ in range(draw.randint(1, 4)))
        )
        assert holds_word(text, word) == (word in words), (text, word)
    assert holds_word("o'brien's paris2 paris", "paris")
    assert not holds_word("o'brien's paris2", "brien")
    assert not holds_word("o'brien's paris2", "paris")


@pytest.mark.parametrize(
    ("question", "dropped"),
    [
        ("How many people live in Warsaw?", "mani"),
        ("How much did the bridge cost?", "much"),
        ("In what year did the bridge open?", "year"),
        ("What century was the castle built?", "centuri"),
        ("What is the name of the river?", "name"),
        ("What type of engine does it use?", "type"),
    ],
)
def test_rewrite_drops_the_asking_words(question: str, dropped: str) -> None:
    query = tokenize(question)
    assert dropped in query
    rewritten = rewrite_query(question, query)
    assert dropped not in rewritten
    assert set(rewritten) == set(query) - {dropped}


def test_rewrite_keeps_words_that_name_the_topic() -> None:
    for question in ("Why do many people live in Warsaw?", "Which name did he choose?"):
        assert rewrite_query(question, tokenize(question)) == tokenize(question)
    assert rewrite_query("How many?", ["mani"]) == ["mani"]  # never an empty query


def test_refers_back_sees_pronouns_in_the_first_words() -> None:
    assert refers_back("It was commissioned by Odo.")
    assert refers_back("During that year, Tesla worked in Pittsburgh.")
    assert refers_back("In 1888 he moved.")
    assert not refers_back("The Panthers then blew out the Cardinals.")
    assert not refers_back("Italy is a country.")


def test_lent_share_is_what_the_previous_sentence_adds() -> None:
    weights = {"tapestri": 3.0, "commiss": 1.0}
    assert lent_share(("commiss", "odo"), ("bayeux", "tapestri"), weights) == 0.75
    assert lent_share(("commiss", "tapestri"), ("tapestri",), weights) == 0.0


def test_a_sentence_referring_back_borrows_its_antecedent(tmp_path: Path) -> None:
    (tmp_path / "art.txt").write_text(
        "Norman art\n\nThe most famous work of Norman art, praised by scholars and visitors for "
        "centuries, is the Bayeux Tapestry. It was "
        "commissioned by Odo, the Bishop of Bayeux.\n\nThe cathedral was commissioned by the "
        "king.\n\nA tapestry hung in the hall.\n\nKnights rode horses.\n\nFarmers grew wheat.\n",
        encoding="utf-8",
    )
    index = build_index(tmp_path)
    question = "Who commissioned the tapestry?"
    query = list(dict.fromkeys(tokenize(question)))
    weights = {t: index.term_weight(t) for t in query}

    def scores(settings: AnswerSettings) -> dict[str, float]:
        ranked = rank_sentences(index, query, settings, weights, question)
        return {index.sentence_text(c.sentence)[:14]: c.score for c in ranked}

    lent = scores(AnswerSettings(antecedent_weight=1.0))
    plain = scores(AnswerSettings(antecedent_weight=0.0))
    # "It was commissioned by Odo" gets the tapestry of the sentence before it; the cathedral's
    # sentence names its own subject.
    share = weights["tapestri"] / sum(weights.values())
    assert lent["It was commiss"] == pytest.approx(plain["It was commiss"] + share)
    assert lent["The cathedral "] == plain["The cathedral "]


def test_compounds_match_their_parts_and_back() -> None:
    known = set(tokenize("The steelworkers union and the headset")).__contains__
    assert compound_terms("Who are the steel workers?", known) == tokenize("steelworkers")
    assert compound_terms("What is a head set?", known) == tokenize("headset")
    parts = set(tokenize("steel workers")).__contains__
    assert compound_terms("Are steelworkers paid?", parts) == tokenize("steel workers")
    # Words the index knows as they are are not split; short words are not joined.
    assert compound_terms("Are steelworkers paid?", known) == []
    assert compound_terms("Is it a do it?", lambda term: True) == []


def test_a_question_finds_the_other_spelling_of_a_compound(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Mills\n\nThe dockers went on strike in June.\n\nThe steelworkers went on strike in May."
        "\n\nBakers bake bread.\n\nPainters paint walls.\n",
        encoding="utf-8",
    )
    index = build_index(tmp_path)
    question = "When did the steel workers go on strike?"
    query = list(dict.fromkeys(tokenize(question)))
    weights = {t: index.term_weight(t) for t in query}

    def top(settings: AnswerSettings) -> str:
        ranked = rank_sentences(index, query, settings, weights, question)
        return index.sentence_text(ranked[0].sentence)

    assert top(AnswerSettings(compounds=1)).startswith("The steelworkers")
    # Without near forms too ("steelworkers" begins like "steel"), which would find it.
    assert not top(AnswerSettings(compounds=0, near_weight=0)).startswith("The steelworkers")
