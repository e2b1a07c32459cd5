"""Fit the weights of qabot's ranking features on reqa_squad_dev, split by article.

    python bench/fit_ranking.py [--data ../shared/bench/reqa_squad_dev] [--every K]
                                [--features passage,title,...] [--l2 1.0]

Every ranking feature of every candidate (:func:`retrieval.answer.ranking_features`, the
columns :func:`retrieval.answer.rank_sentences` adds up) is computed once; then a linear
listwise model (softmax over a question's candidates, maximising the probability of its gold
sentences, L2-penalised, Newton's method, numpy only) is fitted on the articles with even
``doc_id`` and measured on the odd ones, and the other way round (two-fold cross-validation
by article, never by question). The weights are scaled so that the sentence's own normalised
BM25 weighs 1, as in :class:`retrieval.answer.AnswerSettings`. Prints P@1 and MRR@10 of the
shipped settings and of the fitted weights on each held-out half, and the weights fitted on
all articles, as ``--set`` arguments for ``bench/reqa_squad.py`` and ``bench/squad2.py``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from reqa_squad import load

from retrieval.answer import RANKING_FIELDS, AnswerSettings, ranking_features, ranking_weights
from retrieval.index import Index


@dataclass
class Lists:
    """All questions' candidates stacked: ``x`` rows, ``start`` of each question's rows."""

    x: npt.NDArray[np.float64]
    gold: npt.NDArray[np.bool_]
    ids: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    article: npt.NDArray[np.int64]
    """Per question (also those without candidates, whose ``start`` is -1)."""
    names: tuple[str, ...]

    def take(self, keep: npt.NDArray[np.bool_]) -> Lists:
        """The questions where ``keep`` holds."""
        rows, starts = [], []
        count = 0
        bounds = self._bounds()
        for q in np.flatnonzero(keep):
            a, b = bounds[q]
            starts.append(count if b > a else -1)
            rows.append(np.arange(a, b))
            count += b - a
        index = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        return Lists(
            self.x[index], self.gold[index], self.ids[index], np.asarray(starts, dtype=np.int64),
            self.article[keep], self.names,
        )  # fmt: skip

    def _bounds(self) -> list[tuple[int, int]]:
        bounds: list[tuple[int, int]] = []
        following = len(self.x)
        for s in self.start[::-1]:
            bounds.append((int(s), following) if s >= 0 else (0, 0))
            if s >= 0:
                following = int(s)
        return bounds[::-1]


def extract(data: Path, every: int, settings: AnswerSettings) -> Lists:
    documents, questions = load(data)
    questions = questions[::every]
    index = Index(documents)
    xs, golds, ids, starts, articles = [], [], [], [], []
    count = 0
    names: tuple[str, ...] = ()
    for q in questions:
        found = ranking_features(index, str(q["question"]), settings)
        articles.append(int(q["doc_id"]))  # type: ignore[call-overload]
        if found is None:
            starts.append(-1)
            continue
        candidates, names, x = found
        gold = set(q["gold_sids"])  # type: ignore[call-overload]
        starts.append(count)
        count += len(candidates)
        xs.append(x)
        golds.append(np.asarray([c in gold for c in candidates]))
        ids.append(np.asarray(candidates, dtype=np.int64))
    return Lists(
        np.vstack(xs), np.concatenate(golds), np.concatenate(ids),
        np.asarray(starts, dtype=np.int64), np.asarray(articles, dtype=np.int64), names,
    )  # fmt: skip


def evaluate(lists: Lists, weights: npt.NDArray[np.float64]) -> tuple[float, float]:
    """P@1 and MRR@10 of ranking by ``x @ weights`` as ``rank_sentences`` does (ties: more of
    the question's weight first, then the lower sentence id)."""
    scores = lists.x @ weights
    coverage = lists.x[:, lists.names.index("coverage")]
    p1 = mrr = 0.0
    for a, b in lists._bounds():
        if b <= a:
            continue
        order = np.lexsort((lists.ids[a:b], -coverage[a:b], -scores[a:b]))[:10]
        hits = np.flatnonzero(lists.gold[a:b][order])
        if len(hits):
            p1 += hits[0] == 0
            mrr += 1 / (hits[0] + 1)
    return p1 / len(lists.start), mrr / len(lists.start)


def fit(
    lists: Lists, columns: Sequence[int], l2: float, steps: int = 50
) -> npt.NDArray[np.float64]:
    """Listwise softmax weights of ``columns`` (damped Newton's method)."""
    starts = [s for s, _ in lists._bounds()]
    ends = [e for _, e in lists._bounds()]
    keep = [
        n
        for n, (a, b) in enumerate(zip(starts, ends, strict=True))
        if b > a and 0 < lists.gold[a:b].sum() < b - a
    ]
    rows = np.concatenate([np.arange(starts[n], ends[n]) for n in keep])
    segment = np.concatenate([np.full(ends[n] - starts[n], i) for i, n in enumerate(keep)])
    first = np.concatenate([[0], np.flatnonzero(np.diff(segment)) + 1])
    x = lists.x[rows][:, list(columns)]
    y = lists.gold[rows].astype(np.float64)
    w = np.zeros(x.shape[1])

    def loss(w: npt.NDArray[np.float64]) -> float:
        s = x @ w
        top = np.maximum.reduceat(s, first)[segment]
        e = np.exp(s - top)
        value = np.log(np.add.reduceat(e, first)) - np.log(np.add.reduceat(e * y, first))
        return float(value.sum() + 0.5 * l2 * w @ w)

    for _ in range(steps):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, first)[segment])
        p = e / np.add.reduceat(e, first)[segment]
        q = e * y / np.add.reduceat(e * y, first)[segment]
        gradient = (p - q) @ x + l2 * w
        # The loss is log Σ_all e^s − log Σ_gold e^s: each term's Hessian is a covariance.
        hessian = l2 * np.eye(len(w))
        for share, sign in ((p, 1.0), (q, -1.0)):
            mean = np.add.reduceat(x * share[:, None], first)
            hessian += sign * ((x * share[:, None]).T @ x - mean.T @ mean)
        damping, current = 0.0, loss(w)
        while True:
            try:
                step = np.linalg.solve(hessian + damping * np.eye(len(w)), gradient)
            except np.linalg.LinAlgError:
                step = gradient
            if loss(w - step) <= current or damping > 1e6:
                break
            damping = max(1.0, damping * 10)
        w = w - step
        if np.abs(step).max() < 1e-6:
            break
    return w


def full_weights(
    lists: Lists, columns: Sequence[int], w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    result = np.zeros(len(lists.names))
    result[list(columns)] = w
    return result / result[lists.names.index("sentence")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/bench/reqa_squad_dev"))
    parser.add_argument("--every", type=int, default=1, help="only every K-th question")
    parser.add_argument(
        "--features",
        default="passage,title,type,year,coverage,context,proximity,phrase,form",
        help="the features to fit besides the sentence's own score (the others weigh 0)",
    )
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()

    started = time.perf_counter()
    lists = extract(args.data, args.every, AnswerSettings())
    print(
        f"{len(lists.start)} questions, {len(lists.x)} candidates, features computed in "
        f"{time.perf_counter() - started:.0f} s"
    )
    names = lists.names
    columns = [names.index("sentence")] + [names.index(f) for f in args.features.split(",")]
    shipped = ranking_weights(AnswerSettings(), names)
    even = lists.article % 2 == 0
    halves = {"even articles": lists.take(even), "odd articles": lists.take(~even)}
    print(f"{'':32}{'P@1':>8}{'MRR@10':>8}")
    totals = {"shipped": [0.0, 0.0], "fitted": [0.0, 0.0]}
    for held_out, other in (("odd articles", "even articles"), ("even articles", "odd articles")):
        w = full_weights(lists, columns, fit(halves[other], columns, args.l2))
        for label, weights in (("shipped", shipped), ("fitted", w)):
            p1, mrr = evaluate(halves[held_out], weights)
            share = len(halves[held_out].start) / len(lists.start)
            totals[label][0] += p1 * share
            totals[label][1] += mrr * share
            print(f"{label + ', ' + held_out + ' (held out)':32}{p1:8.4f}{mrr:8.4f}")
    for label, (p1, mrr) in totals.items():
        print(f"{label + ', both halves held out':32}{p1:8.4f}{mrr:8.4f}")
    w = full_weights(lists, columns, fit(lists, columns, args.l2))
    p1, mrr = evaluate(lists, w)
    print(f"{'fitted on all (not held out)':32}{p1:8.4f}{mrr:8.4f}")
    print("weights fitted on all articles:")
    print(
        " ".join(
            f"--set {RANKING_FIELDS[n]}={w[i]:.2f}"
            for i, n in enumerate(names)
            if RANKING_FIELDS[n] is not None
        )
    )


if __name__ == "__main__":
    main()
