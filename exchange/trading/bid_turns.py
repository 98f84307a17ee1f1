"""Bids on one auction take turns in this process before they reach the database.

On a busy auction many bids pass the screening against the committed high at once, and only the
first of them can still be above the high when its turn comes. Queued on the auction's row in
PostgreSQL, each of them would hold a pooled connection and a transaction while it waits, and the
losers would take a second round of statements to learn their refusal. Queued here, they wait
without a connection, and a bid whose amount no longer clears the high this process has just
committed is refused without touching the database.

This is a queue, not the rule: several processes still serialise on the auction's row, and the
database still decides every accepted bid (``auctions.place_bid``, called by ``bidding.submit_bid``).
The remembered high is always a committed one, and the high only rises, so a refusal against it is
a refusal for good.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

MAX_REMEMBERED = 10_000  # auctions; forgetting one only costs its next bid a database round


class BidTurns:
    def __init__(self) -> None:
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._queued: dict[uuid.UUID, int] = {}  # bids holding or awaiting each auction's lock
        self._highs: dict[uuid.UUID, int] = {}

    @asynccontextmanager
    async def turn(self, auction_id: uuid.UUID) -> AsyncIterator[None]:
        """One bid at a time per auction in this process, first come first served."""
        lock = self._locks.get(auction_id)
        if lock is None:
            if len(self._locks) >= MAX_REMEMBERED:
                self._forget_idle()
            lock = self._locks[auction_id] = asyncio.Lock()
        self._queued[auction_id] = self._queued.get(auction_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            left = self._queued[auction_id] - 1
            if left:
                self._queued[auction_id] = left
            else:
                del self._queued[auction_id]

    def queued(self, auction_id: uuid.UUID) -> int:
        """How many bids hold or await the auction's turn in this process."""
        return self._queued.get(auction_id, 0)

    def high(self, auction_id: uuid.UUID) -> int | None:
        """The highest bid this process has committed on the auction (a lower bound of the high)."""
        return self._highs.get(auction_id)

    def committed(self, auction_id: uuid.UUID, amount: int) -> None:
        if len(self._highs) >= MAX_REMEMBERED:
            self._highs.clear()
        self._highs[auction_id] = max(amount, self._highs.get(auction_id, amount))

    def _forget_idle(self) -> None:
        # Only locks nobody holds or awaits: a new lock for an auction still in use would let two
        # of its bids through at once (harmless for the rules, but no longer a queue).
        for auction_id in list(self._locks):
            if auction_id not in self._queued:
                del self._locks[auction_id]
