"""Small typed values passed between the retrieval modules and returned to callers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """What is known about a document; ``id`` is its path relative to the corpus directory."""

    id: str
    title: str
    author: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None
    language: str | None = None
    """ISO 639-1 code of the language the document was analysed in (``None``: unknown)."""


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` in a document's text."""

    start: int
    end: int

    def __reduce__(self) -> tuple[type[Span], tuple[int, int]]:
        # Pickled by the constructor: a frozen dataclass's default state restore looks up its
        # fields for every object, which made receiving parsed documents from the worker
        # processes a serial cost of indexing.
        return Span, (self.start, self.end)


@dataclass(frozen=True, slots=True)
class SentenceRecord:
    """One sentence of a document: its position, verbatim offsets and search tokens."""

    paragraph: int
    start: int
    end: int
    tokens: tuple[str, ...]
    page: int | None = None
    """1-based page of a PDF the sentence starts on."""
    section: str | None = None
    """The nearest heading above the sentence."""

    def __reduce__(
        self,
    ) -> tuple[type[SentenceRecord], tuple[int, int, int, tuple[str, ...], int | None, str | None]]:
        # See Span.__reduce__.
        return SentenceRecord, (
            self.paragraph, self.start, self.end, self.tokens, self.page, self.section
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document after loading and segmentation, ready to be stored and indexed."""

    meta: DocumentMeta
    text: str
    content_hash: str
    paragraphs: tuple[Span, ...]
    sentences: tuple[SentenceRecord, ...]


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A corpus file that was not indexed, and why."""

    path: str
    reason: str
    kept_previous: bool = False
    """The file had been indexed before: its last good version keeps serving."""


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim sentence (or a few adjacent ones) that answers a question."""

    text: str
    score: float
    document: DocumentMeta
    start: int
    end: int
    terms: tuple[str, ...] = ()
    """Words of the quote that match the question's terms (for highlighting)."""
    page: int | None = None
    """1-based page of a PDF where the quote starts."""
    section: str | None = None
    """The nearest heading above the quote."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of one question: up to ``limit`` quotes, or an abstention."""

    question: str
    abstained: bool
    quotes: tuple[Quote, ...]
    latency_ms: float
    has_more: bool = False
    """True when further quotes exist beyond these (``offset + limit``)."""
    index_built_at: float = 0.0
    """``built_at`` of the index that answered: offsets for "more" are only valid in it."""
    confidence: float = 0.0
    """The refusal model's probability that the first quote answers (0 when nothing matched)."""


@dataclass(frozen=True, slots=True)
class Context:
    """The paragraph around a quote, with the quote's position inside it."""

    document: DocumentMeta
    text: str
    quote_start: int
    quote_end: int


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Sizes of the index currently serving."""

    documents: int
    passages: int
    sentences: int
    built_at: float
    """Unix time at which this index started serving."""


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """What a (re)index changed and how long it took."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    skipped: tuple[SkippedFile, ...]
    seconds: float
    stats: IndexStats
    tokenized: tuple[str, ...] = field(default=())
    """Ids of the documents whose text was segmented and tokenized in this run."""
