"""The white paper's pure rules: regions from credit codes, the appraisal and bidder bands."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from exchange.stats.white_paper.domain import (
    APPRAISAL_BANDS,
    BIDDER_BANDS,
    Ratio,
    appraisal_band,
    bidder_band,
    region_of,
    year_bounds,
)


def test_regions_of_division_codes():
    assert region_of("310115") == region_of("310119") == "浦东新区"  # 南汇 counts with 浦东
    assert region_of("310108") == "静安区"
    assert region_of("310000") == region_of("310100") == "上海市（市级登记）"
    assert region_of("320505") == "外省市：江苏省"
    assert region_of("99ABCD") == region_of("") == region_of(None) == "其他"


@given(price=st.integers(0, 10**12), appraised=st.integers(1, 10**12))
def test_the_appraisal_band_holds_the_ratio(price, appraised):
    band = appraisal_band(price, appraised)
    ratio = Fraction(price, appraised)
    lower = APPRAISAL_BANDS[band][1] or Fraction(0)
    upper = APPRAISAL_BANDS[band + 1][1] if band + 1 < len(APPRAISAL_BANDS) else None
    assert ratio >= lower and (upper is None or ratio < upper)


@given(st.integers(0, 1000))
def test_the_bidder_band_holds_the_count(bidders):
    band = bidder_band(bidders)
    assert bidders >= BIDDER_BANDS[band][1]
    assert band + 1 == len(BIDDER_BANDS) or bidders < BIDDER_BANDS[band + 1][1]


def test_the_year_is_beijings_and_a_ratio_of_nothing_is_none():
    start, end = year_bounds(2026)
    assert start.isoformat() == "2026-01-01T00:00:00+08:00" and end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert Ratio(5, 0).value is None and Ratio(3, 4).value == Fraction(3, 4)
