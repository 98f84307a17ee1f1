"""The Chinese working-day calendar that notice periods and payment deadlines count in.

A ``WorkingCalendar`` is an immutable snapshot of the holiday table operators maintain (see
``listings/calendar.py``): the years it has data for, their days off (statutory holidays) and their
make-up working days (the weekends worked in their place). Any other day of a covered year is a
working day from Monday to Friday. Counting into a year the calendar does not cover raises
``CalendarYearMissing`` (409 ``calendar-year-missing``): the exchange never guesses a year.

A year's schedule comes in as a ``YearSchedule`` (the import format of ``techx calendar import``
and ``POST /api/v1/calendar/years``); ``check_schedule`` turns it into a ``CheckedYear`` or refuses
it with 422 ``invalid-calendar`` naming every field at fault.

Periods are counted in Beijing time, as the exchange's public notices are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec

from listings.errors import CalendarYearMissing, InvalidCalendar

BEIJING = ZoneInfo("Asia/Shanghai")
SATURDAY = 5


class DayKind(StrEnum):
    OFF = "off"  # a day off: a statutory holiday (or a weekend within one)
    WORKDAY = "workday"  # a make-up working day: a weekend worked in place of a holiday


# ----------------------------------------------------------------------------------------------
# The import format (JSON): one year's schedule as the State Council publishes it


class ScheduledDay(msgspec.Struct, forbid_unknown_fields=True):
    date: str  # YYYY-MM-DD; checked by ``check_schedule`` so that a bad date is a 422 naming it
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class YearSchedule(msgspec.Struct, forbid_unknown_fields=True):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    notice: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # the notice it comes from, or its URL
    days_off: list[ScheduledDay]
    make_up_workdays: list[ScheduledDay] = []
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""  # e.g. "a test fixture, NOT the official schedule"


@dataclass(frozen=True)
class CheckedYear:
    """A schedule that passed ``check_schedule``: each exceptional day with its kind and name."""

    year: int
    notice: str
    note: str
    days: Mapping[dt.date, tuple[DayKind, str]]


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date, or ``ValueError``."""
    if len(text) != 10:
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def check_schedule(schedule: YearSchedule) -> CheckedYear:
    """The schedule as days, or 422 ``invalid-calendar`` naming every field at fault: a date that is
    not a date, a date outside the year, a date listed twice, a day both off and worked, a make-up
    working day that is not a Saturday or Sunday, a year without days off."""
    errors: list[dict[str, Any]] = []
    days: dict[dt.date, tuple[DayKind, str]] = {}
    where: dict[dt.date, str] = {}
    if not schedule.notice.strip():
        errors.append({"field": "notice", "message": "name the notice the schedule comes from"})
    if not schedule.days_off:
        errors.append({"field": "days_off", "message": "a year's schedule has days off"})
    for part, kind in (("days_off", DayKind.OFF), ("make_up_workdays", DayKind.WORKDAY)):
        for index, entry in enumerate(getattr(schedule, part)):
            name = f"{part}.{index}.date"
            try:
                day = parse_day(entry.date)
            except ValueError:
                errors.append({"field": name, "message": f"{entry.date!r} is not a date (YYYY-MM-DD)"})
                continue
            if day.year != schedule.year:
                errors.append({"field": name, "message": f"{day} is not in {schedule.year}"})
            elif day in days:
                other, listed = days[day][0], where[day]
                message = f"{day} is listed twice (also {listed})"
                if other is not kind:
                    message = f"{day} cannot be both a day off and a make-up working day (also {listed})"
                errors.append({"field": name, "message": message})
            elif kind is DayKind.WORKDAY and day.weekday() < SATURDAY:
                errors.append({"field": name, "message": f"{day} is a weekday: a make-up working day is a weekend"})
            else:
                days[day] = (kind, entry.name.strip() or entry.name)
                where[day] = name
    if errors:
        raise InvalidCalendar(f"the {schedule.year} schedule is not valid: {errors[0]['message']}", errors=errors)
    return CheckedYear(schedule.year, schedule.notice.strip(), schedule.note, dict(sorted(days.items())))


# ----------------------------------------------------------------------------------------------
# The calendar


@dataclass(frozen=True)
class WorkingCalendar:
    """The working days of the years the exchange has data for; see the module docstring."""

    years: frozenset[int]
    days_off: frozenset[dt.date] = frozenset()
    make_up_workdays: frozenset[dt.date] = frozenset()
    version: str = field(default="", compare=False)  # what the holiday table was when loaded

    @classmethod
    def of(cls, years: Iterable[int], days: Iterable[tuple[dt.date, DayKind]], version: str = "") -> WorkingCalendar:
        off: set[dt.date] = set()
        worked: set[dt.date] = set()
        for day, kind in days:
            (off if DayKind(kind) is DayKind.OFF else worked).add(day)
        return cls(frozenset(years), frozenset(off), frozenset(worked), version)

    def covers(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.years:
            raise CalendarYearMissing(day.year)
        if day in self.make_up_workdays:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < SATURDAY

    def _count(self, day: dt.date, count: int, step: timedelta) -> dt.date:
        if count < 0:
            raise ValueError("count must be >= 0")
        current = day
        remaining = count
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
        return self._count(day, count, timedelta(days=1))

    def working_days_before(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day before ``day`` (``day`` itself is not counted)."""
        return self._count(day, count, timedelta(days=-1))

    def working_days_end(self, opens_at: datetime, count: int) -> datetime:
        """When a period of ``count`` working days opened at ``opens_at`` ends.

        The opening day does not count; the period runs to the end (24:00 Beijing time) of the
        ``count``-th working day after it. The result is in UTC-aware form like its input.
        """
        last_day = self.add_working_days(beijing_date(opens_at), count)
        end_local = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=BEIJING)
        return end_local.astimezone(opens_at.tzinfo)

    def working_days_left(self, now: datetime, opens_at: datetime, ends_at: datetime) -> int:
        """The working days of a period (opened at ``opens_at``, ending at ``ends_at``) still to run
        at ``now``, today included while it lasts: what a notice shows as "还剩 N 个工作日". The
        opening day is not one of them (``working_days_end`` counts from the next working day), so
        on the day of publication a period of N working days has N left; 0 once it has ended."""
        if now >= ends_at:
            return 0
        day = max(beijing_date(now), beijing_date(opens_at) + timedelta(days=1))
        last = beijing_date(ends_at - timedelta(microseconds=1))
        left = 0
        while day <= last:
            left += self.is_working_day(day)
            day += timedelta(days=1)
        return left

    def next_working_day_at(self, moment: datetime, at: time) -> datetime:
        """``at`` (Beijing time) on the first working day after the Beijing day ``moment`` falls in.

        A moment at 00:00 ends the day before it (a period "to 24:00"), so the day after it may be
        that first working day. The result is in UTC-aware form like its input.
        """
        local = moment.astimezone(BEIJING)
        day = (local - timedelta(microseconds=1)).date()
        opening = datetime.combine(self.add_working_days(day, 1), at, tzinfo=BEIJING)
        return opening.astimezone(moment.tzinfo)


def calendar_days_end(opens_at: datetime, days: int) -> datetime:
    """The end of a period of ``days`` calendar days, counted like ``working_days_end``."""
    end_local = datetime.combine(beijing_date(opens_at) + timedelta(days=days + 1), time(0), tzinfo=BEIJING)
    return end_local.astimezone(opens_at.tzinfo)


def beijing_date(moment: datetime) -> date:
    """The day ``moment`` falls on in Beijing, where periods are counted."""
    return moment.astimezone(BEIJING).date()


def missing_next_year(calendar: WorkingCalendar, now: datetime) -> int | None:
    """From 1 November (Beijing time) the next year, if the calendar has no data for it yet.

    The State Council publishes a year's schedule late in the year before; from November on, an
    exchange without it would soon refuse periods that run into the new year.
    """
    today = beijing_date(now)
    following = today.year + 1
    if today.month >= 11 and not calendar.covers(following):
        return following
    return None
