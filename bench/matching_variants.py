"""Ranking variants measured against the hybrid of exchange/matching, and not kept (docs/performance.md,
"Matching"): a separate BM25 channel over character n-grams fused with the word channel (by
reciprocal rank, or min-max / z-score normalised scores), and pseudo-relevance feedback (RM3).

``VariantIndex`` is a ``MatchIndex`` whose text signal (``_text``) is one of these; everything else
(IPC, fits, the pool, the explanation from the query's own words) is the index's. The n-gram
channel is the analyzer's ``~`` tokens (character bigrams of title, keywords and text, titles 3×;
trigrams if the tokenizer adds them), with its own document lengths; the word channel the rest.
Run by ``bench/matching.py --variants``.

The fusion functions take channels: arrays of scores over the same documents (0: no match there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from exchange.matching.domain import K1, B, idf, query_weight
from exchange.matching.index import MatchIndex, _Segment
from listings.search import NGRAM

RRF_K = 60
FUSIONS = ("sum", "rrf", "minmax", "zscore")


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """1 + the number of documents scoring strictly more: ties share the better rank."""
    ordered = np.sort(-scores)
    return np.searchsorted(ordered, -scores, side="left") + 1


def reciprocal_rank_fusion(
    channels: Sequence[np.ndarray], k: float = RRF_K, weights: Sequence[float] | None = None
) -> np.ndarray:
    """Σ weight / (k + rank) over the channels in which a document scores above 0, in [0, 1]."""
    weights = weights or [1.0] * len(channels)
    fused = np.zeros(len(channels[0]), dtype=np.float64)
    for scores, weight in zip(channels, weights, strict=True):
        matching = scores > 0
        if matching.any():
            fused[matching] += weight / (k + competition_ranks(scores[matching]))
    best = sum(weights) / (k + 1)
    return fused / best if best > 0 else fused


def minmax_fusion(channels: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Σ weight · scores / max(scores) over the channels, divided by Σ weight: in [0, 1]."""
    fused = np.zeros(len(channels[0]), dtype=np.float64)
    for scores, weight in zip(channels, weights, strict=True):
        top = float(scores.max()) if len(scores) else 0.0
        if top > 0:
            fused += weight * scores / top
    total = sum(weights)
    return fused / total if total > 0 else fused


def zscore_fusion(channels: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The weighted mean of each channel's z-scores (over the documents matching in any channel),
    min-max scaled into [0, 1]; a document matching in no channel scores 0."""
    matching = np.zeros(len(channels[0]), dtype=bool)
    for scores in channels:
        matching |= scores > 0
    fused = np.zeros(len(channels[0]), dtype=np.float64)
    if not matching.any():
        return fused
    for scores, weight in zip(channels, weights, strict=True):
        values = scores[matching]
        spread = float(values.std())
        if spread > 0:
            fused[matching] += weight * (values - values.mean()) / spread
    values = fused[matching]
    low, high = float(values.min()), float(values.max())
    fused[matching] = (values - low) / (high - low) if high > low else 1.0
    return fused


def feedback_terms(
    docs: Sequence[tuple[Sequence[str], Sequence[float]]], scores: Sequence[float], limit: int
) -> dict[str, float]:
    """RM3's relevance model of the first pass's best documents (each its terms and frequencies,
    with its first-pass score): P(t|R) = Σ_d P(d|R) · tf(t, d) / |d|, P(d|R) ∝ its score; the
    ``limit`` likeliest terms, their weights scaled so the likeliest is 1."""
    total = float(sum(s for s in scores if s > 0))
    if total <= 0:
        return {}
    model: dict[str, float] = {}
    for (terms, tfs), score in zip(docs, scores, strict=True):
        length = float(sum(tfs))
        if score <= 0 or length <= 0:
            continue
        for term, tf in zip(terms, tfs, strict=True):
            model[term] = model.get(term, 0.0) + (score / total) * tf / length
    best = sorted(model.items(), key=lambda item: (-item[1], item[0]))[:limit]
    if not best:
        return {}
    top = best[0][1]
    return {term: weight / top for term, weight in best}


class VariantIndex(MatchIndex):
    """The matching index with another text signal: ``fusion`` of a word and an n-gram BM25
    channel (``sum``: the index's own single BM25), then optionally RM3 feedback from the first
    pass's ``prf_docs`` best documents (``prf_terms`` words at ``prf_weight`` × likelihood)."""

    def __init__(
        self,
        *,
        fusion: str = "sum",
        fusion_k: float = RRF_K,
        ngram_share: float = 0.5,
        prf_docs: int = 0,
        prf_terms: int = 10,
        prf_weight: float = 0.3,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if fusion not in FUSIONS:
            raise ValueError(f"fusion: one of {', '.join(FUSIONS)}")
        self.fusion, self.fusion_k, self.ngram_share = fusion, fusion_k, ngram_share
        self.prf_docs, self.prf_terms, self.prf_weight = prf_docs, prf_terms, prf_weight
        self._channel_lengths: dict[int, tuple[int, np.ndarray]] = {}

    def _ngram_lengths(self, segment: _Segment) -> np.ndarray:
        """Each slot's n-gram share of its length (computed once per segment size)."""
        cached = self._channel_lengths.get(id(segment))
        if cached is None or cached[0] != len(segment.docs):
            lengths = np.zeros(len(segment.docs), dtype=np.float64)
            for slot, stored in enumerate(segment.terms):
                if stored is not None:
                    ids, tfs = stored
                    lengths[slot] = sum(
                        f for t, f in zip(ids.tolist(), tfs.tolist(), strict=True) if self._words[t].startswith(NGRAM)
                    )
            cached = self._channel_lengths[id(segment)] = (len(segment.docs), lengths)
        return cached[1]

    def _channel(
        self, segment: _Segment, query_terms: Mapping[str, float], scale: Mapping[str, float], grams: bool
    ) -> np.ndarray:
        """BM25 of every live slot over one channel's terms, against that channel's lengths."""
        n, live = len(segment.docs), max(segment.live, 1)
        alive = segment.alive.view()
        ngram_lengths = self._ngram_lengths(segment)
        lengths = ngram_lengths if grams else segment.lengths.view() - ngram_lengths
        average = float(lengths[alive].sum()) / live or 1.0
        norm = K1 * (1 - B + B * lengths / average)
        scores = np.zeros(n, dtype=np.float64)
        for term, qtf in query_terms.items():
            tid = self._vocabulary.get(term)
            if tid is None or tid not in segment.postings or term.startswith(NGRAM) != grams:
                continue
            df = segment.df.get(tid, 0)
            if df <= 0:
                continue
            slots, tfs = segment.postings[tid][0].view(), segment.postings[tid][1].view()
            weight = scale.get(term, 1.0) * query_weight(qtf) * idf(df, live)
            np.add.at(scores, slots, weight * tfs * (K1 + 1) / (tfs + norm[slots]))
        return scores * alive

    def _fused(self, segment: _Segment, query_terms: Mapping[str, float], scale: Mapping[str, float]) -> np.ndarray:
        if self.fusion == "sum":
            return super()._text(segment, query_terms, scale)
        channels = [self._channel(segment, query_terms, scale, grams) for grams in (False, True)]
        shares = [1.0 - self.ngram_share, self.ngram_share]
        if self.fusion == "rrf":
            return reciprocal_rank_fusion(channels, self.fusion_k, shares)
        if self.fusion == "minmax":
            return minmax_fusion(channels, shares)
        return zscore_fusion(channels, shares)

    def _text(self, segment: _Segment, query_terms: Mapping[str, float], scale: Mapping[str, float]) -> np.ndarray:
        text = self._fused(segment, query_terms, scale)
        if self.prf_docs <= 0:
            return text
        scored = np.flatnonzero((text > 0) & segment.alive.view())
        if len(scored) == 0:
            return text
        wanted = min(len(scored), self.prf_docs)
        top = sorted(scored[np.argpartition(-text[scored], wanted - 1)[:wanted]].tolist(), key=lambda s: -text[s])
        docs, scores = [], []
        for slot in top:
            stored = segment.terms[slot]
            if stored is None:
                continue
            pairs = [(self._words[t], f) for t, f in zip(stored[0].tolist(), stored[1].tolist(), strict=True)]
            words = [(t, f) for t, f in pairs if not t.startswith(NGRAM)]
            docs.append(([t for t, _ in words], [f for _, f in words]))
            scores.append(float(text[slot]))
        model = feedback_terms(docs, scores, self.prf_terms + len(query_terms))
        added = dict([(t, w) for t, w in model.items() if t not in query_terms][: self.prf_terms])
        if not added:
            return text
        expanded = {**query_terms, **dict.fromkeys(added, 1.0)}
        return self._fused(segment, expanded, {**scale, **{t: self.prf_weight * w for t, w in added.items()}})
