"""``qabot run`` start-up faults: one line on stderr naming what to check, no traceback, and
the documented exit code (bot.startup)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from harness import TOKEN, StartBot
from test_config import clean_env  # noqa: F401 - the fixture

from bot import delivery, startup
from bot.app import run_bot
from bot.startup import EXIT_CONFIG, EXIT_DATABASE, EXIT_NETWORK


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("qabot: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Event loop is closed" not in err
    return lines[0]


@pytest.fixture
def env(
    clean_env: pytest.MonkeyPatch,  # noqa: F811
    fake_telegram: FakeTelegram,
) -> pytest.MonkeyPatch:
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("TELEGRAM_BASE_URL", fake_telegram.base_url)
    clean_env.setenv("TELEGRAM_BASE_FILE_URL", fake_telegram.base_file_url)
    return clean_env


@pytest.mark.usefixtures("env")
def test_database_path_that_is_a_directory(
    bot_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "db"
    db.mkdir()
    assert run_bot(corpus_dir=bot_corpus, db_path=db) == EXIT_CONFIG
    line = one_line(capsys)
    assert str(db) in line and "is a directory" in line


@pytest.mark.usefixtures("env")
def test_corrupt_database(
    bot_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"not a database at all" * 500)
    assert run_bot(corpus_dir=bot_corpus, db_path=db) == EXIT_DATABASE
    line = one_line(capsys)
    assert str(db) in line and "not a database" in line and "backup" in line


@pytest.mark.usefixtures("env")
def test_unreadable_corpus(
    bot_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def denied(path: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    # The tests may run as root, whom chmod does not stop.
    monkeypatch.setattr(startup.os, "scandir", denied)
    assert run_bot(corpus_dir=bot_corpus, db_path=tmp_path / "db.sqlite3") == EXIT_CONFIG
    line = one_line(capsys)
    assert str(bot_corpus) in line and "Permission denied" in line and "permissions" in line


@pytest.mark.usefixtures("env")
def test_missing_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bot(corpus_dir=tmp_path / "nope", db_path=tmp_path / "db.sqlite3") == EXIT_CONFIG
    assert "CORPUS_DIR" in one_line(capsys)


def test_unreachable_bot_api(
    clean_env: pytest.MonkeyPatch,  # noqa: F811
    bot_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/bot"
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", 0.01)
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("TELEGRAM_BASE_URL", url)
    assert run_bot(corpus_dir=bot_corpus, db_path=tmp_path / "db.sqlite3") == EXIT_NETWORK
    line = one_line(capsys)
    assert url in line and "PROXY_URL" in line and "ConnectError" in line
    assert TOKEN.split(":")[1] not in line


async def test_an_empty_corpus_starts_with_one_warning(
    start_bot: StartBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    bot = await start_bot(corpus=empty)
    warnings = [r.getMessage() for r in caplog.records if "has no documents" in r.getMessage()]
    assert len(warnings) == 1 and str(empty) in warnings[0]
    await bot.replies_to(bot.message("Anything there?"))
