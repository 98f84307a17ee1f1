"""The working-day calendar operators maintain: load a year, correct a day, list, and the snapshot
every period counts with.

The holiday table (``calendar_years``, ``calendar_days``) is the calendar; ``calendar_changes``
logs every change with who made it and when. Each process keeps the last snapshot it loaded
(``CalendarCache``, one per ``ListingsContext``) with the version it was loaded at — the count
and last id of the change log, which only grows — and checks that version at the start of every
operation that counts a period: an import by another process is seen at once, without a restart.

A period keeps the end it was announced with: ends are stored (notices, listings, payment
schedules) and never recounted, so a correction of the calendar changes only the periods opened
after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.columns import new_id
from kernel.db import is_postgres
from kernel.errors import NotFound, found, msgspec_field
from listings.errors import CalendarYearLoaded, CalendarYearMissing, InvalidCalendar
from listings.models import CalendarChange, CalendarDay, CalendarNotification, CalendarYear
from listings.workdays import (
    SATURDAY,
    CheckedYear,
    DayKind,
    WorkingCalendar,
    YearSchedule,
    check_schedule,
    missing_next_year,
)

NEXT_YEAR_MISSING = "next-year-missing"


def read_schedule(raw: bytes | str) -> CheckedYear:
    """A year's schedule from its file (JSON, the format of ``workdays.YearSchedule``), checked:
    422 ``invalid-calendar`` naming the field at fault otherwise."""
    try:
        schedule = msgspec.json.decode(raw, type=YearSchedule)
    except msgspec.ValidationError as exc:
        raise InvalidCalendar(f"the schedule is not valid: {exc}", field=msgspec_field(str(exc)) or "body") from None
    except msgspec.DecodeError as exc:
        raise InvalidCalendar(f"the schedule is not JSON: {exc}", field="body") from None
    return check_schedule(schedule)


@dataclass(frozen=True)
class ChangedBy:
    """Who changes the calendar, as the change log records it."""

    label: str  # e.g. "operator ops@techx.example", "techx calendar import (user alice)"
    user_id: uuid.UUID | None = None


class CalendarCache:
    """The last snapshot this process loaded, and the version it was loaded at."""

    def __init__(self) -> None:
        self.snapshot: WorkingCalendar | None = None


async def _version(session: AsyncSession) -> str:
    last = select(CalendarChange.id).order_by(CalendarChange.id.desc()).limit(1).scalar_subquery()
    count, last = (await session.execute(select(func.count(CalendarChange.id), last))).one()
    return f"{count}:{last}"


async def load_calendar(session: AsyncSession, version: str) -> WorkingCalendar:
    """The calendar as the database holds it now, labelled with the change log's ``version`` read
    just before (a change in between only makes the next check load it again)."""
    years = (await session.scalars(select(CalendarYear.year))).all()
    days = (await session.execute(select(CalendarDay.day, CalendarDay.kind))).all()
    return WorkingCalendar.of(years, [(d, DayKind(k)) for d, k in days], version)


async def working_calendar(session: AsyncSession, cache: CalendarCache) -> WorkingCalendar:
    """The snapshot to count with in this operation: the cached one while the table is unchanged.

    One query (the change log's version) when it is; that version labels a reloaded snapshot, so a
    stale cache costs no second look at the log.
    """
    version = await _version(session)
    snapshot = cache.snapshot
    if snapshot is None or snapshot.version != version:
        cache.snapshot = snapshot = await load_calendar(session, version)
    return snapshot


def _log(session: AsyncSession, year: int, action: str, by: ChangedBy, now: datetime, details: dict[str, Any]) -> None:
    change = CalendarChange(year=year, action=action, changed_by=by.label, user_id=by.user_id, changed_at=now)
    change.details = details
    session.add(change)


async def import_year(
    session: AsyncSession, checked: CheckedYear, by: ChangedBy, now: datetime, *, replace: bool = False
) -> CalendarYear:
    """Load a year's schedule (409 ``calendar-year-loaded`` if it is loaded, unless ``replace``).

    Replacing a year is a correction of it: periods already running keep their ends.
    """
    row = await session.get(CalendarYear, checked.year, with_for_update=True)
    if row is not None and not replace:
        raise CalendarYearLoaded(
            f'{checked.year} is loaded already (from {row.notice!r}); replace it (--replace, or "replace": true) '
            "or correct single days",
            year=checked.year,
        )
    previous = None
    if row is None:
        row = CalendarYear(year=checked.year, loaded_at=now)
        session.add(row)
    else:
        previous = row.notice
        await session.execute(delete(CalendarDay).where(CalendarDay.year == checked.year))
    row.notice, row.note, row.loaded_by, row.loaded_at, row.updated_at = (
        checked.notice,
        checked.note,
        by.label,
        now,
        now,
    )
    await session.flush()
    session.add_all(
        CalendarDay(day=day, year=checked.year, kind=kind.value, name=name, notice=checked.notice)
        for day, (kind, name) in checked.days.items()
    )
    details: dict[str, Any] = {
        "notice": checked.notice,
        "note": checked.note,
        "days_off": sum(k is DayKind.OFF for k, _ in checked.days.values()),
        "make_up_workdays": sum(k is DayKind.WORKDAY for k, _ in checked.days.values()),
    }
    if previous is not None:
        details["replaced_notice"] = previous
    _log(session, checked.year, "replace" if previous is not None else "import", by, now, details)
    await session.flush()
    return row


async def correct_day(
    session: AsyncSession,
    day: date,
    kind: str,
    name: str,
    notice: str,
    reason: str,
    by: ChangedBy,
    now: datetime,
) -> CalendarDay | None:
    """Make ``day`` a day off (``off``), a make-up working day (``workday``) or an ordinary day
    (``normal``: Monday to Friday work). The year must be loaded. Returns the day's row (None for
    an ordinary day). Periods already running keep their ends."""
    year = found(await session.get(CalendarYear, day.year, with_for_update=True), CalendarYearMissing(day.year))
    name, notice = name.strip(), notice.strip()
    if kind == DayKind.WORKDAY.value and day.weekday() < SATURDAY:
        raise InvalidCalendar(f"{day} is a weekday: a make-up working day is a weekend", field="kind")
    if kind != "normal" and not name:
        raise InvalidCalendar("name the holiday (or the holiday it is worked for)", field="name")
    row = await session.get(CalendarDay, day)
    before = {"kind": row.kind, "name": row.name, "notice": row.notice} if row else {"kind": "normal"}
    if kind == "normal":
        if row is not None:
            await session.delete(row)
        row = None
    elif row is None:
        row = CalendarDay(day=day, year=day.year, kind=kind, name=name, notice=notice)
        session.add(row)
    else:
        row.kind, row.name, row.notice = kind, name, notice
    after = {"kind": kind, "name": name, "notice": notice} if row else {"kind": "normal"}
    year.updated_at = now
    details = {"day": day.isoformat(), "before": before, "after": after, "reason": reason.strip(), "notice": notice}
    _log(session, day.year, "correct", by, now, details)
    await session.flush()
    return row


async def list_years(
    session: AsyncSession, *, before: int | None = None, limit: int = 100
) -> list[tuple[CalendarYear, int, int]]:
    """Loaded years (before ``before``) with their counts of days off and make-up working days,
    newest first; ``limit + 1`` rows for a keyset page."""
    off = func.sum(case((CalendarDay.kind == DayKind.OFF.value, 1), else_=0))
    query = (
        select(CalendarYear, func.coalesce(off, 0), func.count(CalendarDay.day))
        .outerjoin(CalendarDay, CalendarDay.year == CalendarYear.year)
        .group_by(CalendarYear.year)
        .order_by(CalendarYear.year.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(CalendarYear.year < before)
    return [(y, int(o), int(total) - int(o)) for y, o, total in (await session.execute(query)).all()]


async def get_year(session: AsyncSession, year: int) -> tuple[CalendarYear, list[CalendarDay]]:
    row = found(await session.get(CalendarYear, year), NotFound(f"the calendar has no data for {year}", year=year))
    days = (await session.scalars(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day))).all()
    return row, list(days)


async def changes(
    session: AsyncSession, *, year: int | None, after: uuid.UUID | None, limit: int
) -> list[CalendarChange]:
    """The change log, newest first (``limit + 1`` rows for a keyset page)."""
    query = select(CalendarChange).order_by(CalendarChange.id.desc()).limit(limit + 1)
    if year is not None:
        query = query.where(CalendarChange.year == year)
    if after is not None:
        query = query.where(CalendarChange.id < after)
    return list((await session.scalars(query)).all())


async def notifications(session: AsyncSession) -> list[CalendarNotification]:
    query = select(CalendarNotification).order_by(CalendarNotification.created_at.desc(), CalendarNotification.id)
    return list((await session.scalars(query)).all())


async def next_year_missing(session: AsyncSession, cache: CalendarCache, now: datetime) -> int | None:
    """The next year, if the calendar has no data for it from 1 November (Beijing time)."""
    return missing_next_year(await working_calendar(session, cache), now)


async def watch(session: AsyncSession, cache: CalendarCache, now: datetime) -> tuple[int | None, bool]:
    """The next year, if it is missing from 1 November (Beijing time), and whether operators were
    told of it just now (once per year: the notification is a row, unique per year)."""
    year = await next_year_missing(session, cache, now)
    if year is None:
        return None, False
    insert = pg_insert if is_postgres(session) else sqlite_insert
    message = (
        f"the working-day calendar has no data for {year}: load the State Council's {year} schedule "
        "(techx calendar import FILE, or POST /api/v1/calendar/years); until then a period that "
        f"counts into {year} is refused with 409 calendar-year-missing"
    )
    statement = (
        insert(CalendarNotification)
        .values(id=new_id(), year=year, kind=NEXT_YEAR_MISSING, message=message, created_at=now)
        .on_conflict_do_nothing(index_elements=["year", "kind"])
        .returning(CalendarNotification.id)
    )
    return year, (await session.execute(statement)).first() is not None
