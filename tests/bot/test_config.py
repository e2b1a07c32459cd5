"""Configuration from the environment, and ``run_bot``'s one-line errors with exit code 2."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from harness import TOKEN

from bot.app import run_bot
from bot.config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_UPLOAD_BYTES,
    BotConfig,
    ConfigError,
    data_paths,
    default_corpus_dir,
    default_database_path,
    load_config,
)

ENV_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "TELEGRAM_BASE_FILE_URL",
    "ADMIN_USER_IDS",
    "CORPUS_DIR",
    "DATABASE_PATH",
    "MAX_UPLOAD_BYTES",
    "QUESTIONS_PER_MINUTE",
    "RESULTS_PER_ANSWER",
    "LOG_LEVEL",
    "PROXY_URL",
    "ALLOWED_USER_IDS",
    "ALLOWED_CHAT_IDS",
    "ALERT_CHAT_ID",
    "LOG_FORMAT",
    "WEBHOOK_URL",
    "WEBHOOK_LISTEN",
    "WEBHOOK_SECRET",
    "WATCH_CORPUS",
)


def test_defaults_with_only_a_token() -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert config.token == TOKEN
    assert config.admin_user_ids == frozenset()
    assert config.base_url == DEFAULT_BASE_URL
    # The clone's corpus/ and the user's data folder, wherever the bot is started.
    assert config.corpus_dir == Path(__file__).resolve().parents[2] / "corpus"
    assert config.database_path.parts[-2:] == ("qabot", "qabot.sqlite3")
    assert config.database_path.is_absolute()
    assert config.max_upload_bytes == DEFAULT_MAX_UPLOAD_BYTES
    assert config.questions_per_minute == 20
    assert config.results_per_answer == 3
    assert TOKEN not in repr(config)


def test_every_setting_is_read() -> None:
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": f"  {TOKEN}  ",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "TELEGRAM_BASE_FILE_URL": "http://127.0.0.1:8081/file/bot",
            "ADMIN_USER_IDS": " 12, 34 ,,56",
            "CORPUS_DIR": "/srv/docs",
            "DATABASE_PATH": "/srv/db.sqlite3",
            "MAX_UPLOAD_BYTES": "1_000",
            "QUESTIONS_PER_MINUTE": "0",
            "RESULTS_PER_ANSWER": "5",
            "LOG_LEVEL": "debug",
        },
        corpus_dir=Path("/override"),
    )
    assert config == BotConfig(
        token=TOKEN,
        admin_user_ids=frozenset({12, 34, 56}),
        base_url="http://127.0.0.1:8081/bot",
        base_file_url="http://127.0.0.1:8081/file/bot",
        corpus_dir=Path("/override"),
        database_path=Path("/srv/db.sqlite3"),
        max_upload_bytes=1000,
        questions_per_minute=0,
        results_per_answer=5,
        log_level="DEBUG",
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "  "}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "123456:short"}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"TELEGRAM_BOT_TOKEN": f"'{TOKEN}'"}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_USER_IDS": "12,abc"}, "ADMIN_USER_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_USER_IDS": "@alice"}, "ADMIN_USER_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_USER_IDS": "-5"}, "ADMIN_USER_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_USER_IDS": "1.5"}, "ADMIN_USER_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "QUESTIONS_PER_MINUTE": "many"}, "QUESTIONS_PER_MINUTE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "MAX_UPLOAD_BYTES": "0"}, "MAX_UPLOAD_BYTES"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "MAX_UPLOAD_BYTES": "30000000"}, "MAX_UPLOAD_BYTES"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "RESULTS_PER_ANSWER": "11"}, "RESULTS_PER_ANSWER"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_give_one_line_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(env)
    message = str(error.value)
    assert names in message
    assert "\n" not in message
    assert "short" not in message and TOKEN not in message  # never echo a token


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No bot settings in the environment, and a working directory without a .env file.

    Each variable is set then deleted so that monkeypatch also removes whatever
    ``load_dotenv`` puts there during the test. ``run_bot`` configures the root logger
    for the process; that is undone too.
    """
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield monkeypatch
    root.handlers[:] = handlers
    root.setLevel(level)


def test_run_bot_without_token_exits_2_with_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_bot() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in err and "Traceback" not in err


def test_run_bot_reads_dotenv_and_reports_bad_admin_ids(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nADMIN_USER_IDS=12,bob\n", encoding="utf-8"
    )
    assert run_bot(corpus_dir=tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ADMIN_USER_IDS" in err and "'bob'" in err


def test_run_bot_with_missing_corpus_exits_2(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert run_bot(corpus_dir=tmp_path / "nope") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corpus directory" in err


def test_run_bot_with_a_token_telegram_rejects_exits_2(
    clean_env: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    bot_corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_telegram.fail("getMe", 401, "Unauthorized")
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("TELEGRAM_BASE_URL", fake_telegram.base_url)
    clean_env.setenv("TELEGRAM_BASE_FILE_URL", fake_telegram.base_file_url)
    assert run_bot(corpus_dir=bot_corpus, db_path=tmp_path / "db.sqlite3") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rejected TELEGRAM_BOT_TOKEN" in err
    assert TOKEN not in err
    assert [c.method for c in fake_telegram.requests()] == ["getMe"]


def test_env_example_documents_exactly_the_settings_read() -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    names = {
        line.split("=", 1)[0].strip()
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert names == set(ENV_NAMES)
    values = dict(
        line.split("=", 1)
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    values["TELEGRAM_BOT_TOKEN"] = TOKEN
    assert load_config(values) == BotConfig(token=TOKEN)  # the example shows the defaults


def test_data_paths_explicit_then_environment_then_defaults() -> None:
    assert data_paths({}) == (default_corpus_dir(), default_database_path())
    env = {"CORPUS_DIR": " /c ", "DATABASE_PATH": "/d.sqlite3"}
    assert data_paths(env) == (Path("/c"), Path("/d.sqlite3"))
    assert data_paths(env, corpus_dir=Path("x"), database_path=Path("y")) == (Path("x"), Path("y"))


def test_access_alert_and_proxy_settings() -> None:
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "ALLOWED_USER_IDS": " 5, 6 ,",
            "ALLOWED_CHAT_IDS": "-1001234567890, 42",
            "ALERT_CHAT_ID": "-100999",
            "PROXY_URL": "socks5://user:secret@127.0.0.1:1080",
        }
    )
    assert config.allowed_user_ids == {5, 6}
    assert config.allowed_chat_ids == {-1001234567890, 42}
    assert config.alert_chat_id == -100999
    assert config.proxy_url == "socks5://user:secret@127.0.0.1:1080"
    assert "secret" not in repr(config)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALLOWED_USER_IDS", "-5"),
        ("ALLOWED_USER_IDS", "bob"),
        ("ALLOWED_CHAT_IDS", "--5"),
        ("ALLOWED_CHAT_IDS", "0"),
        ("ALERT_CHAT_ID", "1,2"),
        ("ALERT_CHAT_ID", "@channel"),
        ("PROXY_URL", "ftp://127.0.0.1:21"),
        ("PROXY_URL", "127.0.0.1:8080"),
        ("PROXY_URL", "http://:secret@"),
    ],
)
def test_bad_access_alert_and_proxy_settings(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"TELEGRAM_BOT_TOKEN": TOKEN, name: value})
    assert name in str(info.value) and "\n" not in str(info.value)
    if name == "PROXY_URL":
        assert "secret" not in str(info.value)
