"""Example questions drawn from a corpus (shown by the bot's /start)."""

from __future__ import annotations

import re
from collections import Counter

from retrieval.answer import AnswerSettings, answer
from retrieval.index import Index
from retrieval.text import SPEECH_VERBS

# Runs of capitalised words not at a sentence start: names of people, places, organisations.
_NAMES = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}")
_SPEECH = f"(?:{'|'.join(SPEECH_VERBS)})"
_SPEAKER = re.compile(
    rf"(?P<before>[A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}}) {_SPEECH}\b"
    rf"|\b{_SPEECH} (?P<after>[A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}})"
)
_CANDIDATE_NAMES = 40


def example_questions(index: Index, n: int, settings: AnswerSettings | None = None) -> list[str]:
    """Up to ``n`` questions about the most quoted speakers and most frequent names that the
    index answers, e.g. "What did Ilham Aliyev say?"."""
    speakers: Counter[str] = Counter()
    names: Counter[str] = Counter()
    for document in index.documents:
        speakers.update(m["before"] or m["after"] for m in _SPEAKER.finditer(document.text))
        names.update(_NAMES.findall(document.text))
    candidates = [(name, f"What did {name} say?") for name, _ in speakers.most_common(n)]
    candidates += [(name, f"What about {name}?") for name, _ in names.most_common(_CANDIDATE_NAMES)]
    chosen: list[str] = []
    questions: list[str] = []
    for name, question in candidates:
        # "President Ilham Aliyev" and "Ilham Aliyev" are one example, not two.
        if any(name in other or other in name for other in chosen):
            continue
        if not answer(index, question, limit=1, settings=settings).abstained:
            chosen.append(name)
            questions.append(question)
        if len(questions) == n:
            break
    return questions
