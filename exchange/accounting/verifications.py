"""The record of every verification of the whole ledger, so operators see when the ledger was last
proved whole and what it found — whether it ran on the operators' schedule (``techx ledger
verify``) or from the console's button.

A verification is recorded after it ran, in a transaction of its own: it reads one snapshot of the
ledger and writes nothing into it, so the record can never be part of what it checked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.db import Database
from exchange.platform.tables import Base, IdMixin
from ledger import seal

MAX_DISCREPANCY = 2000


class VerificationSource(StrEnum):
    SCHEDULE = "schedule"  # techx ledger verify, run by the operators' schedule
    CONSOLE = "console"  # an operator's button on /console/ledger


class LedgerVerification(IdMixin, Base):
    __tablename__ = "ledger_verifications"
    __table_args__ = (Index("ix_ledger_verifications_finished_at", "finished_at"),)

    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    ok: Mapped[bool]
    discrepancy: Mapped[str | None] = mapped_column(String(MAX_DISCREPANCY))
    blocks: Mapped[int]
    sealed_entries: Mapped[int]
    entries: Mapped[int]
    postings: Mapped[int]
    accounts: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))
    by_user_id: Mapped[uuid.UUID | None]  # the operator who pressed the button; none on the schedule


@dataclass(frozen=True, slots=True)
class Verified:
    report: seal.Report
    started_at: datetime
    finished_at: datetime


async def record_verification(
    db: Database, verified: Verified, source: VerificationSource, by_user_id: uuid.UUID | None = None
) -> LedgerVerification:
    report = verified.report

    async def write(session: AsyncSession) -> LedgerVerification:
        row = LedgerVerification(
            started_at=verified.started_at,
            finished_at=verified.finished_at,
            ok=report.ok,
            discrepancy=(report.discrepancy or None) and report.discrepancy[:MAX_DISCREPANCY],
            blocks=report.blocks,
            sealed_entries=report.sealed_entries,
            entries=report.entries,
            postings=report.postings,
            accounts=report.accounts,
            source=source.value,
            by_user_id=by_user_id,
        )
        session.add(row)
        await session.flush()
        return row

    return await db.transaction(write)


async def last_verification(session: AsyncSession) -> LedgerVerification | None:
    statement = select(LedgerVerification).order_by(LedgerVerification.finished_at.desc()).limit(1)
    return (await session.execute(statement)).scalar_one_or_none()
