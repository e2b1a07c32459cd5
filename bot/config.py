"""Bot configuration, read from environment variables (and a ``.env`` file by the caller)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
# The corpus shipped with qabot, when it is installed from a clone (``pip install -e .``).
SHIPPED_CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Telegram refuses to hand bots files larger than 20 MB, so a higher limit could never be used.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
DEFAULT_QUESTIONS_PER_MINUTE = 20
DEFAULT_RESULTS_PER_ANSWER = 3
MAX_RESULTS_PER_ANSWER = 10
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0:8080"
DEFAULT_WEBHOOK_HOST, DEFAULT_WEBHOOK_PORT = "0.0.0.0", 8080

# "<bot id>:<secret>" as issued by @BotFather; checked loosely so that a pasted
# placeholder or a token with stray quotes fails at startup instead of at the first request.
_TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
# What Telegram accepts as setWebhook's secret_token.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """The configuration is unusable; the message is one line meant for the operator."""


@dataclass(frozen=True, slots=True)
class BotConfig:
    """Everything the bot needs to start."""

    token: str = field(repr=False)
    admin_user_ids: frozenset[int] = frozenset()
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_BASE_FILE_URL
    corpus_dir: Path = field(default_factory=lambda: default_corpus_dir())
    database_path: Path = field(default_factory=lambda: default_database_path())
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    questions_per_minute: int = DEFAULT_QUESTIONS_PER_MINUTE
    results_per_answer: int = DEFAULT_RESULTS_PER_ANSWER
    log_level: str = "INFO"
    proxy_url: str | None = field(default=None, repr=False)
    allowed_user_ids: frozenset[int] = frozenset()
    allowed_chat_ids: frozenset[int] = frozenset()
    alert_chat_id: int | None = None
    log_format: str = "text"
    webhook: WebhookConfig | None = None
    """Set (from ``WEBHOOK_URL``) to receive updates by webhook instead of polling."""
    watch_corpus: bool = False


def load_config(
    env: Mapping[str, str],
    *,
    corpus_dir: Path | None = None,
    database_path: Path | None = None,
) -> BotConfig:
    """Build a :class:`BotConfig` from ``env``; explicit paths override the environment.

    Raises :class:`ConfigError` with a one-line message naming the faulty variable.
    """
    corpus, database = data_paths(env, corpus_dir=corpus_dir, database_path=database_path)
    return BotConfig(
        token=_token(env),
        admin_user_ids=_admin_ids(env),
        base_url=_url(env, "TELEGRAM_BASE_URL", DEFAULT_BASE_URL),
        base_file_url=_url(env, "TELEGRAM_BASE_FILE_URL", DEFAULT_BASE_FILE_URL),
        corpus_dir=corpus,
        database_path=database,
        max_upload_bytes=_int(
            env, "MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES, 1, TELEGRAM_DOWNLOAD_LIMIT
        ),
        questions_per_minute=_int(
            env, "QUESTIONS_PER_MINUTE", DEFAULT_QUESTIONS_PER_MINUTE, 0, 10_000
        ),
        results_per_answer=_int(
            env, "RESULTS_PER_ANSWER", DEFAULT_RESULTS_PER_ANSWER, 1, MAX_RESULTS_PER_ANSWER
        ),
        log_level=_log_level(env),
        proxy_url=_proxy_url(env),
        allowed_user_ids=_ids(env, "ALLOWED_USER_IDS", what="user ids"),
        allowed_chat_ids=_ids(env, "ALLOWED_CHAT_IDS", what="chat ids", negative=True),
        alert_chat_id=_alert_chat_id(env),
        log_format=_choice(env, "LOG_FORMAT", ("text", "json")),
        webhook=webhook_config(env),
        watch_corpus=_flag(env, "WATCH_CORPUS"),
    )


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Webhook mode: Telegram POSTs updates to ``url``; the bot listens on ``host:port``."""

    url: str
    secret: str = field(repr=False)
    host: str = DEFAULT_WEBHOOK_HOST
    port: int = DEFAULT_WEBHOOK_PORT

    @property
    def path(self) -> str:
        """The path Telegram posts to (that of ``url``; a proxy in front passes it on)."""
        return urlsplit(self.url).path.rstrip("/")


def webhook_config(env: Mapping[str, str]) -> WebhookConfig | None:
    """``WEBHOOK_URL``, ``WEBHOOK_LISTEN`` and ``WEBHOOK_SECRET``; None in polling mode."""
    url = _get(env, "WEBHOOK_URL")
    if not url:
        return None
    url = _url(env, "WEBHOOK_URL", url)
    secret = _get(env, "WEBHOOK_SECRET")
    if not secret:
        raise ConfigError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
    if not _SECRET_RE.fullmatch(secret):
        raise ConfigError(
            "WEBHOOK_SECRET must be 1-256 characters: letters, digits, '_' or '-' (Telegram's rule)"
        )
    host, port = _listen(_get(env, "WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN)
    return WebhookConfig(url=url, secret=secret, host=host, port=port)


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ConfigError(f"WEBHOOK_LISTEN must be host:port, got {value[:80]!r}")
    return host, int(port)


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = (_get(env, name) or choices[0]).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value[:20]!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = _get(env, name).lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {value[:20]!r}")


def data_paths(
    env: Mapping[str, str],
    *,
    corpus_dir: Path | None = None,
    database_path: Path | None = None,
) -> tuple[Path, Path]:
    """The corpus directory and index database: explicit paths, else ``CORPUS_DIR`` and
    ``DATABASE_PATH``, else the defaults (for the bot and every ``qabot`` command alike)."""
    corpus = _get(env, "CORPUS_DIR")
    database = _get(env, "DATABASE_PATH")
    return (
        corpus_dir or (Path(corpus) if corpus else default_corpus_dir()),
        database_path or (Path(database) if database else default_database_path()),
    )


def data_home() -> Path:
    """``$XDG_DATA_HOME/qabot``, else ``~/.local/share/qabot``: where qabot keeps its data
    wherever it is started from."""
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "share") / "qabot"


def default_corpus_dir() -> Path:
    """The corpus shipped in the clone qabot runs from, else ``<data home>/corpus``."""
    return SHIPPED_CORPUS_DIR if SHIPPED_CORPUS_DIR.is_dir() else data_home() / "corpus"


def default_database_path() -> Path:
    return data_home() / "qabot.sqlite3"


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _token(env: Mapping[str, str]) -> str:
    token = _get(env, "TELEGRAM_BOT_TOKEN")
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    if not _TOKEN_RE.fullmatch(token):
        # Never echo the value: a nearly-right token is still a secret.
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is malformed (expected '<digits>:<letters, digits, - or _>')"
        )
    return token


def _admin_ids(env: Mapping[str, str]) -> frozenset[int]:
    raw = _get(env, "ADMIN_USER_IDS")
    ids: set[int] = set()
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        if not item.isascii() or not item.isdigit() or int(item) <= 0:
            raise ConfigError(
                f"ADMIN_USER_IDS must be comma-separated numeric user ids, got {item[:40]!r}"
            )
        ids.add(int(item))
    return frozenset(ids)


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = _get(env, name) or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value[:80]!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _get(env, name)
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {level[:20]!r}")
    return level


_PROXY_SCHEMES = ("http", "https", "socks4", "socks5", "socks5h")


def _proxy_url(env: Mapping[str, str]) -> str | None:
    """``PROXY_URL``: an HTTP(S) or SOCKS proxy for every Bot API request, or None."""
    value = _get(env, "PROXY_URL")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in _PROXY_SCHEMES or not parts.hostname:
        # Never echo it: a proxy URL may carry a password.
        raise ConfigError(
            f"PROXY_URL must look like scheme://host:port with scheme one of "
            f"{', '.join(_PROXY_SCHEMES)}"
        )
    return value


def _ids(env: Mapping[str, str], name: str, *, what: str, negative: bool = False) -> frozenset[int]:
    """Comma-separated numeric ids; chat ids of groups and channels are negative."""
    ids: set[int] = set()
    for part in _get(env, name).split(","):
        item = part.strip()
        digits = item[1:] if negative and item.startswith("-") else item
        if not item:
            continue
        if not digits.isascii() or not digits.isdigit() or int(item) == 0:
            raise ConfigError(f"{name} must be comma-separated numeric {what}, got {item[:40]!r}")
        ids.add(int(item))
    return frozenset(ids)


def _alert_chat_id(env: Mapping[str, str]) -> int | None:
    ids = _ids(env, "ALERT_CHAT_ID", what="chat ids", negative=True)
    if len(ids) > 1:
        raise ConfigError("ALERT_CHAT_ID must be one chat id")
    return next(iter(ids), None)
