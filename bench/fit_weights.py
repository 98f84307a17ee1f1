"""Fitting the hybrid's combination weights on the dev half of the labelled set (docs/performance.md,
"Matching"; docs/matching.md, "The ranking").

**Method.** Coordinate ascent on mean nDCG@10, as RankLib's CoordinateAscent: the weights of the
six signals (text, ipc, field, maturity, form, budget), non-negative and summing to 1, and the
concept terms' weight (``EXPANSION_WEIGHT``, a discrete choice among ``EXPANSIONS``) are the
coordinates; in turn, in a random order, each coordinate is set to the best value of a grid
(``GRID``, the other weights fixed, then all rescaled to sum 1; a tie keeps the current value), and
passes repeat until one gains less than ``TOLERANCE``. ``RESTARTS`` random starting points
(Dirichlet) plus the argued weights (``ARGUED``, those before any fit); the best on the training demands wins.

**Features.** For each demand, every candidate the index would score (a shared term or IPC
level): its text signal (BM25 over the best among the candidates), IPC depth weight and four fits
— computed once by ``MatchIndex.query`` per expansion weight; a ranking is then a dot product. The
pool (``index.POOL``, 200) is emulated but is not fitted: no labelled demand has more than 184
candidates among the 309 achievements, so it never binds here; it only matters at 100,000, where
there are no judgments. Ties are broken as the index breaks them (score to 6 places, then id).

**Protocol.** 5-fold cross-validation within dev (folds by demand, fixed seed): fit on four
folds, rank the fifth; the out-of-fold nDCG@10 of every dev demand, against the argued weights'
on the same demands, is the expected gain. The rule: **adopt the weights fitted on all of dev only
if the cross-validated gain over the argued weights holds beyond noise — the lower end of its
bootstrap 95 % interval above 0**. (The first rule, fixed before test was looked at, asked only
for a higher mean; its run adopted a fit with +0.003, interval −0.008 … +0.016, and weights that
swung from fold to fold — a change of behaviour for users on no evidence — so the rule was made
stricter afterwards; a stricter rule can only keep the argued weights, never pick among fits by
test.) Test (and all) are reported once, for both, whatever the decision; nothing is refitted
after. The fitted weights are checked against a real ``MatchIndex`` (the emulation must give the
same nDCG).

    .venv/bin/python bench/fit_weights.py [--restarts 8] [--seed 20]     # ~1 min
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from exchange.matching.domain import DEFAULT_WEIGHTS, EXPANSION_WEIGHT, DocKind, Weights
from exchange.matching.evaluation import LabelledSet, evaluate, load_labelled, split_of
from exchange.matching.index import MatchIndex
from listings.search import warm_up

SIGNALS = ("text", "ipc", "field", "maturity", "form", "budget")
GRID = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # shares
EXPANSIONS = (0.5, 0.65, 0.8, 1.0)
# The weights as argued before any fit (text 0.50, IPC 0.20, field 0.10, maturity 0.05, form 0.07,
# budget 0.08; concepts 0.8): the starting point and the figure a fit must beat.
ARGUED = (np.array([0.50, 0.20, 0.10, 0.05, 0.07, 0.08]), 0.8)
TOLERANCE = 1e-4
FOLDS = 5
K = 10
DISCOUNT = 1.0 / np.log2(np.arange(K) + 2)


@dataclass(frozen=True)
class Features:
    """The candidates of a set of queries, padded to the largest: ``x`` [queries, candidates,
    signals], ``gain`` 2^grade − 1, ``order`` a candidate's place in the tie-break (its id as a
    string), ``valid`` False on padding, ``ideal`` each query's ideal DCG@10 (0: nothing to find, nDCG 1)."""

    x: np.ndarray
    gain: np.ndarray
    order: np.ndarray
    valid: np.ndarray
    ideal: np.ndarray

    def take(self, rows: Sequence[int]) -> Features:
        rows = list(rows)
        return Features(self.x[rows], self.gain[rows], self.order[rows], self.valid[rows], self.ideal[rows])

    def __len__(self) -> int:
        return len(self.x)


def per_query_ndcg(features: Features, weights: np.ndarray, pool: int = 200) -> np.ndarray:
    """nDCG@10 of each query under ``weights`` (over ``SIGNALS``): the index's ranking — the
    ``pool`` best by text and IPC, then by the whole score rounded to 6 places, ties by id."""
    valid = features.valid
    if pool < valid.shape[1]:
        prelim = np.where(valid, features.x[:, :, 0] * weights[0] + features.x[:, :, 1] * weights[1], -np.inf)
        wanted = max(pool, 5 * K)
        cut = -np.sort(-prelim, axis=1)[:, wanted - 1 : wanted]
        valid = valid & (prelim >= cut)
    score = np.where(valid, np.round(features.x @ weights, 6), -np.inf)
    ranked = np.lexsort((features.order, -score), axis=1)[:, :K]
    gains = np.take_along_axis(np.where(valid, features.gain, 0.0), ranked, axis=1)
    dcg = (gains * DISCOUNT[: gains.shape[1]]).sum(axis=1)
    return np.divide(dcg, features.ideal, out=np.ones_like(dcg), where=features.ideal > 0)


def objective(features: Features, weights: np.ndarray) -> float:
    return float(per_query_ndcg(features, weights).mean()) if len(features) else 0.0


def normalised(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else np.full_like(weights, 1 / len(weights))


def coordinate_ascent(
    by_expansion: dict[float, Features],
    start: tuple[np.ndarray, float],
    rng: random.Random,
    grid: Sequence[float] = GRID,
    max_passes: int = 20,
) -> tuple[np.ndarray, float, float]:
    """From ``start`` (weights, expansion weight), the coordinates set in turn to their best grid
    value until a pass gains less than ``TOLERANCE``: (weights summing to 1, expansion, nDCG@10)."""
    weights, expansion = normalised(np.asarray(start[0], dtype=float)), start[1]
    best = objective(by_expansion[expansion], weights)
    coordinates: list[int | str] = [*range(len(weights)), "expansion"]
    for _ in range(max_passes):
        before = best
        rng.shuffle(coordinates)
        for coordinate in coordinates:
            if coordinate == "expansion":
                for value in by_expansion:
                    found = objective(by_expansion[value], weights)
                    if found > best:
                        best, expansion = found, value
                continue
            features = by_expansion[expansion]
            base = weights
            others = 1 - base[coordinate]
            if others <= 0:
                continue
            for value in grid:  # this coordinate's share; the others keep their proportions
                trial = base * (1 - value) / others
                trial[coordinate] = value
                found = objective(features, trial)
                if found > best:
                    best, weights = found, trial
        if best - before < TOLERANCE:
            break
    return weights, expansion, best


def fit(
    by_expansion: dict[float, Features], current: tuple[np.ndarray, float], restarts: int, seed: int
) -> tuple[np.ndarray, float, float]:
    """The best of coordinate ascent from ``current`` and from ``restarts`` random ones."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    starts = [current] + [
        (nprng.dirichlet(np.ones(len(SIGNALS))), rng.choice(list(by_expansion))) for _ in range(restarts)
    ]
    results = [coordinate_ascent(by_expansion, s, rng) for s in starts]
    return max(results, key=lambda r: r[2])


# ----------------------------------------------------------------------------------------------
# The labelled set


def labelled_features(labelled: LabelledSet, keys: Sequence[str], expansion: float) -> Features:
    """The features of ``keys``' demands against all achievements, concepts at ``expansion``."""
    index = MatchIndex(expansion_weight=expansion)
    index.add_many(labelled.achievements.values())
    rows = []
    for key in keys:
        matches = index.query(labelled.demands[key], DocKind.LISTING, 10**6, pool=10**6)
        grades = labelled.grades[key]
        rows.append(
            (
                [[m.explanation.text, m.explanation.ipc, *(f.value for f in m.explanation.fits)] for m in matches],
                [2 ** grades.get(labelled.keys[m.doc.id], 0) - 1 for m in matches],
                [str(m.doc.id) for m in matches],
                float((DISCOUNT[: min(K, len(grades))] * (2 ** np.sort(list(grades.values()))[::-1][:K] - 1)).sum()),
            )
        )
    width = max(1, max(len(r[0]) for r in rows))
    ids = sorted({i for r in rows for i in r[2]})
    place = {i: n for n, i in enumerate(ids)}
    x = np.zeros((len(rows), width, len(SIGNALS)))
    gain = np.zeros((len(rows), width))
    order = np.full((len(rows), width), len(ids))
    valid = np.zeros((len(rows), width), dtype=bool)
    ideal = np.zeros(len(rows))
    for r, (fx, fg, fi, ideal_dcg) in enumerate(rows):
        n = len(fx)
        if n:
            x[r, :n], gain[r, :n], valid[r, :n] = fx, fg, True
            order[r, :n] = [place[i] for i in fi]
        ideal[r] = ideal_dcg
    return Features(x, gain, order, valid, ideal)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    warm_up()
    started = time.perf_counter()
    labelled = load_labelled()
    dev = sorted(k for k in labelled.grades if split_of(k) == "dev")
    test = sorted(k for k in labelled.grades if split_of(k) == "test")
    everything = dev + test
    features = {e: labelled_features(labelled, everything, e) for e in sorted({*EXPANSIONS, ARGUED[1]})}
    dev_rows, test_rows = range(len(dev)), range(len(dev), len(everything))
    dev_f = {e: f.take(dev_rows) for e, f in features.items()}
    current = ARGUED
    cur_w = normalised(current[0])

    # 5-fold cross-validation within dev
    shuffled = list(range(len(dev)))
    random.Random(args.seed).shuffle(shuffled)
    folds = [shuffled[i::FOLDS] for i in range(FOLDS)]
    out_of_fold = np.zeros(len(dev))
    print(f"# Fitting the hybrid's weights: {len(dev)} dev demands, {FOLDS} folds, {args.restarts} restarts")
    print("\n| fold | fitted on (dev nDCG@10) | held out: argued | held out: fitted | weights | concepts |")
    print("|---|---|---|---|---|---|")
    for n, held in enumerate(folds, 1):
        train = [i for i in range(len(dev)) if i not in set(held)]
        w, e, train_ndcg = fit({x: f.take(train) for x, f in dev_f.items()}, current, args.restarts, args.seed + n)
        out_of_fold[held] = per_query_ndcg(dev_f[e].take(held), w)
        cur = objective(dev_f[current[1]].take(held), cur_w)
        shown = " ".join(f"{v:.3f}" for v in w)
        print(f"| {n} | {train_ndcg:.3f} | {cur:.3f} | {out_of_fold[held].mean():.3f} | {shown} | {e} |")
    current_dev = per_query_ndcg(dev_f[current[1]], cur_w)
    gain = out_of_fold - current_dev
    rng = np.random.default_rng(args.seed)
    boot = [gain[rng.integers(0, len(gain), len(gain))].mean() for _ in range(2000)]
    low, high = np.percentile(boot, [2.5, 97.5])
    print(
        f"\ndev, cross-validated nDCG@10: fitted {out_of_fold.mean():.3f} against the argued {current_dev.mean():.3f} "
        f"({gain.mean():+.4f}, bootstrap 95 % {low:+.4f} … {high:+.4f}; "
        f"{int((gain > 1e-9).sum())} demands better, {int((gain < -1e-9).sum())} worse)"
    )

    # The fit on all of dev, the decision, then test once
    w, e, _ = fit(dev_f, current, args.restarts, args.seed)
    adopt = bool(low > 0)
    print(f"fitted on all of dev: {dict(zip(SIGNALS, np.round(w, 3).tolist(), strict=True))}, concepts {e}")
    print(f"decision (cross-validated gain above 0 beyond noise): {'ADOPT' if adopt else 'KEEP the argued'}")
    in_domain = np.array([getattr(DEFAULT_WEIGHTS, s) for s in SIGNALS])
    expected_expansion = e if adopt else ARGUED[1]
    agrees = np.allclose(in_domain, np.round(w, 3) if adopt else ARGUED[0]) and expected_expansion == EXPANSION_WEIGHT
    print(f"domain.DEFAULT_WEIGHTS and EXPANSION_WEIGHT agree with this decision: {'yes' if agrees else 'NO'}")

    def real(weights: np.ndarray, expansion: float) -> dict[str, float]:
        index = MatchIndex(weights=Weights(*weights.tolist()), expansion_weight=expansion)
        index.add_many(labelled.achievements.values())
        rank = lambda d: [m.doc.id for m in index.query(d, DocKind.LISTING, K)]  # noqa: E731
        return {s: evaluate(labelled, rank, split=s)[0] for s in ("dev", "test")} | {"all": evaluate(labelled, rank)[0]}

    emulated = {
        "dev": objective(features[e].take(dev_rows), w),
        "test": objective(features[e].take(test_rows), w),
        "all": objective(features[e], w),
    }
    fitted, kept = real(np.round(w, 3), e), real(cur_w, current[1])
    assert all(abs(emulated[s] - real(w, e)[s]) < 1e-9 for s in emulated), (emulated, real(w, e))
    print("\n| weights | dev CV nDCG@10 | dev nDCG@10 | test nDCG@10 | all nDCG@10 |\n|---|---|---|---|---|")
    print(
        f"| argued (before the fit) | {current_dev.mean():.3f} | {kept['dev']:.3f} | {kept['test']:.3f} "
        f"| {kept['all']:.3f} |"
    )
    print(
        f"| fitted (rounded to 3 places) | {out_of_fold.mean():.3f} | {fitted['dev']:.3f} | {fitted['test']:.3f} "
        f"| {fitted['all']:.3f} |"
    )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
