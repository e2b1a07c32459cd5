"""Every format through the corpus loader and the engine, on documents the tests write."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from retrieval.corpus import parse_bytes
from retrieval.engine import Engine
from retrieval.errors import DocumentError
from retrieval.models import ParsedDocument
from retrieval.text import tokenize


def quotes(document: ParsedDocument) -> list[str]:
    return [document.text[s.start : s.end] for s in document.sentences]


def two_column_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title("Harbour Annual Report")
    pdf.set_author("Port Authority")
    pdf.set_font("Helvetica", size=11)
    left = [
        "The left column starts the story of the",
        "harbour. Ships arrived every morning from",
        "the north. The harbour master kept a regis-",
        "ter of every vessel in a blue book.",
    ]
    right = [
        "The right column continues later. The",
        "lighthouse was built in 1882 by the town",
        "council after a storm sank three ships.",
    ]
    for page in (1, 2):
        pdf.add_page()
        pdf.set_xy(10, 8)
        pdf.cell(0, 5, "Harbour Annual Report")
        pdf.set_xy(10, 28)
        pdf.cell(0, 8, f"Chapter {page} of the report")
        column = left if page == 1 else [line.replace("harbour", "quay") for line in left]
        for i, line in enumerate(column):
            pdf.set_xy(10, 40 + i * 4.6)
            pdf.cell(90, 6, line)
        for i, line in enumerate(right if page == 1 else ["Trams run on page two only."]):
            pdf.set_xy(110, 40 + i * 4.6)
            pdf.cell(90, 6, line)
        pdf.set_xy(100, 285)
        pdf.cell(10, 5, str(page))
    return bytes(pdf.output())


def test_pdf_columns_hyphenation_furniture_and_pages() -> None:
    document = parse_bytes("report.pdf", two_column_pdf())
    assert (document.meta.title, document.meta.author) == (
        "Harbour Annual Report",
        "Port Authority",
    )
    assert document.meta.date is not None and document.meta.date[:2] == "20"
    texts = quotes(document)
    # The left column is read before the right one, the hyphenated word is whole.
    assert texts.index("The harbour master kept a register of every vessel in a blue book.") < (
        texts.index("The right column continues later.")
    )
    assert not any(t.strip() in {"1", "2"} or "Annual Report" in t for t in texts)
    pages = {document.text[s.start : s.end]: s.page for s in document.sentences}
    assert pages["The right column continues later."] == 1
    assert pages["Trams run on page two only."] == 2


async def test_pdf_page_reaches_the_quote(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.pdf").write_bytes(two_column_pdf())
    engine = await Engine.open(corpus, tmp_path / "db.sqlite3")
    try:
        answer = engine.ask_sync("Who kept a register of every vessel at the quay?")
        assert answer.quotes[0].page == 2
        assert "register" in answer.quotes[0].text
    finally:
        await engine.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"%PDF-1.4\nnot really", "corrupt PDF"), (b"%PDF-1.4\n%%EOF", "corrupt PDF")],
)
def test_broken_pdf_is_skipped_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_bytes("broken.pdf", data)


def test_pdf_without_text_layer_is_skipped() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 100)
    with pytest.raises(DocumentError, match="no text layer"):
        parse_bytes("scan.pdf", bytes(pdf.output()))


def test_encrypted_pdf_is_skipped() -> None:
    pytest.importorskip("cryptography")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 10, "A secret sentence about the vault.")
    with pytest.raises(DocumentError, match="encrypted"):
        parse_bytes("locked.pdf", bytes(pdf.output()))


MARKDOWN = """+++
title = "Company handbook"
author = "People Team"
+++
# Company handbook

## Vacation

- Every full-time employee gets **28 days** of paid vacation per year.
- Unused days expire at the end of *March*.

## People

| Name | Role | City |
|---|---|---|
| Lars Nielsen | CEO | Aarhus |
| Mia Berg | CTO | Oslo |

```
DROP TABLE employees;
```

## FAQ

**Q.** Can I bring my dog to the office?
**A.** Dogs are welcome on Fridays if they are calm.

printer on floor two
wifi password on the fridge
"""


def test_markdown_structure() -> None:
    document = parse_bytes("handbook.markdown", MARKDOWN.encode())
    assert document.meta.title == "Company handbook"
    assert document.meta.author == "People Team"
    texts = quotes(document)
    assert "Every full-time employee gets 28 days of paid vacation per year." in texts
    assert "Lars Nielsen · CEO · Aarhus" in texts
    assert not any("**" in t or "|" in t or "DROP TABLE" in t or "+++" in t for t in texts)
    assert not any(t in {"Vacation", "People", "FAQ"} for t in texts)
    assert "printer on floor two" in texts and "wifi password on the fridge" in texts
    assert "Dogs are welcome on Fridays if they are calm." in texts
    assert not any("Can I bring" in t for t in texts)
    sections = {document.text[s.start : s.end]: s.section for s in document.sentences}
    assert sections["Lars Nielsen · CEO · Aarhus"] == "People"
    assert sections["Unused days expire at the end of March."] == "Vacation"


async def test_faq_answers_with_the_answer_and_sections(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "handbook.md").write_text(MARKDOWN, encoding="utf-8")
    (corpus / "faq.txt").write_text(
        "Office FAQ\n\nQ: Where do I park my bike?\nA: Use the racks behind building B.\n\n"
        "Q: What is the phone number of the IT hotline?\nA: Call 555-0100 any time.\n",
        encoding="utf-8",
    )
    engine = await Engine.open(corpus, tmp_path / "db.sqlite3")
    try:
        dog = engine.ask_sync("Are dogs allowed in the office?")
        assert dog.quotes[0].text == "Dogs are welcome on Fridays if they are calm."
        assert dog.quotes[0].section == "FAQ"
        hotline = engine.ask_sync("What is the phone number of the IT hotline?")
        assert hotline.quotes[0].text == "Call 555-0100 any time."
        vacation = engine.ask_sync("How many days of paid vacation do employees get?")
        assert "28 days" in vacation.quotes[0].text and vacation.quotes[0].section == "Vacation"
    finally:
        await engine.close()


HTML = b"""<html><head><title>Bridges of Lisbon | Example Weekly</title>
<meta name="author" content="Ana Silva">
<meta property="article:published_time" content="2021-05-01">
<link rel="canonical" href="https://example.org/bridges"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About us</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<article><h1>Bridges of Lisbon</h1>
<p>The 25 de Abril Bridge is a suspension bridge connecting Lisbon to Almada on the south bank
of the Tagus river.</p>
<h2>History</h2>
<p>It was inaugurated on 6 August 1966 and was called the Salazar Bridge until the revolution
of 1974 renamed it after the date of the revolution.</p>
<ul><li>The bridge is 2,277 metres long.</li><li>Trains cross it on a lower deck since 1999.</li></ul>
</article>
<footer>Copyright 2021 Example Weekly. All rights reserved.</footer></body></html>"""


def test_html_main_text_and_metadata() -> None:
    document = parse_bytes("bridges.html", HTML)
    meta = document.meta
    assert (meta.title, meta.author, meta.date, meta.url) == (
        "Bridges of Lisbon",
        "Ana Silva",
        "2021-05-01",
        "https://example.org/bridges",
    )
    texts = quotes(document)
    assert "The bridge is 2,277 metres long." in texts
    assert not any("cookies" in t or "Copyright" in t or "Home" in t for t in texts)
    sections = {document.text[s.start : s.end]: s.section for s in document.sentences}
    assert sections["Trains cross it on a lower deck since 1999."] == "History"


def test_docx_paragraphs_headings_lists_tables_and_properties() -> None:
    import docx

    word = docx.Document()
    word.core_properties.title = "Office handbook"
    word.core_properties.author = "HR Team"
    word.add_heading("Remote work", 1)
    word.add_paragraph("Employees may work from home two days a week. Ask your team lead first.")
    word.add_paragraph("Laptops are provided by the IT desk", style="List Bullet")
    table = word.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Name"
    table.cell(0, 1).text = "Role"
    table.cell(1, 0).text = "Lars Nielsen"
    table.cell(1, 1).text = "CEO"
    buffer = io.BytesIO()
    word.save(buffer)
    document = parse_bytes("handbook.docx", buffer.getvalue())
    assert (document.meta.title, document.meta.author) == ("Office handbook", "HR Team")
    texts = quotes(document)
    assert texts == [
        "Employees may work from home two days a week.",
        "Ask your team lead first.",
        "Laptops are provided by the IT desk",
        "Lars Nielsen · CEO",
    ]
    assert {s.section for s in document.sentences} == {"Remote work"}


@pytest.mark.parametrize(
    "name", ["empty.docx", "empty.pdf", "empty.html", "empty.md", "empty.odt", "empty.epub"]
)
def test_empty_file_of_any_type_says_empty(name: str) -> None:
    with pytest.raises(DocumentError, match="empty"):
        parse_bytes(name, b"  \n")


def test_corrupt_docx_is_skipped() -> None:
    with pytest.raises(DocumentError, match="corrupt Word file"):
        parse_bytes("broken.docx", b"PK\x03\x04 not a zip")


RUSSIAN = """Правила офиса

Холодильник на кухне очищают каждую пятницу после обеда. Продукты без подписи выбрасывают.

Переговорные комнаты бронируют через календарь не позднее чем за день.
"""


async def test_russian_document_answers_across_word_forms(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "office.txt").write_text(RUSSIAN, encoding="utf-8")
    (corpus / "bridges.html").write_bytes(HTML)
    engine = await Engine.open(corpus, tmp_path / "db.sqlite3")
    try:
        office = engine.index.document("office.txt")
        assert office is not None and office.meta.language == "ru"
        fridge = engine.ask_sync("Когда очищается холодильник на кухне?")
        assert fridge.quotes and "Холодильник на кухне очищают" in fridge.quotes[0].text
        rooms = engine.ask_sync("Как забронировать переговорную комнату?")
        assert rooms.quotes and "Переговорные комнаты" in rooms.quotes[0].text
        assert engine.ask_sync("Сколько стоит билет на самолёт в Париж?").abstained
        # Two words: too short to detect, but the script says Russian.
        short = engine.ask_sync("Переговорные бронируют?")
        assert short.quotes and "Переговорные комнаты" in short.quotes[0].text
        assert engine.ask_sync("How long is the bridge?").quotes[0].document.language == "en"
    finally:
        await engine.close()


def test_tokenize_languages_and_acronyms() -> None:
    assert tokenize("The IT hotline") == ["it", "hotlin"]
    assert tokenize("what is it") == []
    assert tokenize("холодильника", "ru") == tokenize("холодильник", "ru")
    assert tokenize("и в на", "ru") == []
    # No stemmer or stopwords: words kept as they are, lowercased.
    assert tokenize("休假政策 Abc", "zh") == ["休假政策", "abc"]


def test_plain_text_loads_no_format_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from retrieval.corpus import parse_bytes\n"
        "from retrieval.engine import Engine\n"
        "parse_bytes('a.txt', b'Owls\\n\\nOwls hunt at night, and they are rarely seen by day.')\n"
        "heavy = {'trafilatura', 'pdfminer', 'docx', 'markdown_it', 'py3langid', 'lxml',"
        " 'charset_normalizer', 'stop_words'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def write_zip(members: list[tuple[str, str | bytes]]) -> bytes:
    """A package as office suites and e-book tools write it: ``mimetype`` first, stored."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in members:
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            package.writestr(name, content, compress_type=method)
    return buffer.getvalue()


_ODF = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"'
)
ODT_CONTENT = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {_ODF}>
<office:automatic-styles>
  <style:style style:name="P1" style:family="paragraph" style:parent-style-name="Title"/>
</office:automatic-styles>
<office:body><office:text>
  <text:sequence-decls><text:sequence-decl text:display-outline-level="0" text:name="Table"/></text:sequence-decls>
  <text:p text:style-name="P1">Garden club rules</text:p>
  <text:table-of-content text:name="TOC"><text:index-body>
    <text:p>Watering 1</text:p></text:index-body></text:table-of-content>
  <text:h text:outline-level="1">Watering</text:h>
  <text:p>Members water the <text:span>greenhouse</text:span> plants every<text:s/>morning before
    nine.<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation>
    <text:note-body><text:p>Except on holidays.</text:p></text:note-body></text:note> The hose lives in shed two.</text:p>
  <text:list><text:list-item><text:p>Tomatoes need water twice a day in July</text:p></text:list-item>
    <text:list-item><text:p>Cacti are watered once a month</text:p></text:list-item></text:list>
  <text:section text:name="S1">
  <text:h text:outline-level="1">Plots</text:h>
  <table:table table:name="Plots">
    <table:table-column table:number-columns-repeated="2"/>
    <table:table-header-rows><table:table-row>
      <table:table-cell><text:p>Plot</text:p></table:table-cell>
      <table:table-cell><text:p>Holder</text:p></table:table-cell></table:table-row>
    </table:table-header-rows>
    <table:table-row><table:table-cell><text:p>North bed</text:p></table:table-cell>
      <table:table-cell><text:p>Maria Rossi</text:p></table:table-cell></table:table-row>
  </table:table>
  </text:section>
</office:text></office:body></office:document-content>"""
ODT_META = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {_ODF}><office:meta>
  <dc:title>Garden club handbook</dc:title><meta:initial-creator>Maria Rossi</meta:initial-creator>
  <dc:creator>Somebody Else</dc:creator><meta:creation-date>2023-04-02T10:11:12</meta:creation-date>
</office:meta></office:document-meta>"""
ODT_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{encryption}</manifest:file-entry>
 <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def odt(manifest: str = ODT_MANIFEST.format(encryption="")) -> bytes:
    return write_zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", ODT_CONTENT),
            ("meta.xml", ODT_META),
            ("META-INF/manifest.xml", manifest),
        ]
    )


def test_odt_headings_paragraphs_lists_tables_and_meta() -> None:
    document = parse_bytes("garden.odt", odt())
    meta = document.meta
    assert (meta.title, meta.author, meta.date) == (
        "Garden club handbook",
        "Maria Rossi",
        "2023-04-02",
    )
    texts = quotes(document)
    assert texts == [
        "Members water the greenhouse plants every morning before nine.",
        "The hose lives in shed two.",
        "Tomatoes need water twice a day in July",
        "Cacti are watered once a month",
        "North bed · Maria Rossi",
    ]
    sections = {document.text[s.start : s.end]: s.section for s in document.sentences}
    assert sections["Cacti are watered once a month"] == "Watering"
    assert sections["North bed · Maria Rossi"] == "Plots"
    assert "Garden club rules" not in sections.values()


def test_encrypted_and_corrupt_odt_are_skipped() -> None:
    encryption = (
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
        '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/>'
        "</manifest:encryption-data>"
    )
    with pytest.raises(DocumentError, match="encrypted"):
        parse_bytes("secret.odt", odt(ODT_MANIFEST.format(encryption=encryption)))
    with pytest.raises(DocumentError, match="corrupt"):
        parse_bytes("broken.odt", b"PK\x03\x04 not a zip")
    with pytest.raises(DocumentError, match="corrupt"):
        parse_bytes("half.odt", write_zip([("content.xml", ODT_CONTENT[:300])]))
    spreadsheet = write_zip([("mimetype", "application/vnd.oasis.opendocument.spreadsheet")])
    with pytest.raises(DocumentError, match="not an OpenDocument text"):
        parse_bytes("sheet.odt", spreadsheet)


EPUB_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
EPUB_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:0b7a3c2e-7d7e-4c61-9d0e-000000000001</dc:identifier>
    <dc:title>The Lighthouse Keepers</dc:title>
    <dc:creator>Ines Moreau</dc:creator>
    <dc:date>2019-09-14T00:00:00Z</dc:date>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="c1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml"/>
    <item id="c2" href="text/chapter2.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
  </manifest>
  <spine><itemref idref="nav" linear="no"/><itemref idref="c2"/><itemref idref="c1"/></spine>
</package>"""
XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>The Lighthouse Keepers</title><script>var tracking = "keepers";</script></head>
<body>{body}</body></html>"""
CHAPTER_ONE = XHTML.format(
    body="""<section epub:type="chapter"><h1>The storm of 1911</h1>
<p>The keeper lit the lamp at dusk<a epub:type="noteref" href="#n1">1</a>, and it burned
until the <em>morning</em> tide.</p>
<ul><li>Oil was carried up 120 steps every evening</li></ul>
<aside epub:type="footnote" id="n1"><p>Paraffin after 1905.</p></aside></section>"""
)
CHAPTER_TWO = XHTML.format(
    body="""<nav epub:type="landmarks"><ol><li>Cover page link</li></ol></nav>
<h2>Arrival on the island</h2>
<p>The supply boat came every second Thursday with bread and letters.</p>
<table><tr><th>Keeper</th><th>Years</th></tr><tr><td>Jean Moreau</td><td>1902 to 1931</td></tr></table>"""
)
NAV = XHTML.format(body='<nav epub:type="toc"><ol><li>The storm of 1911</li></ol></nav>')


def epub(*extra: tuple[str, str], chapter_one: str | bytes = CHAPTER_ONE) -> bytes:
    return write_zip(
        [
            ("mimetype", "application/epub+zip"),
            ("META-INF/container.xml", EPUB_CONTAINER),
            ("OEBPS/content.opf", EPUB_OPF),
            ("OEBPS/nav.xhtml", NAV),
            ("OEBPS/text/chapter 1.xhtml", chapter_one),
            ("OEBPS/text/chapter2.xhtml", CHAPTER_TWO),
            ("OEBPS/style.css", "p { margin: 0 }"),
            *extra,
        ]
    )


def test_epub_chapters_in_spine_order_with_metadata() -> None:
    document = parse_bytes("keepers.epub", epub())
    meta = document.meta
    assert (meta.title, meta.author, meta.date) == (
        "The Lighthouse Keepers",
        "Ines Moreau",
        "2019-09-14",
    )
    texts = quotes(document)
    assert texts == [
        "The supply boat came every second Thursday with bread and letters.",
        "Jean Moreau · 1902 to 1931",
        "The keeper lit the lamp at dusk, and it burned until the morning tide.",
        "Oil was carried up 120 steps every evening",
    ]
    sections = {document.text[s.start : s.end]: s.section for s in document.sentences}
    assert sections["Jean Moreau · 1902 to 1931"] == "Arrival on the island"
    assert sections["Oil was carried up 120 steps every evening"] == "The storm of 1911"


def test_epub_chapter_that_is_not_well_formed_is_read_as_html() -> None:
    soup = (
        "<html><body><h1>Fog</h1><p>Fog&nbsp;horns sounded every thirty seconds.<br>Always.</body>"
    )
    document = parse_bytes("fog.epub", epub(chapter_one=soup))
    assert "Fog horns sounded every thirty seconds." in quotes(document)


EPUB2_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>Tide Tables</dc:title><dc:creator opf:role="aut">Ola Berg</dc:creator>
    <dc:date opf:event="publication">1898</dc:date>
  </metadata>
  <manifest>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="toc" href="toc.html" media-type="application/xhtml+xml"/>
    <item id="c1" href="tides.html" media-type="application/xhtml+xml"/>
  </manifest>
  <spine toc="ncx"><itemref idref="toc"/><itemref idref="c1"/></spine>
  <guide><reference type="toc" title="Contents" href="toc.html"/></guide>
</package>"""
EPUB2_CHAPTER = XHTML.format(
    body="""<section class="pg-boilerplate pgheader" id="pg-header"><p>This ebook is for the use
of anyone anywhere at no cost.</p></section>
<h2>Spring tides</h2>
<p>Spring tides come twice a month,<a href="#fn3"><sup>3</sup></a> at new and full moon.
<span class="pagenum"><a id="Page_7">[Pg 7]</a></span>Neap tides are the weakest.</p>
<p>See chapter <a href="tides.html#neap">2</a> for neap tides.</p>
<p class="footnote" id="fn3">First observed by the harbour pilots.</p>"""
)


def test_epub2_guide_contents_unmarked_notes_and_page_numbers_are_left_out() -> None:
    data = write_zip(
        [
            ("mimetype", "application/epub+zip"),
            ("META-INF/container.xml", EPUB_CONTAINER),
            ("OEBPS/content.opf", EPUB2_OPF),
            ("OEBPS/toc.html", XHTML.format(body="<p><a href='tides.html'>Spring tides</a></p>")),
            ("OEBPS/tides.html", EPUB2_CHAPTER),
        ]
    )
    document = parse_bytes("tides.epub", data)
    assert (document.meta.title, document.meta.author, document.meta.date) == (
        "Tide Tables",
        "Ola Berg",
        "1898",
    )
    assert quotes(document) == [
        "Spring tides come twice a month, at new and full moon.",
        "Neap tides are the weakest.",
        "See chapter 2 for neap tides.",
    ]
    assert {s.section for s in document.sentences} == {"Spring tides"}


ENCRYPTION = """<?xml version="1.0" encoding="UTF-8"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
  xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData><enc:EncryptionMethod Algorithm="{algorithm}"/>
    <enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData>
</encryption>"""


def test_drm_epub_is_encrypted_obfuscated_fonts_are_not() -> None:
    drm = ENCRYPTION.format(
        algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc", uri="OEBPS/text/chapter2.xhtml"
    )
    with pytest.raises(DocumentError, match="encrypted"):
        parse_bytes("drm.epub", epub(("META-INF/encryption.xml", drm)))
    fonts = ENCRYPTION.format(
        algorithm="http://www.idpf.org/2008/embedding", uri="OEBPS/fonts/serif.otf"
    )
    assert quotes(parse_bytes("fonts.epub", epub(("META-INF/encryption.xml", fonts))))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 not a zip", "corrupt EPUB file"),
        (write_zip([("mimetype", "application/epub+zip")]), "no META-INF/container.xml"),
        (write_zip([("META-INF/container.xml", "<container")]), "corrupt EPUB file"),
        # DRM that META-INF/encryption.xml does not declare: the chapter is ciphertext.
        (epub(chapter_one=bytes(range(7, 250))), "is not XHTML; encrypted"),
    ],
)
def test_broken_epub_is_skipped_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_bytes("broken.epub", data)


async def test_odt_and_epub_sections_reach_the_quote(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "garden.odt").write_bytes(odt())
    (corpus / "keepers.epub").write_bytes(epub())
    (corpus / "locked.epub").write_bytes(
        epub(
            (
                "META-INF/encryption.xml",
                ENCRYPTION.format(
                    algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc",
                    uri="OEBPS/text/chapter%201.xhtml",
                ),
            )
        )
    )
    (corpus / "broken.odt").write_bytes(b"PK\x03\x04 not a zip")
    engine = await Engine.open(corpus, tmp_path / "db.sqlite3")
    try:
        report = await engine.reindex()
        reasons = {s.path: s.reason for s in report.skipped}
        assert "encrypted" in reasons["locked.epub"] and "corrupt" in reasons["broken.odt"]
        boat = engine.ask_sync("When did the supply boat come?")
        assert boat.quotes[0].text == (
            "The supply boat came every second Thursday with bread and letters."
        )
        assert boat.quotes[0].section == "Arrival on the island"
        assert boat.quotes[0].document.title == "The Lighthouse Keepers"
        oil = engine.ask_sync("How many steps did the oil have to be carried up?")
        assert oil.quotes[0].text == "Oil was carried up 120 steps every evening"
        assert oil.quotes[0].section == "The storm of 1911"
        tomatoes = engine.ask_sync("How often do tomatoes need water in July?")
        assert tomatoes.quotes[0].text == "Tomatoes need water twice a day in July"
        assert tomatoes.quotes[0].section == "Watering"
        assert tomatoes.quotes[0].document.author == "Maria Rossi"
    finally:
        await engine.close()
