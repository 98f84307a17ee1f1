"""Trading's steps of the deadline sweeper: announcements closing soon (a reminder), auction ends,
offers expiring soon (a reminder) and expired, payment reminders and instalment collections,
payment deadlines (in that order, so that an instalment is collected before its deadline is
looked at). The reminders are in ``reminders``.

Each due row is processed in its own transaction and claimed once (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, then a conditional update), so several sweepers may run at once. A row whose
processing fails goes to the step's ``rows`` log (``kernel.sweeping.sweep_rows``); the others go on.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading import auctions, deals, negotiations
from exchange.trading.context import LiveEvent, TradingContext
from exchange.trading.reminders import AnnouncementClosingSweep, OfferExpiringSweep
from kernel.sweeping import PASS_ONLY, RowLog, sweep_rows

Claim = Callable[[AsyncSession, datetime, set[uuid.UUID]], Awaitable[Any]]
Process = Callable[[AsyncSession, TradingContext, Any, datetime, list[LiveEvent]], Awaitable[bool]]


class _Step:
    name = ""
    limit = 500

    def __init__(self, ctx: TradingContext, claim: Claim, process: Process, rows: RowLog = PASS_ONLY) -> None:
        self.ctx = ctx
        self._claim = claim
        self._process = process
        self.rows = rows

    async def run(self, db: Any, now: datetime) -> int:
        async def attempt(skip: set[uuid.UUID], claimed: list[uuid.UUID]) -> bool | None:
            async def work(session: AsyncSession, events: list[LiveEvent]) -> bool | None:
                claimed.clear()  # a retried transaction claims again
                row = await self._claim(session, now, skip)
                if row is None:
                    return None
                claimed.append(row.id)
                return await self._process(session, self.ctx, row, now, events)

            return await self.ctx.run(db, work)

        return await sweep_rows(db, self.rows, self.name, now, attempt, parse=uuid.UUID, limit=self.limit)


class AuctionCloseSweep(_Step):
    name = "auction-close"

    def __init__(self, ctx: TradingContext, rows: RowLog = PASS_ONLY) -> None:
        super().__init__(ctx, auctions.claim_due_auction, auctions.close_auction, rows)


async def _expire(session: AsyncSession, ctx: TradingContext, offer: Any, now: datetime, _: list[LiveEvent]) -> bool:
    return await negotiations.expire(session, ctx, offer, now)


class OfferExpirySweep(_Step):
    name = "offer-expiry"

    def __init__(self, ctx: TradingContext, rows: RowLog = PASS_ONLY) -> None:
        super().__init__(ctx, negotiations.claim_expired_offer, _expire, rows)


async def _default(session: AsyncSession, ctx: TradingContext, deal: Any, now: datetime, _: list[LiveEvent]) -> bool:
    return await deals.default(session, ctx, deal, now)


class PaymentDeadlineSweep(_Step):
    name = "payment-deadline"

    def __init__(self, ctx: TradingContext, rows: RowLog = PASS_ONLY) -> None:
        super().__init__(ctx, deals.claim_due_default, _default, rows)


class InstalmentReminderSweep(_Step):
    name = "instalment-reminder"

    def __init__(self, ctx: TradingContext, rows: RowLog = PASS_ONLY) -> None:
        super().__init__(ctx, deals.claim_due_reminder, deals.remind, rows)


class InstalmentCollectionSweep(_Step):
    name = "instalment-collection"

    def __init__(self, ctx: TradingContext, rows: RowLog = PASS_ONLY) -> None:
        super().__init__(ctx, deals.claim_due_instalment, deals.collect, rows)


def sweep_steps(ctx: TradingContext, rows: RowLog = PASS_ONLY) -> list[Any]:
    return [
        AnnouncementClosingSweep(ctx, rows),
        AuctionCloseSweep(ctx, rows),
        OfferExpiringSweep(ctx, rows),
        OfferExpirySweep(ctx, rows),
        InstalmentReminderSweep(ctx, rows),
        InstalmentCollectionSweep(ctx, rows),
        PaymentDeadlineSweep(ctx, rows),
    ]
