"""A buyer's brokerage paid with vouchers: first the exchange's fee, then the broker's commission,
from the same wallets. Each is within its programs' coverage of it, never more than what is still
available, and its cash part makes it whole exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from exchange.vouchers.domain import fee_voucher_share


def pay(amount: int, programs: list[tuple[int, int]], available: list[int]) -> int:
    """As ``BrokerageFeeVouchers.pay_fee`` does over the buyer's programs (available changes in place)."""
    paid = 0
    for i, (coverage_bp, _) in enumerate(programs):
        share = fee_voucher_share(amount, coverage_bp, paid, available[i])
        assert 0 <= share <= available[i]
        available[i] -= share
        paid += share
    return paid


@given(
    st.integers(0, 10**10),
    st.integers(0, 10**10),
    st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 10**10)), min_size=1, max_size=3),
)
def test_the_fee_and_the_commission_share_the_wallet_within_coverage(fee, commission, programs):
    available = [granted for _, granted in programs]
    best = max(c for c, _ in programs)
    on_fee = pay(fee, programs, available)
    on_commission = pay(commission, programs, available)
    assert on_fee * 10_000 <= fee * best and on_commission * 10_000 <= commission * best
    assert 0 <= commission - on_commission <= commission  # the cash part
    assert on_fee + on_commission + sum(available) == sum(g for _, g in programs)
    assert all(a >= 0 for a in available)


def test_exact_split_of_a_commission_after_the_fee():
    # 40% coverage, 700,000 granted: the fee of 500,000 takes 200,000; the commission of 1,500,000
    # may take 600,000 but 500,000 is left: 500,000 in vouchers, 1,000,000 in cash.
    available = [700_000]
    assert pay(500_000, [(4_000, 700_000)], available) == 200_000
    assert pay(1_500_000, [(4_000, 700_000)], available) == 500_000
    assert available == [0]
    # Two programs: the first (expiring first) pays up to its coverage, the second the rest of its own.
    available = [100_000, 10**9]
    assert pay(1_000_000, [(2_000, 0), (5_000, 0)], available) == 500_000
    assert available == [0, 10**9 - 400_000]
