from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from retrieval import engine as engine_module
from retrieval import parsing as parsing_module
from retrieval.engine import Engine, safe_document_name
from retrieval.errors import CorpusError, DocumentError
from retrieval.index import Index
from retrieval.models import ParsedDocument


@pytest.fixture
async def engine(corpus_dir: Path, tmp_path: Path) -> Engine:
    engine = await Engine.open(corpus_dir, tmp_path / "data" / "index.sqlite3")
    yield engine  # type: ignore[misc]
    await engine.close()


async def test_open_builds_the_index_and_reports_sizes(engine: Engine) -> None:
    stats = engine.stats()
    assert stats.documents == 3
    assert stats.sentences == 7
    assert stats.passages == 5
    assert [d.id for d in engine.documents()] == ["bridges.md", "history/trams.txt", "pastry.txt"]


async def test_reindex_tokenizes_only_changed_files_and_drops_removed(
    engine: Engine, corpus_dir: Path
) -> None:
    unchanged = await engine.reindex()
    assert unchanged.tokenized == () and unchanged.unchanged == 3

    (corpus_dir / "pastry.txt").write_text(
        "Custard tarts\n\nPastel de nata was first sold at the Belém bakery in 1837.\n",
        encoding="utf-8",
    )
    (corpus_dir / "history" / "trams.txt").unlink()
    report = await engine.reindex()

    assert report.tokenized == ("pastry.txt",)
    assert report.changed == ("pastry.txt",)
    assert report.removed == ("history/trams.txt",)
    assert report.unchanged == 1
    assert "1837" in (await engine.ask("When was pastel de nata first sold?")).quotes[0].text
    assert (await engine.ask("Which tram climbs through Alfama?")).abstained
    assert engine.stats().documents == 2


async def test_new_pipeline_version_retokenizes_everything(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "pipeline.sqlite3"
    await (await Engine.open(corpus_dir, database)).close()
    parsed: list[str] = []
    real_parse = parsing_module.parse_bytes

    def counting_parse(document_id: str, data: bytes) -> ParsedDocument:
        parsed.append(document_id)
        return real_parse(document_id, data)

    monkeypatch.setattr(parsing_module, "parse_bytes", counting_parse)
    monkeypatch.setattr(engine_module, "PIPELINE_VERSION", "test-next")
    engine = await Engine.open(corpus_dir, database)
    try:
        assert sorted(parsed) == ["bridges.md", "history/trams.txt", "pastry.txt"]
        assert (await engine.reindex()).tokenized == ()
    finally:
        await engine.close()


async def test_unusable_files_are_skipped_with_reasons(engine: Engine, corpus_dir: Path) -> None:
    (corpus_dir / "binary.txt").write_bytes(b"\x00\x01\x02\x03")
    (corpus_dir / "image.png").write_bytes(b"\x89PNG\r\n")
    (corpus_dir / "empty.md").write_bytes(b"")
    report = await engine.reindex()
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"binary.txt", "image.png", "empty.md"}
    assert "binary" in reasons["binary.txt"]
    assert "unsupported file type (.png)" in reasons["image.png"]
    assert "empty" in reasons["empty.md"]
    assert engine.stats().documents == 3


async def test_latin1_text_is_decoded_by_detection(engine: Engine, corpus_dir: Path) -> None:
    text = "Les cafés\n\nLe café crème coûte trois euros à la gare, déjà très cher.\n"
    (corpus_dir / "latin1.txt").write_bytes(text.encode("latin-1"))
    report = await engine.reindex()
    assert "latin1.txt" in report.added
    answer = engine.ask_sync("Combien coûte le café crème à la gare?")
    assert answer.quotes and "coûte trois euros" in answer.quotes[0].text
    assert answer.quotes[0].document.language == "fr"


async def test_index_persists_across_restarts_without_retokenizing(
    corpus_dir: Path, tmp_path: Path
) -> None:
    database = tmp_path / "persist.sqlite3"
    first = await Engine.open(corpus_dir, database)
    await first.close()
    second = await Engine.open(corpus_dir, database)
    try:
        assert second.stats().sentences == 7
        assert (await second.reindex()).tokenized == ()
    finally:
        await second.close()


async def test_failed_reindex_keeps_previous_index_serving(
    engine: Engine, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = engine.index
    (corpus_dir / "new.txt").write_text(
        "New doc\n\nZebras graze in Lisbon parks.\n", encoding="utf-8"
    )

    def broken_index(*args: object, **kwargs: object) -> Index:
        raise MemoryError("simulated failure while building")

    monkeypatch.setattr("retrieval.engine.Index", broken_index)
    with pytest.raises(MemoryError):
        await engine.reindex()
    assert engine.index is serving
    monkeypatch.undo()
    assert (await engine.reindex()).added == ("new.txt",)
    assert (
        "Tram 28"
        in (await engine.ask("Which tram climbs through the Alfama district?")).quotes[0].text
    )


async def test_questions_during_reindex_use_a_complete_index(
    engine: Engine, corpus_dir: Path
) -> None:
    old = engine.stats().built_at
    (corpus_dir / "zebras.txt").write_text(
        "Zebras\n\nZebras graze in Lisbon parks.\n", encoding="utf-8"
    )
    reload = asyncio.create_task(engine.reindex())
    answers = []
    while not reload.done():
        answers.append(await engine.ask("Where do zebras graze?"))
    new = (await reload).stats.built_at
    answers.append(await engine.ask("Where do zebras graze?"))
    # Every answer comes from exactly one of the two indexes, and says what that index knows.
    for result in answers:
        assert result.index_built_at in (old, new)
        if result.index_built_at == old:
            assert result.abstained
        else:
            assert result.quotes[0].text == "Zebras graze in Lisbon parks."
    assert answers[-1].index_built_at == new


async def test_missing_corpus_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CorpusError):
        await Engine.open(tmp_path / "missing", tmp_path / "db.sqlite3")


async def test_add_document_stores_safely_and_indexes(engine: Engine, corpus_dir: Path) -> None:
    data = b"Ferries\n\nFerries cross the Tagus to Cacilhas every twenty minutes.\n"
    report = await engine.add_document("../../etc/Ferries of Lisbon!.txt", data, max_bytes=1000)
    assert report.added == ("Ferries_of_Lisbon.txt",)
    assert (corpus_dir / "Ferries_of_Lisbon.txt").read_bytes() == data
    assert "Cacilhas" in (await engine.ask("Where do ferries cross to?")).quotes[0].text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("setup.exe", b"MZ", "only these file types"),
        ("report.pdf", b"%PDF-1.4", "corrupt PDF"),
        ("big.txt", b"x" * 2000, "too big"),
        ("binary.txt", b"\x00\x01\x02", "binary"),
        ("blank.md", b"\n\n", "empty"),
    ],
)
async def test_add_document_refuses_bad_files_and_stores_nothing(
    engine: Engine, corpus_dir: Path, name: str, data: bytes, reason: str
) -> None:
    before = sorted(p.name for p in corpus_dir.rglob("*"))
    with pytest.raises(DocumentError, match=reason):
        await engine.add_document(name, data, max_bytes=1000)
    assert sorted(p.name for p in corpus_dir.rglob("*")) == before


async def test_context_returns_paragraph_or_none_when_stale(
    engine: Engine, corpus_dir: Path
) -> None:
    quote = (await engine.ask("When was the 25 de Abril Bridge inaugurated?")).quotes[0]
    context = await engine.context(quote.document.id, quote.start, quote.end, quote.text)
    assert context is not None
    assert context.text.startswith("The 25 de Abril Bridge")
    assert " ".join(context.text[context.quote_start : context.quote_end].split()) == quote.text
    (corpus_dir / "bridges.md").write_text(
        "Bridges\n\nCompletely different text now.\n", encoding="utf-8"
    )
    await engine.reindex()
    assert await engine.context(quote.document.id, quote.start, quote.end, quote.text) is None
    assert await engine.context("gone.txt", 0, 5) is None


async def test_example_questions_are_answerable(engine: Engine) -> None:
    questions = await engine.example_questions(3)
    assert questions
    for question in questions:
        assert not (await engine.ask(question)).abstained


def test_safe_document_name() -> None:
    assert safe_document_name("../a b/../Ünïcode name.md") == "Ünïcode_name.md"
    assert safe_document_name("Отпуск 2024.txt") == "Отпуск_2024.txt"
    assert safe_document_name("Ærø notes.md") == "Ærø_notes.md"
    assert safe_document_name("休假政策.md") == "休假政策.md"
    assert safe_document_name("..\\..\\evil\u202e name.pdf") == "evil_name.pdf"
    assert safe_document_name("...txt.txt") == "txt.txt"
    with pytest.raises(DocumentError):
        safe_document_name("evil.sh")


async def test_database_stays_writable_while_the_new_index_is_built(
    engine: Engine, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bot logs questions through its own connection while a reload runs: no write
    # transaction may be open during the (long) index build.
    writes: list[str] = []

    def build_and_write(*args: object, **kwargs: object) -> Index:
        with closing(sqlite3.connect(engine.store.path, timeout=0)) as other, other:
            other.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            other.execute("INSERT INTO probe VALUES (1)")
        writes.append("ok")
        return Index(*args, **kwargs)  # type: ignore[arg-type]

    (corpus_dir / "new.txt").write_text("New\n\nOtters swim in the Tagus.\n", encoding="utf-8")
    monkeypatch.setattr("retrieval.engine.Index", build_and_write)
    report = await engine.reindex()
    assert writes == ["ok"]
    assert report.added == ("new.txt",)


async def test_another_corpus_directory_rebuilds_the_index(
    corpus_dir: Path, shipped_corpus: Path, tmp_path: Path
) -> None:
    database = tmp_path / "shared.sqlite3"
    await (await Engine.open(corpus_dir, database)).close()
    other = await Engine.open(shipped_corpus, database)
    try:
        assert [d.id for d in other.documents()] == [
            "000_4c39db0e443fc8a8.txt",
            "001_3926a41dc234a159.txt",
        ]
        assert (await other.ask("Which tram climbs through the Alfama district?")).abstained
    finally:
        await other.close()


async def test_context_of_a_one_sentence_paragraph_shows_quotable_neighbours(
    engine: Engine,
) -> None:
    quote = (await engine.ask("Many tourists ride the yellow trams every summer")).quotes[0]
    context = await engine.context(quote.document.id, quote.start, quote.end, quote.text)
    assert context is not None
    assert context.text.startswith("The first electric tram")  # not the title "Lisbon trams"
    assert context.text.endswith("every summer.")


async def test_unchanged_files_are_not_read_again_once_their_stat_is_trusted(
    engine: Engine, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    read: list[str] = []
    original = engine_module.read_document_bytes

    def counting(path: Path, document_id: str) -> bytes:
        read.append(document_id)
        return original(path, document_id)

    monkeypatch.setattr(engine_module, "read_document_bytes", counting)
    pastry = corpus_dir / "pastry.txt"
    # Files just written are read on every scan: their stat cannot be trusted yet.
    await engine.reindex()
    assert len(read) == 3
    old = pastry.stat().st_mtime_ns - 10_000_000_000
    for path in corpus_dir.rglob("*.*"):
        os.utime(path, ns=(old, old))
    read.clear()
    await engine.reindex()
    assert len(read) == 3  # read once more to record the now-trusted stat
    read.clear()
    report = await engine.reindex()
    assert read == [] and report.unchanged == 3

    # Same size, new content, other mtime: read again and re-indexed.
    text = pastry.read_text(encoding="utf-8")
    pastry.write_text(text.replace("18th", "17th"), encoding="utf-8")
    os.utime(pastry, ns=(old + 1_000, old + 1_000))
    report = await engine.reindex()
    assert read == ["pastry.txt"] and report.changed == ("pastry.txt",)
    assert "17th" in (await engine.ask("Who first made pastel de nata?")).quotes[0].text


async def test_an_index_only_engine_updates_without_preparing_search(
    corpus_dir: Path, tmp_path: Path
) -> None:
    database = tmp_path / "db.sqlite3"
    await (await Engine.open(corpus_dir, database)).close()
    (corpus_dir / "pastry.txt").write_text("Croissants\n\nCroissants come from Vienna.\n", "utf-8")
    engine = await Engine.open(corpus_dir, database, build=False, serve=False)
    try:
        report = await engine.reindex()
        assert report.changed == ("pastry.txt",)
        assert report.stats.sentences == engine.stats().sentences > 0
        # `qabot index` never searches: the BM25 levels are left for whoever opens it next.
        assert engine.index._scorers is None
        assert "Vienna" in engine.ask_sync("Where did croissants come from?").quotes[0].text
    finally:
        await engine.close()
    served = await Engine.open(corpus_dir, database)
    try:
        assert served.index._scorers is not None
        assert "Vienna" in served.ask_sync("Where did croissants come from?").quotes[0].text
    finally:
        await served.close()
