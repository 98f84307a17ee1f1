"""A bid, from the request to the live event: the one way to place one (SPEC §3.2).

``submit_bid`` owns all of it, for the HTTP route, the demo and the tests alike:

1. **screening** — the bid's rules against the committed auction in one read outside any
   transaction (``auctions.screen_bid``): a refusal (most bids on a busy auction) costs one read;
2. **turns** — bids that pass take turns per auction in this process (``BidTurns``), so losers wait
   without a connection and are refused against the high this process has just committed;
3. **idempotency** — the answer is stored under the ``Idempotency-Key`` in the bid's transaction
   (``exchange.platform.keyed``): a replay returns the original bid;
4. **the transaction** — ``auctions.place_bid`` locks the auction, checks again and records the bid;
5. **publishing after commit** — the ``bid`` (and ``extended``) events go out once the bid is
   committed, in this process's commit order of the auction's bids (with the JetStream outbox they
   are written in the bid's transaction and the relay publishes them: ``TradingContext.record``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.platform.db import Database
from exchange.platform.keyed import Outcome, idempotent, key_scope, required_key, stored_answer
from exchange.trading import auctions
from exchange.trading.context import LiveEvent, TradingContext
from exchange.trading.views import bid_out
from kernel.errors import DomainError


async def submit_bid(
    ctx: TradingContext,
    db: Database,
    bidder: Principal,
    auction_id: uuid.UUID,
    amount: int,
    *,
    key: str | None,
    now: Callable[[], datetime],
) -> Outcome:
    """Place ``amount`` fen on the auction for ``bidder`` under ``key``; the answer is the bid (201),
    or the original answer when ``key`` was used for this bid before (``replayed``)."""
    key = required_key(key)
    scope = key_scope(bidder)
    request = ["bid", {"auction_id": str(auction_id), "amount": amount}]
    screened = await auctions.screen_bid(db, bidder, auction_id, amount, now(), scope=scope, key=key)
    events: list[LiveEvent] = []

    async def work(session: AsyncSession) -> Outcome:
        events.clear()  # a retried transaction collects its events again
        bid, ends_at = await auctions.place_bid(session, ctx, bidder, auction_id, amount, now(), events, screened)
        await ctx.record(session, events)  # the outbox, if any: after place_bid locked the auction
        return Outcome(201, bid_out(bid, bidder.org_id, ends_at))

    async def place() -> Outcome:
        return await idempotent(
            db, scope=scope, key=key, request=request, now=now, work=work, key_seen_free=screened is not None
        )

    def publish() -> None:
        ctx.committed(events)
        events.clear()

    if screened is None:  # the key holds an answer already, or the request may be a replay
        outcome = await place()
        if not outcome.replayed:
            publish()
        return outcome
    turns = ctx.bid_turns
    outbid: DomainError | None = None
    async with turns.turn(auction_id):
        try:
            auctions.check_against(screened, amount, turns.high(auction_id))
        except DomainError as refusal:
            outbid = refusal  # answered after the turn: the bids behind it need not wait for a read
        else:
            outcome = await place()
            if not outcome.replayed:
                turns.committed(auction_id, amount)
                publish()  # in turn: this process publishes an auction's bids in their order
    if outbid is None:
        return outcome
    # Outbid while waiting its turn; a replay of a bid accepted meanwhile gets its answer.
    stored = await stored_answer(db, scope=scope, key=key, request=request)
    if stored is None:
        raise outbid
    return stored
