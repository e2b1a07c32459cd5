"""The index's BM25 equals rank-bm25's BM25Okapi, from scratch and after incremental updates."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval import kernel
from retrieval import segment as segment_module
from retrieval.index import Index, IndexSettings, Part
from retrieval.index_dir import IndexDirectory
from retrieval.matching import QueryTerms, passage_matches, sentence_matches
from retrieval.models import DocumentMeta, ParsedDocument, SentenceRecord, Span
from retrieval.scoring import BM25Parameters
from retrieval.segment import Segment

PARAMETERS = BM25Parameters(k1=1.5, b=0.75)
SETTINGS = IndexSettings(sentence_bm25=PARAMETERS, passage_bm25=PARAMETERS)
WORDS = [f"w{i}" for i in range(30)]
QUERIES = [["w1", "w2"], ["w0", "w0", "w5"], ["w29", "absent"], ["w3"], ["absent"], []]


def document(name: str, seed: int, sentences: int = 12) -> ParsedDocument:
    rng = random.Random(seed)
    records = []
    for i in range(sentences):
        # Skewed vocabularies: some terms are in most sentences (negative idf, the floor).
        tokens = tuple(rng.choice(WORDS[: rng.randint(2, 30)]) for _ in range(rng.randint(0, 9)))
        records.append(SentenceRecord(i // 3, 4 * i, 4 * i + 3, tokens))
    text = "abc " * sentences
    spans = tuple(Span(12 * p, 12 * p + 11) for p in range((sentences + 2) // 3))
    return ParsedDocument(DocumentMeta(name, name), text, "", spans, tuple(records))


def reference(documents: list[ParsedDocument]) -> tuple[list[list[str]], list[list[str]]]:
    ordered = sorted(documents, key=lambda d: d.meta.id)
    sentences = [list(s.tokens) for d in ordered for s in d.sentences]
    passages = []
    for d in ordered:
        for p in sorted({s.paragraph for s in d.sentences}):
            passages.append([t for s in d.sentences if s.paragraph == p for t in s.tokens])
    return sentences, passages


def assert_same_as_rank_bm25(index: Index, documents: list[ParsedDocument]) -> None:
    sentences, passages = reference(documents)
    # The index's ids of the reference's units: documents in id order, as a fresh build has them.
    live_sentences: list[int] = []
    for d in sorted(documents, key=lambda d: d.meta.id):
        view = index.document(d.meta.id)
        assert view is not None
        low, high = view.part.segment.doc_sentences[view.number : view.number + 2]
        live_sentences += range(view.part.sentence_offset + low, view.part.sentence_offset + high)
    live_passages = list(dict.fromkeys(index.sentences[i].passage for i in live_sentences))
    for scorer, units, ids in (
        (index.sentence_scorer, sentences, live_sentences),
        (index.passage_scorer, passages, live_passages),
    ):
        bm25 = BM25Okapi(units, k1=PARAMETERS.k1, b=PARAMETERS.b)
        assert len(scorer) == len(units)
        for query in QUERIES:
            expected = bm25.get_scores(query) if query else [0.0] * len(units)
            # Exact equality: the same float64 operations in the same order.
            assert scorer.scores(query, ids) == list(expected)
            # From the forward index (term frequencies of the units, as answers compute them).
            terms = QueryTerms.of(index, query)
            matching = sentence_matches if scorer is index.sentence_scorer else passage_matches
            matches = matching(index, ids, terms)
            columns = [terms.terms.index(t) for t in query]
            counted = scorer.count_scores(
                terms.ids[columns], matches.tf[:, columns], matches.lengths
            )
            assert counted.tolist() == list(expected)
            holding = [n for n, u in enumerate(units) if set(query) & set(u)]
            best = sorted(holding, key=lambda n: (-expected[n], n))[:5]
            hits = scorer.top(query, 5)
            assert sorted(h.score for h in hits) == sorted(expected[n] for n in best)
            assert {ids.index(h.unit) for h in hits} <= set(holding)
            if index.parts and len(index.parts) == 1:  # one segment: ties in reading order too
                assert [ids.index(h.unit) for h in hits] == best


def stored_index(
    directory: Path, batches: list[list[ParsedDocument]], deleted: dict[int, set[int]] | None = None
) -> Index:
    """An index of one written segment per batch; ``deleted``: segment -> deleted documents."""
    writer = IndexDirectory(directory)
    vocabulary = Index(settings=SETTINGS, parts=[]).vocabulary
    parts = [p for batch in batches for p in writer.write_segments(batch, vocabulary, SETTINGS)]
    for number, documents in (deleted or {}).items():
        parts[number] = Part(parts[number].segment, frozenset(documents))
    return Index(settings=SETTINGS, parts=parts, vocabulary=vocabulary)


@pytest.fixture(params=["compiled", "numpy"])
def engine_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy":
        monkeypatch.setattr(kernel, "_library", lambda: None)
    elif not kernel.compiled():
        pytest.skip("the compiled kernel is not built here")
    return str(request.param)


def test_scores_equal_rank_bm25_from_scratch(engine_kind: str) -> None:
    documents = [document(f"d{n}", n) for n in range(4)]
    assert_same_as_rank_bm25(Index(documents, SETTINGS), documents)


def test_tiny_corpora_where_rank_bm25_floors_every_idf(engine_kind: str) -> None:
    documents = [document("only", 7, sentences=2)]
    assert_same_as_rank_bm25(Index(documents, SETTINGS), documents)


def test_empty_index_scores_nothing() -> None:
    index = Index([], SETTINGS)
    assert index.sentence_scorer.top(["w1"], 3) == []
    assert index.stats().sentences == 0


def test_updates_equal_a_from_scratch_build(tmp_path: Path, engine_kind: str) -> None:
    directory = IndexDirectory(tmp_path / "index")
    base = [document(f"d{n}", n) for n in range(5)]
    index = Index(settings=SETTINGS, parts=[], vocabulary=None)
    parts = directory.write_segments(base, index.vocabulary, SETTINGS)
    index = Index(settings=SETTINGS, parts=parts, vocabulary=index.vocabulary)
    # d1 changes, d3 is removed, d9 is added: one new segment, two documents marked deleted.
    changed = [document("d1", 101), document("d9", 9)]
    new = directory.write_segments(changed, index.vocabulary, SETTINGS)
    dropped = {"d1", "d3"}
    kept = [
        Part(p.segment, frozenset(n for n, m in enumerate(p.segment.documents) if m.id in dropped))
        for p in index.parts
    ]
    updated = Index(settings=SETTINGS, parts=kept + new, vocabulary=index.vocabulary)
    current = [d for d in base if d.meta.id not in dropped] + changed
    assert_same_as_rank_bm25(updated, current)
    assert sorted(d.meta.id for d in updated.documents) == ["d0", "d1", "d2", "d4", "d9"]

    directory.commit(updated, "g2", "p")
    reopened, reason = directory.open("g2", "p", SETTINGS)
    assert reopened is not None, reason
    assert reopened.built_at == updated.built_at
    assert_same_as_rank_bm25(reopened, current)
    assert reopened.document("d9") is not None and reopened.document("d3") is None
    assert reopened.document("d1").text == changed[0].text  # type: ignore[union-attr]


def test_stale_or_half_written_index_files_are_never_opened(tmp_path: Path) -> None:
    directory = IndexDirectory(tmp_path / "index")
    assert directory.open("g1", "p", SETTINGS)[0] is None
    index = Index(settings=SETTINGS, parts=[])
    parts = directory.write_segments([document("a", 1)], index.vocabulary, SETTINGS)
    index = Index(settings=SETTINGS, parts=parts, vocabulary=index.vocabulary)
    directory.commit(index, "g1", "p")
    # The database moved on (a crash after its commit, before the manifest's): stale.
    found, reason = directory.open("g2", "p", SETTINGS)
    assert found is None and "generation" in reason
    assert directory.open("g1", "other-pipeline", SETTINGS)[0] is None
    # A segment written by an update that never committed is not named, and is cleaned up.
    orphan = directory.write_segments([document("b", 2)], index.vocabulary, SETTINGS)
    assert orphan[0].segment.path is not None and orphan[0].segment.path.exists()
    directory.commit(index, "g1", "p")
    assert not orphan[0].segment.path.exists()
    reopened = directory.open("g1", "p", SETTINGS)[0]
    assert reopened is not None and [d.meta.id for d in reopened.documents] == ["a"]


def test_matches_give_counts_and_positions_of_the_question_terms() -> None:
    tokens = ("w1", "w2", "w1", "w7")
    records = (SentenceRecord(0, 0, 3, tokens), SentenceRecord(0, 4, 7, ("w2",)))
    text = "abc abc "
    documents = [ParsedDocument(DocumentMeta("d", "d"), text, "", (Span(0, 7),), records)]
    index = Index(documents, SETTINGS)
    terms = QueryTerms.of(index, ["w1", "w2", "w1", "absent"])
    assert terms.terms == ("w1", "w2", "absent") and terms.ids[2] == -1
    matches = sentence_matches(index, [1, 0], terms)
    assert matches.tf.tolist() == [[0, 1, 0], [2, 1, 0]]
    assert matches.lengths.tolist() == [1, 4]
    assert matches.positions() == [[(0, 1)], [(0, 0), (1, 1), (2, 0)]]
    assert passage_matches(index, [0], terms).tf.tolist() == [[2, 2, 0]]
    assert index.passage_members([0]) == [0, 1]
    rows = index.rows([1, 0])
    assert rows.start.tolist() == [4, 0] and rows.passage.tolist() == [0, 0]


@pytest.mark.parametrize("size", [0, 1, 2, 50, 1000])
def test_sorted_distinct_is_numpys_unique(size: int) -> None:
    values = np.random.default_rng(size).integers(-5, 40, size=size).astype(np.int32)
    expected = np.unique(values)
    found = kernel.sorted_distinct(values)
    assert found.dtype == expected.dtype
    assert found.tolist() == expected.tolist()


@pytest.mark.parametrize("k", [1, 3, 20, 500])
def test_one_kernel_call_over_segments_equals_each_segment_merged(tmp_path: Path, k: int) -> None:
    """The compiled kernel ranks all segments at once; the numpy fallback ranks each segment and
    merges: the same units, scores and order, equal scores (many here) by ascending global id."""
    if not kernel.compiled():
        pytest.skip("the compiled kernel is not built here")
    # Four segments, one with a deleted document.
    batches = [
        [document(f"d{b}-{n}", 10 * b + n, sentences=30) for n in range(3)] for b in range(4)
    ]
    index = stored_index(tmp_path / "index", batches, {2: {1}})
    assert len(index.parts) == 4
    for scorer in (index.sentence_scorer, index.passage_scorer):
        for query in [*QUERIES, WORDS[10:20], ["w3", "w3", "w28"]]:
            compiled = scorer.top(query, k)
            terms = scorer._query(query)
            ids, scores = scorer._top._top_numpy(
                np.asarray([t for t, _ in terms], dtype=np.int64),
                np.asarray([i for _, i in terms], dtype=np.float64),
                k,
            ) if terms else (np.empty(0, np.int64), np.empty(0))  # fmt: skip
            assert [(h.unit, h.score) for h in compiled] == list(
                zip(ids.tolist(), scores.tolist(), strict=True)
            )
            assert scorer.scores(query, [h.unit for h in compiled]) == [h.score for h in compiled]


def test_compiled_matches_and_rows_equal_the_numpy_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not kernel.compiled():
        pytest.skip("the compiled kernel is not built here")
    batches = [[document(f"d{b}-{n}", 7 * b + n) for n in range(2)] for b in range(3)]
    index = stored_index(tmp_path / "index", batches)
    rng = np.random.default_rng(3)
    cases = []
    for query in [["w1", "w2", "absent"], WORDS, ["absent"], []]:
        terms = QueryTerms.of(index, query)
        levels = ((sentence_matches, len(index.sentences)), (passage_matches, len(index.passages)))
        for matching, size in levels:
            # Unordered, repeated, spread over the segments.
            units = [*rng.integers(0, size, 25).tolist(), size - 1, 0, 0]
            cases.append((matching, units, terms))
    compiled = [m(index, u, t) for m, u, t in cases]
    sentences = [*rng.integers(0, len(index.sentences), 40).tolist(), 0, 0]
    rows = index.rows(sentences)
    monkeypatch.setattr(kernel, "_library", lambda: None)
    expected_rows = index.rows(sentences)
    for name in ("sentence", "document", "paragraph", "passage", "start", "end"):
        a, b = getattr(rows, name), getattr(expected_rows, name)
        assert a.dtype == b.dtype and a.tolist() == b.tolist(), name
    assert rows.sections == expected_rows.sections
    for found, (matching, units, terms) in zip(compiled, cases, strict=True):
        expected = matching(index, units, terms)
        for name in ("tf", "lengths", "row", "position", "column"):
            a, b = getattr(found, name), getattr(expected, name)
            assert a.dtype == b.dtype and a.shape == b.shape and a.tolist() == b.tolist(), name


def test_compiled_top_over_many_blocks_of_units_equals_numpy() -> None:
    """The kernel scores a segment 8192 units at a time: results across the block boundaries are
    those of the numpy fallback."""
    if not kernel.compiled():
        pytest.skip("the compiled kernel is not built here")
    documents = [document(f"d{n:04d}", n, sentences=40) for n in range(500)]
    index = Index(documents, SETTINGS)
    assert len(index.sentences) > 2 * 8192
    assert_top_equals_numpy(index, [["w1", "w2"], ["w29", "w0", "w28"], WORDS[5:12]], (1, 20, 3000))


def assert_top_equals_numpy(index: Index, queries: list[list[str]], ks: tuple[int, ...]) -> None:
    """The compiled top-k of both levels is the numpy fallback's: units, scores, order."""
    for scorer in (index.sentence_scorer, index.passage_scorer):
        for query in queries:
            terms = scorer._query(query)
            for k in ks:
                ids, scores = scorer._top._top_numpy(
                    np.asarray([t for t, _ in terms], dtype=np.int64),
                    np.asarray([i for _, i in terms], dtype=np.float64),
                    k,
                )
                assert [(h.unit, h.score) for h in scorer.top(query, k)] == list(
                    zip(ids.tolist(), scores.tolist(), strict=True)
                ), (query, k)


def zipf_document(name: str, seed: int, sentences: int) -> ParsedDocument:
    """Sentences over a Zipf-like vocabulary of 400 words: a few in most sentences, most rare,
    as in real text, where the kernel's bounds let it skip the common terms' postings."""
    rng = random.Random(seed)
    words = [f"z{i}" for i in range(400)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    records = []
    for i in range(sentences):
        tokens = tuple(rng.choices(words, weights, k=rng.randint(1, 14)))
        records.append(SentenceRecord(i // 4, 4 * i, 4 * i + 3, tokens))
    spans = tuple(Span(16 * p, 16 * p + 15) for p in range((sentences + 3) // 4))
    return ParsedDocument(DocumentMeta(name, name), "abc " * sentences, "", spans, tuple(records))


def test_compiled_top_that_skips_postings_equals_scoring_every_posting(tmp_path: Path) -> None:
    """Once it holds k units, the kernel skips the postings of terms too weak to bring in a unit
    (MaxScore): over rare and common terms, repeated terms, segments and a deleted document, its
    top-k is still the numpy fallback's, which scores every posting."""
    if not kernel.compiled():
        pytest.skip("the compiled kernel is not built here")
    batches = [[zipf_document(f"d{b}-{n}", 10 * b + n, 4000) for n in range(3)] for b in range(3)]
    index = stored_index(tmp_path / "index", batches, {1: {0}})
    assert len(index.sentences) > 2 * 8192
    rng = random.Random(5)
    queries = [["z0", "z1", "z350"], ["z2", "z2", "z399", "z0"], ["z0", "z1", "z2", "z3"]]
    queries += [[f"z{int(rng.paretovariate(0.6)) % 400}" for _ in range(6)] for _ in range(40)]
    assert_top_equals_numpy(index, queries, (1, 10, 200))


def test_a_stored_sentence_reads_the_same_from_ascii_and_other_texts(tmp_path: Path) -> None:
    """Sentences of an ASCII text are read without decoding the whole text (character offsets
    are then byte offsets), any other text from its byte offset mark before the sentence; a
    segment written before marks looks at each text once and decodes the others whole. All
    give the same sentences."""
    texts = {"ascii": "Plain words. More plain words.", "utf8": "Café öffnet früh. Zwei Sätze."}
    documents = []
    for name, text in texts.items():
        cut = text.index(". ") + 1
        records = (
            SentenceRecord(0, 0, cut, ("first",)),
            SentenceRecord(0, cut + 1, len(text), ("second",)),
        )
        span = (Span(0, len(text)),)
        documents.append(ParsedDocument(DocumentMeta(name, name), text, "", span, records))
    memory = Index(documents, settings=SETTINGS)
    directory = IndexDirectory(tmp_path / "index")
    parts = directory.write_segments(documents, memory.vocabulary, SETTINGS)
    stored = Index(settings=SETTINGS, parts=parts, vocabulary=memory.vocabulary)
    assert all(p.segment.path is not None for p in stored.parts)
    expected = ["Plain words.", "More plain words.", "Café öffnet früh.", "Zwei Sätze."]
    assert [stored.sentence_text(i) for i in range(4)] == expected
    assert [memory.sentence_text(i) for i in range(4)] == expected
    view = stored.documents[1]
    assert view is not None and view.text_slice(5, 11) == view.text[5:11] == "öffnet"
    # The marks tell the ASCII text (none) from the other: no text was looked at whole.
    [part] = stored.parts
    assert part.segment._marks is not None and part.segment._ascii == {}
    assert part.segment.path is not None
    for marks_file in ("text_marks.npy", "doc_marks.npy"):
        (part.segment.path / marks_file).unlink()
    old = Segment.open(part.segment.path)
    records = [old.sentence_start, old.sentence_end, old.sentence_document]
    starts, ends, owners = (r.tolist() for r in records)
    assert [
        old.text_slice(d, a, b) for a, b, d in zip(starts, ends, owners, strict=True)
    ] == expected
    # Both ways were taken: the first text was found ASCII, the second not.
    assert old._ascii == {0: True, 1: False}


def test_slices_of_a_long_text_of_every_utf8_width_are_the_texts_own(tmp_path: Path) -> None:
    """Characters of 1 to 4 bytes, slices across and on the marks, at both ends, empty and past
    the end; and the same from a segment written before marks existed (decoded whole)."""
    rng = random.Random(11)
    text = "".join(rng.choice("aé€😀 .") for _ in range(3 * segment_module.TEXT_MARK_CHARS + 37))
    records = (SentenceRecord(0, 0, len(text), ("x",)),)
    document = ParsedDocument(DocumentMeta("u", "u"), text, "", (Span(0, len(text)),), records)
    index = Index(settings=SETTINGS, parts=[])
    [part] = IndexDirectory(tmp_path / "index").write_segments(
        [document], index.vocabulary, SETTINGS
    )
    step = segment_module.TEXT_MARK_CHARS
    cuts = [0, 1, step - 1, step, step + 1, 2 * step, len(text) - 1, len(text), len(text) + 5]
    ranges = [(a, b) for a in cuts for b in cuts if a <= b]
    ranges += [tuple(sorted(rng.sample(range(len(text) + 1), 2))) for _ in range(300)]
    assert part.segment.path is not None
    for marks_file in ("text_marks.npy", "doc_marks.npy"):
        assert (part.segment.path / marks_file).exists()
    old = tmp_path / "old"
    shutil.copytree(part.segment.path, old)
    for marks_file in ("text_marks.npy", "doc_marks.npy"):
        (old / marks_file).unlink()
    for segment in (part.segment, Segment.open(old)):
        assert [segment.text_slice(0, a, b) for a, b in ranges] == [text[a:b] for a, b in ranges]
    assert Segment.open(old)._marks is None and part.segment._marks is not None
