"""An immutable, memory-mappable piece of the index: some documents, their sentences and passages,
their tokens as term ids, and the postings of both levels.

A segment is a folder of ``.npy`` arrays plus ``documents.json``. It is written once under a new
name and never changed; opening it maps the arrays instead of reading them, so start-up costs
page faults, not parsing. Document text is kept as mapped UTF-8 and decoded only when quoting.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from retrieval.kernel import Int32Array, Int64Array, Postings
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span
from retrieval.text import tokenize

_ARRAYS = (
    "text_offsets", "doc_paragraphs", "paragraph_start", "paragraph_end", "doc_sentences",
    "sentence_paragraph", "sentence_start", "sentence_end", "sentence_passage",
    "sentence_length", "token_offsets", "tokens", "passage_first", "passage_last",
    "passage_length", "s_terms", "s_offsets", "s_units", "s_tfs", "p_terms", "p_offsets",
    "p_units", "p_tfs", "sentence_document", "text", "sentence_page", "sentence_section",
)  # fmt: skip
_TEXT_MARKS = ("text_marks", "doc_marks")
"""Arrays of segments written since text marks exist (older ones decode whole texts)."""
_HEADINGS = ("title_terms", "doc_title_terms", "section_terms")
"""Arrays of segments written since heading terms are stored (older ones are tokenized)."""
_OPTIONAL = (*_TEXT_MARKS, *_HEADINGS)
TEXT_MARK_CHARS = 256
"""A non-ASCII text's byte offset is recorded every this many characters: a sentence is then
decoded from the mark before it, not the whole text (a 500-page PDF's is a megabyte)."""


def text_marks(text: str) -> list[int]:
    """Byte offsets in ``text``'s UTF-8 of characters 0, 256, 512..., and its byte length."""
    marks = [0]
    for i in range(0, len(text), TEXT_MARK_CHARS):
        marks.append(marks[-1] + len(text[i : i + TEXT_MARK_CHARS].encode("utf-8")))
    return marks


class Vocabulary:
    """Term strings and their ids; ids are never reused, so stored term ids stay valid."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        self.terms: list[str] = list(terms)
        self.ids: dict[str, int] = {t: i for i, t in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def add(self, term: str) -> int:
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.terms)
            self.terms.append(term)
        return found


def _postings(keys: Int64Array, span: int) -> Postings:
    """Postings from ``term * span + unit`` keys, one per token."""
    unique, counts = np.unique(keys, return_counts=True)
    terms_all = unique // span
    units = (unique % span).astype(np.int32)
    terms, first = np.unique(terms_all, return_index=True)
    offsets = np.append(first, len(unique)).astype(np.int64)
    return Postings(terms.astype(np.int32), offsets, units, counts.astype(np.int32))


def passage_spans(
    sentence_paragraph: Int32Array, doc_sentences: Int64Array, window: int | None
) -> tuple[Int32Array, Int32Array, Int32Array]:
    """``(first, last, passage of each sentence)``: paragraphs, or windows of ``window`` sentences
    on each side of every sentence within its paragraph."""
    n = len(sentence_paragraph)
    if n == 0:
        empty = np.empty(0, np.int32)
        return empty, empty, empty
    document = np.repeat(np.arange(len(doc_sentences) - 1), np.diff(doc_sentences))
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (sentence_paragraph[1:] != sentence_paragraph[:-1]) | (
        document[1:] != document[:-1]
    )
    group = np.cumsum(new_group) - 1
    group_first = np.flatnonzero(new_group)
    group_last = np.append(group_first[1:], n) - 1
    if window is None:
        return (
            group_first.astype(np.int32),
            group_last.astype(np.int32),
            group.astype(np.int32),
        )
    ids = np.arange(n)
    first = np.maximum(group_first[group], ids - window)
    last = np.minimum(group_last[group], ids + window)
    return first.astype(np.int32), last.astype(np.int32), ids.astype(np.int32)


class Segment:
    """Arrays of one segment (see the module docstring); ids inside are local to the segment."""

    def __init__(
        self,
        path: Path | None,
        arrays: dict[str, np.ndarray],
        documents: list[dict[str, str]],
        texts: list[str] | None = None,
    ) -> None:
        self.path = path
        self._texts = texts
        self.arrays = arrays
        self.documents = [
            DocumentMeta(**{k: v for k, v in d.items() if k != "content_hash"}) for d in documents
        ]
        self.content_hashes = [d.get("content_hash", "") for d in documents]
        self.sections: list[str] = []
        a = arrays
        self.sentence_document: Int32Array = a["sentence_document"]
        self.sentence_paragraph: Int32Array = a["sentence_paragraph"]
        self.sentence_start: Int32Array = a["sentence_start"]
        self.sentence_end: Int32Array = a["sentence_end"]
        self.sentence_passage: Int32Array = a["sentence_passage"]
        self.sentence_length: Int32Array = a["sentence_length"]
        self.token_offsets: Int64Array = a["token_offsets"]
        self.tokens: Int32Array = a["tokens"]
        self.passage_first: Int32Array = a["passage_first"]
        self.passage_last: Int32Array = a["passage_last"]
        self.passage_length: Int32Array = a["passage_length"]
        self.doc_sentences: Int64Array = a["doc_sentences"]
        self.sentence_postings = Postings(a["s_terms"], a["s_offsets"], a["s_units"], a["s_tfs"])
        self.passage_postings = Postings(a["p_terms"], a["p_offsets"], a["p_units"], a["p_tfs"])
        self.text = lru_cache(maxsize=64)(self._read_text)
        self._ascii: dict[int, bool] = {}
        # A segment holds all of a group of optional arrays or is treated as holding none.
        self._marks = (
            (a["text_marks"], a["doc_marks"]) if all(n in a for n in _TEXT_MARKS) else None
        )
        self._headings = (
            (a["title_terms"], a["doc_title_terms"], a["section_terms"])
            if all(n in a for n in _HEADINGS)
            else None
        )

    @property
    def name(self) -> str:
        return "" if self.path is None else self.path.name

    def __len__(self) -> int:
        return len(self.sentence_document)

    @property
    def passages(self) -> int:
        return len(self.passage_first)

    def _read_text(self, document: int) -> str:
        if self._texts is not None or self.path is None:
            return self._texts[document] if self._texts is not None else ""
        # Decoded from the mapping itself (no intermediate bytes copy).
        return str(self._stored_bytes(document), "utf-8")

    def _stored_bytes(self, document: int) -> memoryview:
        """The document's UTF-8 text as mapped: not opened by name, so a reader of a replaced
        index still has its text."""
        offsets = self.arrays["text_offsets"]
        start, end = int(offsets[document]), int(offsets[document + 1])
        return self.arrays["text"][start:end].data

    def text_slice(self, document: int, start: int, end: int) -> str:
        """``text(document)[start:end]``, without decoding the whole text where it is ASCII
        (character offsets are then byte offsets): a question's candidates come from dozens
        of documents, and decoding each whole was a tenth of an answer at 10^6 sentences."""
        if self._texts is not None or self.path is None:
            return self.text(document)[start:end]
        if self._marks is None:  # a segment written before marks: look at the text once
            ascii = self._ascii.get(document)
            if ascii is None:
                ascii = self._ascii[document] = bytes(self._stored_bytes(document)).isascii()
            if ascii:
                return str(self._stored_bytes(document)[start:end], "ascii")
            return self.text(document)[start:end]
        values, pointers = self._marks
        marks = values[int(pointers[document]) : int(pointers[document + 1])]
        if not len(marks):  # only an ASCII text has none
            return str(self._stored_bytes(document)[start:end], "ascii")
        first = start // TEXT_MARK_CHARS
        last = min(-(-end // TEXT_MARK_CHARS), len(marks) - 1)
        if first >= last:
            return ""
        chunk = str(self._stored_bytes(document)[int(marks[first]) : int(marks[last])], "utf-8")
        base = first * TEXT_MARK_CHARS
        return chunk[start - base : end - base]

    def heading_term_ids(self, deleted: Collection[int] = ()) -> Int32Array | None:
        """Term ids of the titles of the documents not ``deleted`` and of the section headings
        (None: the segment was written before they were stored)."""
        if self._headings is None:
            return None
        titles, pointers, sections = self._headings
        if not deleted:
            return np.concatenate([titles, sections])
        keep = np.ones(len(titles), dtype=bool)
        for document in deleted:
            keep[int(pointers[document]) : int(pointers[document + 1])] = False
        return np.concatenate([titles[keep], sections])

    def paragraphs(self, document: int) -> tuple[Span, ...]:
        pointers = self.arrays["doc_paragraphs"]
        low, high = int(pointers[document]), int(pointers[document + 1])
        starts = self.arrays["paragraph_start"][low:high].tolist()
        ends = self.arrays["paragraph_end"][low:high].tolist()
        return tuple(Span(s, e) for s, e in zip(starts, ends, strict=True))

    def page(self, sentence: int) -> int | None:
        value = int(self.arrays["sentence_page"][sentence])
        return value if value > 0 else None

    def section(self, sentence: int) -> str | None:
        value = int(self.arrays["sentence_section"][sentence])
        return self.sections[value] if value >= 0 else None

    def sentence_terms(self, sentence: int) -> Int32Array:
        return self.tokens[self.token_offsets[sentence] : self.token_offsets[sentence + 1]]

    def records(self, document: int, vocabulary: Vocabulary) -> tuple[SentenceRecord, ...]:
        """The document's sentences as they were parsed (tokens as strings)."""
        low, high = int(self.doc_sentences[document]), int(self.doc_sentences[document + 1])
        terms = vocabulary.terms
        return tuple(
            SentenceRecord(
                int(self.sentence_paragraph[i]),
                int(self.sentence_start[i]),
                int(self.sentence_end[i]),
                tuple(terms[t] for t in self.sentence_terms(i).tolist()),
                self.page(i),
                self.section(i),
            )
            for i in range(low, high)
        )

    def document(self, number: int, vocabulary: Vocabulary) -> ParsedDocument:
        return ParsedDocument(
            self.documents[number],
            self.text(number),
            self.content_hashes[number],
            self.paragraphs(number),
            self.records(number, vocabulary),
        )

    @classmethod
    def open(cls, path: Path) -> Segment:
        # Plain ndarray views of the mappings: np.memmap's own indexing is several times slower.
        names = [*_ARRAYS, *(n for n in _OPTIONAL if (path / f"{n}.npy").exists())]
        arrays = {
            name: np.load(path / f"{name}.npy", mmap_mode="r").view(np.ndarray) for name in names
        }
        stored = json.loads((path / "documents.json").read_text("utf-8"))
        segment = cls(path, arrays, stored["documents"])
        segment.sections = list(stored["sections"])
        return segment

    @classmethod
    def in_memory(
        cls, documents: Sequence[ParsedDocument], vocabulary: Vocabulary, window: int | None
    ) -> Segment:
        """A segment that lives only in memory (tests, benchmarks)."""
        arrays, sections = build_arrays(documents, vocabulary, window)
        meta = [{**asdict(d.meta), "content_hash": d.content_hash} for d in documents]
        segment = cls(None, arrays, meta, [d.text for d in documents])
        segment.sections = sections
        return segment

    @classmethod
    def write(
        cls,
        path: Path,
        documents: Sequence[ParsedDocument],
        vocabulary: Vocabulary,
        window: int | None,
    ) -> Segment:
        """Build a segment from parsed documents (adding their new terms to ``vocabulary``)."""
        arrays, sections = build_arrays(documents, vocabulary, window)
        path.mkdir(parents=True)
        texts = [d.text.encode("utf-8") for d in documents]
        arrays["text"] = np.frombuffer(b"".join(texts), dtype=np.uint8)
        arrays["text_offsets"] = np.concatenate(
            [[0], np.cumsum([len(t) for t in texts], dtype=np.int64)]
        ).astype(np.int64)
        # ASCII texts need no marks: their character offsets are byte offsets.
        marks = [
            [] if t.isascii() else text_marks(d.text) for t, d in zip(texts, documents, strict=True)
        ]
        arrays["text_marks"] = np.asarray([m for ms in marks for m in ms], dtype=np.int64)
        arrays["doc_marks"] = np.concatenate(
            [[0], np.cumsum([len(m) for m in marks], dtype=np.int64)]
        ).astype(np.int64)
        for name in (*_ARRAYS, *_OPTIONAL):
            np.save(path / f"{name}.npy", arrays[name])
        meta = [{**asdict(d.meta), "content_hash": d.content_hash} for d in documents]
        stored = {"documents": meta, "sections": sections}
        (path / "documents.json").write_text(json.dumps(stored, ensure_ascii=False), "utf-8")
        return cls.open(path)


def build_arrays(
    documents: Sequence[ParsedDocument], vocabulary: Vocabulary, window: int | None
) -> tuple[dict[str, npt.NDArray[np.generic]], list[str]]:
    """The arrays of a segment holding ``documents`` (see :class:`Segment`), text excluded,
    and the section names its ``sentence_section`` array numbers."""
    add = vocabulary.add
    sentence_counts = [len(d.sentences) for d in documents]
    records = [s for d in documents for s in d.sentences]
    lengths = np.fromiter((len(s.tokens) for s in records), np.int32, len(records))
    tokens = np.fromiter(
        (add(t) for s in records for t in s.tokens), np.int32, int(lengths.sum(dtype=np.int64))
    )
    token_offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)
    doc_sentences = np.concatenate([[0], np.cumsum(sentence_counts, dtype=np.int64)])
    doc_sentences = doc_sentences.astype(np.int64)
    paragraph = np.fromiter((s.paragraph for s in records), np.int32, len(records))
    first, last, passage = passage_spans(paragraph, doc_sentences, window)
    n, p = len(records), len(first)
    sentence_of_token = np.repeat(np.arange(n, dtype=np.int64), lengths)
    s_keys = tokens.astype(np.int64) * max(n, 1) + sentence_of_token
    # A passage's tokens are those of the sentences first..last it spans.
    span_lengths = (last - first + 1).astype(np.int64)
    member = np.repeat(first.astype(np.int64), span_lengths) + (
        np.arange(int(span_lengths.sum())) - np.repeat(np.cumsum(span_lengths) - span_lengths,
                                                       span_lengths)
    )  # fmt: skip
    passage_of_member = np.repeat(np.arange(p, dtype=np.int64), span_lengths)
    member_lengths = lengths[member] if n else np.empty(0, np.int32)
    member_tokens = (
        np.concatenate([tokens[token_offsets[m] : token_offsets[m + 1]] for m in member.tolist()])
        if window is not None and len(member)
        else tokens
    )
    member_passage = np.repeat(passage_of_member, member_lengths)
    passage_length = np.bincount(passage_of_member, weights=member_lengths, minlength=p)
    sentence_postings = _postings(s_keys, max(n, 1))
    passage_postings = _postings(member_tokens.astype(np.int64) * max(p, 1) + member_passage,
                                 max(p, 1))  # fmt: skip
    paragraph_counts = [len(d.paragraphs) for d in documents]
    section_ids: dict[str, int] = {}
    sections = np.fromiter(
        (-1 if s.section is None else section_ids.setdefault(s.section, len(section_ids))
         for s in records),
        np.int32,
        n,
    )  # fmt: skip
    pages = np.fromiter((s.page or 0 for s in records), np.int32, n)
    # Titles and section headings are no sentences, yet a question naming them is on topic
    # (retrieval.unknown): their terms are stored, not tokenized again at every start.
    titles = [list(dict.fromkeys(map(add, tokenize(d.meta.title)))) for d in documents]
    section_terms = sorted({add(t) for name in section_ids for t in tokenize(name)})
    return {
        "title_terms": np.asarray([t for ts in titles for t in ts], np.int32),
        "doc_title_terms": np.concatenate(
            [[0], np.cumsum([len(ts) for ts in titles], dtype=np.int64)]
        ).astype(np.int64),
        "section_terms": np.asarray(section_terms, np.int32),
        "sentence_page": pages,
        "sentence_section": sections,
        "doc_paragraphs": np.concatenate([[0], np.cumsum(paragraph_counts)]).astype(np.int64),
        "paragraph_start": np.asarray([s.start for d in documents for s in d.paragraphs], np.int32),
        "paragraph_end": np.asarray([s.end for d in documents for s in d.paragraphs], np.int32),
        "doc_sentences": doc_sentences,
        "sentence_document": np.repeat(np.arange(len(documents), dtype=np.int32), sentence_counts),
        "sentence_paragraph": paragraph,
        "sentence_start": np.fromiter((s.start for s in records), np.int32, n),
        "sentence_end": np.fromiter((s.end for s in records), np.int32, n),
        "sentence_passage": passage,
        "sentence_length": lengths,
        "token_offsets": token_offsets,
        "tokens": tokens,
        "passage_first": first,
        "passage_last": last,
        "passage_length": passage_length.astype(np.int32),
        "s_terms": sentence_postings.terms,
        "s_offsets": sentence_postings.offsets,
        "s_units": sentence_postings.units,
        "s_tfs": sentence_postings.tfs,
        "p_terms": passage_postings.terms,
        "p_offsets": passage_postings.offsets,
        "p_units": passage_postings.units,
        "p_tfs": passage_postings.tfs,
    }, list(section_ids)
