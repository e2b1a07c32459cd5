"""Scoring the engine against questions with gold answer strings (``qabot eval``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import QabotError
from retrieval.models import Answer


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    answers: tuple[str, ...]
    """Gold strings; empty means the question must be refused."""
    title_contains: str | None = None


@dataclass(frozen=True, slots=True)
class EvalMiss:
    question: EvalQuestion
    answer: Answer
    problem: str


@dataclass(slots=True)
class EvalReport:
    answerable: int = 0
    first_hits: int = 0
    top3_hits: int = 0
    unanswerable: int = 0
    refused_correctly: int = 0
    wrong_titles: int = 0
    abstained_answerable: int = 0
    """Answerable questions that were refused."""
    misses: list[EvalMiss] = field(default_factory=list)

    @property
    def precision_at_1(self) -> float:
        return self.first_hits / self.answerable if self.answerable else 0.0

    @property
    def hit_at_3(self) -> float:
        return self.top3_hits / self.answerable if self.answerable else 0.0

    @property
    def refusal_accuracy(self) -> float:
        """Share of the unanswerable questions that were refused."""
        return self.refused_correctly / self.unanswerable if self.unanswerable else 0.0

    @property
    def abstention_on_answerable(self) -> float:
        return self.abstained_answerable / self.answerable if self.answerable else 0.0

    def summary(self) -> dict[str, object]:
        """The figures as one JSON-ready object (``qabot eval --json``), misses included."""
        return {
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "p_at_1": round(self.precision_at_1, 4),
            "hit_at_3": round(self.hit_at_3, 4),
            "abstention_on_answerable": round(self.abstention_on_answerable, 4),
            "refusal_of_unanswerable": round(self.refusal_accuracy, 4),
            "first_hits": self.first_hits,
            "top3_hits": self.top3_hits,
            "abstained_answerable": self.abstained_answerable,
            "refused_unanswerable": self.refused_correctly,
            "wrong_titles": self.wrong_titles,
            "misses": [
                {
                    "question": m.question.question,
                    "answers": list(m.question.answers),
                    "problem": m.problem,
                    "first_quote": m.answer.quotes[0].text if m.answer.quotes else None,
                }
                for m in self.misses
            ],
        }


def read_questions(path: Path) -> list[EvalQuestion]:
    """Records ``{"question": str, "answers": [str, ...], "title_contains": str?}``, one per line."""
    questions: list[EvalQuestion] = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QabotError(f"cannot read {path}: {error}") from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected an object")
        except ValueError as error:
            raise QabotError(f"{path}:{number}: not a JSON object ({error})") from error
        question, answers = record.get("question"), record.get("answers", [])
        title = record.get("title_contains")
        if not isinstance(question, str):
            raise QabotError(f'{path}:{number}: "question" must be a string')
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise QabotError(f'{path}:{number}: "answers" must be a list of strings')
        if title is not None and not isinstance(title, str):
            raise QabotError(f'{path}:{number}: "title_contains" must be a string or null')
        questions.append(EvalQuestion(question, tuple(answers), title))
    return questions


def _contains(text: str, gold: Iterable[str]) -> bool:
    folded = " ".join(text.split()).casefold()
    return any(" ".join(g.split()).casefold() in folded for g in gold)


def evaluate(questions: Iterable[EvalQuestion], ask: Callable[[str], Answer]) -> EvalReport:
    """P@1 (the first quote holds a gold string), hit@3, abstention, refusals, and every miss."""
    report = EvalReport()
    for item in questions:
        result = ask(item.question)
        if not item.answers:
            report.unanswerable += 1
            if result.abstained:
                report.refused_correctly += 1
            else:
                report.misses.append(EvalMiss(item, result, "answered, should have refused"))
            continue
        report.answerable += 1
        report.abstained_answerable += result.abstained
        texts = [q.text for q in result.quotes]
        first = bool(texts) and _contains(texts[0], item.answers)
        top3 = any(_contains(t, item.answers) for t in texts[:3])
        report.first_hits += first
        report.top3_hits += top3
        if item.title_contains and any(
            item.title_contains not in q.document.title for q in result.quotes[:1]
        ):
            report.wrong_titles += 1
            report.misses.append(EvalMiss(item, result, "first quote from the wrong document"))
        if not first:
            problem = (
                "refused"
                if result.abstained
                else ("gold in quotes 2-3" if top3 else "gold not quoted")
            )
            report.misses.append(EvalMiss(item, result, problem))
    return report
