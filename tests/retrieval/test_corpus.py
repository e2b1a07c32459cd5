from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.corpus import (
    decode_document,
    iter_corpus_files,
    load_document,
    parse_document,
    scan_corpus,
)
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
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\xff\xfe\x81", "binary"),
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
    # Other types are listed too: indexing names them as skipped, with the reason.
    assert ids == ["bridges.md", "history/trams.txt", "image.png", "pastry.txt"]


def test_corpus_scan_gives_each_file_its_size_and_modification_time(corpus_dir: Path) -> None:
    files = scan_corpus(corpus_dir)
    assert [(f.document_id, Path(f.path)) for f in files] == list(iter_corpus_files(corpus_dir))
    for file in files:
        stat = Path(file.path).stat()
        assert file.stat == (stat.st_size, stat.st_mtime_ns)


def test_missing_corpus_directory_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        list(iter_corpus_files(tmp_path / "nope"))


def test_long_first_line_is_not_taken_as_title() -> None:
    text = "word " * 100 + "end.\n"
    document = parse_document("notes/long_file.txt", text, "hash")
    assert document.meta.title == "long file"
    assert len(document.sentences) == 1


def test_prose_first_line_stays_quotable_and_the_file_names_the_document() -> None:
    text = "The Eiffel Tower was completed in 1889.\n\nIt is located in Paris.\n"
    document = parse_document("prose/eiffel_notes.txt", text, "h")
    assert document.meta.title == "eiffel notes"
    first = document.sentences[0]
    assert text[first.start : first.end] == "The Eiffel Tower was completed in 1889."
    single = parse_document("wifi.txt", "The wifi password is taped under the fridge.\n", "h")
    assert len(single.sentences) == 1


def test_document_with_nothing_to_quote_is_an_error() -> None:
    with pytest.raises(DocumentError, match="no sentences"):
        parse_document("title-only.md", "# Just A Title\n", "h")


def test_carriage_return_line_endings_are_lines() -> None:
    text = decode_document("cr.txt", b"Old Mac Notes\r\rApples grow on trees.\r\rPears too.\r")
    document = parse_document("cr.txt", text, "h")
    assert document.meta.title == "Old Mac Notes"
    assert [text[s.start : s.end] for s in document.sentences] == [
        "Apples grow on trees.",
        "Pears too.",
    ]


def test_boilerplate_words_inside_article_sentences_do_not_cut_the_article() -> None:
    body = "\n\n".join(f"Paragraph {n} talks about trademarks and patents." for n in range(6))
    text = (
        f"Intellectual property\n\n{body}\n\n"
        "Copyright protection lasts for the life of the author plus seventy years in most countries.\n\n"
        "Trademarks must be renewed every ten years.\n\n"
        "Subscribe to our newsletter\n\nDonate now\n"
    )
    sentences = [text[s.start : s.end] for s in parse_document("ip.txt", text, "h").sentences]
    assert sentences[-1] == "Trademarks must be renewed every ten years."
    assert any(s.startswith("Copyright protection lasts") for s in sentences)


def test_metadata_fields_are_clipped() -> None:
    text = f"---\ntitle: {'Very long title ' * 400}\nauthor: {'A' * 500}\n---\nBody text here.\n"
    meta = parse_document("long.md", text, "h").meta
    assert len(meta.title) <= 200 and meta.title.endswith("…")
    assert meta.author is not None and len(meta.author) <= 120


def test_links_leading_out_of_the_corpus_are_skipped(corpus_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nThe password is swordfish.\n", encoding="utf-8")
    (corpus_dir / "link.txt").symlink_to(outside)
    (corpus_dir / "inside.txt").symlink_to(corpus_dir / "pastry.txt")
    ids = [document_id for document_id, _ in iter_corpus_files(corpus_dir)]
    assert "link.txt" not in ids
    assert "inside.txt" in ids
