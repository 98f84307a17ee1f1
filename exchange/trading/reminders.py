"""Trading's reminders, told once each by the deadline sweeper (``exchange.platform.reminders``):

- ``announcement-closing``: an announcement with ``ANNOUNCEMENT_REMINDER_WORKING_DAYS`` working
  days left (today included, as the notice shows "还剩 N 个工作日") — its seller and the buyers
  holding intents (``announcement.closing``);
- ``offer-expiring``: an open offer within ``OFFER_REMINDER`` of its expiry — the side that must
  answer it (``offer.expiring``).

Each step reads the candidates (a bounded window before the moment), leaves out those already
told, and tells each in its own transaction with its marker row, so a reminder is told once
across passes, restarts and concurrent sweepers.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.reminders import Reminder, remind_once
from exchange.trading.context import TradingContext
from exchange.trading.domain import NegotiationStatus, OfferStatus, Side
from exchange.trading.intents import active_intents
from exchange.trading.listing_notices import about_listing
from exchange.trading.models import Negotiation, Offer
from exchange.trading.negotiations import about_offer, offer_subject
from kernel.sweeping import PASS_ONLY, RowLog, sweep_listed
from kernel.time import rfc3339
from listings import Listing, Notice, NoticeKind, NoticeStatus, working_calendar

ANNOUNCEMENT_REMINDER_WORKING_DAYS = 3
# Three working days are at most this many calendar days (the Spring Festival's week off and its weekends).
ANNOUNCEMENT_WINDOW = timedelta(days=16)
OFFER_REMINDER = timedelta(days=1)


async def _untold(session: AsyncSession, kind: Kind, keys: list[uuid.UUID]) -> list[uuid.UUID]:
    if not keys:
        return []
    query = select(Reminder.subject_key).where(
        Reminder.kind == kind.value, Reminder.subject_key.in_([str(k) for k in keys])
    )
    told = set((await session.scalars(query)).all())
    return [k for k in keys if str(k) not in told]


Due = Callable[[AsyncSession, datetime, int], Awaitable[list[uuid.UUID]]]
Tell = Callable[[AsyncSession, TradingContext, uuid.UUID, datetime], Awaitable[bool]]


class _ReminderStep:
    name = ""
    kind: Kind

    def __init__(self, ctx: TradingContext, rows: RowLog = PASS_ONLY, limit: int = 500) -> None:
        self.ctx = ctx
        self.rows = rows
        self.limit = limit

    async def candidates(self, session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
        raise NotImplementedError

    async def tell(self, session: AsyncSession, key: uuid.UUID, now: datetime) -> bool:
        raise NotImplementedError

    async def run(self, db: Any, now: datetime) -> int:
        async def load(session: AsyncSession, how_many: int) -> list[uuid.UUID]:
            return await _untold(session, self.kind, await self.candidates(session, now, how_many))

        async def act(session: AsyncSession, key: uuid.UUID) -> bool:
            return await self.tell(session, key, now)

        return await sweep_listed(db, self.rows, self.name, now, load, act, limit=self.limit)


class AnnouncementClosingSweep(_ReminderStep):
    name = "announcement-closing"
    kind = Kind.ANNOUNCEMENT_CLOSING

    async def candidates(self, session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
        query = (
            select(Notice.id)
            .where(
                Notice.kind == NoticeKind.LISTING_ANNOUNCEMENT.value,
                Notice.status == NoticeStatus.OPEN.value,
                Notice.closes_at > now,
                Notice.closes_at <= now + ANNOUNCEMENT_WINDOW,
            )
            .order_by(Notice.closes_at, Notice.id)
            .limit(limit)
        )
        return list((await session.scalars(query)).all())

    async def tell(self, session: AsyncSession, key: uuid.UUID, now: datetime) -> bool:
        notice = await session.get(Notice, key)
        if notice is None or notice.status != NoticeStatus.OPEN.value or notice.closes_at <= now:
            return False
        calendar = await working_calendar(session, self.ctx.listings.calendar)
        left = calendar.working_days_left(now, notice.opens_at, notice.closes_at)
        if left > ANNOUNCEMENT_REMINDER_WORKING_DAYS:
            return False
        listing = await session.get(Listing, notice.subject_id)
        if listing is None or listing.notice_id != notice.id:
            return False
        if not await remind_once(session, self.kind, str(notice.id), now):
            return False
        holders = [i.org_id for i in await active_intents(session, listing.id)]
        data = {
            **about_listing(listing),
            "notice_id": str(notice.id),
            "closes_at": rfc3339(notice.closes_at),
            "working_days_left": left,
        }
        to = Audience.of_orgs(listing.seller_org_id, *holders)
        notify(session, self.kind, to=to, now=now, subject=Subject("listing", listing.id), data=data)
        return True


class OfferExpiringSweep(_ReminderStep):
    name = "offer-expiring"
    kind = Kind.OFFER_EXPIRING

    async def candidates(self, session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
        query = (
            select(Offer.id)
            .where(
                Offer.status == OfferStatus.OPEN.value,
                Offer.expires_at > now,
                Offer.expires_at <= now + OFFER_REMINDER,
            )
            .order_by(Offer.expires_at, Offer.id)
            .limit(limit)
        )
        return list((await session.scalars(query)).all())

    async def tell(self, session: AsyncSession, key: uuid.UUID, now: datetime) -> bool:
        offer = await session.get(Offer, key)
        if offer is None or offer.status != OfferStatus.OPEN.value or offer.expires_at <= now:
            return False
        thread = await session.get(Negotiation, offer.negotiation_id)
        if thread is None or thread.status != NegotiationStatus.OPEN.value:
            return False
        if not await remind_once(session, self.kind, str(offer.id), now):
            return False
        listing = await session.get(Listing, thread.listing_id)
        answering = thread.buyer_org_id if offer.side == Side.SELLER.value else thread.seller_org_id
        data = about_offer(thread, offer, listing)
        notify(session, self.kind, to=Audience.of_orgs(answering), now=now, subject=offer_subject(thread), data=data)
        return True
