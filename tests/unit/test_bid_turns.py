"""Bids waiting for their auction's turn in this process are refused as soon as a commit outbids them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from exchange.trading.bid_turns import BidTurns, Refused
from exchange.trading.domain import BidTooLow, check_bid

ASKING, INCREMENT = 1_000, 100


def clears(amount: int):
    return lambda high: check_bid(amount, asking_price=ASKING, increment=INCREMENT, high=high)


async def bid(turns: BidTurns, auction: uuid.UUID, amount: int, log: list[str], release: asyncio.Event) -> str:
    try:
        async with turns.turn(auction, clears(amount)):
            log.append(f"turn {amount}")
            await release.wait()
            turns.committed(auction, amount)
            return "accepted"
    except Refused as refused:
        assert isinstance(refused.reason, BidTooLow)
        log.append(f"refused {amount}")
        return "refused"


async def test_a_waiting_bid_is_refused_when_a_commit_outbids_it_not_when_its_turn_comes() -> None:
    turns, auction, log = BidTurns(), uuid.uuid4(), []
    first_done = asyncio.Event()
    first = asyncio.create_task(bid(turns, auction, 1_500, log, first_done))
    await asyncio.sleep(0)
    # Two bids wait behind it: 1 700 fen (still clears 1 500 + 100) and, behind that, 1 500 fen.
    hold = asyncio.Event()
    high = asyncio.create_task(bid(turns, auction, 1_700, log, hold))
    await asyncio.sleep(0)
    low = asyncio.create_task(bid(turns, auction, 1_500, log, hold))
    await asyncio.sleep(0)
    assert log == ["turn 1500"]
    first_done.set()
    assert await first == "accepted"
    # The low bid learns its refusal while the bid ahead of it still holds its turn.
    assert await asyncio.wait_for(low, 2) == "refused"
    assert not high.done()
    hold.set()
    assert await high == "accepted"
    assert turns.high(auction) == 1_700


async def test_a_refusal_is_decided_before_the_turn_is_taken_and_hands_the_turn_on() -> None:
    turns, auction, log = BidTurns(), uuid.uuid4(), []
    turns.committed(auction, 2_000)
    go = asyncio.Event()
    go.set()
    assert await bid(turns, auction, 2_000, log, go) == "refused"
    # Still one at a time, and the lock is free for the next bid.
    assert await bid(turns, auction, 2_100, log, go) == "accepted"
    assert log == ["refused 2000", "turn 2100"]


async def test_a_waiter_that_still_clears_keeps_its_place_and_others_are_untouched() -> None:
    turns, auction, other, log = BidTurns(), uuid.uuid4(), uuid.uuid4(), []
    gates = [asyncio.Event() for _ in range(3)]
    tasks = [
        asyncio.create_task(bid(turns, auction, 1_200, log, gates[0])),
        asyncio.create_task(bid(turns, auction, 1_400, log, gates[1])),
        asyncio.create_task(bid(turns, other, 1_000, log, gates[2])),
    ]
    await asyncio.sleep(0)
    turns.committed(other, 5_000)  # a commit on another auction refuses nobody here
    for gate in gates:
        gate.set()
    assert await asyncio.gather(*tasks) == ["accepted", "accepted", "accepted"]
    assert log.index("turn 1200") < log.index("turn 1400")


async def test_a_cancelled_waiter_leaves_the_queue_working() -> None:
    turns, auction, log = BidTurns(), uuid.uuid4(), []
    gate = asyncio.Event()
    first = asyncio.create_task(bid(turns, auction, 1_000, log, gate))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(bid(turns, auction, 1_300, log, gate))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.set()
    assert await first == "accepted"
    assert await bid(turns, auction, 1_100, log, gate) == "accepted"
    assert turns._waiting == {}
