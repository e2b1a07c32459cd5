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
import unicodedata
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
_MONTH_NAMES = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_MONTHS = f"{_MONTH_NAMES}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"\b(?:1\d{{3}}|20\d{{2}}|\d{{1,4}}s|{_MONTHS})\b|\b\d+(?:st|nd|rd|th)\b"
    r"|\b(?:century|centuries|decade|year|years|BC|BCE|AD|CE|era|age|period|dynasty|reign"
    r"|spring|summer|autumn|fall|winter|ago|after|before|during|until|since)\b"
)
_YEAR = re.compile(rf"\b(?:1\d{{3}}|20\d{{2}})s?\b|\b(?:{_MONTH_NAMES})\b")
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
        # The character before the word, spaces aside (not a slice of all the text before it).
        before = match.start() - 1
        while before >= 0 and text[before].isspace():
            before -= 1
        if before < 0 or text[before] in '.!?"“(':
            continue
        if match.group().casefold() not in question_words:
            names.append(match.group())
    return names


@lru_cache(maxsize=4096)
def question_words(question: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in re.findall(r"[\w'’-]+", question))


@lru_cache(maxsize=65_536)
def _holds(kind: str, sentence: str) -> bool:
    """Whether ``sentence`` holds a number or a date (the same sentences come back often)."""
    return bool((_NUMBER if kind == "number" else _DATE).search(sentence))


@lru_cache(maxsize=65_536)
def holds_year(sentence: str) -> bool:
    """Whether ``sentence`` names a year (1000-2099, or its decade) or a month: the sharpest
    of the date cues (:func:`type_match` also takes "during", "century", "age"…)."""
    return bool(_YEAR.search(sentence))


def type_match(kind: str | None, sentence: str, question: str) -> bool:
    """Whether ``sentence`` holds an answer of the ``kind`` the question asks for."""
    if kind is None:
        return False
    if kind == "number" or kind == "date":
        return _holds(kind, sentence)
    words = question_words(question)
    if kind == "name":
        return bool(_new_names(sentence, words))
    return any(
        m.group().split()[-1].casefold() not in words for m in _PLACE.finditer(sentence)
    ) or bool(_new_names(sentence, words))


_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_NEGATION = re.compile(
    r"\b(?:not|never|no|none|nothing|nobody|neither|nor|without|cannot)\b|n['’]t\b", re.IGNORECASE
)
_ORDINALS = {
    word: f"{n}{'nd' if n == 2 else 'rd' if n == 3 else 'th'}"
    for n, word in enumerate(
        ["second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"],
        start=2,
    )
}
"""Ordinals the question may swap, with their digit forms ("first" and "last" are mostly
adverbs: "When was it first…", "How long did it last?")."""
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_DECADE = re.compile(r"(\d{3})0s")
_QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "in",
        "the",
        "a",
        "an",
        "of",
        "on",
        "at",
        "for",
        "did",
        "does",
        "do",
        "is",
        "was",
        "were",
        "are",
    ]
)
_ANTONYM_PAIRS = (
    "first/last largest/smallest biggest/smallest most/least before/after increase/decrease"
    " increased/decreased higher/lower highest/lowest more/less older/younger oldest/youngest"
    " early/late earliest/latest earlier/later north/south east/west northern/southern"
    " eastern/western won/lost win/lose start/end began/ended begin/end minimum/maximum"
    " best/worst better/worse major/minor rise/fall gain/loss accept/reject accepted/rejected"
    " success/failure positive/negative long/short longest/shortest large/small high/low"
    " private/public male/female upper/lower inside/outside internal/external ancient/modern"
    " allowed/banned same/different strong/weak fast/slow"
)
_ANTONYMS: dict[str, frozenset[str]] = {}
for _pair in _ANTONYM_PAIRS.split():
    _a, _b = _pair.split("/")
    _ANTONYMS[_a] = _ANTONYMS.get(_a, frozenset()) | {_b}
    _ANTONYMS[_b] = _ANTONYMS.get(_b, frozenset()) | {_a}
_NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "non-")


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def _number_in(text: str, number: str) -> bool:
    """``number`` is in ``text``; a decade ("1970s") is there when one of its years is."""
    decade = _DECADE.fullmatch(number)
    if decade and re.search(rf"(?<!\d){decade.group(1)}\d(?!\d)", text):
        return True
    return _mentions(text, number)


@lru_cache(maxsize=65_536)
def _plain(word: str) -> str:
    """Case-folded, without accents or a possessive: "Temür's" → "temur"."""
    word = re.sub(r"['’]s?$", "", word.casefold())
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _names_in(name: str, words: frozenset[str]) -> bool:
    """A form of ``name`` is among ``words`` (plain forms): itself, or a word it begins or that
    begins it ("Brazil" / "Brazilian", "Huguenots" / "Huguenot"), or one that shares all but
    its last two letters."""
    if name in words:
        return True
    for word in words:
        if len(word) < 4 or word[0] != name[0]:
            continue
        if word.startswith(name) or name.startswith(word):
            return True
        common = next(
            (n for n, (a, b) in enumerate(zip(word, name, strict=False)) if a != b),
            min(len(word), len(name)),
        )
        if common >= max(4, len(name) - 2):
            return True
    return False


def _is_antonym(word: str, quote_words: frozenset[str]) -> bool:
    """The quote lacks ``word`` but holds its opposite (a listed antonym, or the word with or
    without a negating prefix: "dependent" / "independent", "effective" / "ineffective")."""
    if word in quote_words:
        return False
    if _ANTONYMS.get(word, frozenset()) & quote_words:
        return True
    if len(word) <= 3:
        return False
    return any(
        p + word in quote_words
        or (word.startswith(p) and len(word) - len(p) > 3 and word[len(p) :] in quote_words)
        for p in _NEGATING_PREFIXES
    )


def edit_evidence(
    question: str, quote: str, title: str = "", paragraph: str = ""
) -> dict[str, float]:
    """What an unanswerable question typically changes in the sentence it resembles.

    SQuAD 2.0's crowdworkers (Rajpurkar et al., 2018) made answerable-looking questions by
    adding a negation, swapping in an antonym, or swapping a name or a number; questions about
    things a text does not say carry the same marks in any collection. Each is 1.0 or 0.0:

    - ``negation_lost``: the question holds a negation (not, never, no, n't…), the quote none;
    - ``antonym``: a question word is missing from the quote, which holds its opposite;
    - ``number_lost``: a number or ordinal of the question (1985, 3rd, fifth…) is in neither the
      quote, nor its paragraph (a year often frames a whole paragraph), nor the title
      ("Super Bowl 50");
    - ``name_lost``: a capitalised word of the question (not its first) is in neither the quote
      nor the title, in any form (case, accents, possessive, "Brazil" / "Brazilian"). Measured,
      not used by the shipped model: it helped on the articles it was fitted on only, and news
      quotes often name a person "the president" or "he".
    """
    quote_words = frozenset(_words(quote))
    context = f"{quote} {paragraph} {title}"
    context_words = frozenset(_words(context))
    words = _words(question)
    numbers, names = [], []
    for match in _WORD.finditer(question):
        word = match.group()
        if match.start() == 0 or word.casefold() in _QUESTION_WORDS:
            continue
        if word[0].isdigit():
            numbers.append(word)
        elif word[0].isupper():
            names.append(word)
    ordinals = {w for w in words if w in _ORDINALS or _ORDINAL.fullmatch(w)}
    known = frozenset(_plain(w) for w in _WORD.findall(f"{quote} {title}"))
    forms = context_words | {_ORDINALS[w] for w in context_words if w in _ORDINALS}
    return {
        "negation_lost": float(bool(_NEGATION.search(question)) and not _NEGATION.search(quote)),
        "antonym": float(any(_is_antonym(w, quote_words) for w in words)),
        "number_lost": float(
            any(not _number_in(context, n) for n in numbers)
            or any((_ORDINALS.get(w) or w) not in forms for w in ordinals)
        ),
        "name_lost": float(any(not _names_in(_plain(n), known) for n in names)),
    }


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
    "negation_lost",
    "antonym",
    "number_lost",
    "name_lost",
)
"""Evidence about the first quote, in the order of the model's coefficients.

- ``coverage_quote``, ``coverage_paragraph``, ``coverage_context``: share of the question's term
  weight found in the quote, in its paragraph, and in quote, paragraph and title together;
- ``rarest_in_quote``, ``rarest_in_context``: the question's most informative term is there (1/0);
- ``missing_max``: weight of the most informative term found nowhere in that context, over the
  largest term weight of the question;
- ``unknown_share``: share of the question's weight held by terms the corpus never uses, beyond
  the collection's unseen mass (:attr:`retrieval.index.LevelScorer.unseen_mass`: in a small
  collection a question on topic has more unknown words);
- ``type_expected``, ``type_match``: the question asks for a type; the quote holds it;
- ``margin``: how far the first candidate's score is ahead of the second, relative to it;
- ``sentence_bm25``: the first sentence's own BM25 over the summed weights of the question;
- ``terms``: log(1 + number of distinct question terms);
- ``negation_lost``, ``antonym``, ``number_lost``, ``name_lost``: see :func:`edit_evidence`.
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
