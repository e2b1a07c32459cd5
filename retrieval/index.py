"""An immutable in-memory search index: sentences, the passages around them, and their scorers.

A new index is built next to the serving one and swapped in with one assignment, so a reader
holding a reference always sees a complete index.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from retrieval.language import DEFAULT_LANGUAGE, main_language
from retrieval.models import IndexStats, ParsedDocument, Span
from retrieval.scoring import BM25Parameters, RankBM25Scorer, Scorer

ScorerFactory = Callable[[Sequence[Sequence[str]], BM25Parameters], Scorer]


# Lucene's parameters: they beat rank-bm25's defaults on reqa_squad_dev (see the README).
LUCENE_BM25 = BM25Parameters(k1=0.9, b=0.4)


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How text is grouped and scored.

    ``passage_window`` is the number of sentences on each side of a sentence that form its
    passage; ``None`` makes the whole paragraph the passage.
    """

    passage_window: int | None = None
    sentence_bm25: BM25Parameters = LUCENE_BM25
    passage_bm25: BM25Parameters = LUCENE_BM25


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    document: int
    paragraph: int
    start: int
    end: int
    passage: int
    page: int | None = None
    section: str | None = None


class Index:
    """Sentences and passages of every document, with a BM25 scorer for each level."""

    def __init__(
        self,
        documents: Sequence[ParsedDocument],
        settings: IndexSettings | None = None,
        scorer_factory: ScorerFactory = RankBM25Scorer,
    ) -> None:
        self.settings = settings or IndexSettings()
        self.documents: tuple[ParsedDocument, ...] = tuple(documents)
        self._by_id = {d.meta.id: d for d in self.documents}
        self.sentences: list[IndexedSentence] = []
        self.sentence_tokens: list[tuple[str, ...]] = []
        passage_tokens: list[list[str]] = []
        self.passages: list[tuple[int, int]] = []
        """``(first, last)`` sentence of each passage, inclusive."""

        for number, document in enumerate(documents):
            first = len(self.sentences)
            for s in document.sentences:
                self.sentences.append(
                    IndexedSentence(number, s.paragraph, s.start, s.end, -1, s.page, s.section)
                )
                self.sentence_tokens.append(s.tokens)
            self._add_passages(first, len(self.sentences), passage_tokens)

        self.languages = frozenset(d.meta.language or DEFAULT_LANGUAGE for d in self.documents)
        self.main_language = main_language(d.meta.language for d in self.documents)
        self.sentence_scorer = scorer_factory(self.sentence_tokens, self.settings.sentence_bm25)
        self.passage_scorer = scorer_factory(passage_tokens, self.settings.passage_bm25)
        self.built_at = time.time()

    def _add_passages(self, first: int, stop: int, passage_tokens: list[list[str]]) -> None:
        window = self.settings.passage_window
        position = first
        while position < stop:
            paragraph_end = position
            while (
                paragraph_end < stop
                and self.sentences[paragraph_end].paragraph == self.sentences[position].paragraph
            ):
                paragraph_end += 1
            groups = (
                [(position, paragraph_end - 1)]
                if window is None
                else [
                    (max(position, i - window), min(paragraph_end - 1, i + window))
                    for i in range(position, paragraph_end)
                ]
            )
            for offset, (low, high) in enumerate(groups):
                passage = len(self.passages)
                self.passages.append((low, high))
                passage_tokens.append(
                    [t for i in range(low, high + 1) for t in self.sentence_tokens[i]]
                )
                members = range(low, high + 1) if window is None else [position + offset]
                for i in members:
                    self.sentences[i] = replace(self.sentences[i], passage=passage)
            position = paragraph_end

    def stats(self) -> IndexStats:
        return IndexStats(
            len(self.documents), len(self.passages), len(self.sentences), self.built_at
        )

    def document(self, document_id: str) -> ParsedDocument | None:
        return self._by_id.get(document_id)

    def quotable_paragraphs(self, document: ParsedDocument) -> list[Span]:
        """The document's paragraphs that hold indexed sentences (not titles, bylines, blurbs)."""
        numbers = sorted({s.paragraph for s in document.sentences})
        return [document.paragraphs[n] for n in numbers]

    def sentence_text(self, sentence: int) -> str:
        row = self.sentences[sentence]
        return self.documents[row.document].text[row.start : row.end]

    def term_weight(self, term: str) -> float:
        """A term's informativeness over sentences (BM25+ idf, positive even for common terms).

        Terms absent from the corpus get the weight of a term seen once, the most informative.
        """
        size = len(self.sentences)
        frequency = max(self.sentence_scorer.document_frequency(term), 1)
        return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))
