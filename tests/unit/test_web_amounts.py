"""Sums typed in yuan on the pages' forms, read back as fen: the inverse of the ``yuan`` filter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.web.formats import AmountNotYuan, fen_of_yuan, yuan


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("1236000", 123_600_000),
        ("1,236,000", 123_600_000),
        ("1，236，000", 123_600_000),
        ("¥1,236,000.00", 123_600_000),
        ("￥ 1236000.5", 123_600_050),
        (" 0.05 ", 5),
    ],
)
def test_what_people_type_for_yuan_is_read_as_fen(typed, fen):
    assert fen_of_yuan(typed) == fen


@pytest.mark.parametrize("typed", ["", "五十万", "1.234", "12,34", "-5", "1e6", "1 000", "1" * 14])
def test_anything_else_is_refused_naming_the_field(typed):
    with pytest.raises(AmountNotYuan) as refused:
        fen_of_yuan(typed, field="amount")
    assert refused.value.status == 400
    assert refused.value.errors is not None and refused.value.errors[0]["field"] == "amount"


@given(st.integers(0, 10**14))
def test_the_yuan_a_page_writes_reads_back_as_the_same_fen(fen):
    assert fen_of_yuan(yuan(fen)) == fen


def test_a_period_ending_at_midnight_reads_as_24_00_of_its_last_day():
    from datetime import UTC, datetime

    from exchange.web.formats import beijing, chinese_date

    end = datetime(2027, 1, 28, 16, 0, tzinfo=UTC)  # 2027-01-29 00:00 in Beijing
    assert beijing(end) == "2027年1月28日 24:00"
    assert chinese_date(end) == "2027年1月28日"
    assert beijing(datetime(2027, 1, 28, 8, 0, tzinfo=UTC)) == "2027年1月28日 16:00"
