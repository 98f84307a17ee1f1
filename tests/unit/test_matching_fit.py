"""bench/fit_weights.py: coordinate ascent raises nDCG@10 on a tiny synthetic set where the argued
weights rank badly, and its ranking is the index's (ties by id, the pool by text and IPC)."""

from __future__ import annotations

import random

import numpy as np

from bench.fit_weights import Features, coordinate_ascent, fit, objective, per_query_ndcg


def synthetic(queries: int = 12, candidates: int = 15, seed: int = 3) -> Features:
    """Relevance follows IPC and field; text is noise that favours an irrelevant candidate."""
    rng = np.random.default_rng(seed)
    x = rng.random((queries, candidates, 6)) * 0.2
    grade = np.zeros((queries, candidates))
    for q in range(queries):
        good = rng.choice(candidates, 3, replace=False)
        grade[q, good] = [3, 2, 1]
        x[q, good, 1] = [1.0, 0.85, 0.6]  # IPC
        x[q, good, 2] = 1.0  # same field
        x[q, rng.integers(candidates), 0] = 1.0  # a noisy best text match
    gain = 2**grade - 1
    discount = 1 / np.log2(np.arange(10) + 2)
    ideal = np.array([(np.sort(g)[::-1][:10] * discount).sum() for g in gain])
    order = np.tile(np.arange(candidates), (queries, 1))
    return Features(x, gain, order, np.ones((queries, candidates), bool), ideal)


def test_coordinate_ascent_raises_ndcg_over_text_only_weights() -> None:
    features = synthetic()
    start = np.array([1.0, 0, 0, 0, 0, 0])
    before = objective(features, start)
    weights, expansion, after = coordinate_ascent({1.0: features}, (start, 1.0), random.Random(0))
    assert before < 0.8 and after > before + 0.1
    assert after == objective(features, weights) and expansion == 1.0
    assert abs(weights.sum() - 1) < 1e-9 and (weights >= 0).all()
    assert weights[1] + weights[2] > weights[0]  # it learned that IPC and field carry relevance
    # The expansion is a coordinate too: the better feature set is chosen.
    noisy = Features(features.x[:, ::-1].copy(), features.gain, features.order, features.valid, features.ideal)
    _, chosen, _ = fit({0.5: noisy, 1.0: features}, (start, 0.5), restarts=1, seed=1)
    assert chosen == 1.0


def test_the_emulated_ranking_breaks_ties_by_id_and_respects_the_pool() -> None:
    ideal = np.array([1.0])
    x = np.zeros((1, 60, 6))
    x[0, :, 2] = 1.0  # every candidate ties on field alone
    gain = np.zeros((1, 60))
    gain[0, 59] = 1.0
    order = np.arange(60)[::-1][None, :]  # candidate 59 comes first by id
    features = Features(x, gain, order, np.ones((1, 60), bool), ideal)
    assert per_query_ndcg(features, np.array([0, 0, 1.0, 0, 0, 0]))[0] == 1.0
    # With a pool of 50 by text and IPC, a candidate with neither but the best fits is cut.
    x[0, :59, 0] = 0.5
    x[0, 59, 5] = 1.0  # its budget fits
    weights = np.array([0.001, 0, 0.5, 0, 0, 0.499])
    assert per_query_ndcg(features, weights, pool=200)[0] == 1.0
    assert per_query_ndcg(features, weights, pool=50)[0] == 0.0
