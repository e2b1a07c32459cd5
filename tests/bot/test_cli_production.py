"""The command line for operators: --version, plain help, chat in a terminal, ask without a
question, export and backup."""

from __future__ import annotations

import asyncio
import csv
import fcntl
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from harness import ADMIN, Harness, StartBot

from bot.cli import build_parser, main
from bot.maintenance import CSV_HEADER

SUBCOMMANDS = ("ask", "chat", "index", "eval", "run", "export", "backup")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "qabot 0.1.0"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_help_is_plain_words_with_an_example(command: str) -> None:
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    text = sub.format_help()
    example = text.split("\nexample:\n  ")[1]
    assert "qabot " in example and f" {command}" in example
    assert "``" not in text and ":class:" not in text
    top = parser.format_help()
    assert "``" not in top and "examples:\n  qabot ask" in top


class Terminal:
    """``qabot`` on a pseudo-terminal, as a person would run it."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
            # Its controlling terminal, so that Ctrl-C typed there is its SIGINT.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.output = b""

    def read_until(self, marker: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} in {self.output[-2000:]!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    break
        return self.output

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def ready(self) -> None:
        """Wait for the prompt and for readline to take keys (typed-ahead keys can be
        dropped while it sets the terminal up): a key echoed, then erased with Ctrl-U."""
        self.read_until(b"? ")
        mark = len(self.output)
        self.send(b"~")
        while b"~" not in self.output[mark:]:
            self.read_until(b"~")
        self.send(b"\x15")

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            os.close(self.master)


def terminal_env(tmp_path: Path, shipped_corpus: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "CORPUS_DIR": str(shipped_corpus),
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        "TERM": "xterm",
    }


def test_chat_answers_keeps_history_and_ctrl_c_quits_at_once(
    tmp_path: Path, shipped_corpus: Path
) -> None:
    env = terminal_env(tmp_path, shipped_corpus)
    chat = Terminal("chat", env=env)
    chat.ready()
    chat.send(b"Which villages of Fuzuli district were liberated?\r")
    chat.read_until(b"Mollaveli")
    # Only the main thread (the one reading the line) takes SIGINT: the kernel would hand a
    # Ctrl-C to any thread that does not block it, and the read would never see it.
    pid = chat.process.pid
    masks = {
        int(tid): int(line.split()[1], 16)
        for tid in os.listdir(f"/proc/{pid}/task")
        for line in Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines()
        if line.startswith("SigBlk:")
    }
    sigint = 1 << (signal.SIGINT - 1)
    assert len(masks) > 1
    assert [tid for tid, mask in masks.items() if not mask & sigint] == [pid]
    chat.read_until(b"\n\r\n? ")
    sent = time.monotonic()
    chat.send(b"half a question")
    chat.read_until(b"half a question")  # echoed: readline is reading the line
    # Ctrl-C: what the terminal does for it, SIGINT to the process (sent directly: after a
    # long test session the pseudo-terminal's foreground group was sometimes not the child's).
    os.kill(chat.process.pid, signal.SIGINT)
    # No further key is needed (a lost signal would wait for one forever); the bound is
    # loose because closing the database and Python's exit are slow on a loaded machine.
    assert chat.wait(60) == 130
    assert time.monotonic() - sent < 45
    history = (tmp_path / "xdg" / "qabot" / "chat_history").read_text(encoding="utf-8")
    assert "Which villages of Fuzuli district were liberated?" in history

    # History comes back with the up arrow in the next session; Ctrl-D quits with 0.
    again = Terminal("chat", env=env)
    again.ready()
    again.send(b"\x1b[A")
    again.read_until(b"Fuzuli district were liberated?")
    again.send(b"\x15")  # Ctrl-U clears the line (readline editing)
    again.send(b"\x04")
    assert again.wait(20) == 0


def test_ask_without_a_question_on_a_terminal_prints_usage(
    tmp_path: Path, shipped_corpus: Path
) -> None:
    ask = Terminal("ask", env=terminal_env(tmp_path, shipped_corpus))
    output = ask.read_until(b"questions.txt")
    assert ask.wait(30) == 2
    assert b"usage: qabot ask" in output


async def test_export_csv_after_real_questions(bot: Harness, tmp_path: Path) -> None:
    [answered] = await bot.replies_to(bot.message("How is Mafra bread baked?"))
    await bot.replies_to(bot.message("What is the capital of France?"))
    bot.press(bot.buttons(answered)["👎"], answered["_result"])
    bot.press(bot.buttons(answered)["👎"], answered["_result"], user=ADMIN)
    await bot.fake.wait_for("answerCallbackQuery", count=2)
    bot.inline("Mafra bread")  # inline queries are not in the export
    await bot.fake.wait_for("answerInlineQuery")
    target = tmp_path / "out" / "questions.csv"
    result = run_cli("export", "--csv", str(target), "--db", str(bot.config.database_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"2 questions written to {target}"
    with target.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 3
    first = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert first["question"] == "How is Mafra bread baked?"
    assert first["refused"] == "0" and first["feedback"] == "-2"
    assert first["documents"] == "bread.txt"
    assert first["user_id"] == first["chat_id"] == "2002"
    assert first["time"].endswith("Z") and float(first["latency_ms"]) >= 0
    second = dict(zip(CSV_HEADER, rows[2], strict=True))
    assert (second["refused"], second["documents"], second["feedback"]) == ("1", "", "")


def test_export_and_backup_of_a_missing_database_fail_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["export", "--csv", str(tmp_path / "x.csv")], ["backup", str(tmp_path / "b")]):
        assert main([*args, "--db", str(tmp_path / "missing.sqlite3")]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"qabot: database not found: {tmp_path / 'missing.sqlite3'}"
        ]
        assert not list(tmp_path.iterdir())


async def test_backup_while_the_bot_answers(start_bot: StartBot, tmp_path: Path) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="0")
    database = str(bot.config.database_path)
    pushed = [bot.message(f"How is Mafra bread baked? ({n})") for n in range(40)]
    during = tmp_path / "during.sqlite3"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "backup", str(during), "--db", database),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err
    for message in pushed:
        await bot.replies_to(message)
    with sqlite3.connect(during) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (copied,) = copy.execute("SELECT COUNT(*) FROM bot_questions").fetchone()
        assert copy.execute("SELECT COUNT(*) FROM documents").fetchone() == (2,)
    assert 0 <= copied <= 40
    assert f"({copied} questions)" in out.decode()
    # Taken again while the bot still runs (its connections open, the WAL not checkpointed).
    after = tmp_path / "after.sqlite3"
    result = await asyncio.to_thread(run_cli, "backup", str(after), "--db", database)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(after) as copy, sqlite3.connect(database) as live:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        count = "SELECT COUNT(*) FROM bot_questions"
        assert copy.execute(count).fetchone() == live.execute(count).fetchone() == (40,)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not after.with_name(f"{after.name}-wal").exists()
