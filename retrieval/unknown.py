"""What a question asks about that the collection never mentions.

Two signals for the refusal. The share of the question's weight held by terms no sentence uses,
measured against what a question on topic would have (a small collection lacks many ordinary
words). And a **name** the collection never mentions: a capitalised word of the question, in
none of its sentences or titles, in no form a typing slip or a derivation away
("Nepalese" / "Nepal", "Sentanta" / "Setanta"). A question about Peyton Manning asked of
collections that never name him has no answer there, however well its other words match.
"""

from __future__ import annotations

import bisect
import re
import string
from collections.abc import Iterator
from functools import lru_cache
from weakref import WeakKeyDictionary

from nltk.stem.snowball import SnowballStemmer

from retrieval.features import heading_terms
from retrieval.index import Index
from retrieval.segment import Vocabulary
from retrieval.text import fold_accents, stopwords, tokenize

MAX_UNSEEN_MASS = 0.4
"""The largest unseen mass the refusal model was fitted on (single squad2 articles: 0.14-0.39);
a collection of a few sentences has more, and the model is not extrapolated there."""

_CAPITALISED = re.compile(r"[^\W\d_][\w'’&-]*")
_SENTENCE_START = frozenset(".!?:;\"“”«»‘’'(")
_MIN_STEM = 4
_MIN_PREFIX = 5
_MIN_LETTERS = 3
_MAX_NAMES = 8
"""Names checked per question (each costs a few hundred stemmed slips at most)."""
_MAX_SLIP_LETTERS = 20
# Nationality and language words name a country the text may only name as a country ("French"
# / France, "Swiss" / Switzerland): never taken for a name the collection lacks.
_DEMONYM_ENDINGS = ("an", "ese", "ish", "ic", "i")
_DEMONYMS = frozenset(
    [
        "french",
        "dutch",
        "swiss",
        "greek",
        "thai",
        "czech",
        "welsh",
        "scots",
        "arab",
        "basque",
        "inuit",
        "maori",
        "lao",
    ]
)
_english_stemmer = SnowballStemmer("english")


def unknown_shares(index: Index, weights: dict[str, float]) -> tuple[float, float]:
    """The share of the question's weight held by terms the collection never uses, and the
    share a question on topic is expected to have: the collection's unseen mass, capped where
    the refusal model's fit ends."""
    total = sum(weights.values()) or 1.0
    unknown = sum(w for t, w in weights.items() if index.sentence_scorer.document_frequency(t) == 0)
    return unknown / total, min(index.sentence_scorer.unseen_mass, MAX_UNSEEN_MASS)


def unknown_names(index: Index, question: str, language: str = "en") -> list[str]:
    """The names of an English ``question`` the collection never mentions, in any near form.

    A name is a capitalised word that does not start a sentence, written in lower case after
    its first letter (an acronym in capitals has spelled-out forms: "USSR", "WWII"), and not a
    nationality or language ("French", "Nepalese"). It is mentioned when every search term of
    it, in one of the collection's languages, is in a sentence, a title or a section heading,
    or a known term is a prefix of it, or it is one typing slip (a letter added, dropped,
    changed or swapped) from a word whose term is known. Other languages are not checked:
    German capitalises every noun, and the slips are English ones.
    """
    if language != "en":
        return []
    names = list(dict.fromkeys(_names(question)))[:_MAX_NAMES]
    return [word for word in names if not _mentioned(index, word)]


def has_unknown_name(index: Index, question: str, language: str = "en") -> bool:
    """Whether :func:`unknown_names` finds one (stops at the first)."""
    if language != "en":
        return False
    names = list(dict.fromkeys(_names(question)))[:_MAX_NAMES]
    return any(not _mentioned(index, word) for word in names)


def _names(question: str) -> Iterator[str]:
    """The capitalised words of ``question`` that may be names (see :func:`unknown_names`)."""
    if _title_case(question):
        return
    for match in _CAPITALISED.finditer(question):
        word = match.group().rstrip("'’-")
        before = question[: match.start()].rstrip()
        if not any(c.isalpha() for c in before) or before[-1] in _SENTENCE_START:
            continue
        if not word[0].isupper() or word.isupper() or sum(c.isalpha() for c in word) < 3:
            continue
        if _is_demonym(word):
            continue
        yield word


def _title_case(question: str) -> bool:
    """Whether the question capitalises its function words ("Where Did The Broncos Win"):
    then capitals are no sign of names."""
    words = _CAPITALISED.findall(question)[1:]
    return any(w[0].isupper() and w.lower() in stopwords() for w in words)


def _is_demonym(word: str) -> bool:
    plain = fold_accents(word.casefold()).removesuffix("'s").removesuffix("’s")
    singular = plain.removesuffix("s")
    return plain in _DEMONYMS or singular.endswith(_DEMONYM_ENDINGS)


def _mentioned(index: Index, word: str) -> bool:
    """Whether the collection mentions ``word`` in some near form."""
    for language in sorted(index.languages | {"en"}):
        if all(_near_known(index, t) for t in tokenize(word, language)):
            return True
    # A slip may sit in the letters the stemmer rewrites: edit the word, then stem it.
    for part in fold_accents(word.casefold()).split("-"):
        if all(_near_known(index, t) for t in tokenize(part)):
            continue
        if len(part) > _MAX_SLIP_LETTERS or not any(
            _known(index, _slip_stem(slip)) for slip in _slips(part)
        ):
            return False
    return True


@lru_cache(maxsize=65_536)
def _slip_stem(word: str) -> str:
    return str(_english_stemmer.stem(word))


def _near_known(index: Index, term: str) -> bool:
    """``term`` is known, or a known term of at least :data:`_MIN_STEM` letters begins it
    ("pari" for "parisien"), or one shares all of it but its last two letters and at least
    :data:`_MIN_PREFIX` ("nepali" for "nepales")."""
    if _known(index, term) or any(_known(index, term[:n]) for n in range(_MIN_STEM, len(term))):
        return True
    if len(term) < _MIN_PREFIX:
        return False
    prefix = term[: max(_MIN_PREFIX, len(term) - 2)]
    return any(_known(index, t) for t in _prefixed(index, prefix))


def _known(index: Index, term: str) -> bool:
    """Whether a sentence, title or section heading of the collection holds ``term``."""
    return index.sentence_scorer.document_frequency(term) > 0 or term in _titles(index)[0]


_TITLES: WeakKeyDictionary[Index, tuple[frozenset[str], list[str]]] = WeakKeyDictionary()
_SORTED: WeakKeyDictionary[Vocabulary, list[str]] = WeakKeyDictionary()


def _titles(index: Index) -> tuple[frozenset[str], list[str]]:
    """Search terms of every title and section heading (context of their sentences, not
    indexed), and, sorted, those the vocabulary lacks; built on the first unknown name, kept
    per index."""
    found = _TITLES.get(index)
    if found is None:
        terms = index.vocabulary.terms
        held: set[str] = set()
        headings: set[str] = set()  # of segments written before heading terms were stored
        for part in index.parts:
            ids = part.segment.heading_term_ids(part.deleted)
            if ids is not None:
                held.update(map(terms.__getitem__, ids.tolist()))
                continue
            documents = part.segment.documents
            headings.update(d.title for n, d in enumerate(documents) if n not in part.deleted)
            headings.update(part.segment.sections)
        titles = frozenset(held.union(*(heading_terms(h) for h in headings)))
        known = index.vocabulary.ids
        found = _TITLES[index] = titles, sorted(t for t in titles if t not in known)
    return found


def _sorted_vocabulary(vocabulary: Vocabulary) -> list[str]:
    """The vocabulary's terms, sorted. A vocabulary only grows and outlives the indexes that
    update after update share it: the terms added since the last sort are merged in (Timsort
    merges the sorted run in linear time: 0.05 s instead of 0.44 s for 500k terms)."""
    terms = _SORTED.get(vocabulary)
    if terms is None or len(terms) != len(vocabulary):
        done = terms or []
        terms = _SORTED[vocabulary] = sorted(done + vocabulary.terms[len(done) :])
    return terms


def _prefixed(index: Index, prefix: str) -> Iterator[str]:
    """The vocabulary's and the titles' terms that begin with ``prefix``."""
    for terms in (_sorted_vocabulary(index.vocabulary), _titles(index)[1]):
        at = bisect.bisect_left(terms, prefix)
        while at < len(terms) and terms[at].startswith(prefix):
            yield terms[at]
            at += 1


def _slips(word: str) -> set[str]:
    """Every word one typing slip from ``word`` (Norvig's ``edits1``)."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | changes | inserts
