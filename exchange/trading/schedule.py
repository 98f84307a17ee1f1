"""A deal's payment schedule: one row per payment, its share of the settlement, its dates, and what
the parties were told about it.

A lump sum is a schedule of one payment, due at signing; instalment terms give one row per
instalment, the down payment first. The rows are made when the deal forms (``domain.apportion``
gives each its share of the fees, the inventors' reward and the seller's proceeds) and dated when
both parties have signed (``domain.instalment_dates``). ``deals`` pays, collects and settles them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading.context import TradingRules
from exchange.trading.domain import (
    UNPAID,
    InstalmentAction,
    InstalmentStatus,
    Settlement,
    apportion,
    instalment_dates,
    next_instalment_status,
    payment_schedule,
)
from exchange.trading.models import Deal, DealInstalment, DealNotification
from kernel.shapes import shaped
from kernel.time import rfc3339
from listings import WorkingCalendar


def lump_sum_settlement(deal: Deal) -> Settlement:
    return shaped(Settlement, deal)


def plan(deal: Deal, now: datetime) -> list[DealInstalment]:
    """The schedule of a deal being formed, from its payment terms; not yet dated."""
    parts = payment_schedule(deal.price, deal.snapshot.get("payment_terms") or {})
    shares = apportion(lump_sum_settlement(deal), [p.amount for p in parts])
    return [
        DealInstalment(
            deal_id=deal.id,
            seq=seq,
            due_months=part.due_months,
            amount=part.amount,
            seller_fee=share.seller_fee,
            buyer_fee=share.buyer_fee,
            buyer_fee_vouchers=0,
            inventor_reward=share.inventor_reward,
            seller_proceeds=share.seller_proceeds,
            from_deposit=0,
            status=InstalmentStatus.PENDING.value,
            payment_entry_ids=[],
            settlement_entry_ids=[],
            created_at=now,
            updated_at=now,
        )
        for seq, (part, share) in enumerate(zip(parts, shares, strict=True))
    ]


def date_schedule(
    rows: list[DealInstalment], rules: TradingRules, signed_at: datetime, calendar: WorkingCalendar
) -> None:
    """Date every payment from the signing, on the calendar in force now; the dates are stored and
    never recounted, so a later correction of the calendar leaves them as they are."""
    for row in rows:
        dates = instalment_dates(
            calendar,
            signed_at,
            row.due_months,
            grace_working_days=rules.payment_working_days,
            reminder_working_days=rules.instalment_reminder_working_days,
        )
        row.due_at, row.remind_at, row.deadline_at = dates.due_at, dates.remind_at, dates.deadline_at
        row.updated_at = signed_at


async def schedule_of(session: AsyncSession, deal_id: uuid.UUID) -> list[DealInstalment]:
    """The deal's payments in order, as committed (call with the deal locked to change them)."""
    await session.flush()
    query = (
        select(DealInstalment)
        .where(DealInstalment.deal_id == deal_id)
        .order_by(DealInstalment.seq)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(query)).all())


def next_unpaid(rows: Iterable[DealInstalment]) -> DealInstalment | None:
    return next((r for r in rows if InstalmentStatus(r.status) in UNPAID), None)


def move(row: DealInstalment, action: InstalmentAction, now: datetime) -> None:
    row.status = next_instalment_status(InstalmentStatus(row.status), action).value
    row.updated_at = now


def close_unpaid(rows: Iterable[DealInstalment], action: InstalmentAction, now: datetime) -> None:
    """A deal that defaults or is cancelled ends what is left of its schedule."""
    for row in rows:
        if InstalmentStatus(row.status) in UNPAID:
            move(row, action, now)


def notify(session: AsyncSession, deal: Deal, kind: str, message: str, details: dict[str, Any], now: datetime) -> None:
    session.add(DealNotification(deal_id=deal.id, kind=kind, message=message, details=details, created_at=now))


def describe(row: DealInstalment) -> dict[str, Any]:
    """An instalment as notifications and the certificate name it."""
    return {
        "seq": row.seq,
        "due_months": row.due_months,
        "amount": row.amount,
        "due_at": rfc3339(row.due_at) if row.due_at else None,
        "deadline_at": rfc3339(row.deadline_at) if row.deadline_at else None,
    }


async def schedules_of(session: AsyncSession, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DealInstalment]]:
    """The schedules of a page of deals, in one statement."""
    await session.flush()
    found: dict[uuid.UUID, list[DealInstalment]] = defaultdict(list)
    if deal_ids:
        query = select(DealInstalment).where(DealInstalment.deal_id.in_(deal_ids))
        for row in (await session.scalars(query.order_by(DealInstalment.deal_id, DealInstalment.seq))).all():
            found[row.deal_id].append(row)
    return found


async def notifications_of(session: AsyncSession, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DealNotification]]:
    """The notifications of a page of deals, oldest first, in one statement."""
    await session.flush()
    found: dict[uuid.UUID, list[DealNotification]] = defaultdict(list)
    if deal_ids:
        query = select(DealNotification).where(DealNotification.deal_id.in_(deal_ids))
        for note in (await session.scalars(query.order_by(DealNotification.created_at, DealNotification.id))).all():
            found[note.deal_id].append(note)
    return found
