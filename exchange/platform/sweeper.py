"""The deadline sweeper: every registered step processes what is due, once per pass.

A step is any object with a ``name`` and ``async run(db, now) -> int`` (how many items it
processed). Listings register the notice step; later modules add theirs (auction ends, offer
expiry, payment deadlines, hold timeouts, voucher expiry) with ``Sweeper.add``. Each step claims
its due rows so that any number of sweepers may run at once.

Steps that work row by row run ``kernel.sweeping.sweep_rows`` with the sweeper's ``rows`` log,
``SweepFailures``: a row whose processing raises is recorded in ``sweep_failures`` and retried
with exponential back-off from the exchange clock (``TECHX_SWEEP_RETRY_BASE_SECONDS`` doubled
after each failure, at most ``TECHX_SWEEP_RETRY_MAX_SECONDS``); after
``TECHX_SWEEP_MAX_ATTEMPTS`` failures it is set aside until an operator asks for a retry
(``POST /api/v1/ops/sweep-failures/{id}/retry``, ``techx sweep retry ID``). The other due rows are
processed meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from prometheus_client import Counter
from sqlalchemy import Index, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.db import Database
from exchange.platform.tables import Base, IdMixin
from kernel.errors import NotFound, found
from kernel.pagination import by_id, id_after, keyset_page
from kernel.sweeping import PASS_ONLY, Held, RowLog

log = structlog.get_logger("techx.sweeper")

# Registered once, in the process's default registry, which /metrics exposes.
STEP_FAILURES = Counter(
    "techx_sweep_step_failures",
    "Failures of sweeper steps: a due row whose processing raised, or a step that failed as a whole",
    ["step"],
)

MAX_ERROR = 1000


class SweepStep(Protocol):
    name: str

    async def run(self, db: Database, now: datetime) -> int: ...


class SweepFailure(IdMixin, Base):
    """A due row a sweeper step failed to process: backing off until ``next_attempt_at``, or set aside."""

    __tablename__ = "sweep_failures"
    __table_args__ = (Index("uq_sweep_failures_step_row_key", "step", "row_key", unique=True),)

    step: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int]
    last_error: Mapped[str] = mapped_column(String(MAX_ERROR))
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    set_aside_at: Mapped[datetime | None]


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text[:MAX_ERROR]


class SweepFailures:
    """The sweeper's ``RowLog``: failing rows back off exponentially and are set aside after ``max_attempts``."""

    def __init__(self, *, max_attempts: int = 8, base_seconds: float = 5.0, max_seconds: float = 3600.0) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds

    def backoff(self, attempts: int) -> timedelta:
        """The gap after the ``attempts``-th failure: base, 2×base, 4×base… at most ``max_seconds``."""
        return timedelta(seconds=min(self.max_seconds, self.base_seconds * 2 ** min(attempts - 1, 40)))

    async def held(self, db: Database, step: str, now: datetime) -> Held:
        held = Held()
        async with db.read() as session:
            rows = await session.execute(
                select(SweepFailure.row_key, SweepFailure.next_attempt_at, SweepFailure.set_aside_at).where(
                    SweepFailure.step == step
                )
            )
            for key, next_attempt_at, set_aside_at in rows:
                (held.skip if set_aside_at is not None or next_attempt_at > now else held.retrying).add(key)
        return held

    async def failed(self, db: Database, step: str, key: str, error: BaseException, now: datetime) -> None:
        STEP_FAILURES.labels(step=step).inc()

        async def record(session: AsyncSession) -> SweepFailure:
            row = await session.scalar(
                select(SweepFailure).where(SweepFailure.step == step, SweepFailure.row_key == key).with_for_update()
            )
            if row is None:
                row = SweepFailure(step=step, row_key=key, attempts=0, first_failed_at=now)
                session.add(row)
            row.attempts += 1
            row.last_error = describe(error)
            row.last_failed_at = now
            row.next_attempt_at = now + self.backoff(row.attempts)
            if row.attempts >= self.max_attempts:
                row.set_aside_at = now
            await session.flush()
            return row

        try:
            row = await db.transaction(record)
        except IntegrityError:  # another sweeper recorded the same row's failure at the same moment
            row = await db.transaction(record)
        if row.set_aside_at is not None:
            log.error("due row set aside", step=step, row=key, attempts=row.attempts, error=row.last_error)

    async def succeeded(self, db: Database, step: str, key: str) -> None:
        await db.transaction(
            lambda s: s.execute(delete(SweepFailure).where(SweepFailure.step == step, SweepFailure.row_key == key))
        )


# -- what operators see and do -----------------------------------------------------------------


async def list_failures(
    session: AsyncSession, *, set_aside: bool | None, step: str | None, limit: int, cursor: str | None
) -> tuple[list[SweepFailure], str | None]:
    """Rows that failed, oldest record first; ``set_aside`` True: only those set aside, False: only backing off."""
    query = select(SweepFailure).order_by(SweepFailure.id).limit(limit + 1)
    after = id_after(cursor)
    if after is not None:
        query = query.where(SweepFailure.id > after)
    if set_aside is not None:
        query = query.where(
            SweepFailure.set_aside_at.is_not(None) if set_aside else SweepFailure.set_aside_at.is_(None)
        )
    if step is not None:
        query = query.where(SweepFailure.step == step)
    return keyset_page((await session.scalars(query)).all(), limit, by_id)


async def request_retry(session: AsyncSession, failure_id: uuid.UUID) -> SweepFailure:
    """Process the row again on the next pass. It keeps its attempts: one more failure sets it aside again.

    Due from its last failure on, a time every sweeper has already reached: whoever asks (an operator
    over HTTP, the CLI with the wall clock) need not share the sweepers' clock."""
    row = found(
        await session.scalar(select(SweepFailure).where(SweepFailure.id == failure_id).with_for_update()),
        NotFound(f"sweep failure {failure_id} not found"),
    )
    row.set_aside_at = None
    row.next_attempt_at = row.last_failed_at
    await session.flush()
    return row


# -- the sweeper ---------------------------------------------------------------------------------


class Sweeper:
    def __init__(self, steps: Iterable[SweepStep] = (), *, rows: RowLog = PASS_ONLY) -> None:
        self._steps: list[SweepStep] = list(steps)
        self.rows = rows
        # When each step last finished a pass without failing as a whole (the exchange clock's time):
        # everything due then, apart from rows that failed, was processed. Read by the lag gauge.
        self.last_pass: dict[str, datetime] = {}

    def add(self, step: SweepStep) -> None:
        if any(s.name == step.name for s in self._steps):
            raise ValueError(f"a sweep step named {step.name!r} is already registered")
        self._steps.append(step)

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self._steps]

    async def run_once(self, db: Database, now: datetime) -> dict[str, int]:
        """One pass over every step; a failing step is logged and does not stop the others."""
        counts: dict[str, int] = {}
        for step in self._steps:
            try:
                counts[step.name] = await step.run(db, now)
            except Exception:
                log.exception("sweep step failed", step=step.name)
                STEP_FAILURES.labels(step=step.name).inc()
                counts[step.name] = -1
            else:
                self.last_pass[step.name] = now
        if any(counts.values()):
            log.info("sweep pass", **counts)
        return counts
