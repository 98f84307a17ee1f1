"""The fusion and feedback variants of the text signal measured by bench/matching.py --variants:
rank and score fusion keep every channel's order, stay in [0, 1], and the variant index explains a
match by the query's own words."""

from __future__ import annotations

import uuid

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.matching_variants import (
    VariantIndex,
    competition_ranks,
    feedback_terms,
    minmax_fusion,
    reciprocal_rank_fusion,
    zscore_fusion,
)
from exchange.matching.domain import DocKind, MatchDoc
from exchange.matching.index import MatchIndex
from listings.search import expansion_terms, match_tokens

score = st.floats(0, 50, allow_nan=False).map(lambda x: round(x, 3))
channels = st.integers(2, 12).flatmap(
    lambda n: st.lists(st.lists(score, min_size=n, max_size=n), min_size=2, max_size=3)
)
FUSE = {
    "rrf": lambda c, w: reciprocal_rank_fusion(c, 60, w),
    "rrf10": lambda c, w: reciprocal_rank_fusion(c, 10, w),
    "minmax": minmax_fusion,
    "zscore": zscore_fusion,
}


def test_competition_ranks_share_ties() -> None:
    assert competition_ranks(np.array([3.0, 5.0, 3.0, 1.0])).tolist() == [2, 1, 2, 4]


@given(channels, st.sampled_from(sorted(FUSE)), st.floats(0.1, 0.9))
def test_fusion_keeps_the_order_all_channels_agree_on_and_stays_in_unit_range(raw, how, share) -> None:
    arrays = [np.array(c, dtype=np.float64) for c in raw]
    weights = [share, *[(1 - share) / (len(arrays) - 1)] * (len(arrays) - 1)]
    fused = FUSE[how](arrays, weights)
    assert np.all(fused >= -1e-12) and np.all(fused <= 1 + 1e-12)
    unmatched = np.all(np.stack(arrays) <= 0, axis=0)
    assert np.all(fused[unmatched] == 0)  # no channel, no text signal
    n = len(arrays[0])
    for a in range(n):
        for b in range(n):
            if all(c[a] >= c[b] for c in arrays):
                assert fused[a] >= fused[b] - 1e-9


@given(channels, st.data())
def test_raising_a_score_never_lowers_its_reciprocal_rank_fusion(raw, data) -> None:
    arrays = [np.array(c, dtype=np.float64) for c in raw]
    doc = data.draw(st.integers(0, len(arrays[0]) - 1))
    channel = data.draw(st.integers(0, len(arrays) - 1))
    before = reciprocal_rank_fusion(arrays)[doc]
    arrays[channel][doc] += data.draw(st.floats(0.001, 10))
    assert reciprocal_rank_fusion(arrays)[doc] >= before - 1e-12


def test_the_relevance_model_weights_the_best_documents_words() -> None:
    docs = [(["电解液", "低温"], [3.0, 1.0]), (["电解液", "钠离子"], [1.0, 1.0])]
    model = feedback_terms(docs, [2.0, 1.0], limit=2)
    assert list(model) == ["电解液", "低温"] and model["电解液"] == 1.0 and 0 < model["低温"] < 1
    assert feedback_terms(docs, [0.0, 0.0], limit=5) == {}


def test_the_variant_index_is_the_hybrid_unless_told_and_explains_by_the_querys_words() -> None:
    titles = [
        "低温锂离子电池电解液",
        "钠离子电池正极材料",
        "稀土储氢合金",
        "锂离子电池回收湿法冶金",
        "固态电解质硫化物",
    ]
    docs = [MatchDoc(uuid.uuid4(), DocKind.LISTING, t, t + "，用于储能") for t in titles]
    need = MatchDoc(uuid.uuid4(), DocKind.DEMAND, "冬天电池续航", "冷库叉车的锂电池低温放电差")
    hybrid, same, fused = MatchIndex(), VariantIndex(), VariantIndex(fusion="zscore", ngram_share=0.2, prf_docs=3)
    for index in (hybrid, same, fused):
        index.add_many(docs)
    assert [(m.doc.id, m.score) for m in same.query(need, DocKind.LISTING)] == [
        (m.doc.id, m.score) for m in hybrid.query(need, DocKind.LISTING)
    ]
    matches = fused.query(need, DocKind.LISTING)
    assert matches[0].doc.title == "低温锂离子电池电解液"
    said = need.title + " " + need.text  # its words and the concepts they call up; never a fed-back word
    words = set(match_tokens(need.title)) | set(match_tokens(need.text)) | set(expansion_terms(said))
    assert all(set(m.explanation.matched_terms) <= words for m in matches)
