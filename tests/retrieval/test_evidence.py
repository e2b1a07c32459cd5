"""What unanswerable questions change in the sentence they resemble, and the shipped model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from retrieval.answer import answer, evidence, lacks_context
from retrieval.evidence import FEATURES, edit_evidence, refusal_model
from retrieval.index import Index
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span


def test_a_negation_the_quote_lacks() -> None:
    quote = "French fur traders and trappers traveled throughout the St. Lawrence watershed."
    assert edit_evidence("Where didn't French fur trappers travel?", quote)["negation_lost"] == 1
    assert edit_evidence("Where did French fur trappers travel?", quote)["negation_lost"] == 0
    kept = "The treaty was not signed by France."
    assert edit_evidence("Who did not sign the treaty?", kept)["negation_lost"] == 0


def test_an_antonym_listed_or_made_by_a_prefix() -> None:
    quote = "Per unit costs in private schools are generally lower when compared to public schools."
    assert edit_evidence("What is higher in private schools?", quote)["antonym"] == 1
    assert edit_evidence("What is lower in private schools?", quote)["antonym"] == 0
    ties = "It holds ties with a number of independent academic institutions, including Fermilab."
    assert edit_evidence("It has ties to which dependent institutions?", ties)["antonym"] == 1
    assert edit_evidence("It has ties to which independent institutions?", ties)["antonym"] == 0


def test_a_number_or_ordinal_the_quote_lacks() -> None:
    quote = "A molecular phylogeny analysis in 2001 used 26 species."
    assert edit_evidence("How many species were analysed in 1985?", quote)["number_lost"] == 1
    assert edit_evidence("How many species were analysed in 2001?", quote)["number_lost"] == 0
    framed = "In 1985 a survey began. It counted 26 species."
    assert (
        edit_evidence("How many species in 1985?", "It counted 26 species.", "", framed)[
            "number_lost"
        ]
        == 0
    )
    game = "The game was played on February 7, 2016, at Levi's Stadium."
    assert edit_evidence("Where was Super Bowl 50 held?", game, "Super Bowl 50")["number_lost"] == 0
    assert (
        edit_evidence("What was the trend from the 1970s on?", "In 1977 it rose.")["number_lost"]
        == 0
    )
    first = "It was the first foreign dynasty to rule all of China."
    assert edit_evidence("Who was the 3rd to rule China?", first)["number_lost"] == 1
    assert edit_evidence("Which was the first dynasty to rule China?", first)["number_lost"] == 0


def test_a_name_in_neither_quote_nor_title() -> None:
    quote = "Charles W. Eliot eliminated the favored position of Christianity from the curriculum."
    assert (
        edit_evidence("What did Channing eliminate from the curriculum?", quote)["name_lost"] == 1
    )
    assert edit_evidence("What did Eliot eliminate from the curriculum?", quote)["name_lost"] == 0
    assert (
        edit_evidence("What did Harvard eliminate?", quote, title="Harvard University")["name_lost"]
        == 0
    )
    # Possessives, accents and derived forms are the same name.
    khan = "In 1354 Toghun Temür suddenly dismissed him; the Brazilian Amazon lost forests."
    assert edit_evidence("Why did Temur's army leave?", khan)["name_lost"] == 0
    assert edit_evidence("What happened in Brazil's part of the Amazon?", khan)["name_lost"] == 0
    # The question's first word is capitalised anyway.
    assert edit_evidence("Curriculum changes came from whom?", quote)["name_lost"] == 0


def test_the_shipped_model_uses_known_features() -> None:
    model = refusal_model()
    assert set(model.features) <= set(FEATURES)
    assert {"negation_lost", "antonym", "number_lost"} <= set(model.features)
    values = dict.fromkeys(FEATURES, 0.5)
    lost = {**values, "negation_lost": 1.0}
    kept = {**values, "negation_lost": 0.0}
    assert model.probability(lost) < model.probability(kept)


def test_unknown_words_count_beyond_the_collections_unseen_mass(
    shipped_corpus: Path, index_of: Callable[[Path], Index]
) -> None:
    """In a small collection many ordinary words of a question on topic are unknown: only the
    unknown share beyond the collection's unseen mass (Good-Turing) is evidence against it."""
    index = index_of(shipped_corpus)
    mass = index.sentence_scorer.unseen_mass
    assert 0.2 < mass < 0.5  # two articles; a large collection's is a few percent
    # "hamlets" is unknown here, a small share of the question.
    on_topic = evidence(index, "Which hamlets of Fuzuli district were liberated?")
    assert on_topic is not None and on_topic["unknown_share"] == 0
    off_topic = evidence(index, "Recommend a good pizza recipe")
    assert off_topic is not None and off_topic["unknown_share"] > 0.3
    assert answer(index, "Recommend a good pizza recipe").abstained
    assert not answer(index, "Which hamlets of Fuzuli district were liberated?").abstained


def test_a_collection_of_a_few_sentences_does_not_excuse_unknown_words(
    tmp_path: Path, index_of: Callable[[Path], Index]
) -> None:
    """Three sentences have an unseen mass of 0.7, more than the model was fitted on: it is
    taken as 0.4, so most of an off-topic question's unknown weight still counts."""
    (tmp_path / "mill.txt").write_text(
        "The old mill\n\nThe old mill on the river Kessel grinds wheat for the village. "
        "It was rebuilt after the flood of 1921.\n\nFarmers bring their wheat to the mill.\n",
        encoding="utf-8",
    )
    index = index_of(tmp_path)
    assert index.sentence_scorer.unseen_mass > 0.6
    off_topic = "Recommend a good pizza recipe with wheat from farmers"
    found = evidence(index, off_topic)
    assert found is not None and found["unknown_share"] > 0.3
    assert answer(index, off_topic).abstained
    assert not answer(index, "When was the mill rebuilt?").abstained


def test_unseen_mass_is_the_share_of_single_occurrences() -> None:
    records = (
        SentenceRecord(0, 0, 3, ("a", "b")),
        SentenceRecord(0, 4, 7, ("a", "c", "c")),  # "c" once for this sentence
        SentenceRecord(0, 8, 11, ("a",)),
    )
    text = "abc abc abc"
    document = ParsedDocument(DocumentMeta("d", "d"), text, "", (Span(0, 11),), records)
    # Terms a (3 sentences), b (1), c (1): 2 single occurrences of 5.
    assert Index([document]).sentence_scorer.unseen_mass == 2 / 5
    assert Index([]).sentence_scorer.unseen_mass == 0.0


def test_a_quote_whose_context_lacks_the_rarest_term_and_most_of_the_rest(
    shipped_corpus: Path, index_of: Callable[[Path], Index]
) -> None:
    index = index_of(shipped_corpus)
    known = {t: index.term_weight(t) for t in ("armenia", "border", "villag")}
    assert all(index.sentence_scorer.document_frequency(t) for t in known)
    lacking = {"rarest_in_context": 0.0, "coverage_context": 0.2}
    assert lacks_context(index, known, lacking, 0.35)
    assert not lacks_context(index, known, lacking, 0.0)  # the rule switched off
    assert not lacks_context(index, known, {**lacking, "rarest_in_context": 1.0}, 0.35)
    assert not lacks_context(index, known, {**lacking, "coverage_context": 0.4}, 0.35)
    # Unknown words, up to the collection's unseen mass (0.34 here), count as held.
    unknown = {**known, "zyxwv": sum(known.values())}  # half the question's weight
    assert not lacks_context(index, unknown, lacking, 0.35)
