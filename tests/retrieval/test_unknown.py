from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answer import AnswerSettings, answer
from retrieval.corpus import load_document
from retrieval.index import Index, IndexSettings, Part
from retrieval.index_dir import IndexDirectory
from retrieval.segment import Segment, Vocabulary
from retrieval.unknown import _sorted_vocabulary, _titles, unknown_names, unknown_shares


def _indexed(folder: Path, *documents: tuple[str, str]) -> Index:
    """An index of one Markdown file per (title, text)."""
    folder.mkdir(parents=True, exist_ok=True)
    loaded = []
    for number, (title, text) in enumerate(documents):
        path = folder / f"{number}.md"
        path.write_text(f"---\ntitle: {title}\n---\n{text}\n", encoding="utf-8")
        loaded.append(load_document(path.name, path))
    return Index(loaded)


@pytest.fixture(scope="module")
def football(tmp_path_factory: pytest.TempPathFactory) -> Index:
    return _indexed(
        tmp_path_factory.mktemp("football"),
        (
            "Denver Broncos",
            "The Broncos won the championship game in Santa Clara in February.\n\n"
            "Their quarterback threw two touchdown passes, and the defence held the Panthers "
            "to ten points.\n\nThe Nepali coach Setanta trained the team in Schrödinger Park on "
            "D'Olier Street.",
        ),
        ("Levi's Stadium", "The stadium seats 68,500 people."),
    )


@pytest.mark.parametrize(
    "question",
    [
        "Who coached the Broncos?",
        "Where did the Broncos play the Panthers?",
        "Which team did Broncos' defence hold?",
        # Accents, forms and typing slips of names the collection holds.
        "Where is Schrodinger Park?",
        "Who trained the Nepalese team?",
        "Who is Sentanta?",
        "Who is Setnata?",
        "Where is D'Olier Street?",
        # A title's words, and acronyms (their spelled-out forms may be what the text holds).
        "How many people does Levi's Stadium seat?",
        "How many people watched the NFL final?",
        # The question's first word, and a word after a colon, start a sentence.
        "Quarterback: how many passes did he throw?",
        "Yesterday, who won?",
    ],
)
def test_names_the_collection_mentions_in_some_form_are_known(
    football: Index, question: str
) -> None:
    assert unknown_names(football, question) == []


def test_names_the_collection_never_mentions_are_unknown(football: Index) -> None:
    assert unknown_names(football, "How many passes did Peyton Manning throw?") == [
        "Peyton",
        "Manning",
    ]
    assert unknown_names(football, "Did the Broncos play in Kenya's Mombasa?") == [
        "Kenya's",
        "Mombasa",
    ]


def test_only_english_questions_are_checked(football: Index) -> None:
    # German capitalises every noun; the typing slips are English ones.
    assert unknown_names(football, "Wer hat die Meisterschaft gewonnen?", "de") == []
    assert unknown_names(football, "Qui a gagné contre Bordeaux ?", "fr") == []
    assert unknown_names(football, "Who beat Bordeaux?", "en") == ["Bordeaux"]


@pytest.mark.parametrize(
    "question",
    [
        # Nationality and language words: the text may name only the country.
        "Did the French coach train the Broncos?",
        "How many Swiss fans watched the Broncos?",
        "Who sang the Bohemian anthem?",
        # Title case, and a question opening with a symbol or a number.
        "Where Did The Broncos Win The Championship Game?",
        "🙂 Describe the Broncos championship game",
        "1) Describe the Broncos championship game",
    ],
)
def test_capitals_that_are_no_sign_of_a_name(football: Index, question: str) -> None:
    assert unknown_names(football, question) == []


def test_section_headings_mention_names(tmp_path: Path) -> None:
    index = _indexed(
        tmp_path, ("Season", "Intro text here.\n\n## Peyton Manning\n\nHe threw many passes.")
    )
    assert unknown_names(index, "How many passes did Peyton Manning throw?") == []


def test_each_question_checks_a_few_names_at_bounded_cost(football: Index) -> None:
    many = " ".join(f"Zq{chr(97 + i)}xv{chr(97 + j)}" for i in range(10) for j in range(10))
    assert len(unknown_names(football, f"Who met {many}?")) == 8
    assert unknown_names(football, f"Who is {'Q' + 'w' * 400}?") == ["Q" + "w" * 400]


def test_an_unknown_name_refuses_an_answer_its_other_words_would_get(football: Index) -> None:
    question = "How many touchdown passes did the Broncos quarterback Tom Brady throw?"
    refused = answer(football, question)
    assert refused.abstained and refused.confidence == 0.0
    allowed = answer(football, question, settings=AnswerSettings(refuse_unknown_names=False))
    assert allowed.quotes and "touchdown passes" in allowed.quotes[0].text
    answered = answer(football, "How many touchdown passes did the Broncos quarterback throw?")
    assert answered.quotes and "touchdown passes" in answered.quotes[0].text


def test_unknown_shares_weigh_unknown_terms_against_the_unseen_mass(football: Index) -> None:
    weights = {"bronco": 1.0, "zebra": 3.0}
    unknown, expected = unknown_shares(football, weights)
    assert unknown == pytest.approx(0.75)
    assert 0 < expected <= 0.4


def test_titles_are_read_once_per_index(tmp_path: Path) -> None:
    first = _indexed(tmp_path / "first", ("Kasparov Games", "He won in 1985."))
    second = _indexed(tmp_path / "second", ("Karpov Games", "He won in 1985."))
    assert unknown_names(first, "When did Kasparov win?") == []
    assert unknown_names(second, "When did Kasparov win?") == ["Kasparov"]
    assert unknown_names(first, "When did Karpov win?") == ["Karpov"]


def test_stored_heading_terms_are_those_tokenized_from_the_live_titles(tmp_path: Path) -> None:
    """Written segments store their titles' and headings' terms (a start no longer tokenizes
    every title); a deleted document's title no longer counts, and a segment written before
    they were stored gives the same terms, tokenized."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    texts = {
        "a.md": "---\ntitle: Kasparov Games\n---\nHe won in 1985.\n\n## Deep Blue\n\nIt lost.\n",
        "b.md": "---\ntitle: Karpov Games\n---\nHe won in 1975.\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    documents = [load_document(name, folder / name) for name in texts]
    vocabulary = Index([]).vocabulary
    [part] = IndexDirectory(tmp_path / "index").write_segments(
        documents, vocabulary, IndexSettings()
    )
    assert part.segment.heading_term_ids() is not None
    stored = Index(parts=[part], vocabulary=vocabulary)
    assert unknown_names(stored, "When did Karpov lose to Deep Blue?") == []
    without_b = Index(parts=[Part(part.segment, frozenset({1}))], vocabulary=vocabulary)
    assert unknown_names(without_b, "When did Karpov lose to Deep Blue?") == ["Karpov"]
    assert part.segment.path is not None
    for name in ("title_terms", "doc_title_terms", "section_terms"):
        (part.segment.path / f"{name}.npy").unlink()
    older = Part(Segment.open(part.segment.path), frozenset({1}))
    assert older.segment.heading_term_ids() is None
    index = Index(parts=[older], vocabulary=vocabulary)
    assert unknown_names(index, "When did Karpov lose to Deep Blue?") == ["Karpov"]
    assert _titles(index)[0] == _titles(without_b)[0]


def test_the_sorted_vocabulary_merges_the_terms_an_update_adds() -> None:
    """Updates share one growing vocabulary: its sorted copy takes the new terms in, it is not
    sorted again from scratch for each new index."""
    vocabulary = Vocabulary(["kasparov", "deep", "blue"])
    first = _sorted_vocabulary(vocabulary)
    assert first == ["blue", "deep", "kasparov"]
    assert _sorted_vocabulary(vocabulary) is first
    vocabulary.add("karpov")
    vocabulary.add("anand")
    assert _sorted_vocabulary(vocabulary) == sorted(vocabulary.terms)
