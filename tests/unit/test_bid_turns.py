"""Bids on one auction take turns in the process; forgetting idle auctions never opens a second queue."""

from __future__ import annotations

import asyncio
import uuid

from exchange.trading import bid_turns
from exchange.trading.bid_turns import BidTurns


async def test_bids_on_one_auction_take_turns_first_come_first_served() -> None:
    turns, auction, order = BidTurns(), uuid.uuid4(), []

    async def bid(n: int) -> None:
        async with turns.turn(auction):
            order.append(f"in {n}")
            await asyncio.sleep(0)  # another bid gets the loop: it must still wait for this turn
            order.append(f"out {n}")

    await asyncio.gather(*(bid(n) for n in range(3)))
    assert order == ["in 0", "out 0", "in 1", "out 1", "in 2", "out 2"]
    assert turns.queued(auction) == 0


async def test_forgetting_idle_auctions_keeps_a_queue_in_use(monkeypatch) -> None:
    monkeypatch.setattr(bid_turns, "MAX_REMEMBERED", 2)
    turns, busy = BidTurns(), uuid.uuid4()
    release, inside = asyncio.Event(), []

    async def holder() -> None:
        async with turns.turn(busy):
            inside.append("holder")
            await release.wait()
            inside.append("holder leaves")

    async def waiter() -> None:
        async with turns.turn(busy):
            inside.append("waiter")

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    assert turns.queued(busy) == 2
    for _ in range(3):  # other auctions come and go: the table is full and idle ones are forgotten
        async with turns.turn(uuid.uuid4()):
            pass
    late = asyncio.create_task(waiter())  # must queue behind the holder, not get a fresh lock
    await asyncio.sleep(0)
    assert inside == ["holder"]
    release.set()
    await asyncio.gather(first, second, late)
    assert inside == ["holder", "holder leaves", "waiter", "waiter"]
    assert turns.queued(busy) == 0
