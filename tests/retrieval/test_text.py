from __future__ import annotations

import pytest

from retrieval.text import iter_sentences, paragraphs, tokenize


def split(text: str) -> list[str]:
    return [text[s.start : s.end] for _, s in iter_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones in the U.S. yesterday. They talked.",
            ["Mr. Smith met Dr. Jones in the U.S. yesterday.", "They talked."],
        ),
        (
            "He lives at No. 5 Baker Street. It is nice.",
            ["He lives at No. 5 Baker Street.", "It is nice."],
        ),
        (
            "Bring tools, e.g. hammers and saws. Then start.",
            ["Bring tools, e.g. hammers and saws.", "Then start."],
        ),
        (
            "“Is it over?” asked the analyst. Nobody knew.",
            ["“Is it over?” asked the analyst.", "Nobody knew."],
        ),
        (
            "“Long live the Army! Karabakh is ours!” Ilham Aliyev said on Twitter. Then he left.",
            [
                "“Long live the Army!",
                "Karabakh is ours!” Ilham Aliyev said on Twitter.",
                "Then he left.",
            ],
        ),
        (
            "Headline Without A Period\nThe war started in September. It ended in November.",
            ["Headline Without A Period", "The war started in September.", "It ended in November."],
        ),
        (
            "A sentence that was hard-wrapped\nin the middle continues here. Next one.",
            ["A sentence that was hard-wrapped\nin the middle continues here.", "Next one."],
        ),
    ],
)
def test_sentence_splitting_handles_known_traps(text: str, expected: list[str]) -> None:
    assert split(text) == expected


def test_sentences_keep_exact_offsets_and_paragraph_numbers() -> None:
    text = "  First para. Second sentence.\n\n\nNext   paragraph here.  "
    found = list(iter_sentences(text))
    assert [(n, text[s.start : s.end]) for n, s in found] == [
        (0, "First para."),
        (0, "Second sentence."),
        (1, "Next   paragraph here."),
    ]
    assert len(paragraphs(text)) == 2


def test_tokenize_lowercases_stems_and_drops_stopwords() -> None:
    assert tokenize("The villages were liberated by the Army!") == ["villag", "liber", "armi"]


def test_tokenize_normalises_apostrophes_and_splits_compounds() -> None:
    assert tokenize("Azerbaijan’s anti-terror op") == tokenize("Azerbaijan's anti terror op")
    assert "terror" in tokenize("anti-terror")
    assert tokenize("won't") == []


def test_questions_and_documents_share_the_tokenizer() -> None:
    assert set(tokenize("Which villages were liberated?")) <= set(
        tokenize("The army liberated three villages.")
    )
