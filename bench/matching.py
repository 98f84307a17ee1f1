"""Matching benchmark: ranking quality on the labelled set, latency with 100,000 achievements,
and how soon a change shows.

- **Quality**: bench/data/matching-labelled.jsonl (65 achievements, 60 demands, graded pairs;
  bench/data/README.md). Every demand ranks all achievements; nDCG@10 and recall@10 (relevant:
  grade ≥ 2) for the baseline — plain BM25 over jieba's default words (same BM25 code, same stop
  words, title weighting, no domain dictionary, synonyms, n-grams, IPC or fits) — and for the
  hybrid ranking (exchange/matching), with the ratio.
- **Latency**: 100,000 synthetic achievements recombined from the labelled ones (a title with a
  prefix, another's description, keywords and IPC codes of either, a random price and maturity);
  each labelled demand's top 10, p50/p95 over ``--rounds`` passes, hybrid and the BM25 baseline.
- **Freshness**: replacing one listing in the 100,000 and the next query that sees it, against
  rebuilding the index (what a periodic rebuild would cost).

    .venv/bin/python bench/matching.py [--achievements 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import platform
import random
import statistics
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jieba

from exchange.matching.domain import DocKind, MatchDoc, Weights
from exchange.matching.evaluation import evaluate, load_labelled
from exchange.matching.index import MatchIndex
from listings.search import STOP_WORDS, warm_up

jieba.setLogLevel(logging.WARNING)
L = DocKind.LISTING
PREFIXES = ["", "一种", "新型", "改进的", "高效", "低成本"]


def plain_tokens(text: str) -> list[str]:
    """The baseline's tokens: jieba's default dictionary, precise mode, the same stop words."""
    out = []
    for token in jieba.lcut(text.lower()):
        word = "".join(ch for ch in token if ch.isalnum())
        if word and word not in STOP_WORDS and not (len(word) == 1 and not word.isalpha()):
            out.append(word)
    return out


def baseline_index() -> MatchIndex:
    return MatchIndex(tokenize=plain_tokens, weights=Weights(1.0, 0, 0, 0, 0, 0, 0))


def synthetic(achievements: list[MatchDoc], n: int, seed: int = 7) -> list[MatchDoc]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        a, b = rng.choice(achievements), rng.choice(achievements)
        docs.append(
            MatchDoc(
                id=uuid.UUID(int=rng.getrandbits(128)),
                kind=L,
                title=rng.choice(PREFIXES) + a.title,
                text=b.text,
                keywords=a.keywords,
                ipc=rng.choice([a.ipc, b.ipc, a.ipc + b.ipc]),
                field=rng.choice([a.field, b.field]),
                maturity=rng.randint(2, 9),
                forms=rng.choice([a.forms, b.forms]),
                price=rng.randrange(50, 5000) * 1_000_000,
            )
        )
    return docs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--achievements", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warm_up()
    jieba.initialize()
    labelled = load_labelled()
    print(f"# Matching benchmark — Python {platform.python_version()}, {platform.machine()}")
    pairs = sum(len(g) for g in labelled.grades.values())
    sizes = f"{len(labelled.achievements)} achievements, {len(labelled.demands)} demands, {pairs} graded pairs"
    print(f"labelled set: {sizes}")

    # Quality
    results = {}
    for name, index in (("BM25 (baseline)", baseline_index()), ("hybrid", MatchIndex())):
        index.add_many(labelled.achievements.values())
        results[name] = evaluate(labelled, lambda d, ix=index: [m.doc.id for m in ix.query(d, L, 10)])
    (b_ndcg, b_recall), (h_ndcg, h_recall) = results["BM25 (baseline)"], results["hybrid"]
    print("\n| measure | BM25 (baseline) | hybrid | hybrid / BM25 |\n|---|---|---|---|")
    print(f"| nDCG@10 | {b_ndcg:.3f} | {h_ndcg:.3f} | ×{h_ndcg / b_ndcg:.3f} |")
    print(f"| recall@10 | {b_recall:.3f} | {h_recall:.3f} | ×{h_recall / b_recall:.3f} |")

    # Latency
    corpus = synthetic(list(labelled.achievements.values()), args.achievements)
    demands = list(labelled.demands.values())
    print(f"\n{len(corpus):,} synthetic achievements, {len(demands)} demands × {args.rounds} rounds")
    timings: dict[str, list[float]] = {}
    indexes = {}
    for name, make in (("BM25 (baseline)", baseline_index), ("hybrid", MatchIndex)):
        started = time.perf_counter()
        index = make()
        for start in range(0, len(corpus), 10_000):
            index.add_many(corpus[start : start + 10_000])
        print(f"{name}: index built in {time.perf_counter() - started:.1f} s")
        indexes[name] = index
        for d in demands:  # warm the analyzer's cache of the demands' texts
            index.query(d, L, 10)
        times = []
        for _ in range(args.rounds):
            for d in demands:
                t = time.perf_counter()
                index.query(d, L, 10)
                times.append((time.perf_counter() - t) * 1000)
        timings[name] = times
    print("\n| query, 100,000 achievements (ms) | p50 | p95 | max |\n|---|---|---|---|")
    for name, times in timings.items():
        p50, p95 = statistics.median(times), percentile(times, 95)
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {max(times):.1f} |")
    p95_h = percentile(timings["hybrid"], 95)
    p95_b = percentile(timings["BM25 (baseline)"], 95)
    print(f"hybrid p95 {p95_h:.1f} ms against the 100 ms target (×{100 / p95_h:.1f} headroom); ")
    print(f"hybrid / BM25 p95 ×{p95_h / p95_b:.2f}")

    # Freshness
    index = indexes["hybrid"]
    target = corpus[0]
    changed = replace(target, title="钒钛基固溶体储氢合金", text="钒钛铬固溶体储氢合金，室温吸放氢，用于固态储氢。")
    need = MatchDoc(uuid.uuid4(), DocKind.DEMAND, "钒钛固溶体储氢", "寻求钒钛铬固溶体储氢合金")
    t = time.perf_counter()
    index.replace(changed)
    seen = any(m.doc.id == changed.id and m.doc.title == changed.title for m in index.query(need, L, 10))
    update_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    rebuilt = MatchIndex()
    for start in range(0, len(corpus), 10_000):
        rebuilt.add_many(corpus[start : start + 10_000])
    rebuild_ms = (time.perf_counter() - t) * 1000
    print("\n| a changed listing shows in the next match | ms |\n|---|---|")
    print(f"| incremental: replace one document + the next query (seen: {seen}) | {update_ms:.1f} |")
    print(f"| baseline: rebuild the index of {len(corpus):,} | {rebuild_ms:.0f} |")
    print(f"rebuild / incremental ×{rebuild_ms / update_ms:.0f}; target: within 1,000 ms")


if __name__ == "__main__":
    main()
