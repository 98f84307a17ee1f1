"""The commission arithmetic of a broker's engagement: apportioned over a deal's payments, the
shares add up to the lump sum exactly, none is negative, and a seller paying out of each payment's
proceeds never nets below zero."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.brokers.domain import (
    BrokerRuleBroken,
    Side,
    bearable,
    check_commission,
    check_credential_number,
    commission_of,
    commission_shares,
)
from exchange.trading.domain import FeeSchedule, apportion, settlement

FEES = FeeSchedule(((100_000_000, 100), (1_000_000_000, 50), (None, 10)), 100_000)


@given(
    amounts=st.lists(st.integers(1, 10**10), min_size=1, max_size=8),
    reward_bp=st.integers(0, 10_000),
    share=st.floats(0, 1),
)
def test_a_sellers_commission_over_instalments_adds_up_and_never_leaves_it_below_zero(amounts, reward_bp, share):
    lump = settlement(sum(amounts), FEES, inventor_reward_bp=reward_bp)
    parts = apportion(lump, amounts)
    commission = int(lump.seller_proceeds * share)
    assert bearable(commission, Side.SELLER, price=lump.price, seller_proceeds=lump.seller_proceeds)
    shares = commission_shares(commission, [p.seller_proceeds for p in parts])
    assert sum(shares) == commission
    assert all(0 <= s <= p.seller_proceeds for s, p in zip(shares, parts, strict=True))


@given(amounts=st.lists(st.integers(1, 10**10), min_size=1, max_size=8), bp=st.integers(1, 10_000))
def test_a_buyers_commission_follows_the_payments(amounts, bp):
    commission = commission_of(sum(amounts), bp=bp, fixed=None)
    shares = commission_shares(commission, amounts)
    assert sum(shares) == commission and all(0 <= s <= a for s, a in zip(shares, amounts, strict=True))


def test_a_commission_the_side_cannot_bear_is_refused():
    assert not bearable(101, Side.SELLER, price=1_000, seller_proceeds=100)
    assert not bearable(1_001, Side.BUYER, price=1_000, seller_proceeds=100)
    with pytest.raises(ValueError):
        commission_shares(101, [50, 50])


@pytest.mark.parametrize("number", ["abc", "JSJJR--3100002024", "JSJJR-310000-2024-0001234567890123", "jsjjr 3100"])
def test_a_malformed_credential_number_names_the_field(number):
    with pytest.raises(BrokerRuleBroken) as refused:
        check_credential_number(number)
    assert refused.value.errors[0]["field"] == "credential_number"


def test_a_credential_number_and_a_commission_basis():
    assert check_credential_number(" jsjjr-310000-2024-000123 ") == "JSJJR-310000-2024-000123"
    with pytest.raises(BrokerRuleBroken):
        check_commission(300, 5_000)
    assert commission_of(50_000_000, bp=300, fixed=None) == 1_500_000


@pytest.mark.parametrize(("bp", "fixed", "field"), [(0, None, "commission_bp"), (None, 0, "commission_fen")])
def test_a_zero_commission_is_refused_naming_its_field(bp, fixed, field):
    with pytest.raises(BrokerRuleBroken) as refused:
        check_commission(bp, fixed)
    assert refused.value.errors[0]["field"] == field
