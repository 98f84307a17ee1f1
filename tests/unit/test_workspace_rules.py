"""The workspaces' pure rules: where an intent's deposit is, and what a deal or negotiation waits for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exchange.trading.domain import (
    DepositState,
    PartyTask,
    Side,
    cash_due,
    deal_task,
    deposit_state,
    negotiation_task,
)

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)


def test_a_deposit_follows_its_intent_and_then_its_deal():
    assert deposit_state(0, "active", None) is DepositState.NONE
    assert deposit_state(500, "active", None) is DepositState.HELD
    assert deposit_state(500, "withdrawn", None) is DepositState.RELEASED
    assert deposit_state(500, "released", None) is DepositState.RELEASED
    assert deposit_state(500, "won", "awaiting_signatures") is DepositState.HELD
    assert deposit_state(500, "won", "paying_instalments") is DepositState.APPLIED
    assert deposit_state(500, "won", "settled") is DepositState.APPLIED
    assert deposit_state(500, "won", "cancelled") is DepositState.RELEASED
    assert deposit_state(500, "won", "defaulted", forfeited=500) is DepositState.FORFEITED
    assert deposit_state(500, "won", "defaulted") is DepositState.RELEASED  # a later instalment missed


def test_a_deal_waits_for_each_side_in_turn():
    sign = dict(next_payment_due=None, now=NOW)
    assert deal_task("result_notice", Side.BUYER, signed=False, **sign) is None
    assert deal_task("awaiting_signatures", Side.SELLER, signed=False, **sign) is PartyTask.SIGN
    assert deal_task("awaiting_signatures", Side.SELLER, signed=True, **sign) is None
    assert deal_task("awaiting_payment", Side.BUYER, signed=True, **sign) is PartyTask.PAY
    assert deal_task("awaiting_payment", Side.SELLER, signed=True, **sign) is None
    later = NOW + timedelta(days=30)
    assert deal_task("paying_instalments", Side.BUYER, signed=True, next_payment_due=later, now=NOW) is None
    assert deal_task("paying_instalments", Side.BUYER, signed=True, next_payment_due=NOW, now=NOW) is PartyTask.PAY
    assert deal_task("settled", Side.BUYER, signed=True, **sign) is None


def test_a_negotiation_waits_for_the_side_that_did_not_make_the_standing_offer():
    assert negotiation_task("open", "seller", Side.BUYER) is PartyTask.ANSWER_OFFER
    assert negotiation_task("open", "seller", Side.SELLER) is None
    assert negotiation_task("agreed", None, Side.BUYER) is None


def test_the_first_payment_takes_the_price_less_the_held_deposit_plus_the_fee():
    assert cash_due(48_000_000, 0, 5_000_000, True, 480_000) == 43_480_000
    assert cash_due(48_000_000, 0, 5_000_000, False, 480_000) == 48_480_000
    assert cash_due(3_000_000, 0, 5_000_000, True, 30_000) == 30_000  # the deposit covers it all
    assert cash_due(20_000_000, 1, 5_000_000, True, 200_000) == 20_200_000
