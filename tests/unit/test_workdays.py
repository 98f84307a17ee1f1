"""The Chinese working-day calendar that notice periods count in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from listings.workdays import BEIJING, add_working_days, calendar_days_end, is_working_day, working_days_end


def test_statutory_holidays_and_adjusted_weekends():
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert not is_working_day(date(2026, 2, 17))  # Spring Festival
    assert is_working_day(date(2026, 9, 20))  # a Sunday worked in lieu of the National Day holiday
    assert not is_working_day(date(2026, 3, 7))  # an ordinary Saturday


def test_years_without_data_fall_back_to_monday_to_friday():
    assert is_working_day(date(2031, 1, 6))  # Monday
    assert not is_working_day(date(2031, 1, 4))  # Saturday
    assert is_working_day(date(2031, 1, 1))  # no holiday data: New Year's Day counts as a Wednesday


def test_add_working_days_skips_the_national_day_week():
    # Wednesday 30 September 2026; 1-7 October are holidays; 8 October is the next working day.
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_a_twenty_working_day_announcement():
    opens = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
    closes = working_days_end(opens, 20)
    # Twenty working days after Monday 2 March 2026 end with Monday 30 March, at 24:00 Beijing time.
    assert closes.astimezone(BEIJING) == datetime(2026, 3, 31, 0, 0, tzinfo=BEIJING)
    assert closes.tzinfo is not None


def test_calendar_days_count_weekends_and_holidays():
    opens = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    assert calendar_days_end(opens, 15).astimezone(BEIJING) == datetime(2026, 10, 16, tzinfo=BEIJING)


@given(st.dates(date(2020, 1, 1), date(2035, 12, 31)), st.integers(1, 40))
def test_the_result_is_a_working_day_with_exactly_n_working_days_in_between(start, count):
    end = add_working_days(start, count)
    assert is_working_day(end)
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d) for d in days) == count
