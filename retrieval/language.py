"""Which language a document or a question is written in (py3langid, offline, ISO 639-1).

The detector's model is loaded on first use only (about 0.9 s), so a corpus in one language
never pays for it at question time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

DEFAULT_LANGUAGE = "en"
# Below this many letters a guess is noise: the corpus's main language is used instead.
_MIN_DOCUMENT_LETTERS = 40
_MIN_QUESTION_WORDS = 3
_MIN_CONFIDENCE = 0.5
_SAMPLE_CHARS = 20_000
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")


@cache
def _identifier() -> Any:
    from importlib import resources

    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    path = resources.files("py3langid").joinpath(MODEL_FILE)
    return LanguageIdentifier.from_model_file(path, norm_probs=True)


def detect(text: str, candidates: Iterable[str] | None = None) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or ``None`` when too short or unsure.

    ``candidates`` restricts the answer to those languages.
    """
    sample = text[:_SAMPLE_CHARS]
    if len(_LETTER.findall(sample[:1000])) < _MIN_DOCUMENT_LETTERS:
        return None
    identifier = _identifier()
    allowed = sorted(set(candidates)) if candidates is not None else None
    if allowed is not None:
        if len(allowed) == 1:
            return allowed[0]
        ranked = identifier.rank(sample)
        for language, _probability in ranked:
            if language in allowed:
                return str(language)
        return None
    language, probability = identifier.classify(sample)
    return str(language) if probability >= _MIN_CONFIDENCE else None


def document_language(text: str) -> str:
    """The language a document is analysed in: detected, else :data:`DEFAULT_LANGUAGE`.

    Plain English prose is recognised without the detector (whose model takes 1-2 s to load):
    at least a quarter of its words are English stopwords and nearly all letters are ASCII.
    """
    if _obviously_english(text):
        return DEFAULT_LANGUAGE
    return detect(text) or DEFAULT_LANGUAGE


_ENGLISH_SAMPLE_CHARS = 5000
_ENGLISH_MIN_STOPWORDS = 0.25
_ENGLISH_MAX_NON_ASCII = 0.02


def _obviously_english(text: str) -> bool:
    from retrieval.text import stopwords

    sample = text[:_ENGLISH_SAMPLE_CHARS]
    letters = _LETTER.findall(sample)
    words = _WORD.findall(sample.lower())
    if len(words) < 8 or not letters:
        return False
    non_ascii = sum(1 for c in letters if not c.isascii()) / len(letters)
    stop = stopwords()
    share = sum(1 for w in words if w in stop) / len(words)
    return non_ascii <= _ENGLISH_MAX_NON_ASCII and share >= _ENGLISH_MIN_STOPWORDS


def main_language(languages: Iterable[str | None]) -> str:
    """The most common language of a corpus's documents (English when empty)."""
    counts = Counter(language or DEFAULT_LANGUAGE for language in languages)
    return counts.most_common(1)[0][0] if counts else DEFAULT_LANGUAGE


_SCRIPTS = (
    (re.compile(r"[\u0400-\u04ff]"), frozenset({"ru", "uk", "bg", "sr", "mk", "be", "kk"})),
    (re.compile(r"[\u0370-\u03ff]"), frozenset({"el"})),
    (re.compile(r"[\u0600-\u06ff]"), frozenset({"ar", "fa", "ur"})),
    (re.compile(r"[\u0590-\u05ff]"), frozenset({"he"})),
)


def _script_languages(text: str) -> frozenset[str]:
    """Languages written in the non-Latin script of ``text`` (empty for Latin text)."""
    for pattern, languages in _SCRIPTS:
        if pattern.search(text):
            return languages
    return frozenset()


def question_language(question: str, corpus_languages: frozenset[str], main: str) -> str:
    """The language a question is analysed in: one of the corpus's languages.

    A corpus in one language analyses every question in it (no detection at all); a very short
    question gets the corpus's main language.
    """
    if len(corpus_languages) <= 1:
        return main
    if len(question.split()) < _MIN_QUESTION_WORDS:
        # Too short to detect, but a non-Latin script still narrows it down.
        same_script = _script_languages(question) & corpus_languages
        if main in same_script or not same_script:
            return main
        return "ru" if "ru" in same_script else sorted(same_script)[0]
    ranked = _identifier().rank(question)
    for language, _probability in ranked:
        if language in corpus_languages:
            return str(language)
    return main
