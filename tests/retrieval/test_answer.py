from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answer import MAX_QUOTE_CHARS, answer
from retrieval.corpus import iter_corpus_files, load_document
from retrieval.index import Index
from retrieval.models import DocumentMeta, ParsedDocument


def build_index(corpus: Path) -> Index:
    return Index(
        [load_document(document_id, path) for document_id, path in iter_corpus_files(corpus)]
    )


@pytest.fixture(scope="module")
def karabakh() -> Index:
    return build_index(Path(__file__).resolve().parents[2] / "corpus")


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "How tall is Mount Everest?",
        "Recommend a good pizza recipe",
        "What's the weather like today?",
        "the of and",
        "",
    ],
)
def test_off_topic_questions_are_refused(karabakh: Index, question: str) -> None:
    result = answer(karabakh, question)
    assert result.abstained
    assert result.quotes == ()


def test_on_topic_question_is_answered_with_verbatim_attributed_quotes(karabakh: Index) -> None:
    result = answer(karabakh, "Which villages of Fuzuli district were liberated?")
    assert not result.abstained
    assert 1 <= len(result.quotes) <= 3
    first = result.quotes[0]
    assert "Fuzuli" in first.text and "liberated" in first.text
    assert first.document.title.startswith("Azerbaijan takes control of the entire border")
    source = karabakh.document(first.document.id)
    assert source is not None
    assert " ".join(source.text[first.start : first.end].split()) == first.text
    assert {"Fuzuli", "liberated", "villages"} <= set(first.terms)
    scores = [q.score for q in result.quotes]
    assert scores == sorted(scores, reverse=True)


def test_quote_continuing_a_quotation_includes_its_opening(karabakh: Index) -> None:
    result = answer(karabakh, "Who tweeted that we see the opposite?")
    first = result.quotes[0]
    assert first.text.startswith("“We believe that the military solution")
    assert first.text.endswith("Aliyev tweeted on November 3.")


def test_quote_opening_a_quotation_reads_on_to_its_speaker(karabakh: Index) -> None:
    first = answer(karabakh, "Which villages of Fuzuli district were liberated?").quotes[0]
    assert first.text.startswith("“Azerbaijan’s glorious Army has liberated Mollaveli")
    assert first.text.endswith("Karabakh is Azerbaijan!” Ilham Aliyev said on Twitter.")


def test_more_pages_through_further_quotes(karabakh: Index) -> None:
    first_page = answer(karabakh, "Armenia Azerbaijan conflict", limit=2)
    second_page = answer(karabakh, "Armenia Azerbaijan conflict", limit=2, offset=2)
    assert first_page.has_more
    assert second_page.quotes
    assert not {q.start for q in first_page.quotes} & {q.start for q in second_page.quotes}


def test_tiny_corpus_where_rank_bm25_scores_are_zero_still_answers(tmp_path: Path) -> None:
    # Two one-sentence documents: rank-bm25's idf of every term is 0 or floored, so "score > 0"
    # cannot decide relevance; coverage of the question's terms does.
    (tmp_path / "a.txt").write_text("Title A\n\nOwls sleep during the day.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Title B\n\nOwls hunt mice at night.\n", encoding="utf-8")
    index = build_index(tmp_path)
    assert all(h.score <= 0 for h in index.sentence_scorer.top(["owl", "hunt"], 2))
    result = answer(index, "When do owls hunt mice?")
    assert not result.abstained
    assert result.quotes[0].text == "Owls hunt mice at night."
    assert answer(index, "What is the capital of France?").abstained


def test_empty_index_abstains() -> None:
    index = Index([ParsedDocument(DocumentMeta("x", "x"), "", "", (), ())])
    assert answer(index, "anything at all").abstained


def test_run_on_sentence_is_cut_to_the_words_around_the_match(tmp_path: Path) -> None:
    filler = "and the river kept flowing past the old mill " * 200
    (tmp_path / "long.txt").write_text(
        f"Rivers\n\nOnce upon a time {filler} until the lighthouse keeper waved {filler}\n\nShort one.\n",
        encoding="utf-8",
    )
    index = build_index(tmp_path)
    quote = answer(index, "Who waved from the lighthouse?").quotes[0]
    assert len(quote.text) <= MAX_QUOTE_CHARS
    assert "lighthouse keeper waved" in quote.text
    source = index.document("long.txt")
    assert source is not None
    assert " ".join(source.text[quote.start : quote.end].split()) == quote.text
