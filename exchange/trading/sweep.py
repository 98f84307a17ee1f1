"""Trading's steps of the deadline sweeper: auction ends, offer expiries, instalment reminders and
collections, payment deadlines (in that order, so that an instalment is collected before its
deadline is looked at).

Each due row is processed in its own transaction and claimed once (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, then a conditional update), so several sweepers may run at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading import auctions, deals, negotiations
from exchange.trading.context import LiveEvent, TradingContext

log = structlog.get_logger("techx.trading.sweep")

Claim = Callable[[AsyncSession, datetime, set[uuid.UUID]], Awaitable[Any]]
Process = Callable[[AsyncSession, TradingContext, Any, datetime, list[LiveEvent]], Awaitable[bool]]


class _Step:
    name = ""
    limit = 500

    def __init__(self, ctx: TradingContext, claim: Claim, process: Process) -> None:
        self.ctx = ctx
        self._claim = claim
        self._process = process

    async def run(self, db: Any, now: datetime) -> int:
        processed = 0
        failed: set[uuid.UUID] = set()
        claimed: list[uuid.UUID] = []
        skipped: set[uuid.UUID] = set()

        async def work(session: AsyncSession, events: list[LiveEvent]) -> bool | None:
            claimed.clear()
            row = await self._claim(session, now, failed | skipped)
            if row is None:
                return None
            claimed.append(row.id)
            return await self._process(session, self.ctx, row, now, events)

        while processed + len(failed) < self.limit:
            try:
                outcome = await self.ctx.run(db, work)
            except Exception:
                if not claimed:
                    raise
                log.exception("due item not processed; retried next pass", step=self.name, item=str(claimed[0]))
                failed.add(claimed[0])
                continue
            if outcome is None:
                break
            if outcome:
                processed += 1
            else:  # another sweeper moved it first; do not claim it again in this pass
                skipped.add(claimed[0])
        return processed


class AuctionCloseSweep(_Step):
    name = "auction-close"

    def __init__(self, ctx: TradingContext) -> None:
        super().__init__(ctx, auctions.claim_due_auction, auctions.close_auction)


async def _expire(session: AsyncSession, ctx: TradingContext, offer: Any, now: datetime, _: list[LiveEvent]) -> bool:
    return await negotiations.expire(session, ctx, offer, now)


class OfferExpirySweep(_Step):
    name = "offer-expiry"

    def __init__(self, ctx: TradingContext) -> None:
        super().__init__(ctx, negotiations.claim_expired_offer, _expire)


async def _default(session: AsyncSession, ctx: TradingContext, deal: Any, now: datetime, _: list[LiveEvent]) -> bool:
    return await deals.default(session, ctx, deal, now)


class PaymentDeadlineSweep(_Step):
    name = "payment-deadline"

    def __init__(self, ctx: TradingContext) -> None:
        super().__init__(ctx, deals.claim_due_default, _default)


class InstalmentReminderSweep(_Step):
    name = "instalment-reminder"

    def __init__(self, ctx: TradingContext) -> None:
        super().__init__(ctx, deals.claim_due_reminder, deals.remind)


class InstalmentCollectionSweep(_Step):
    name = "instalment-collection"

    def __init__(self, ctx: TradingContext) -> None:
        super().__init__(ctx, deals.claim_due_instalment, deals.collect)


def sweep_steps(ctx: TradingContext) -> list[_Step]:
    return [
        AuctionCloseSweep(ctx),
        OfferExpirySweep(ctx),
        InstalmentReminderSweep(ctx),
        InstalmentCollectionSweep(ctx),
        PaymentDeadlineSweep(ctx),
    ]
