"""Start-up checks for ``qabot run``: a fault is one line naming the path or URL and what to
check, with a documented exit code, never a traceback.

Exit codes: 0 stopped normally; 1 unexpected failure; 2 configuration (a setting, the token,
the corpus directory, the database path); 3 the database cannot be used (not a database,
damaged, from a newer qabot); 4 the Bot API cannot be reached (network, firewall, proxy).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from telegram.error import InvalidToken

from bot.config import BotConfig

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3
EXIT_NETWORK = 4


class StartupError(Exception):
    """Why the bot cannot start: a one-line message and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def check_corpus(corpus: Path) -> None:
    if not corpus.is_dir():
        raise StartupError(f"corpus directory {corpus} not found (check CORPUS_DIR)", EXIT_CONFIG)
    try:
        with os.scandir(corpus) as entries:
            next(entries, None)
    except OSError as exc:
        raise StartupError(
            f"corpus directory {corpus} cannot be read ({exc.strerror or exc}): "
            "check its permissions for the user running qabot",
            EXIT_CONFIG,
        ) from None


def check_database(path: Path) -> None:
    if path.is_dir():
        raise StartupError(
            f"DATABASE_PATH {path} is a directory: point it at a file, e.g. {path / 'qabot.sqlite3'}",
            EXIT_CONFIG,
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(
            f"cannot create the database folder {parent} ({exc.strerror or exc}): "
            "check DATABASE_PATH and permissions",
            EXIT_CONFIG,
        ) from None
    if not path.exists():
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            db.execute("PRAGMA schema_version").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StartupError(
            f"the database {path} cannot be used ({exc}): restore a backup or move it away "
            "(`qabot index` rebuilds the index; the question log is lost)",
            EXIT_DATABASE,
        ) from None


def preflight(config: BotConfig) -> None:
    """Everything that can be checked before contacting Telegram."""
    check_corpus(config.corpus_dir)
    check_database(config.database_path)


def unreachable(config: BotConfig, reason: str) -> StartupError:
    return StartupError(
        f"cannot reach the Telegram Bot API at {config.base_url} ({reason}): check the "
        "network, firewall and DNS, or set PROXY_URL",
        EXIT_NETWORK,
    )


class HideStartupTracebacks(logging.Filter):
    """Drops PTB's tracebacks for failures ``run_bot`` reports in one line: a rejected token,
    and the start-up ("Bootstrap") network loop giving up."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a malformed call is logging's problem to report, not ours
            return True
        return not (
            record.name.startswith("telegram") and "Network Retry Loop (Bootstrap" in message
        )
