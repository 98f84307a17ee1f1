"""The one loop every sweeper step runs over its due rows, and where it reports the rows that fail.

A step claims a due row, processes it in its own transaction, and goes on to the next. A row whose
processing raises does not stop the others: it is reported to the step's ``RowLog`` and skipped
for the rest of the pass. The exchange's log (``exchange.platform.sweeper.SweepFailures``) keeps
it in the ``sweep_failures`` table: it is retried with growing gaps and, after a number of
attempts, set aside until an operator asks for a retry. ``PassOnly`` remembers nothing across
passes (a failing row is retried on the next pass): for a step used on its own.

No package-specific import here: the listings' step and the exchange's steps share it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog

K = TypeVar("K", bound=Hashable)

log = structlog.get_logger("techx.sweeper")


@dataclass
class Held:
    """A step's rows known to fail: ``skip`` are backing off or set aside (not claimed this pass),
    ``retrying`` are due for another attempt (their record is cleared when one succeeds)."""

    skip: set[str] = field(default_factory=set)
    retrying: set[str] = field(default_factory=set)


class RowLog(Protocol):
    async def held(self, db: Any, step: str, now: datetime) -> Held: ...

    async def failed(self, db: Any, step: str, key: str, error: BaseException, now: datetime) -> None: ...

    async def succeeded(self, db: Any, step: str, key: str) -> None: ...


class PassOnly:
    """Remembers nothing: a failing row is skipped for the rest of the pass and tried again next pass."""

    async def held(self, db: Any, step: str, now: datetime) -> Held:
        return Held()

    async def failed(self, db: Any, step: str, key: str, error: BaseException, now: datetime) -> None:
        return None

    async def succeeded(self, db: Any, step: str, key: str) -> None:
        return None


# It keeps no state, so every step without a log of its own may share it.
PASS_ONLY = PassOnly()


Attempt = Callable[[set[K], list[K]], Awaitable[bool | None]]


async def sweep_rows(
    db: Any,
    rows: RowLog,
    step: str,
    now: datetime,
    attempt: Attempt[K],
    *,
    parse: Callable[[str], K],
    limit: int = 500,
) -> int:
    """Process due rows one by one until none is left (or ``limit`` were tried). Returns how many.

    ``attempt(skip, claimed)`` claims the first due row whose key is not in ``skip``, appends its
    key to ``claimed`` as soon as it has it, processes it in one transaction and returns True
    (processed), False (another sweeper moved it first) or None (nothing due).
    """
    held = await rows.held(db, step, now)
    skip: set[K] = {parse(k) for k in held.skip}
    processed = failures = 0
    while processed + failures < limit:
        claimed: list[K] = []
        try:
            outcome = await attempt(skip, claimed)
        except Exception as exc:
            if not claimed:
                raise  # the claim itself failed: the step fails as a whole
            skip.add(claimed[0])
            failures += 1
            log.exception("due row not processed", step=step, row=str(claimed[0]))
            await rows.failed(db, step, str(claimed[0]), exc, now)
            continue
        if outcome is None:
            break
        key = claimed[0]
        if not outcome:  # another sweeper moved it first: not claimed again in this pass
            skip.add(key)
            continue
        processed += 1
        if str(key) in held.retrying:
            await rows.succeeded(db, step, str(key))
    return processed


Load = Callable[[Any, int], Awaitable[list[K]]]
Act = Callable[[Any, K], Awaitable[bool]]


async def sweep_listed(
    db: Any,
    rows: RowLog,
    step: str,
    now: datetime,
    load: Load[uuid.UUID],
    act: Act[uuid.UUID],
    *,
    limit: int = 500,
) -> int:
    """``sweep_rows`` for a step that lists its due rows once per pass and processes each in a
    transaction of its own: ``load(session, how_many)`` reads the due keys (in a read session;
    those set aside are dropped), ``act(session, key)`` processes one and returns True, or False
    when another sweeper moved it first."""
    due: list[uuid.UUID] = []
    loaded = False

    async def attempt(skip: set[uuid.UUID], claimed: list[uuid.UUID]) -> bool | None:
        nonlocal loaded
        if not loaded:
            loaded = True
            async with db.read() as session:
                due.extend(k for k in await load(session, limit + len(skip)) if k not in skip)
        if not due:
            return None
        key = due.pop(0)
        claimed.append(key)
        return bool(await db.transaction(lambda session: act(session, key)))

    return await sweep_rows(db, rows, step, now, attempt, parse=uuid.UUID, limit=limit)
