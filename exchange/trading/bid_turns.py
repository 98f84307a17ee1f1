"""Bids on one auction take turns in this process before they reach the database.

On a busy auction many bids pass the screening against the committed high at once, and only the
first of them can still be above the high when its turn comes. Queued on the auction's row in
PostgreSQL, each of them would hold a pooled connection and a transaction while it waits, and the
losers would take a second round of statements to learn their refusal. Queued here, they wait
without a connection, and a bid whose amount no longer clears the high this process has just
committed is refused without touching the database, and a waiting bid is refused as soon as a
commit here raises the high past it, instead of waiting out the turns ahead of it to learn so.

This is a queue, not the rule: several processes still serialise on the auction's row, and the
database still decides every accepted bid (``auctions.place_bid``). The remembered high is always
a committed one, and the high only rises, so a refusal against it is a refusal for good.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

MAX_REMEMBERED = 10_000  # auctions; forgetting one only costs its next bid a database round

# The bid rules against a committed high: raises the refusal when the bid no longer clears it.
Check = Callable[[int], None]


class Refused(Exception):
    """The bid no longer clears the high committed on its auction; ``reason`` is the rule's refusal."""

    def __init__(self, reason: Exception) -> None:
        super().__init__(str(reason))
        self.reason = reason


class BidTurns:
    def __init__(self) -> None:
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._highs: dict[uuid.UUID, int] = {}
        # Bids waiting for their turn: the future is resolved with the refusal when a commit outbids them.
        self._waiting: dict[uuid.UUID, dict[asyncio.Future[Exception], Check]] = {}

    @asynccontextmanager
    async def turn(self, auction_id: uuid.UUID, check: Check | None = None) -> AsyncIterator[None]:
        """One bid at a time per auction in this process, first come first served. With ``check``,
        raises ``Refused`` (without the turn) once a committed high makes ``check`` refuse, whether
        before the wait, during it, or when the turn comes."""
        lock = self._locks.get(auction_id)
        if lock is None:
            if len(self._locks) >= MAX_REMEMBERED:
                self._forget_idle()
            lock = self._locks[auction_id] = asyncio.Lock()
        if check is None:
            async with lock:
                yield
            return
        await self._acquire(auction_id, lock, check)
        try:
            yield
        finally:
            lock.release()

    async def _acquire(self, auction_id: uuid.UUID, lock: asyncio.Lock, check: Check) -> None:
        self._refuse_if_outbid(auction_id, check)
        if lock.locked() or getattr(lock, "_waiters", None):
            outbid: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
            waiting = self._waiting.setdefault(auction_id, {})
            waiting[outbid] = check
            acquiring = asyncio.ensure_future(lock.acquire())
            try:
                await asyncio.wait((acquiring, outbid), return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                await _abandon(acquiring, lock)
                raise
            finally:
                del waiting[outbid]
                if not waiting:
                    self._waiting.pop(auction_id, None)
            if outbid.done():
                await _abandon(acquiring, lock)
                raise Refused(outbid.result())
            outbid.cancel()
        else:
            await lock.acquire()
        try:
            self._refuse_if_outbid(auction_id, check)  # the high may have risen in another way meanwhile
        except BaseException:
            lock.release()
            raise

    def _refuse_if_outbid(self, auction_id: uuid.UUID, check: Check) -> None:
        high = self._highs.get(auction_id)
        if high is not None:
            try:
                check(high)
            except Exception as error:
                raise Refused(error) from error

    def high(self, auction_id: uuid.UUID) -> int | None:
        """The highest bid this process has committed on the auction (a lower bound of the high)."""
        return self._highs.get(auction_id)

    def committed(self, auction_id: uuid.UUID, amount: int) -> None:
        if len(self._highs) >= MAX_REMEMBERED:
            self._highs.clear()
        high = self._highs[auction_id] = max(amount, self._highs.get(auction_id, amount))
        for outbid, check in self._waiting.get(auction_id, {}).items():
            if not outbid.done():
                try:
                    check(high)
                except Exception as error:  # the check's refusal: this waiter can no longer win
                    outbid.set_result(error)

    def _forget_idle(self) -> None:
        # Only locks nobody holds or awaits: a new lock for an auction still in use would let two
        # of its bids through at once (harmless for the rules, but no longer a queue).
        for auction_id, lock in list(self._locks.items()):
            if not lock.locked() and not getattr(lock, "_waiters", None):
                del self._locks[auction_id]


async def _abandon(acquiring: asyncio.Future[bool], lock: asyncio.Lock) -> None:
    """Stop waiting for the lock; if it was granted meanwhile, hand it on."""
    if not acquiring.done():
        acquiring.cancel()
    try:
        await acquiring
    except asyncio.CancelledError:
        return
    lock.release()
