from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import format_answer, main
from retrieval.models import Answer, DocumentMeta, Quote


def run_cli(
    *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def options(corpus: Path, tmp_path: Path) -> list[str]:
    return ["--corpus", str(corpus), "--db", str(tmp_path / "db.sqlite3")]


def test_ask_json_contract(shipped_corpus: Path, tmp_path: Path) -> None:
    result = run_cli(
        "ask",
        "--json",
        "Which villages of Fuzuli district were liberated?",
        *options(shipped_corpus, tmp_path),
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "abstained", "quotes", "latency_ms"}
    assert payload["question"] == "Which villages of Fuzuli district were liberated?"
    assert payload["abstained"] is False
    assert isinstance(payload["latency_ms"], float)
    assert 1 <= len(payload["quotes"]) <= 3
    for quote in payload["quotes"]:
        assert set(quote) == {"text", "score", "document", "page", "section"}
        assert quote["page"] is None and quote["section"] is None
        assert isinstance(quote["text"], str) and isinstance(quote["score"], float)
        assert set(quote["document"]) == {"id", "title", "author", "date", "url", "language"}
        assert quote["document"]["language"] == "en"
    assert "Fuzuli" in payload["quotes"][0]["text"]
    assert payload["quotes"][0]["document"]["title"].startswith("Azerbaijan takes control")


def test_ask_json_lines_from_stdin(shipped_corpus: Path, tmp_path: Path) -> None:
    questions = "What did Aliyev call a source of great threat to the region?\n\nWho painted the Mona Lisa?\n"
    result = run_cli("ask", "--json", *options(shipped_corpus, tmp_path), stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["abstained"] for line in lines] == [False, True, True]
    assert "Armenian fascism" in lines[0]["quotes"][0]["text"]
    assert lines[1]["question"] == ""
    assert lines[2]["quotes"] == []


def test_ask_json_lines_are_streamed_as_questions_arrive(
    shipped_corpus: Path, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ask", "--json", *options(shipped_corpus, tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write("How many villages were recaptured?\n")
        process.stdin.flush()
        # The answer arrives while stdin is still open: nothing waits for end of input.
        first = json.loads(process.stdout.readline())
        assert "hundreds of villages" in first["quotes"][0]["text"]
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0


def test_ask_for_humans_prints_quote_then_source(
    shipped_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["ask", "How many villages were recaptured?", *options(shipped_corpus, tmp_path)]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("> With hundreds of villages already recaptured")
    assert out[1] == (
        "  — Azerbaijan’s Anti-Terror Op In Karabakh Changing Regional Geopolitical Alignment"
        " · Fuad Muxtarlı · 4 November 2020"
    )


def test_index_prints_counts(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus_dir / "broken.txt").write_bytes(b"\xff\xfe\x00junk")
    assert main(["index", *options(corpus_dir, tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "documents: 3  passages: 5  sentences: 7" in out
    assert "skipped: 1" in out and "skipped broken.txt: binary" in out
    assert "seconds:" in out


def test_eval_prints_metrics_and_misses(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(record)
            for record in [
                {
                    "question": "When was the 25 de Abril Bridge inaugurated?",
                    "answers": ["6 August 1966"],
                },
                {"question": "Who made the first custard tarts?", "answers": ["monks"]},
                {"question": "How long is the Vasco da Gama Bridge?", "answers": ["99 kilometres"]},
                {"question": "Who painted the Mona Lisa?", "answers": []},
            ]
        ),
        encoding="utf-8",
    )
    assert main(["eval", str(questions), *options(corpus_dir, tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "P@1: 2/3 = 0.667" in out
    assert "hit@3: 2/3 = 0.667" in out
    assert "abstention on answerable: 0/3 = 0.000" in out
    assert "refusal of unanswerable: 1/1 = 1.000" in out
    assert "MISS [gold not quoted] How long is the Vasco da Gama Bridge?" in out

    assert main(["eval", "--json", str(questions), *options(corpus_dir, tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["p_at_1"] == 0.6667 and summary["refusal_of_unanswerable"] == 1.0
    assert summary["abstention_on_answerable"] == 0.0
    assert [m["problem"] for m in summary["misses"]] == ["gold not quoted"]


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--corpus", "/definitely/missing", "question"],
        ["--corpus", "/definitely/missing", "ask", "question"],
        ["ask", "--limit", "0", "question"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_source_line_lists_every_known_field_like_the_bot() -> None:
    document = DocumentMeta(
        id="d.md",
        title="Bridges",
        author="Ana",
        date="2020",
        url="https://example.org/b?x=1&y=2",
        source="Porto Daily",
    )
    quote = Quote("The bridge is long.", 1.0, document, 0, 19)
    text = format_answer(Answer("q?", False, (quote,), 1.0))
    assert text.splitlines() == [
        "> The bridge is long.",
        "  — Bridges · Ana · Porto Daily · 2020 · https://example.org/b?x=1&y=2",
    ]
    bare = Quote("x", 1.0, DocumentMeta(id="e.txt", title="E", url="ftp://x"), 0, 1)
    assert format_answer(Answer("q?", False, (bare,), 1.0)).splitlines()[1] == "  — E"


def test_paths_come_from_the_environment_else_the_shared_defaults(
    shipped_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The defaults do not depend on the working directory: the clone's corpus/ and the
    # user's data folder.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CORPUS_DIR", raising=False)
    monkeypatch.delenv("DATABASE_PATH", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert main(["index"]) == 0
    assert (tmp_path / "xdg" / "qabot" / "qabot.sqlite3").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xdg"]
    assert "documents: 2" in capsys.readouterr().out
    shutil.copytree(shipped_corpus, tmp_path / "mine")
    (tmp_path / "mine" / "001_3926a41dc234a159.txt").unlink()
    monkeypatch.setenv("CORPUS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "env.sqlite3"))
    assert main(["index"]) == 0
    assert (tmp_path / "env.sqlite3").is_file()
    assert "documents: 1" in capsys.readouterr().out


def test_version_is_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"qabot {version('qabot')}\n"


def test_commands_do_not_import_package_metadata() -> None:
    """Looking up the version costs a command 7-9 ms at start: only --version does it."""
    code = "import sys, bot.cli; print('importlib.metadata' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
