"""The sweeper's steps of demands: a published demand past its deadline is closed, its owner told
three days before (``demand.deadline``, once: ``notification_reminders``), and a campaign past
its deadline is closed. Each row in its own transaction; a failing row is set aside (``rows``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands.campaigns import close_campaign
from exchange.demands.domain import DEADLINE_REMINDER, CampaignStatus, DemandStatus
from exchange.demands.matches import digest_due, orgs_told_today, orgs_with_documents, tell_digest
from exchange.demands.models import Campaign, Demand
from exchange.demands.service import expire_demand, remind_deadline
from exchange.matching.service import MatchingContext
from exchange.platform.db import Database
from exchange.platform.outbox import Kind
from exchange.platform.reminders import told
from kernel.sweeping import PASS_ONLY, RowLog, sweep_listed

Act = Callable[[AsyncSession, uuid.UUID, datetime], Awaitable[bool]]


class _RowSweep:
    name = ""

    def __init__(self, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.limit = limit
        self.rows = rows

    def due(self, now: datetime) -> Select[Any]:
        raise NotImplementedError

    async def skipped(self, session: AsyncSession, now: datetime) -> set[str]:
        return set()

    act: Act

    async def run(self, db: Database, now: datetime) -> int:
        async def load(session: AsyncSession, how_many: int) -> list[uuid.UUID]:
            done = await self.skipped(session, now)
            found = (await session.scalars(self.due(now).limit(how_many + len(done)))).all()
            return [i for i in found if str(i) not in done]

        async def act(session: AsyncSession, key: uuid.UUID) -> bool:
            return await self.act(session, key, now)

        return await sweep_listed(db, self.rows, self.name, now, load, act, limit=self.limit)


class DemandExpirySweep(_RowSweep):
    name = "demand-expiry"
    act = staticmethod(expire_demand)

    def due(self, now: datetime) -> Select[Any]:
        return (
            select(Demand.id)
            .where(Demand.status == DemandStatus.PUBLISHED.value, Demand.deadline_at <= now)
            .order_by(Demand.id)
        )


class DemandDeadlineReminders(_RowSweep):
    name = "demand-deadline"
    act = staticmethod(remind_deadline)

    def due(self, now: datetime) -> Select[Any]:
        return (
            select(Demand.id)
            .where(
                Demand.status == DemandStatus.PUBLISHED.value,
                Demand.deadline_at > now,
                Demand.deadline_at <= now + DEADLINE_REMINDER,
            )
            .order_by(Demand.id)
        )

    async def skipped(self, session: AsyncSession, now: datetime) -> set[str]:
        return await told(session, Kind.DEMAND_DEADLINE)


class CampaignClosingSweep(_RowSweep):
    name = "campaign-closing"
    act = staticmethod(close_campaign)

    def due(self, now: datetime) -> Select[Any]:
        return (
            select(Campaign.id)
            .where(Campaign.status == CampaignStatus.OPEN.value, Campaign.deadline_at <= now)
            .order_by(Campaign.id)
        )


class MatchDigestSweep(_RowSweep):
    """Each organisation with published demands or listings in the index gets, once a Beijing day
    from the digest's hour on, the matches that are new to it (``matches.tell_digest``)."""

    name = "matching-digest"

    def __init__(self, matching: MatchingContext, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        super().__init__(limit, rows)
        self.matching = matching

    def due(self, now: datetime) -> Select[Any]:
        return select(orgs_with_documents().subquery().c.org_id).order_by("org_id")

    async def skipped(self, session: AsyncSession, now: datetime) -> set[str]:
        return await orgs_told_today(session, now)

    async def act(self, session: AsyncSession, org_id: uuid.UUID, now: datetime) -> bool:
        return await tell_digest(session, self.matching, org_id, now)

    async def run(self, db: Database, now: datetime) -> int:
        return await super().run(db, now) if digest_due(now) else 0  # before the hour, not even a read


def sweep_steps(rows: RowLog, matching: MatchingContext) -> list[_RowSweep]:
    return [
        DemandDeadlineReminders(rows=rows),
        DemandExpirySweep(rows=rows),
        CampaignClosingSweep(rows=rows),
        MatchDigestSweep(matching, rows=rows),
    ]
