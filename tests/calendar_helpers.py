"""The working-day calendars tests count on.

``PACKAGE`` is what the migrations seed (2004–2026 from the chinese-calendar package);
``WITH_2027`` adds ``tests/fixtures/calendar-2027-fixture.json`` — a TEST FIXTURE, not the official
2027 schedule — read through the import's own ``read_schedule``. A test whose periods cross into
2027 on a database loads the fixture through the import too (``load_2027_fixture``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chinese_calendar

from listings import calendar
from listings.models import CalendarYear
from listings.workdays import CheckedYear, DayKind, WorkingCalendar

FIXTURE_2027 = Path(__file__).parent / "fixtures" / "calendar-2027-fixture.json"
FIXTURE_BY = calendar.ChangedBy("tests (calendar-2027-fixture.json: a test fixture, not the official schedule)")
SEEDED_YEARS = range(2004, 2027)


def _package_days() -> list[tuple[Any, DayKind]]:
    days = [(d, DayKind.OFF) for d in chinese_calendar.holidays if d.year in SEEDED_YEARS]
    return days + [(d, DayKind.WORKDAY) for d in chinese_calendar.workdays if d.year in SEEDED_YEARS]


def fixture_2027() -> CheckedYear:
    return calendar.read_schedule(FIXTURE_2027.read_bytes())


PACKAGE = WorkingCalendar.of(SEEDED_YEARS, _package_days())
WITH_2027 = WorkingCalendar.of(
    [*SEEDED_YEARS, 2027], _package_days() + [(d, kind) for d, (kind, _) in fixture_2027().days.items()]
)


async def load_2027_fixture(db: Any, now: Any) -> None:
    """Import the 2027 test fixture the way ``techx calendar import`` does (once per test)."""
    checked = fixture_2027()

    async def work(session: Any) -> None:
        if await session.get(CalendarYear, 2027) is None:
            await calendar.import_year(session, checked, FIXTURE_BY, now)

    await db.transaction(work)
