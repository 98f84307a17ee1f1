"""The Chinese working-day calendar that notice periods and payment deadlines count in.

Statutory holidays and the weekends that are worked in their place come from the
``chinese-calendar`` package; for a year it has no data for, Monday to Friday are working days.
Periods are counted in Beijing time, as the exchange's public notices are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

BEIJING = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # the package has no data for this year
        return day.weekday() < 5


def _count_working_days(day: date, count: int, step: timedelta) -> date:
    if count < 0:
        raise ValueError("count must be >= 0")
    current = day
    remaining = count
    while remaining:
        current += step
        if is_working_day(current):
            remaining -= 1
    return current


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
    return _count_working_days(day, count, timedelta(days=1))


def working_days_before(day: date, count: int) -> date:
    """The ``count``-th working day before ``day`` (``day`` itself is not counted)."""
    return _count_working_days(day, count, timedelta(days=-1))


def working_days_end(opens_at: datetime, count: int) -> datetime:
    """When a period of ``count`` working days opened at ``opens_at`` ends.

    The opening day does not count; the period runs to the end (24:00 Beijing time) of the
    ``count``-th working day after it. The result is in UTC-aware form like its input.
    """
    local_day = opens_at.astimezone(BEIJING).date()
    last_day = add_working_days(local_day, count)
    end_local = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=BEIJING)
    return end_local.astimezone(opens_at.tzinfo)


def next_working_day_at(moment: datetime, at: time) -> datetime:
    """``at`` (Beijing time) on the first working day after the Beijing day ``moment`` falls in.

    A moment at 00:00 ends the day before it (a period "to 24:00"), so the day after it may be
    that first working day. The result is in UTC-aware form like its input.
    """
    local = moment.astimezone(BEIJING)
    day = (local - timedelta(microseconds=1)).date()
    opening = datetime.combine(add_working_days(day, 1), at, tzinfo=BEIJING)
    return opening.astimezone(moment.tzinfo)


def calendar_days_end(opens_at: datetime, days: int) -> datetime:
    """The end of a period of ``days`` calendar days, counted like ``working_days_end``."""
    local_day = opens_at.astimezone(BEIJING).date()
    end_local = datetime.combine(local_day + timedelta(days=days + 1), time(0), tzinfo=BEIJING)
    return end_local.astimezone(opens_at.tzinfo)
