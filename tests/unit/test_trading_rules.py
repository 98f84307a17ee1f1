"""Trading rules: fee arithmetic, bid acceptance, anti-sniping, instalments, turns, deal states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from exchange.trading.domain import (
    DEALS,
    AuctionClosed,
    BidBelowAsking,
    BidOffGrid,
    BidTooLow,
    DealAction,
    DealState,
    FeeSchedule,
    Installment,
    OfferOutOfTurn,
    PaymentTermsInvalid,
    Side,
    TooManyOffers,
    bid_grid,
    check_answer,
    check_bid,
    check_counter_offer,
    check_installments,
    end_after_bid,
    forfeiture,
    held_deadline,
    minimum_bid,
    next_deal_state,
    settlement,
    takes_part,
)
from kernel.errors import InvalidState

DEFAULT = FeeSchedule(((100_000_000, 100), (1_000_000_000, 50), (None, 10)), 100_000)
prices = st.integers(1, 10**13)


@pytest.mark.parametrize(
    ("price_yuan", "fee_yuan"),
    [
        (50_000, 1_000),  # 1% would be ¥500: the ¥1,000 minimum applies
        (100_000, 1_000),
        (1_000_000, 10_000),
        (5_000_000, 30_000),  # ¥10,000 + 0.5% of ¥4M
        (10_000_000, 55_000),
        (20_000_000, 65_000),  # + 0.1% of ¥10M
        (500, 500),  # never more than the price itself
    ],
)
def test_default_schedule_by_example(price_yuan, fee_yuan):
    assert DEFAULT.fee(price_yuan * 100) == fee_yuan * 100


@given(prices, prices)
def test_fees_are_monotone_in_the_price(a, b):
    low, high = sorted((a, b))
    assert DEFAULT.fee(low) <= DEFAULT.fee(high)


@given(prices)
def test_fee_never_exceeds_the_price_and_respects_the_minimum(price):
    fee = DEFAULT.fee(price)
    assert 0 < fee <= price
    assert fee >= min(price, DEFAULT.minimum_fen)


@given(st.sampled_from([100_000_000, 1_000_000_000]), st.integers(1, 1000))
def test_tiers_are_continuous_at_their_bounds(bound, step):
    # Crossing a tier bound by `step` fen raises the fee by at most step × the higher rate, rounded.
    assert 0 <= DEFAULT.tiered(bound + step) - DEFAULT.tiered(bound) <= step * 100 // 10_000 + 1


@given(prices, st.integers(0, 10_000))
def test_settlement_conserves_the_price(price, reward_bp):
    split = settlement(price, DEFAULT, inventor_reward_bp=reward_bp)
    assert split.seller_fee + split.inventor_reward + split.seller_proceeds == price
    assert split.inventor_reward <= split.seller_net * reward_bp // 10_000
    assert min(split.inventor_reward, split.seller_proceeds) >= 0
    assert split.buyer_fee == split.seller_fee


def test_settlement_of_a_university_deal_to_the_fen():
    split = settlement(123_456_789, DEFAULT, inventor_reward_bp=7000)
    # fee: 1% of ¥1M + 0.5% of ¥234,567.89 = 1,000,000 + 117,283.945 → 1,117,284 fen
    assert split.seller_fee == split.buyer_fee == 1_117_284
    assert split.inventor_reward == (123_456_789 - 1_117_284) * 7 // 10 == 85_637_653
    assert split.seller_proceeds == 123_456_789 - 1_117_284 - 85_637_653


@given(st.integers(1, 10**12))
def test_forfeiture_conserves_the_deposit(deposit):
    to_seller, to_exchange = forfeiture(deposit, DEFAULT)
    assert to_seller + to_exchange == deposit and min(to_seller, to_exchange) >= 0


def test_fee_schedules_that_make_no_sense_are_refused():
    with pytest.raises(ValueError):
        FeeSchedule(((100, 10),), 0)
    with pytest.raises(ValueError):
        FeeSchedule(((200, 10), (100, 10), (None, 5)), 0)


asking = st.integers(1, 10**9)
increments = st.integers(1, 10**7)


@given(asking, increments, st.integers(0, 1000), st.one_of(st.none(), st.integers(0, 1000)))
def test_a_bid_is_accepted_exactly_when_it_meets_every_rule(asking_price, increment, steps, high_steps):
    amount = asking_price + steps * increment
    high = None if high_steps is None else asking_price + high_steps * increment
    accepted = high is None or amount >= high + increment
    if accepted:
        check_bid(amount, asking_price=asking_price, increment=increment, high=high)
        assert amount >= minimum_bid(asking_price, increment, high)
    else:
        with pytest.raises(BidTooLow):
            check_bid(amount, asking_price=asking_price, increment=increment, high=high)


@given(asking, st.integers(2, 10**7), st.integers(1, 10**6))
def test_bids_off_the_grid_or_below_asking_are_refused(asking_price, increment, offset):
    assume(offset % increment)
    with pytest.raises(BidOffGrid):
        check_bid(asking_price + offset, asking_price=asking_price, increment=increment, high=None)
    with pytest.raises(BidBelowAsking):
        check_bid(asking_price - 1, asking_price=asking_price, increment=increment, high=None)


END = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


def test_anti_sniping():
    assert end_after_bid(END, END - timedelta(minutes=10), WINDOW) == END
    assert end_after_bid(END, END - timedelta(minutes=5), WINDOW) == END  # exactly 5 minutes left: no extension
    assert end_after_bid(END, END - timedelta(minutes=2), WINDOW) == END + timedelta(minutes=3)
    with pytest.raises(AuctionClosed):
        end_after_bid(END, END, WINDOW)


@given(st.integers(1, 3600 * 2))
def test_an_extension_always_leaves_the_full_window(seconds_before_end):
    bid_at = END - timedelta(seconds=seconds_before_end)
    new_end = end_after_bid(END, bid_at, WINDOW)
    assert new_end >= END and new_end - bid_at >= min(WINDOW, END - bid_at)


def test_installments():
    check_installments(1000, [Installment(0, 300), Installment(6, 300), Installment(12, 400)])
    for terms, field in [
        ([Installment(0, 299), Installment(12, 701)], "payment_terms.installments.0.amount"),
        ([Installment(0, 500), Installment(13, 500)], "payment_terms.installments"),
        ([Installment(1, 500), Installment(2, 500)], "payment_terms.installments.0.due_months"),
        ([Installment(0, 500), Installment(6, 400)], "payment_terms.installments"),
        ([Installment(0, 500), Installment(6, 250), Installment(6, 250)], "payment_terms.installments"),
        ([], "payment_terms.installments"),
    ]:
        with pytest.raises(PaymentTermsInvalid) as error:
            check_installments(1000, terms)
        assert error.value.errors[0]["field"] == field


def test_negotiation_turns_and_answers():
    check_counter_offer(None, Side.BUYER, 0, 20)
    check_counter_offer(Side.SELLER, Side.BUYER, 5, 20)
    with pytest.raises(OfferOutOfTurn):
        check_counter_offer(Side.BUYER, Side.BUYER, 1, 20)
    with pytest.raises(TooManyOffers):
        check_counter_offer(Side.SELLER, Side.BUYER, 20, 20)
    now = END
    check_answer(Side.SELLER, Side.BUYER, expires_at=now + timedelta(seconds=1), now=now)
    with pytest.raises(OfferOutOfTurn):
        check_answer(Side.SELLER, Side.SELLER, expires_at=now + timedelta(days=1), now=now)
    with pytest.raises(InvalidState):
        check_answer(Side.SELLER, Side.BUYER, expires_at=now, now=now)


@pytest.mark.parametrize("state", list(DealState))
@pytest.mark.parametrize("action", list(DealAction))
def test_every_deal_state_and_action(state, action):
    if (state, action) in DEALS.transitions:
        assert next_deal_state(state, action) is DEALS.transitions[(state, action)]
    else:
        with pytest.raises(InvalidState) as error:
            next_deal_state(state, action)
        assert error.value.extra["state"] == state.value


def test_terminal_deal_states_have_no_way_out():
    for terminal in (DealState.SETTLED, DealState.CANCELLED, DealState.DEFAULTED):
        assert not any(state is terminal for state, _ in DEALS.transitions)


def test_who_takes_part_in_an_auction():
    opens = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    before, after = opens - timedelta(days=3), opens + timedelta(minutes=40)
    assert takes_part("active", before, None, opens)
    assert takes_part("won", before, after, opens) and takes_part("released", before, after, opens)
    assert not takes_part("withdrawn", before, before + timedelta(hours=1), opens)
    assert not takes_part("released", before, before + timedelta(hours=1), opens)  # ended before it opened
    assert not takes_part("active", after, None, opens)  # registered for a later announcement


def test_a_payment_deadline_moves_by_the_time_on_hold():
    day = timedelta(days=1)
    since = datetime(2026, 4, 1, tzinfo=UTC)
    deadline = since + 7 * day
    assert held_deadline(deadline, since, []) == deadline
    assert held_deadline(deadline, since, [(since + 2 * day, since + 4 * day)]) == deadline + 2 * day
    overlapping = [(since + 2 * day, since + 4 * day), (since + 3 * day, since + 5 * day)]  # both parties
    assert held_deadline(deadline, since, overlapping) == deadline + 3 * day
    assert held_deadline(deadline, since, [(since - 5 * day, since + day)]) == deadline + day  # from `since` only
    assert held_deadline(deadline, since, [(since + 2 * day, None)]) is None  # on hold: no deadline
    assert held_deadline(deadline, since, [(deadline + day, None)]) == deadline  # suspended after it passed
    chained = [(since + 6 * day, since + 8 * day), (since + 8.5 * day, since + 9 * day)]  # within the moved deadline
    assert held_deadline(deadline, since, chained) == deadline + 2.5 * day


@given(asking, increments, st.one_of(st.none(), st.integers(0, 1000)))
def test_every_amount_of_the_increment_grid_is_a_bid_the_rules_accept(asking_price, increment, high_steps):
    high = None if high_steps is None else asking_price + high_steps * increment
    grid = bid_grid(asking_price, increment, high)
    assert grid[0] == minimum_bid(asking_price, increment, high) and len(grid) == 5
    for amount in grid:
        check_bid(amount, asking_price=asking_price, increment=increment, high=high)
