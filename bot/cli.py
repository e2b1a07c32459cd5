"""The ``qabot`` command: ask, chat, index and eval in a terminal; ``run`` starts the Telegram bot."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from dotenv import load_dotenv

from bot.config import data_home, data_paths
from bot.interrupt import ctrl_c_interrupts
from bot.render import location, plain_source
from retrieval.errors import QabotError
from retrieval.models import Answer, Quote, ReindexReport

# numpy, imported with the engine, starts OpenBLAS worker threads. Started with SIGINT
# blocked, they leave Ctrl-C to the main thread, where `qabot chat` waits in readline: a
# signal the kernel hands to another thread does not interrupt that wait.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
try:
    from retrieval.engine import Engine
    from retrieval.evaluate import evaluate, read_questions
finally:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

EXIT_USAGE = 2
ASK_HINT = (
    'Give a question, e.g. qabot ask "Who liberated Fuzuli?", or pipe questions in, one per'
    " line: qabot ask < questions.txt"
)
HISTORY_LINES = 1000

DESCRIPTION = """\
qabot answers questions about a folder of documents by quoting the sentences that
answer them, each with its source. It works in a terminal or as a Telegram bot.

Without --corpus or CORPUS_DIR it reads the corpus/ folder of the qabot clone; without --db
or DATABASE_PATH it keeps its index in ~/.local/share/qabot/qabot.sqlite3 (under
$XDG_DATA_HOME/qabot/ when that is set), whichever folder it is started from."""

EXAMPLES = """\
examples:
  qabot ask "Which villages of Fuzuli district were liberated?"
  qabot --corpus ~/notes index
  qabot run"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit code 2), not usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _package_version() -> str:
    # Imported here: importlib.metadata and the lookup cost every command 7-9 ms at start,
    # and only --version needs them.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qabot")
    except PackageNotFoundError:  # pragma: no cover - running from a tree never installed
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:  # fmt: skip
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:  # fmt: skip
        sys.stdout.write(f"qabot {_package_version()}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: the options work before and after the sub-command without one hiding the other.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="the folder of .txt and .md documents (default: CORPUS_DIR, else the shipped corpus)",
    )
    common.add_argument(
        "--db",
        type=Path,
        metavar="FILE",
        help="the index database (default: DATABASE_PATH, else ~/.local/share/qabot/qabot.sqlite3)",
    )

    def sub(name: str, summary: str, details: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=f"{details}",
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    parser = _Parser(
        prog="qabot",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    ask = sub(
        "ask",
        "answer a question, or one question per line of standard input",
        "Print the sentences that answer the question, each with its source, or say that\n"
        "nothing in the documents answers it. Without a question, read one per line from\n"
        "standard input (a file or a pipe) and answer each in turn.",
        'qabot ask "What did Aliyev call a source of great threat to the region?"',
    )
    ask.add_argument(
        "question", nargs="?", help="the question; leave out to read questions from a pipe"
    )
    ask.add_argument(
        "--json", action="store_true", help="print JSON (one object per line for a pipe)"
    )
    ask.add_argument(
        "-n", "--limit", type=int, default=3, help="at most this many quotes (default 3)"
    )
    ask.set_defaults(usage=ask.format_usage())
    sub(
        "chat",
        "ask questions one after another",
        "Type a question, read the answer, type the next one. Arrow keys edit the line and\n"
        "bring back earlier questions (kept between sessions). Ctrl-D or Ctrl-C quits.",
        "qabot chat",
    )
    index = sub(
        "index",
        "build or update the index after documents were added, changed or removed",
        "Read the corpus folder and bring the index up to date; only new and changed files\n"
        "are read again, on all cores. Prints what changed and which files were skipped, and why.",
        "qabot --corpus ~/notes index --jobs 2",
    )
    index.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes that parse changed files (default: all cores)",
    )
    evaluation = sub(
        "eval",
        "score the answers against known right answers",
        "Ask every question of a JSON Lines file and report how often the first quote holds\n"
        "one of its answers, and how often questions without answers are refused.",
        "qabot eval questions.jsonl",
    )
    evaluation.add_argument(
        "file", type=Path, help='JSON Lines of {"question": ..., "answers": [...]}'
    )
    evaluation.add_argument(
        "--json", action="store_true", help="print one JSON summary (figures and misses)"
    )
    sub(
        "run",
        "start the Telegram bot",
        "Start the Telegram bot configured by the environment or a .env file in the current\n"
        "folder (TELEGRAM_BOT_TOKEN at least). It polls Telegram, or listens for a webhook\n"
        "when WEBHOOK_URL is set. Stop it with Ctrl-C.",
        "TELEGRAM_BOT_TOKEN=123:abc qabot run",
    )
    export = sub(
        "export",
        "write the bot's question log to a CSV file",
        "Write every question the bot was asked (inline queries left out) with its time,\n"
        "user id, chat id, whether it was refused, the quoted documents, latency and\n"
        "feedback, under a header row. Safe while the bot runs.",
        "qabot export --csv questions.csv",
    )
    export.add_argument("--csv", type=Path, required=True, metavar="FILE", help="the CSV file")
    backup = sub(
        "backup",
        "copy the database safely, even while the bot runs",
        "Copy the database (index, question log, feedback) with SQLite's online backup,\n"
        "check the copy's integrity, then put it in place. Safe while the bot runs.",
        "qabot backup /backups/qabot-$(date +%F).sqlite3",
    )
    backup.add_argument("file", type=Path, help="where to write the copy")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(Path.cwd() / ".env", override=False)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.corpus = getattr(args, "corpus", None)
    args.db = getattr(args, "db", None)
    if args.command == "ask" and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.command == "ask" and args.question is None and sys.stdin.isatty():
        # Nothing piped in: say how to use it instead of waiting for input.
        print(args.usage, end="", file=sys.stderr)
        print(ASK_HINT, file=sys.stderr)
        return EXIT_USAGE
    if args.command == "run":
        from bot.app import run_bot  # Telegram is only imported when the bot is started.

        return run_bot(args.corpus, args.db)
    corpus, database = data_paths(os.environ, corpus_dir=args.corpus, database_path=args.db)
    if args.command in ("export", "backup"):
        return _maintenance(args, database)
    if not corpus.is_dir():
        print(f"qabot: corpus directory not found: {corpus}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_COMMANDS[args.command](args, corpus, database))
    except QabotError as error:
        print(f"qabot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`qabot ask --json < q.txt | head -1`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _maintenance(args: argparse.Namespace, database: Path) -> int:
    from bot.maintenance import MaintenanceError, backup, export_csv

    try:
        if args.command == "export":
            rows = export_csv(database, args.csv)
            print(f"{rows} questions written to {args.csv}")
        else:
            questions = backup(database, args.file)
            print(f"backup of {database} written to {args.file} ({questions} questions)")
    except (MaintenanceError, OSError) as error:
        print(f"qabot: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


async def _ask(args: argparse.Namespace, corpus: Path, database: Path) -> int:
    engine = await Engine.open(corpus, database)
    try:
        questions = [args.question] if args.question is not None else _stdin_questions()
        for question in questions:
            answer = engine.ask_sync(question, limit=args.limit)
            if args.json:
                print(json.dumps(answer_to_json(answer), ensure_ascii=False), flush=True)
            else:
                print(format_answer(answer), flush=True)
    finally:
        await engine.close()
    return 0


def _stdin_questions() -> Iterator[str]:
    """One question per input line, read as it comes (answers stream out line by line).

    A blank line is a question too (it is refused), so output line n answers input line n.
    """
    for line in sys.stdin:
        yield line.strip()


async def _chat(args: argparse.Namespace, corpus: Path, database: Path) -> int:
    # The threads opening the engine starts (SQLite's, the executor's) inherit a mask without
    # SIGINT: the kernel then hands Ctrl-C to the main thread, whose blocked read it
    # interrupts, instead of to a thread where Python would notice it only at the next key.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        engine = await Engine.open(corpus, database)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    stats = engine.stats()
    print(
        f"{stats.documents} documents, {stats.sentences} sentences."
        " Ask a question; Ctrl-D or Ctrl-C to quit."
    )
    save_history = _line_editing()
    # asyncio.run's SIGINT handler only cancels the main task, which this loop (a blocked
    # input() or an answer being computed) would not notice until later; within
    # ctrl_c_interrupts, Ctrl-C raises KeyboardInterrupt where the loop is, so it quits at once.
    try:
        with ctrl_c_interrupts():
            while True:
                # Blocking is fine: nothing else runs on this event loop.
                question = input("? ").strip()  # noqa: ASYNC250
                if question:
                    print(format_answer(engine.ask_sync(question)), end="\n\n")
    except EOFError:
        print()
        return 0
    except KeyboardInterrupt:
        print()
        return 130
    finally:
        save_history()
        await engine.close()


def _line_editing() -> Callable[[], None]:
    """Readline editing and a history kept in the data folder; returns its saver."""
    try:
        import readline
    except ImportError:  # pragma: no cover - no readline on this platform
        return lambda: None
    history = data_home() / "chat_history"
    with contextlib.suppress(OSError):  # first session, or unreadable: start empty
        readline.read_history_file(history)
    readline.set_history_length(HISTORY_LINES)

    def save() -> None:
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)
        except OSError:
            pass  # a history is a convenience, never a reason to fail

    return save


async def _index(args: argparse.Namespace, corpus: Path, database: Path) -> int:
    from tqdm import tqdm

    engine = await Engine.open(corpus, database, build=False, jobs=args.jobs, serve=False)
    try:
        with tqdm(unit="file", desc="indexing", file=sys.stderr, leave=False) as bar:
            started = time.perf_counter()

            def progress(done: int, total: int, done_bytes: int) -> None:
                bar.total = total
                elapsed = max(time.perf_counter() - started, 1e-9)
                bar.set_postfix_str(f"{done_bytes / elapsed / 1e6:.1f} MB/s", refresh=False)
                bar.update(done - bar.n)

            report = await engine.reindex(progress)
    finally:
        await engine.close()
    print(format_report(report))
    return 0


async def _eval(args: argparse.Namespace, corpus: Path, database: Path) -> int:
    questions = read_questions(args.file)
    engine = await Engine.open(corpus, database)
    try:
        report = evaluate(questions, engine.ask_sync)
    finally:
        await engine.close()
    if args.json:
        print(json.dumps(report.summary(), ensure_ascii=False))
        return 0
    print(
        f"questions: {len(questions)} ({report.answerable} answerable, {report.unanswerable} to refuse)"
    )
    print(f"P@1: {report.first_hits}/{report.answerable} = {report.precision_at_1:.3f}")
    print(f"hit@3: {report.top3_hits}/{report.answerable} = {report.hit_at_3:.3f}")
    print(
        f"abstention on answerable: {report.abstained_answerable}/{report.answerable}"
        f" = {report.abstention_on_answerable:.3f}"
    )
    print(
        f"refusal of unanswerable: {report.refused_correctly}/{report.unanswerable}"
        f" = {report.refusal_accuracy:.3f}"
    )
    print(f"first quote from the wrong document: {report.wrong_titles}")
    for miss in report.misses:
        first = miss.answer.quotes[0].text if miss.answer.quotes else "(refused)"
        print(f"MISS [{miss.problem}] {miss.question.question}")
        print(f"     gold: {list(miss.question.answers)}  first quote: {first[:160]}")
    return 0


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return number


_COMMANDS = {"ask": _ask, "chat": _chat, "index": _index, "eval": _eval}


def format_answer(answer: Answer) -> str:
    if answer.abstained:
        return "Nothing in the corpus answers this question. Try other words, or `qabot index` after adding documents."
    return "\n\n".join(_format_quote(q) for q in answer.quotes)


def _format_quote(quote: Quote) -> str:
    where = "".join(f" · {part}" for part in location(quote))
    return f"> {quote.text}\n  — {plain_source(quote.document)}{where}"


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The stable ``qabot ask --json`` object."""
    return {
        "question": answer.question,
        "abstained": answer.abstained,
        "quotes": [
            {
                "text": q.text,
                "score": q.score,
                "document": {
                    "id": q.document.id,
                    "title": q.document.title,
                    "author": q.document.author,
                    "date": q.document.date,
                    "url": q.document.url,
                    "language": q.document.language,
                },
                "page": q.page,
                "section": q.section,
            }
            for q in answer.quotes
        ],
        "latency_ms": round(answer.latency_ms, 3),
    }


def format_report(report: ReindexReport) -> str:
    stats = report.stats
    lines = [
        f"documents: {stats.documents}  passages: {stats.passages}  sentences: {stats.sentences}",
        f"added: {len(report.added)}  changed: {len(report.changed)}  removed: {len(report.removed)}"
        f"  unchanged: {report.unchanged}  skipped: {len(report.skipped)}",
    ]
    lines += [f"skipped {s.path}: {s.reason}" for s in report.skipped]
    lines.append(f"seconds: {report.seconds:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
