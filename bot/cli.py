"""The ``qabot`` command: ask, chat, index and eval in a terminal; ``run`` starts the Telegram bot."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from dotenv import load_dotenv

from bot.config import DEFAULT_CORPUS_DIR, DEFAULT_DATABASE_PATH, data_paths
from bot.render import plain_source
from retrieval.engine import Engine
from retrieval.errors import QabotError
from retrieval.evaluate import evaluate, read_questions
from retrieval.models import Answer, Quote, ReindexReport

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit code 2), not usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: the options work before and after the sub-command without one hiding the other.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument(
        "--corpus",
        type=Path,
        help=f"corpus directory (env CORPUS_DIR, default {DEFAULT_CORPUS_DIR})",
    )
    common.add_argument(
        "--db",
        type=Path,
        help=f"index database (env DATABASE_PATH, default {DEFAULT_DATABASE_PATH})",
    )

    parser = _Parser(prog="qabot", description=__doc__, parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ask = commands.add_parser(
        "ask", parents=[common], help="answer a question (or one per stdin line)"
    )
    ask.add_argument(
        "question", nargs="?", help="the question; omit to read one per line from stdin"
    )
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    ask.add_argument(
        "-n", "--limit", type=int, default=3, help="at most this many quotes (default 3)"
    )
    commands.add_parser("chat", parents=[common], help="ask questions interactively")
    commands.add_parser("index", parents=[common], help="build or update the index")
    evaluation = commands.add_parser(
        "eval", parents=[common], help="score answers against gold strings"
    )
    evaluation.add_argument("file", type=Path, help='JSON Lines of {"question", "answers": [...]}')
    evaluation.add_argument(
        "--json", action="store_true", help="print one JSON summary (figures and misses)"
    )
    commands.add_parser("run", parents=[common], help="start the Telegram bot (polling)")
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
    if args.command == "run":
        from bot.app import run_bot  # Telegram is only imported when the bot is started.

        return run_bot(args.corpus, args.db)
    corpus, database = data_paths(os.environ, corpus_dir=args.corpus, database_path=args.db)
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
    engine = await Engine.open(corpus, database)
    stats = engine.stats()
    print(
        f"{stats.documents} documents, {stats.sentences} sentences. Ask a question; Ctrl-D to quit."
    )
    try:
        while True:
            try:
                question = (await asyncio.to_thread(input, "? ")).strip()
            except EOFError:
                print()
                return 0
            if question:
                print(format_answer(engine.ask_sync(question)), end="\n\n")
    finally:
        await engine.close()


async def _index(args: argparse.Namespace, corpus: Path, database: Path) -> int:
    from tqdm import tqdm

    engine = await Engine.open(corpus, database, build=False)
    try:
        with tqdm(unit="file", desc="indexing", file=sys.stderr, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
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


_COMMANDS = {"ask": _ask, "chat": _chat, "index": _index, "eval": _eval}


def format_answer(answer: Answer) -> str:
    if answer.abstained:
        return "Nothing in the corpus answers this question. Try other words, or `qabot index` after adding documents."
    return "\n\n".join(_format_quote(q) for q in answer.quotes)


def _format_quote(quote: Quote) -> str:
    return f"> {quote.text}\n  — {plain_source(quote.document)}"


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
                },
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
