"""Voucher program rules: caps, budget, coverage, categories, validity, order states, invariants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.vouchers.domain import (
    ORDERS,
    Category,
    CategoryNotEligible,
    GrantOverBudget,
    GrantOverCap,
    OrderAction,
    OrderState,
    ProgramFigures,
    ProgramNotActive,
    ProgramRules,
    RelatedParties,
    VoucherOverCoverage,
    VoucherRuleBroken,
    check_not_related,
    fee_voucher_share,
    next_order_state,
    split_price,
)
from kernel.errors import InvalidState

PROGRAM = ProgramRules(
    budget=1_000_000_00,
    per_org_cap=300_000_00,
    coverage_bp=5000,
    categories=frozenset({Category.TESTING, Category.BROKERAGE}),
    valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    valid_until=datetime(2027, 1, 1, tzinfo=UTC),
)


def test_grants_within_cap_and_budget():
    PROGRAM.check_grant(300_000_00, granted_to_org=0, granted_total=0)
    with pytest.raises(GrantOverCap):
        PROGRAM.check_grant(1, granted_to_org=300_000_00, granted_total=300_000_00)
    with pytest.raises(GrantOverBudget):
        PROGRAM.check_grant(100_000_00, granted_to_org=0, granted_total=950_000_00)


@given(st.integers(1, 10**9), st.integers(0, 10_000))
def test_coverage_bounds_the_voucher_part(price, coverage_bp):
    rules = ProgramRules(1, 1, coverage_bp, frozenset(Category), PROGRAM.valid_from, PROGRAM.valid_until)
    top = rules.max_voucher_amount(price)
    assert 0 <= top <= price and top * 10_000 <= price * coverage_bp
    rules.check_order(category=Category.TESTING, price=price, voucher_amount=top)
    with pytest.raises(VoucherOverCoverage):
        rules.check_order(category=Category.TESTING, price=price, voucher_amount=top + 1)


def test_categories_and_validity():
    with pytest.raises(CategoryNotEligible):
        PROGRAM.check_order(category=Category.VALUATION, price=100, voucher_amount=0)
    PROGRAM.require_active(datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(ProgramNotActive):
        PROGRAM.require_active(datetime(2027, 1, 1, tzinfo=UTC))  # valid_until is exclusive
    with pytest.raises(ProgramNotActive):
        PROGRAM.require_active(datetime(2025, 12, 31, tzinfo=UTC))


def test_related_parties():
    check_not_related("a", "b", set())
    with pytest.raises(RelatedParties):
        check_not_related("a", "a", set())
    with pytest.raises(RelatedParties):
        check_not_related("a", "b", {frozenset(("b", "a"))})


@pytest.mark.parametrize("state", list(OrderState))
@pytest.mark.parametrize("action", list(OrderAction))
def test_every_order_state_and_action(state, action):
    if (state, action) in ORDERS.transitions:
        assert next_order_state(state, action) is ORDERS.transitions[(state, action)]
    else:
        with pytest.raises(InvalidState):
            next_order_state(state, action)


def test_accepted_orders_cannot_be_cancelled():
    with pytest.raises(InvalidState):
        next_order_state(OrderState.ACCEPTED, OrderAction.CANCEL)


def test_program_invariants():
    good = ProgramFigures(budget=100, funded=50, issued=80, spent=40, redeemed=30, expired=5, revoked=5, outstanding=40)
    assert good.broken_invariants() == []
    bad = ProgramFigures(budget=100, funded=20, issued=80, spent=40, redeemed=30, expired=5, revoked=5, outstanding=41)
    assert bad.broken_invariants() == [
        "issued − retired − expired − revoked ≠ outstanding",
        "cash redeemed exceeds funding",
    ]


@given(
    st.integers(0, 10**12),
    st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 10**12)), min_size=1, max_size=4),
)
def test_fee_vouchers_never_exceed_coverage_or_what_is_available(fee, programs):
    paid = 0
    for coverage_bp, available in programs:
        share = fee_voucher_share(fee, coverage_bp, paid, available)
        assert 0 <= share <= available
        paid += share
    assert paid * 10_000 <= fee * max(c for c, _ in programs)


@given(st.integers(1, 10**12), st.integers(-10, 10**12 + 10))
def test_a_price_splits_into_vouchers_and_cash(price, voucher_amount):
    if 0 <= voucher_amount <= price:
        assert split_price(price, voucher_amount) == (voucher_amount, price - voucher_amount)
    else:
        with pytest.raises(VoucherRuleBroken):
            split_price(price, voucher_amount)
