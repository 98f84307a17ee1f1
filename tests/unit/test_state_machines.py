"""Every status machine of trading, payments and vouchers as a table: each legal move gives the
state the table names, every other (state, action) pair is 409 naming the current state, and random
sequences of actions never leave the table (deals are tested with the trading rules)."""

from __future__ import annotations

from enum import StrEnum
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.payments.domain import (
    CARD_PAYMENTS,
    RECONCILIATIONS,
    RESOLUTIONS,
    WITHDRAWALS,
    CardPaymentAction,
    WithdrawalDecided,
    card_payment_action,
    next_card_payment_state,
    next_reconciliation_state,
    next_resolution_state,
    next_withdrawal_state,
)
from exchange.trading.domain import (
    AUCTIONS,
    INTENTS,
    NEGOTIATIONS,
    OFFERS,
    STANDING_OFFER_ON_END,
    AuctionClosed,
    next_auction_state,
    next_intent_state,
    next_negotiation_state,
    next_offer_state,
)
from exchange.vouchers.domain import (
    OPEN_REDEMPTION_STATES,
    ORDERS,
    REDEMPTIONS,
    RedemptionState,
    next_order_state,
    next_redemption_state,
)
from kernel.errors import InvalidState
from kernel.states import StateMachine

# The tables as the documentation states them (docs/trading.md, docs/payments.md, docs/vouchers.md),
# in stored values: (state, action) -> next state. A change to a machine changes this too.
EXPECTED: dict[str, tuple[StateMachine, object, str, dict[tuple[str, str], str]]] = {
    "intent": (
        INTENTS,
        next_intent_state,
        "active",
        {
            ("active", "withdraw"): "withdrawn",
            ("active", "release"): "released",
            ("active", "win"): "won",
            ("withdrawn", "register"): "active",
            ("released", "register"): "active",
            ("won", "register"): "active",
        },
    ),
    "auction": (
        AUCTIONS,
        next_auction_state,
        "open",
        {("open", "bid"): "open", ("open", "close"): "closed"},
    ),
    "negotiation": (
        NEGOTIATIONS,
        next_negotiation_state,
        "open",
        {
            ("open", "offer"): "open",
            ("open", "agree"): "agreed",
            ("open", "decline"): "declined",
            ("open", "expire"): "expired",
            ("open", "close"): "closed",
        },
    ),
    "offer": (
        OFFERS,
        next_offer_state,
        "open",
        {
            ("open", "supersede"): "superseded",
            ("open", "accept"): "accepted",
            ("open", "decline"): "declined",
            ("open", "expire"): "expired",
        },
    ),
    "withdrawal": (
        WITHDRAWALS,
        next_withdrawal_state,
        "requested",
        {("requested", "complete"): "completed", ("requested", "reject"): "rejected"},
    ),
    "card payment": (
        CARD_PAYMENTS,
        next_card_payment_state,
        "creating",
        {
            ("creating", "attach_intent"): "pending",
            **{(live, "succeed"): "succeeded" for live in ("creating", "pending", "failed")},
            **{(live, "fail"): "failed" for live in ("creating", "pending", "failed")},
            **{(live, "cancel"): "canceled" for live in ("creating", "pending", "failed")},
        },
    ),
    "reconciliation": (
        RECONCILIATIONS,
        next_reconciliation_state,
        "running",
        {("running", "complete"): "completed", ("running", "fail"): "failed"},
    ),
    "resolution": (
        RESOLUTIONS,
        next_resolution_state,
        "proposed",
        {("proposed", "approve"): "approved"},
    ),
    "service order": (
        ORDERS,
        next_order_state,
        "ordered",
        {
            ("ordered", "confirm"): "confirmed",
            ("ordered", "cancel"): "cancelled",
            ("confirmed", "deliver"): "delivered",
            ("confirmed", "cancel"): "cancelled",
            ("delivered", "accept"): "accepted",
            ("delivered", "cancel"): "cancelled",
        },
    ),
    "redemption": (
        REDEMPTIONS,
        next_redemption_state,
        "noticed",
        {
            ("noticed", "suspend"): "suspended",
            ("noticed", "notice_closed"): "ready",
            ("noticed", "reject"): "rejected",
            ("suspended", "notice_closed"): "ready",
            ("suspended", "reject"): "rejected",
            ("ready", "approve"): "approved",
            ("ready", "reject"): "rejected",
        },
    ),
}

PAIRS = [
    pytest.param(name, state, action, id=f"{name}:{state}+{action}")
    for name, (machine, _, _, _) in EXPECTED.items()
    for state, action in product(machine.states, machine.actions)
]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_table_is_the_documented_one(name):
    machine, _, initial, table = EXPECTED[name]
    assert machine.subject == name
    assert machine.initial.value == initial
    assert {(s.value, a.value): t.value for (s, a), t in machine.transitions.items()} == table


@pytest.mark.parametrize(("name", "state", "action"), PAIRS)
def test_every_state_and_action(name, state, action):
    machine, move, _, table = EXPECTED[name]
    target = table.get((state.value, action.value))
    if target is not None:
        assert move(state, action) is machine.states(target)
        assert move(state.value, action) is machine.states(target)  # as stored: a plain string
        assert machine.allows(state.value, action)
    else:
        assert not machine.allows(state, action)
        with pytest.raises(InvalidState) as refused:
            move(state.value, action)
        problem = refused.value
        assert problem.status == 409 and isinstance(problem, machine.refusal)
        assert problem.state == state.value and problem.extra == {"state": state.value, "action": action.value}
        assert state.value in problem.detail


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_state_is_reachable_and_the_final_ones_are_final(name):
    machine, _, _, table = EXPECTED[name]
    assert machine.reachable() == frozenset(machine.states)
    assert machine.terminal() == frozenset(s for s in machine.states if not any(k[0] == s.value for k in table))


@st.composite
def runs(draw):
    name = draw(st.sampled_from(sorted(EXPECTED)))
    machine = EXPECTED[name][0]
    return name, draw(st.lists(st.sampled_from(list(machine.actions)), max_size=30))


@given(runs())
def test_random_sequences_of_actions_follow_the_table(run):
    """From a new row, any sequence of actions: the legal ones move as the table says, the others
    are refused naming the state the row is in, and a refused action leaves it there."""
    name, actions = run
    machine, move, initial, table = EXPECTED[name]
    state = initial
    for action in actions:
        expected = table.get((state, action.value))
        if expected is None:
            with pytest.raises(InvalidState) as refused:
                move(state, action)
            assert refused.value.state == state
        else:
            state = move(state, action).value
            assert state == expected
    assert machine.states(state) in machine.reachable()


def test_module_refusals_keep_their_problem_types():
    with pytest.raises(AuctionClosed) as closed:
        next_auction_state("closed", AUCTIONS.actions("bid"))
    assert closed.value.problem_type == "auction-closed" and closed.value.state == "closed"
    with pytest.raises(WithdrawalDecided) as decided:
        next_withdrawal_state("completed", WITHDRAWALS.actions("reject"))
    assert decided.value.problem_type == "withdrawal-decided" and decided.value.state == "completed"
    with pytest.raises(InvalidState) as plain:
        next_intent_state("won", INTENTS.actions("withdraw"))
    assert plain.value.problem_type == "invalid-state"
    assert plain.value.detail == "cannot withdraw the intent: it is won (allowed: register)"


def test_open_claims_are_those_that_may_still_be_rejected():
    assert {RedemptionState.NOTICED, RedemptionState.SUSPENDED, RedemptionState.READY} == OPEN_REDEMPTION_STATES


def test_ending_a_thread_moves_its_standing_offer_legally():
    for thread_action, offer_action in STANDING_OFFER_ON_END.items():
        assert NEGOTIATIONS.allows("open", thread_action) and OFFERS.allows("open", offer_action)


@pytest.mark.parametrize(
    ("stripe_status", "failed", "action"),
    [
        ("succeeded", False, CardPaymentAction.SUCCEED),
        ("canceled", False, CardPaymentAction.CANCEL),
        ("requires_payment_method", True, CardPaymentAction.FAIL),
        ("requires_payment_method", False, CardPaymentAction.ATTACH_INTENT),
        ("processing", False, CardPaymentAction.ATTACH_INTENT),
        ("requires_action", True, CardPaymentAction.ATTACH_INTENT),
    ],
)
def test_what_stripe_reports_means_for_a_card_payment(stripe_status, failed, action):
    assert card_payment_action(stripe_status, attempt_failed=failed) is action


# -- the machine itself ----------------------------------------------------------------------------


class Light(StrEnum):
    OFF = "off"
    ON = "on"


class Switch(StrEnum):
    FLIP = "flip"
    BREAK = "break"


class Fused(InvalidState):
    problem_type = "fused"


def test_a_table_naming_what_its_enums_do_not_have_is_refused():
    with pytest.raises(ValueError):
        StateMachine("lamp", Light, Switch, Light.OFF, {"off": {"on": "on"}})  # "on" is a state, not an action
    with pytest.raises(ValueError):
        StateMachine("lamp", Light, Switch, Light.OFF, {"off": {"flip": "dim"}})
    with pytest.raises(TypeError):
        StateMachine("lamp", Light, Switch, Switch.FLIP, {})  # type: ignore[arg-type]


def test_a_caller_may_name_its_own_refusal_and_detail():
    lamp = StateMachine("lamp", Light, Switch, Light.OFF, {"off": {"flip": "on"}})
    assert lamp.next("off", Switch.FLIP) is Light.ON
    assert lamp.allowed("off") == [Switch.FLIP] and lamp.allowed("on") == []
    assert lamp.sources(Switch.FLIP) == {Light.OFF} and lamp.terminal() == {Light.ON}
    with pytest.raises(InvalidState, match=r"^cannot flip the lamp: it is on \(allowed: none\)$"):
        lamp.next("on", Switch.FLIP)
    with pytest.raises(Fused, match=r"^blown$") as fused:
        lamp.next(Light.ON, Switch.BREAK, refusal=Fused, detail="blown")
    assert fused.value.state == "on"
    with pytest.raises(ValueError):
        lamp.next("dim", Switch.FLIP)  # not a state at all: a bug, not a refusal
