"""The sweeper's steps of tracking: the catch-up that makes each settled deal's schedule of
reports (from trading's settled deals, idempotently: a deal already tracked is skipped, so a pass
missed or failed is made up by the next), the reminders before a report is due, and the overdue
notice. Each row in its own transaction; a failing row is set aside (``rows``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.db import Database
from exchange.tracking.context import TrackingContext
from exchange.tracking.models import TrackingReport
from exchange.tracking.service import remind, tell_overdue, track_deal, untracked_deals
from kernel.sweeping import PASS_ONLY, RowLog, sweep_listed


class TrackingSchedules:
    """Settled deals without a schedule get one (``service.track_deal``)."""

    name = "tracking-schedules"

    def __init__(self, ctx: TrackingContext, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.ctx, self.limit, self.rows = ctx, limit, rows

    async def run(self, db: Database, now: datetime) -> int:
        deals = self.ctx.deals
        if deals is None:
            return 0

        async def load(session: AsyncSession, how_many: int) -> list[uuid.UUID]:
            return await untracked_deals(session, deals, how_many)

        async def act(session: AsyncSession, deal_id: uuid.UUID) -> bool:
            return await track_deal(session, self.ctx, deal_id, now)

        return await sweep_listed(db, self.rows, self.name, now, load, act, limit=self.limit)


class TrackingReminders:
    """A report not filed whose next reminder has come: its buyer is told (``service.remind``)."""

    name = "tracking-reminders"

    def __init__(self, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.limit, self.rows = limit, rows

    async def run(self, db: Database, now: datetime) -> int:
        async def load(session: AsyncSession, how_many: int) -> list[uuid.UUID]:
            query = (
                select(TrackingReport.id)
                .where(TrackingReport.filed_at.is_(None), TrackingReport.next_remind_at <= now)
                .order_by(TrackingReport.id)
                .limit(how_many)
            )
            return list((await session.scalars(query)).all())

        async def act(session: AsyncSession, report_id: uuid.UUID) -> bool:
            return await remind(session, report_id, now)

        return await sweep_listed(db, self.rows, self.name, now, load, act, limit=self.limit)


class TrackingOverdue:
    """A report past its due date and not filed: the buyer, the seller and operators are told once."""

    name = "tracking-overdue"

    def __init__(self, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.limit, self.rows = limit, rows

    async def run(self, db: Database, now: datetime) -> int:
        async def load(session: AsyncSession, how_many: int) -> list[uuid.UUID]:
            query = (
                select(TrackingReport.id)
                .where(
                    TrackingReport.filed_at.is_(None),
                    TrackingReport.overdue_told_at.is_(None),
                    TrackingReport.overdue_at <= now,
                )
                .order_by(TrackingReport.id)
                .limit(how_many)
            )
            return list((await session.scalars(query)).all())

        async def act(session: AsyncSession, report_id: uuid.UUID) -> bool:
            return await tell_overdue(session, report_id, now)

        return await sweep_listed(db, self.rows, self.name, now, load, act, limit=self.limit)


def sweep_steps(ctx: TrackingContext, rows: RowLog) -> list[TrackingSchedules | TrackingReminders | TrackingOverdue]:
    """In this order: a deal's schedule is made before its reminders and overdue notices are looked for."""
    return [TrackingSchedules(ctx, rows=rows), TrackingReminders(rows=rows), TrackingOverdue(rows=rows)]
