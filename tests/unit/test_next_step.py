"""The listing page's call to action: what a visitor may do next, from the facts the services keep."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.trading.domain import NextStep, next_step

OPEN = {
    "open_for_intents": True,
    "signed_in": True,
    "operator": False,
    "seller": False,
    "may_trade": True,
    "intent_active": False,
    "in_running_auction": False,
}


@pytest.mark.parametrize(
    ("changes", "step"),
    [
        ({}, NextStep.REGISTER_INTENT),
        ({"signed_in": False, "may_trade": False}, NextStep.SIGN_IN),
        ({"may_trade": False}, NextStep.GET_VERIFIED),
        ({"seller": True}, NextStep.OWN_LISTING),
        ({"intent_active": True}, NextStep.INTENT_REGISTERED),
        ({"operator": True}, None),
        ({"open_for_intents": False}, None),  # announcement over, no auction of the visitor's
        ({"open_for_intents": False, "intent_active": True, "in_running_auction": True}, NextStep.GO_TO_AUCTION),
    ],
)
def test_the_one_next_step(changes: dict[str, Any], step: NextStep | None) -> None:
    assert next_step(**(OPEN | changes)) == step
