"""Instalment rules: the payment schedule, each payment's share of the settlement (fen-exact), the
dates of each instalment, and the state tables of deals and instalments."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.trading.domain import (
    BP,
    DEALS,
    INSTALMENTS,
    DealAction,
    DealState,
    FeeSchedule,
    Installment,
    InstalmentAction,
    InstalmentStatus,
    PaymentTermsInvalid,
    Settlement,
    apportion,
    instalment_dates,
    next_deal_state,
    next_instalment_status,
    payment_action,
    payment_schedule,
    settlement,
)
from kernel.errors import InvalidState
from listings.workdays import BEIJING
from tests.calendar_helpers import PACKAGE, WITH_2027

DEFAULT = FeeSchedule(((100_000_000, 100), (1_000_000_000, 50), (None, 10)), 100_000)
PARTS = ("price", "seller_fee", "buyer_fee", "inventor_reward", "seller_proceeds")


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A price and its split into 1 to 13 positive instalments (the down payment and up to 12 more)."""
    price = draw(st.one_of(st.integers(1, 2_000), st.integers(1, 10**13)))
    count = draw(st.integers(1, min(13, price)))
    cuts = sorted(draw(st.sets(st.integers(1, price - 1), min_size=count - 1, max_size=count - 1))) if count > 1 else []
    bounds = [0, *cuts, price]
    return price, [b - a for a, b in itertools.pairwise(bounds)]


fee_schedules = st.one_of(
    st.just(DEFAULT),
    st.builds(
        lambda bp, minimum: FeeSchedule(((None, bp),), minimum),
        st.integers(0, BP),
        st.integers(0, 10**8),
    ),
)


@given(schedules(), fee_schedules, st.integers(0, BP))
def test_the_instalments_settle_exactly_the_lump_sum(schedule, fees, reward_bp):
    price, amounts = schedule
    total = settlement(price, fees, inventor_reward_bp=reward_bp)
    parts = apportion(total, amounts)
    for name in PARTS:  # summed over the instalments, every part is the lump sum's, to the fen
        assert sum(getattr(p, name) for p in parts) == getattr(total, name), name
    for part, amount in zip(parts, amounts, strict=True):
        assert part.price == amount
        assert min(part.seller_fee, part.buyer_fee, part.inventor_reward, part.seller_proceeds) >= 0
        # What escrow receives for an instalment it pays out for that instalment, no more, no less.
        assert part.seller_fee + part.inventor_reward + part.seller_proceeds == amount
        # Each share is the lump sum's in proportion to the instalment, within two fen.
        for name in ("seller_fee", "buyer_fee", "inventor_reward", "seller_proceeds"):
            assert abs(getattr(part, name) * price - getattr(total, name) * amount) < 2 * price, name


@given(schedules(), fee_schedules, st.integers(0, BP))
def test_the_settled_part_never_runs_ahead_of_the_price_paid(schedule, fees, reward_bp):
    """After any number of instalments, each part settled so far is the lump sum's share of the
    price paid so far, rounded down: the last instalment takes the rest."""
    price, amounts = schedule
    total = settlement(price, fees, inventor_reward_bp=reward_bp)
    paid = fee = buyer_fee = deducted = 0
    for part in apportion(total, amounts):
        paid += part.price
        fee += part.seller_fee
        buyer_fee += part.buyer_fee
        deducted += part.seller_fee + part.inventor_reward
        assert buyer_fee == total.buyer_fee * paid // price
        assert deducted == (total.seller_fee + total.inventor_reward) * paid // price
        assert fee <= total.seller_fee * paid // price + 1


@given(st.integers(1, 10**13), fee_schedules, st.integers(0, BP))
def test_one_payment_is_the_lump_sum(price, fees, reward_bp):
    total = settlement(price, fees, inventor_reward_bp=reward_bp)
    assert apportion(total, [price]) == [total]


def test_nothing_is_negative_when_the_seller_keeps_nothing():
    """All of the seller's net to the inventors (100 %): splitting each part on its own, rounding
    each instalment down, would leave the seller a fen too much early and owe it back at the end."""
    total = Settlement(price=3, seller_fee=1, buyer_fee=1, inventor_reward=2, seller_proceeds=0)
    parts = apportion(total, [1, 1, 1])
    assert [(p.seller_fee, p.inventor_reward, p.seller_proceeds) for p in parts] == [(0, 1, 0), (0, 1, 0), (1, 0, 0)]
    assert [p.buyer_fee for p in parts] == [0, 0, 1]


def test_an_example_apportionment():
    # ¥444,444.44 in three instalments: 30 % down, the rest in two equal parts.
    total = settlement(44_444_444, DEFAULT, inventor_reward_bp=7000)
    assert (total.seller_fee, total.inventor_reward, total.seller_proceeds) == (444_444, 30_800_000, 13_200_000)
    parts = apportion(total, [13_333_334, 15_555_555, 15_555_555])
    assert [p.seller_fee for p in parts] == [133_333, 155_555, 155_556]
    assert [p.inventor_reward for p in parts] == [9_240_000, 10_780_000, 10_780_000]
    assert [p.seller_proceeds for p in parts] == [3_960_001, 4_620_000, 4_619_999]
    assert [p.buyer_fee for p in parts] == [133_333, 155_555, 155_556]


@pytest.mark.parametrize(
    "amounts",
    [[], [0, 10], [5, 4], [11, -1]],
)
def test_instalments_are_positive_and_add_up_to_the_price(amounts):
    with pytest.raises(ValueError):
        apportion(settlement(10, DEFAULT), amounts)


def test_the_payment_schedule_of_the_terms():
    assert payment_schedule(1000, {"kind": "lump_sum"}) == [Installment(0, 1000)]
    assert payment_schedule(1000, {}) == [Installment(0, 1000)]
    terms = {
        "kind": "installments",
        "installments": [{"due_months": 0, "amount": 300}, {"due_months": 6, "amount": 700}],
    }
    assert payment_schedule(1000, terms) == [Installment(0, 300), Installment(6, 700)]
    with pytest.raises(PaymentTermsInvalid):
        payment_schedule(1001, terms)


SIGNED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in Beijing


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


def test_the_down_payment_is_due_at_signing_and_paid_within_the_payment_period():
    dates = instalment_dates(PACKAGE, SIGNED, 0, grace_working_days=5, reminder_working_days=3)
    assert dates.due_at == SIGNED
    assert dates.deadline_at == PACKAGE.working_days_end(SIGNED, 5) == beijing(2026, 3, 10)
    # The buyer is reminded three working days before the last day to pay (Monday 9 March): on 4 March.
    assert dates.remind_at == beijing(2026, 3, 4)
    # Never before the signing; none when reminders are off.
    assert instalment_dates(PACKAGE, SIGNED, 0, grace_working_days=2, reminder_working_days=3).remind_at == SIGNED
    assert instalment_dates(PACKAGE, SIGNED, 0, grace_working_days=5, reminder_working_days=0).remind_at is None


def test_a_later_instalment_is_due_at_the_start_of_its_day_with_a_reminder_and_a_grace_period():
    dates = instalment_dates(PACKAGE, SIGNED, 6, grace_working_days=5, reminder_working_days=3)
    assert dates.due_at == beijing(2026, 9, 2)  # Wednesday 2 September, 00:00 Beijing
    assert dates.remind_at == beijing(2026, 8, 28)  # three working days before: Friday 28 August
    assert dates.deadline_at == beijing(2026, 9, 10)  # the end of the fifth working day after: 9 September


def test_instalment_dates_across_holidays_and_month_ends():
    # Due on National Day: collected that day; the reminder skips the Mid-Autumn weekend, the grace
    # period the Golden Week.
    dates = instalment_dates(PACKAGE, beijing(2026, 4, 1, 15), 6, grace_working_days=5, reminder_working_days=3)
    assert dates.due_at == beijing(2026, 10, 1)
    assert dates.remind_at == beijing(2026, 9, 28)  # 30, 29, 28 September (25-27 are the festival)
    assert dates.deadline_at == beijing(2026, 10, 14)  # 8, 9, 10 (a Saturday worked), 12, 13 October
    # Signed on 31 January: one month later is the last day of February.
    assert instalment_dates(
        WITH_2027, beijing(2027, 1, 31, 10), 1, grace_working_days=5, reminder_working_days=0
    ).due_at == (beijing(2027, 2, 28))
    assert (
        instalment_dates(
            WITH_2027, beijing(2027, 1, 31, 10), 1, grace_working_days=5, reminder_working_days=0
        ).remind_at
        is None
    )


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 9, 1), timezones=st.just(UTC)),
    st.integers(1, 12),
    st.integers(1, 10),
    st.integers(1, 10),
)
def test_every_instalment_is_reminded_before_it_is_due_and_due_before_its_deadline(signed, months, grace, remind):
    dates = instalment_dates(WITH_2027, signed, months, grace_working_days=grace, reminder_working_days=remind)
    assert dates.remind_at is not None and dates.remind_at < dates.due_at < dates.deadline_at
    local_due = dates.due_at.astimezone(BEIJING)
    assert local_due.time().hour == 0 and local_due.minute == 0
    signed_day = signed.astimezone(BEIJING).date()
    assert (local_due.year * 12 + local_due.month) - (signed_day.year * 12 + signed_day.month) == months
    assert local_due.day == min(signed_day.day, calendar.monthrange(local_due.year, local_due.month)[1])
    assert WITH_2027.is_working_day(dates.remind_at.astimezone(BEIJING).date())
    # The grace runs whole working days past the due date, and ends before a month later falls due.
    assert dates.deadline_at - dates.due_at >= timedelta(days=grace + 1)
    later = instalment_dates(WITH_2027, signed, months + 1, grace_working_days=grace, reminder_working_days=remind)
    assert dates.deadline_at < later.due_at


def test_instalment_statuses_as_a_table():
    for status in InstalmentStatus:
        for action in InstalmentAction:
            if (status, action) in INSTALMENTS.transitions:
                assert next_instalment_status(status, action) is INSTALMENTS.transitions[(status, action)]
            else:
                with pytest.raises(InvalidState):
                    next_instalment_status(status, action)
    ended = (InstalmentStatus.SETTLED, InstalmentStatus.DEFAULTED, InstalmentStatus.CANCELLED)
    assert not any(status in ended for status, _ in INSTALMENTS.transitions)
    # A payment the sweeper could not collect is paid by the buyer, or the deal defaults; it is never cancelled.
    assert (InstalmentStatus.OVERDUE, InstalmentAction.DEAL_CANCELLED) not in INSTALMENTS.transitions


def test_a_deal_pays_its_instalments_then_settles_or_defaults():
    state = next_deal_state(DealState.AWAITING_PAYMENT, payment_action(unpaid_after=2))
    assert state is DealState.PAYING_INSTALMENTS
    assert next_deal_state(state, payment_action(unpaid_after=1)) is DealState.PAYING_INSTALMENTS
    assert next_deal_state(state, payment_action(unpaid_after=0)) is DealState.SETTLED
    assert next_deal_state(DealState.AWAITING_PAYMENT, payment_action(0)) is DealState.SETTLED  # a lump sum
    assert next_deal_state(state, DealAction.PAYMENT_MISSED) is DealState.DEFAULTED
    # Once money has been settled to the seller, the deal is not cancelled by agreement.
    assert (DealState.PAYING_INSTALMENTS, DealAction.CANCEL_BY_AGREEMENT) not in DEALS.transitions


def test_a_payment_deadline_that_would_count_into_a_year_without_data_is_refused():
    from listings import CalendarYearMissing

    with pytest.raises(CalendarYearMissing) as refused:
        instalment_dates(PACKAGE, beijing(2026, 12, 28, 10), 0, grace_working_days=5, reminder_working_days=3)
    assert refused.value.year == 2027
    dates = instalment_dates(WITH_2027, beijing(2026, 12, 28, 10), 0, grace_working_days=5, reminder_working_days=3)
    assert dates.deadline_at == beijing(2027, 1, 6)  # 29, 30, 31 December, then 4 and 5 January (1-3 off)


def test_working_days_before_is_the_inverse_of_working_days_after():
    add_working_days, working_days_before = PACKAGE.add_working_days, PACKAGE.working_days_before
    assert working_days_before(date(2026, 10, 8), 1) == date(2026, 9, 30)
    assert working_days_before(date(2026, 10, 8), 0) == date(2026, 10, 8)
    for offset in range(0, 350, 7):
        day = date(2026, 1, 5) + timedelta(days=offset)
        if PACKAGE.is_working_day(day):
            assert add_working_days(working_days_before(day, 4), 4) == day
    with pytest.raises(ValueError):
        working_days_before(date(2026, 1, 5), -1)
