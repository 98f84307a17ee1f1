"""Reminders told once: a row per (kind, subject) that a sweep step has told.

A time-based notification (an announcement closing, an offer expiring, vouchers expiring) is
found again on every pass of the sweeper until its moment is past. ``remind_once`` records that
it was told in the same transaction as its ``notify``: the insert of the marker row and the
outbox row commit together, so a reminder is never repeated on the next pass, nor after a
restart, nor by a second sweeper running at the same time (the unique key lets one insert win).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin, new_id
from kernel.db import is_postgres


class Reminder(IdMixin, Base):
    """A reminder that was told: ``kind`` (an outbox kind) about ``subject_key``."""

    __tablename__ = "notification_reminders"
    __table_args__ = (UniqueConstraint("kind", "subject_key", name="uq_notification_reminders_kind_subject_key"),)

    kind: Mapped[str] = mapped_column(String(48))
    subject_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


async def remind_once(session: AsyncSession, kind: str, subject_key: str, now: datetime) -> bool:
    """Record that ``kind`` was told about ``subject_key``; False when it already was (tell nothing)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = (
        insert(Reminder)
        .values(id=new_id(), kind=str(kind), subject_key=subject_key[:200], created_at=now)
        .on_conflict_do_nothing(index_elements=["kind", "subject_key"])
        .returning(Reminder.id)
    )
    return (await session.execute(statement)).first() is not None


async def told(session: AsyncSession, kind: str, since: datetime | None = None) -> set[str]:
    """The subjects already told of ``kind`` (for a sweep step to skip them when it looks for due
    ones); ``since``: only those told at or after it (a daily reminder's today)."""
    query = select(Reminder.subject_key).where(Reminder.kind == str(kind))
    if since is not None:
        query = query.where(Reminder.created_at >= since)
    return set((await session.scalars(query)).all())


__all__ = ["Reminder", "remind_once", "told"]
