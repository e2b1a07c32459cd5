"""Lexical evidence about a candidate answer: answer-type cues and the refusal model.

Everything here looks at one question and a few dozen candidate sentences, never at the corpus:
its cost does not grow with the index.

**Answer type.** The question word says what kind of answer is wanted: "how many / how much /
how old…" a number, "when / what year…" a date or a year, "who" a name the question does not
already hold, "where" a place (a capitalised name after "in / at / near…", or a name the
question does not hold). A sentence holds the type or does not; the match is a ranking feature
and evidence for the refusal model.

**Refusal model.** Logistic regression over lexical evidence of the first quote (see
:data:`FEATURES`), fitted by ``bench/fit_refusal.py`` on one half of squad2_dev's articles and
shipped as ``retrieval/data/refusal.json`` (feature names, standardisation, coefficients); its
probability is :attr:`retrieval.models.Answer.confidence`, and the answer is refused below
``AnswerSettings.min_confidence``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    "|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
    "|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion"
    "|dozen|dozens|half|third|quarter|several|many|few|single|double|twice|once"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(?:1\d{{3}}|20\d{{2}}|\d{{1,4}}s|{_MONTHS})\b|\b\d+(?:st|nd|rd|th)\b"
    r"|\b(?:century|centuries|decade|year|years|BC|BCE|AD|CE|era|age|period|dynasty|reign"
    r"|spring|summer|autumn|fall|winter|ago|after|before|during|until|since)\b"
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
_PLACE = re.compile(
    r"\b(?:in|at|near|from|to|into|across|throughout|on|of)\s+(?:the\s+)?[A-Z][\w'’-]*"
)

_QUESTION_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\bhow\s+(?:many|much|old|long|far|large|big|tall|high|deep|wide|often|fast"
            r"|heavy|hot|cold|warm|long)\b|\bwhat\s+(?:percentage|percent|proportion|number"
            r"|amount|size|population|share|fraction|temperature|speed|distance|rate)\b"
            r"|\bwhat\s+was\s+the\s+(?:population|number|amount|size)\b",
            re.IGNORECASE,
        ),
        "number",
    ),
    (
        re.compile(
            r"\bwhen\b|\bwhat\s+(?:year|years|century|decade|date|day|month|time|period|era"
            r"|age)\b|\bwhich\s+(?:year|century|decade|date|month|period)\b|\bin\s+what\s+year\b",
            re.IGNORECASE,
        ),
        "date",
    ),
    (re.compile(r"\b(?:who|whom|whose)\b", re.IGNORECASE), "name"),
    (re.compile(r"\bwhere\b", re.IGNORECASE), "place"),
)


@lru_cache(maxsize=4096)
def expected_type(question: str) -> str | None:
    """``"number"``, ``"date"``, ``"name"``, ``"place"`` or None (no cue in the question)."""
    for pattern, kind in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def _new_names(text: str, question_words: frozenset[str]) -> list[str]:
    """Capitalised words of ``text`` (not its first word) that the question does not hold."""
    names = []
    for match in _NAME.finditer(text):
        if match.start() == 0 or text[: match.start()].rstrip()[-1:] in '.!?"“(':
            continue
        if match.group().casefold() not in question_words:
            names.append(match.group())
    return names


@lru_cache(maxsize=4096)
def question_words(question: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in re.findall(r"[\w'’-]+", question))


def type_match(kind: str | None, sentence: str, question: str) -> bool:
    """Whether ``sentence`` holds an answer of the ``kind`` the question asks for."""
    if kind is None:
        return False
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    words = question_words(question)
    if kind == "name":
        return bool(_new_names(sentence, words))
    return any(
        m.group().split()[-1].casefold() not in words for m in _PLACE.finditer(sentence)
    ) or bool(_new_names(sentence, words))


FEATURES = (
    "coverage_quote",
    "coverage_paragraph",
    "coverage_context",
    "rarest_in_quote",
    "rarest_in_context",
    "missing_max",
    "unknown_share",
    "type_expected",
    "type_match",
    "margin",
    "sentence_bm25",
    "terms",
)
"""Evidence about the first quote, in the order of the model's coefficients.

- ``coverage_quote``, ``coverage_paragraph``, ``coverage_context``: share of the question's term
  weight found in the quote, in its paragraph, and in quote, paragraph and title together;
- ``rarest_in_quote``, ``rarest_in_context``: the question's most informative term is there (1/0);
- ``missing_max``: weight of the most informative term found nowhere in that context, over the
  largest term weight of the question;
- ``unknown_share``: share of the question's weight held by terms the corpus never uses;
- ``type_expected``, ``type_match``: the question asks for a type; the quote holds it;
- ``margin``: how far the first candidate's score is ahead of the second, relative to it;
- ``sentence_bm25``: the first sentence's own BM25 over the summed weights of the question;
- ``terms``: log(1 + number of distinct question terms).
"""


@dataclass(frozen=True, slots=True)
class RefusalModel:
    """``p = sigmoid(intercept + sum(coef * (x - mean) / scale))`` over :data:`FEATURES`."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.intercept + sum(
            c * (values[name] - m) / s
            for name, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        )
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
        }

    @staticmethod
    def from_json(data: Mapping[str, object]) -> RefusalModel:
        def floats(key: str) -> tuple[float, ...]:
            values = data[key]
            assert isinstance(values, Sequence)
            return tuple(float(v) for v in values)

        names = data["features"]
        assert isinstance(names, Sequence)
        intercept, threshold = data["intercept"], data["threshold"]
        assert isinstance(intercept, int | float) and isinstance(threshold, int | float)
        return RefusalModel(
            tuple(str(n) for n in names),
            floats("mean"),
            floats("scale"),
            floats("coef"),
            float(intercept),
            float(threshold),
        )


@cache
def refusal_model() -> RefusalModel:
    """The shipped model (``retrieval/data/refusal.json``)."""
    text = resources.files("retrieval").joinpath("data/refusal.json").read_text("utf-8")
    return RefusalModel.from_json(json.loads(text))
