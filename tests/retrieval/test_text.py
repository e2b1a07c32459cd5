from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from retrieval.models import Span
from retrieval.text import (
    _STEM_TAIL,
    TermFinder,
    _stem,
    _stemmer,
    _text_stem_inputs,
    lines,
    paragraphs,
    split_sentences,
    tokenize,
)


def split(text: str) -> list[str]:
    """Sentences of a one-paragraph text, the way the loader splits each paragraph."""
    return [text[s.start : s.end] for s in split_sentences(text, lines(text, Span(0, len(text))))]


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
        (
            "He met W. E. B. Du Bois in 1900. Fr. Michael Logan spoke. It won World War I. The end.",
            [
                "He met W. E. B. Du Bois in 1900.",
                "Fr. Michael Logan spoke.",
                "It won World War I.",
                "The end.",
            ],
        ),
        (
            "He was born (April 2, 1743 O.S.) in Shadwell. He lives in the U.S. He works.",
            ["He was born (April 2, 1743 O.S.) in Shadwell.", "He lives in the U.S.", "He works."],
        ),
    ],
)
def test_sentence_splitting_handles_known_traps(text: str, expected: list[str]) -> None:
    assert split(text) == expected


def test_paragraphs_and_sentences_keep_exact_offsets() -> None:
    text = "  First para. Second sentence.\n\n\nNext   paragraph here.  "
    found = [
        (number, text[s.start : s.end])
        for number, paragraph in enumerate(paragraphs(text))
        for s in split_sentences(text, lines(text, paragraph))
    ]
    assert found == [(0, "First para."), (0, "Second sentence."), (1, "Next   paragraph here.")]


def test_tokenize_lowercases_stems_and_drops_stopwords() -> None:
    assert tokenize("The villages were liberated by the Army!") == ["villag", "liber", "armi"]


def test_tokenize_normalises_apostrophes_and_splits_compounds() -> None:
    assert tokenize("Azerbaijan’s anti-terror op") == tokenize("Azerbaijan's anti terror op")
    assert "terror" in tokenize("anti-terror")
    assert tokenize("won't") == []


def test_english_terms_fold_diacritics_as_people_type_names() -> None:
    assert tokenize("Schrödinger met Bolesław in Kraków's café") == tokenize(
        "Schrodinger met Boleslaw in Krakow's cafe"
    )
    assert tokenize("Æthelred, Straße, ﬁnal") == tokenize("Aethelred, Strasse, final")
    assert TermFinder(tokenize("Schrodinger")).found_in("Erwin Schrödinger")
    # Only Latin letters lose their marks: other scripts keep theirs.
    assert tokenize("ガンダム ばか はか") == ["ガンダム", "ばか", "はか"]


def test_questions_and_documents_share_the_tokenizer() -> None:
    assert set(tokenize("Which villages were liberated?")) <= set(
        tokenize("The army liberated three villages.")
    )


def test_punkt_shortcut_decides_as_punkt_does() -> None:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from retrieval.text import _LanguageVars, _sentence_tokenizer, _Token

    fast = _sentence_tokenizer("en")
    reference = PunktSentenceTokenizer(fast._params, lang_vars=_LanguageVars(), token_cls=_Token)
    text = (
        "Mr. Smith met Dr. Jones at 5 p.m. on Jan. 3. They talked. The U.S. economy grew 3.5 "
        "percent in 1990. Prices rose. J. S. Bach wrote it. It was e.g. fine. The war ended. "
        "Then peace came!  Was it over? yes. He left... Later he came back. The No. 5 bus left. "
        "St. Louis is big. Fig. 3 shows it. word.\nNext line. Etc. and so on. Vs. them."
    )
    assert list(fast.span_tokenize(text)) == list(reference.span_tokenize(text))
    assert len(list(fast.span_tokenize(text))) > 8


@pytest.mark.parametrize(
    ("dotted", "plain"),
    [("U.S.A.", "USA"), ("U.S.", "US"), ("s.h.i.e.l.d", "SHIELD"), ("D.C.", "DC")],
)
def test_dotted_acronyms_are_one_term_matching_the_undotted_form(dotted: str, plain: str) -> None:
    assert tokenize(dotted) == tokenize(plain)
    assert len(tokenize(dotted.split()[-1])) == 1


def test_dotted_acronyms_leave_numbers_and_domains_alone() -> None:
    assert tokenize("3.14") == ["3", "14"]
    assert tokenize("www.example.org") == ["www", "exampl", "org"]


def test_stem_shortcuts_give_snowball_stems() -> None:
    words = [str(n) for n in range(0, 20_000, 7)] + ["0042", "2015", "1" * 30]
    words += [a + b for a in "abeisy'0é" for b in ["", *"abeisy'0é"]]
    for word in words:
        assert _stem(word) == _stemmer.stem(word), word


def _corpus_words() -> list[str]:
    folder = Path(__file__).parent.parent / "data" / "reqa" / "corpus"
    text = " ".join(p.read_text("utf-8") for p in sorted(folder.glob("*.txt")))
    crafted = "dying skies nationalization happily U.S.A. anti-terror don't IT cannot o'neil"
    return sorted(set(re.findall(r"\S+", text + " " + crafted)))


def test_snowball_keeps_all_but_the_last_letters_of_a_stem() -> None:
    for word in _corpus_words():
        for part in _text_stem_inputs(word):
            stem = _stemmer.stem(part)
            assert part.startswith(stem[: max(1, len(stem) - _STEM_TAIL)]), (part, stem)


def test_term_finder_agrees_with_tokenize() -> None:
    words = _corpus_words()
    draw = random.Random(5)
    for word in words[::3]:
        terms = set(tokenize(" ".join(draw.sample(words, 3)))) | set(tokenize(word)[:1])
        assert TermFinder(terms).found_in(word) == bool(terms & set(tokenize(word))), word
        others = set(tokenize(" ".join(draw.sample(words, 5))))
        assert TermFinder(others).found_in(word) == bool(others & set(tokenize(word))), word
