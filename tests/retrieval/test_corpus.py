from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.corpus import decode_document, iter_corpus_files, load_document, parse_document
from retrieval.errors import CorpusError, DocumentError


def sentences_of(path: Path, document_id: str = "doc.txt") -> list[str]:
    document = load_document(document_id, path)
    return [document.text[s.start : s.end] for s in document.sentences]


def test_front_matter_gives_metadata_and_is_not_indexed(corpus_dir: Path) -> None:
    document = load_document("bridges.md", corpus_dir / "bridges.md")
    assert document.meta.title == "Bridges of Lisbon"
    assert document.meta.author == "Ana Silva"
    assert document.meta.date == "2021-05-01"
    assert document.meta.url == "https://example.org/bridges"
    texts = [document.text[s.start : s.end] for s in document.sentences]
    assert texts[0].startswith("The 25 de Abril Bridge")
    assert not any("title:" in t for t in texts)


def test_repeated_title_lines_are_dropped(corpus_dir: Path) -> None:
    document = load_document("history/trams.txt", corpus_dir / "history" / "trams.txt")
    assert document.meta.title == "Lisbon trams"
    texts = [document.text[s.start : s.end] for s in document.sentences]
    assert "Lisbon trams" not in texts
    assert texts[0] == "The first electric tram ran in Lisbon in 1901."


def test_shipped_files_byline_signature_and_blurbs(shipped_corpus: Path) -> None:
    files = dict(iter_corpus_files(shipped_corpus))
    analysis = load_document("001_3926a41dc234a159.txt", files["001_3926a41dc234a159.txt"])
    assert analysis.meta.title == (
        "Azerbaijan’s Anti-Terror Op In Karabakh Changing Regional Geopolitical Alignment"
    )
    assert (analysis.meta.author, analysis.meta.date) == ("Fuad Muxtarlı", "4 November 2020")
    report = load_document("000_4c39db0e443fc8a8.txt", files["000_4c39db0e443fc8a8.txt"])
    assert report.meta.author == "Hazem Zahab"
    texts = [report.text[s.start : s.end] for s in report.sentences]
    assert not any("Subscribe" in t or "Invest in yourself" in t or "Donate" in t for t in texts)
    assert not any(report.meta.title in t for t in texts)
    assert texts[-1].startswith("Russia coming to the aid of Armenia")


def test_sentences_are_verbatim_slices(shipped_corpus: Path) -> None:
    for document_id, path in iter_corpus_files(shipped_corpus):
        raw = path.read_text("utf-8")
        document = load_document(document_id, path)
        assert document.sentences
        for sentence in document.sentences:
            assert (
                raw[sentence.start : sentence.end] == document.text[sentence.start : sentence.end]
            )
            assert sentence.tokens


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"caf\xe9 au lait", "not valid UTF-8"),
        (b"   \n\n  ", "empty"),
    ],
)
def test_unusable_bytes_raise_document_error_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        decode_document("bad.txt", data)


def test_corpus_listing_is_recursive_and_skips_hidden_and_other_types(corpus_dir: Path) -> None:
    (corpus_dir / ".hidden.txt").write_text("secret", encoding="utf-8")
    (corpus_dir / "image.png").write_bytes(b"\x89PNG")
    ids = [document_id for document_id, _ in iter_corpus_files(corpus_dir)]
    assert ids == ["bridges.md", "history/trams.txt", "pastry.txt"]


def test_missing_corpus_directory_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        list(iter_corpus_files(tmp_path / "nope"))


def test_long_first_line_is_not_taken_as_title() -> None:
    text = "word " * 100 + "end.\n"
    document = parse_document("notes/long_file.txt", text, "hash")
    assert document.meta.title == "long file"
    assert len(document.sentences) == 1
