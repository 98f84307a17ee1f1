"""What every demo scene shares: the database, the modules, the moving clock, the cast and its records.

The clock starts ten weeks before the real present and only moves forward; no scene moves it past
``present``, so a server started afterwards on the real clock sees a consistent past.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database
from exchange.platform.settings import Settings
from exchange.server.modules import Modules
from listings import WorkingCalendar, working_calendar

BEIJING_MORNING = time(1, 0, tzinfo=UTC)  # 09:00 in Beijing


class DemoError(RuntimeError):
    """The demo cannot be built here (for instance, the database is not empty)."""


@dataclass(frozen=True)
class BankLine:
    """A line of the settlement account's bank statement: what the demo's reconciliation compares."""

    day: date
    amount: int  # fen, negative for money out
    reference: str


@dataclass
class Demo:
    """What the scenes share: the database, the modules, the moving clock and the cast."""

    db: Database
    modules: Modules
    clock: ManualClock
    present: datetime  # the clock never passes it
    settings: Settings
    principals: dict[str, Principal] = field(default_factory=dict)
    listings: dict[int, uuid.UUID] = field(default_factory=dict)  # catalogue index → listing id
    notes: list[str] = field(default_factory=list)
    bank: list[BankLine] = field(default_factory=list)
    program_id: uuid.UUID | None = None
    orders: dict[str, uuid.UUID] = field(default_factory=dict)  # order name → service order id
    deals: dict[int, uuid.UUID] = field(default_factory=dict)  # catalogue index → deal id
    processes: dict[str, uuid.UUID] = field(default_factory=dict)  # the demo university's, by name
    auction_id: uuid.UUID | None = None  # the live auction, for the tour
    auction_starts_at: datetime | None = None
    auction_ends_at: datetime | None = None
    statement: str = ""  # the settlement account's bank statement (CSV) for the period
    reconciliation_period: tuple[date, date] | None = None
    start: datetime | None = None  # S: where the present-day story begins; the history runs before it

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def advance_to(self, moment: datetime) -> None:
        if moment > self.present:
            raise DemoError(f"the demo would move past the present ({moment.isoformat()} > {self.present.isoformat()})")
        if moment > self.now:
            self.clock.set(moment)

    def next_morning(self, hours: float = 0) -> datetime:
        """09:00 in Beijing on the next day it has not yet passed, plus ``hours``: office hours."""
        day = morning(self.now.date())
        return (day if day > self.now else morning(self.now.date() + timedelta(days=1))) + timedelta(hours=hours)

    async def sweep(self) -> dict[str, int]:
        """What the server's sweeper does at this moment: close due notices and auctions, expire holds."""
        return await self.modules.sweeper.run_once(self.db, self.now)

    async def calendar(self) -> WorkingCalendar:
        """The working-day calendar the services count on now."""
        async with self.db.read() as session:
            return await working_calendar(session, self.modules.listings.calendar)

    async def tx(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        return await self.db.transaction(work)

    def actor(self, key: str) -> Any:
        return actor_of(self.principals[key])

    def org(self, key: str) -> uuid.UUID:
        org_id = self.principals[key].org_id
        assert org_id is not None
        return org_id


def morning(day: date) -> datetime:
    return datetime.combine(day, BEIJING_MORNING)


Scene = Callable[[Demo], Awaitable[str]]
