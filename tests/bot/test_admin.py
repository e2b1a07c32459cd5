"""Admin commands and uploads, refusals for everyone else, and the command menus."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from harness import ADMIN, ADMIN_ID, BREAD, GROUP, USER, Harness, StartBot
from html_check import assert_telegram_html

from bot.admin import ALREADY_RELOADING, NOT_ADMIN, NOT_ADMIN_UPLOAD, stored_id
from retrieval.models import IndexStats, ReindexReport

PORTO = b"Porto bridges\n\nThe Dom Luis bridge crosses the Douro river between Porto and Gaia.\n"


def corpus_files(bot: Harness) -> set[str]:
    return {p.name for p in bot.config.corpus_dir.rglob("*") if p.is_file()}


async def test_commands_are_registered_with_admin_scope(bot: Harness) -> None:
    calls = bot.fake.requests_params("setMyCommands")
    public = next(c for c in calls if "scope" not in c)
    admin = next(c for c in calls if c.get("scope", {}).get("type") == "chat")
    assert {c["command"] for c in public["commands"]} == {"start", "help", "sources", "ask"}
    assert admin["scope"]["chat_id"] == ADMIN_ID
    assert {"reload", "stats"} <= {c["command"] for c in admin["commands"]}


async def test_reload_reports_an_added_file_and_serves_it(bot: Harness) -> None:
    (bot.config.corpus_dir / "porto.txt").write_bytes(PORTO)
    [report] = await bot.replies_to(bot.message("/reload", user=ADMIN))
    text = report["text"]
    assert "1 added, 0 changed, 0 removed, 2 unchanged, 0 skipped" in text
    assert "porto.txt" in text and " s:" in text
    assert_telegram_html(text)
    [reply] = await bot.replies_to(bot.message("Which river does the Dom Luis bridge cross?"))
    assert "the Douro <b>river</b>" in reply["text"] and "Porto bridges" in reply["text"]


async def test_reload_works_in_a_group_for_an_admin(bot: Harness) -> None:
    [report] = await bot.replies_to(bot.message("/reload@qa_test_bot", user=ADMIN, chat=GROUP))
    assert "0 added" in report["text"] and "2 unchanged" in report["text"]


async def test_failed_reload_keeps_the_old_index_and_says_why(bot: Harness) -> None:
    corpus = bot.config.corpus_dir
    corpus.rename(corpus.with_name("moved"))
    [report] = await bot.replies_to(bot.message("/reload", user=ADMIN))
    assert "Reload failed" in report["text"] and "corpus directory not found" in report["text"]
    assert_telegram_html(report["text"])
    [reply] = await bot.replies_to(bot.message("How is Mafra bread baked?"))
    assert "<b>Mafra</b>" in reply["text"]


async def test_stats_counts_questions_feedback_and_index(bot: Harness) -> None:
    answered = bot.message("How is Mafra bread baked?")
    [answer] = await bot.replies_to(answered)
    await bot.replies_to(bot.message("What is the capital of France?"))
    bot.press(bot.buttons(answer)["👎"], answer["_result"])
    await bot.fake.wait_for("answerCallbackQuery")
    [stats] = await bot.replies_to(bot.message("/stats", user=ADMIN))
    text = stats["text"]
    for expected in (
        "Documents: 2",
        "Sentences: ",
        "Passages: ",
        "Answered: 1 / 1",
        "Refused: 1 / 1",
        "👍 0   👎 1",
        "Median answer latency: ",
        "Index age: ",
    ):
        assert expected in text
    assert_telegram_html(text)


async def test_non_admins_are_refused_and_nothing_changes(bot: Harness) -> None:
    built_at = bot.state.engine.stats().built_at
    (bot.config.corpus_dir / "porto.txt").write_bytes(PORTO)
    for command in ("/reload", "/stats"):
        [reply] = await bot.replies_to(bot.message(command, user=USER))
        assert reply["text"] == NOT_ADMIN
    [reply] = await bot.replies_to(bot.message("/reload", user=USER, chat=GROUP))
    assert reply["text"] == NOT_ADMIN
    assert bot.state.engine.stats().built_at == built_at
    assert bot.state.engine.stats().documents == 2


async def test_admin_upload_is_stored_indexed_and_answerable(bot: Harness) -> None:
    upload = bot.document("Porto Bridges!.txt", PORTO)
    [reply] = await bot.replies_to(upload)
    # The reply names the document as stored, which is what /sources and reloads show.
    assert "Added Porto_Bridges.txt in" in reply["text"] and "1 added" in reply["text"]
    assert "Porto Bridges!" not in reply["text"]
    assert_telegram_html(reply["text"])
    stored = bot.config.corpus_dir / "Porto_Bridges.txt"
    assert stored.read_bytes() == PORTO
    [again] = await bot.replies_to(bot.document("Porto Bridges!.txt", PORTO + b"Again.\n"))
    assert "Added Porto_Bridges-2.txt in" in again["text"]
    assert (bot.config.corpus_dir / "Porto_Bridges-2.txt").exists()
    [answer] = await bot.replies_to(bot.message("Which river does the Dom Luis bridge cross?"))
    assert "the Douro <b>river</b>" in answer["text"] and "Porto bridges" in answer["text"]


async def test_markdown_upload_is_accepted(bot: Harness) -> None:
    [reply] = await bot.replies_to(
        bot.document("notes.md", b"# Notes\n\nTrams climb the hills of Lisbon.\n")
    )
    assert "1 added" in reply["text"]
    assert "notes.md" in corpus_files(bot)


def tiny_epub(chapter: str, encrypted: bool = False) -> bytes:
    """An EPUB 3 of one chapter; ``encrypted``: the chapter listed as DRM-encrypted."""
    import io
    import zipfile

    opf = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Ferries</dc:title></metadata>'
        '<manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="c"/></spine></package>'
    )
    members = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": (
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>"
        ),
        "book.opf": opf,
        "c.xhtml": f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{chapter}</body></html>',
    }
    if encrypted:
        members["META-INF/encryption.xml"] = (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
            '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
            '<enc:CipherData><enc:CipherReference URI="c.xhtml"/></enc:CipherData>'
            "</enc:EncryptedData></encryption>"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in members.items():
            package.writestr(name, content)
    return buffer.getvalue()


async def test_epub_upload_is_accepted_and_answerable(bot: Harness) -> None:
    chapter = "<h1>Crossings</h1><p>The ferry to Cacilhas leaves every twenty minutes.</p>"
    upload = bot.document("ferries.epub", tiny_epub(chapter), mime_type="application/epub+zip")
    [reply] = await bot.replies_to(upload)
    assert "1 added" in reply["text"]
    [answer] = await bot.replies_to(bot.message("How often does the ferry to Cacilhas leave?"))
    assert "every twenty minutes" in answer["text"]


async def refused_upload(bot: Harness, upload: dict[str, object]) -> str:
    before = corpus_files(bot)
    [reply] = await bot.replies_to(upload)
    assert reply["text"].startswith("❌ Not added: ") and "Nothing was stored" in reply["text"]
    assert_telegram_html(reply["text"])
    assert corpus_files(bot) == before
    assert bot.state.engine.stats().documents == 2
    return str(reply["text"])


async def test_upload_of_other_types_is_refused_before_download(bot: Harness) -> None:
    text = await refused_upload(
        bot, bot.document("setup.exe", b"MZ\x90\x00", mime_type="application/octet-stream")
    )
    assert "only these file types" in text
    assert bot.fake.requests("getFile") == []


async def test_too_big_upload_is_refused_before_download(start_bot: StartBot) -> None:
    bot = await start_bot(MAX_UPLOAD_BYTES="1000")
    text = await refused_upload(bot, bot.document("big.txt", PORTO, file_size=5000))
    assert "limit" in text
    assert bot.fake.requests("getFile") == []


async def test_upload_bigger_than_announced_is_refused(start_bot: StartBot) -> None:
    bot = await start_bot(MAX_UPLOAD_BYTES="50")
    text = await refused_upload(bot, bot.document("liar.txt", PORTO, file_size=10))
    assert "too big" in text


async def test_binary_upload_is_refused(bot: Harness) -> None:
    text = await refused_upload(bot, bot.document("binary.txt", b"\x00\x01\x02\x03"))
    assert "binary" in text


async def test_drm_epub_upload_is_refused_as_encrypted(bot: Harness) -> None:
    data = tiny_epub("<p>Secret timetable.</p>", encrypted=True)
    text = await refused_upload(bot, bot.document("locked.epub", data))
    assert "encrypted" in text


async def test_empty_upload_is_refused(bot: Harness) -> None:
    text = await refused_upload(bot, bot.document("empty.txt", b"   \n"))
    assert "empty" in text


async def test_non_admin_upload_is_refused_without_download(bot: Harness) -> None:
    before = corpus_files(bot)
    [reply] = await bot.replies_to(bot.document("porto.txt", PORTO, user=USER))
    assert reply["text"] == NOT_ADMIN_UPLOAD
    assert corpus_files(bot) == before
    assert bot.fake.requests("getFile") == []


async def test_admin_commands_are_refused_when_no_admin_is_configured(
    start_bot: StartBot, bot_corpus: Path
) -> None:
    bot = await start_bot(ADMIN_USER_IDS="")
    [reply] = await bot.replies_to(bot.message("/reload", user=ADMIN))
    assert reply["text"] == NOT_ADMIN
    assert all("scope" not in c for c in bot.fake.requests_params("setMyCommands"))


def test_stored_id_is_the_uploads_entry_of_the_report() -> None:
    def report(added: tuple[str, ...], changed: tuple[str, ...] = ()) -> ReindexReport:
        return ReindexReport(added, changed, (), 0, (), 0.1, IndexStats(1, 1, 1, 1.0))

    # A concurrent reload may have added other files in the same run.
    assert stored_id(report(("a.txt", "Porto_Bridges-3.txt")), "Porto Bridges!.txt") == (
        "Porto_Bridges-3.txt"
    )
    assert stored_id(report((), ("notes.md",)), "notes.md") == "notes.md"
    assert stored_id(report(()), "Café.md") == "Café.md"


async def test_upload_without_a_name_is_refused_before_download(bot: Harness) -> None:
    text = await refused_upload(bot, bot.document("", PORTO))
    assert "only these file types" in text
    assert bot.fake.requests("getFile") == []


async def test_reload_while_another_runs_says_so_then_reports(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = bot.state.engine
    real_rebuild = engine._update
    entered, release = threading.Event(), threading.Event()

    def slow_rebuild(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return real_rebuild(*args, **kwargs)

    monkeypatch.setattr(engine, "_update", slow_rebuild)
    (bot.config.corpus_dir / "porto.txt").write_bytes(PORTO)
    first = bot.message("/reload", user=ADMIN)
    assert await asyncio.to_thread(entered.wait, 10)  # the first holds the re-index
    second = bot.message("/reload", user=ADMIN)
    [notice] = await bot.replies_to(second)
    assert notice["text"] == ALREADY_RELOADING
    release.set()
    [first_report] = await bot.replies_to(first)
    assert "1 added, 0 changed, 0 removed, 2 unchanged" in first_report["text"]
    # The second ran after the first, and found the corpus up to date.
    [_, second_report] = await bot.replies_to(second, count=2)
    assert "0 added, 0 changed, 0 removed, 3 unchanged" in second_report["text"]


async def test_reload_and_upload_at_once_both_report_and_both_files_are_served(
    bot: Harness,
) -> None:
    (bot.config.corpus_dir / "porto.txt").write_bytes(PORTO)
    reload = bot.message("/reload", user=ADMIN)
    upload = bot.document("trams.md", b"# Trams\n\nTrams climb the hills of Lisbon.\n")
    [reloaded] = await bot.replies_to(reload)
    [uploaded] = await bot.replies_to(upload)
    assert "✅ Reloaded" in reloaded["text"]
    assert "✅ Added trams.md" in uploaded["text"]
    assert bot.state.engine.stats().documents == 4


async def test_stats_counts_inline_queries_apart_from_questions(bot: Harness) -> None:
    await bot.replies_to(bot.message("How is Mafra bread baked?"))
    # An inline query every few keystrokes while typing a question.
    typed = "How is Mafra bread baked"
    query_ids = [bot.inline(typed[:n]) for n in range(4, len(typed) + 1, 5)]
    for query_id in query_ids:
        await bot.fake.wait_for(
            "answerInlineQuery", lambda p, q=query_id: p["inline_query_id"] == q
        )
    [stats] = await bot.replies_to(bot.message("/stats", user=ADMIN))
    text = stats["text"]
    assert "Answered: 1 / 1" in text and "Refused: 0 / 0" in text
    assert f"Inline queries: {len(query_ids)} / {len(query_ids)}" in text
    assert_telegram_html(text)


async def test_upload_over_telegrams_download_limit_is_refused(bot: Harness) -> None:
    # Telegram may leave out file_size; getFile then refuses a file over 20 MB.
    bot.fake.fail("getFile", 400, "Bad Request: file is too big")
    text = await refused_upload(bot, bot.document("huge.txt", PORTO, announce_size=False))
    assert (
        text == "❌ Not added: Telegram lets bots download files up to 20 MB. Nothing was stored."
    )
    assert len(bot.fake.requests("getFile")) == 1


async def test_one_byte_over_the_limit_says_so_in_bytes(start_bot: StartBot) -> None:
    bot = await start_bot(MAX_UPLOAD_BYTES=str(1024 * 1024))
    text = await refused_upload(bot, bot.document("big.txt", PORTO, file_size=1024 * 1024 + 1))
    assert "the file is 1,048,577 bytes, the limit is 1,048,576 bytes" in text


def test_size_versus_limit() -> None:
    from bot.admin import size_versus_limit

    assert (
        size_versus_limit(6_500_000, 5 * 1024 * 1024) == "the file is 6.2 MB, the limit is 5.0 MB"
    )
    assert size_versus_limit(5000, 1000) == "the file is 4.9 KB, the limit is 1000 bytes"
    assert size_versus_limit(1001, 1000) == "the file is 1001 bytes, the limit is 1000 bytes"
    assert size_versus_limit(1025, 1024) == "the file is 1,025 bytes, the limit is 1,024 bytes"


async def test_a_file_replaced_by_binary_keeps_its_last_good_version(
    bot: Harness, bot_corpus: Path
) -> None:
    (bot_corpus / "bread.txt").write_bytes(b"\x00\x01\x02 not text \xff\xfe")
    [report] = await bot.replies_to(bot.message("/reload", user=ADMIN))
    text = report["text"]
    assert "Skipped <code>bread.txt</code>: binary file" in text
    assert "the previous version is still used" in text
    assert "0 removed" in text
    [answer] = await bot.replies_to(bot.message("How is Mafra bread baked?"))
    assert "wood-fired ovens" in answer["text"]
    [sources] = await bot.replies_to(bot.message("/sources"))
    assert "file unreadable (binary file" in sources["text"]
    assert "last good version" in sources["text"]
    # Fixed: served from the file again, and no longer flagged.
    (bot_corpus / "bread.txt").write_text(BREAD.replace("thick", "golden"), encoding="utf-8")
    [fixed] = await bot.replies_to(bot.message("/reload", user=ADMIN))
    assert "1 changed" in fixed["text"] and "Skipped" not in fixed["text"]
    [sources] = await bot.replies_to(bot.message("/sources"))
    assert "unreadable" not in sources["text"]
