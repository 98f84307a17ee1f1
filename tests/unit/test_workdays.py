"""The Chinese working-day calendar that notice periods count in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from listings.calendar import read_schedule
from listings.errors import CalendarYearMissing, InvalidCalendar
from listings.workdays import BEIJING, WorkingCalendar, calendar_days_end, missing_next_year
from tests.calendar_helpers import FIXTURE_2027, PACKAGE, WITH_2027


def test_statutory_holidays_and_adjusted_weekends():
    assert not PACKAGE.is_working_day(date(2026, 10, 1))  # National Day
    assert not PACKAGE.is_working_day(date(2026, 2, 17))  # Spring Festival
    assert PACKAGE.is_working_day(date(2026, 9, 20))  # a Sunday worked in lieu of the National Day holiday
    assert not PACKAGE.is_working_day(date(2026, 3, 7))  # an ordinary Saturday


def test_a_year_without_data_is_refused_never_guessed():
    with pytest.raises(CalendarYearMissing) as refused:
        PACKAGE.is_working_day(date(2027, 1, 4))
    assert refused.value.year == 2027 and refused.value.status == 409
    assert refused.value.problem_type == "calendar-year-missing"
    # A period that would end in 2027 is refused; one that ends within 2026 is counted.
    with pytest.raises(CalendarYearMissing):
        PACKAGE.working_days_end(datetime(2026, 12, 14, 1, tzinfo=UTC), 20)
    assert PACKAGE.working_days_end(datetime(2026, 12, 14, 1, tzinfo=UTC), 5).year == 2026


def test_the_issue_example_a_2027_announcement_skips_spring_festival_and_counts_make_up_saturdays():
    """Opened Monday 25 January 2027: Monday to Friday alone would end it on 22 February; with the
    fixture (5–13 February off, Saturdays 30 January and 20 February worked) it ends 26 February."""
    opens = datetime(2027, 1, 25, 1, 0, tzinfo=UTC)  # 09:00 Beijing
    closes = WITH_2027.working_days_end(opens, 20)
    assert closes.astimezone(BEIJING) == datetime(2027, 2, 27, 0, 0, tzinfo=BEIJING)
    assert not WITH_2027.is_working_day(date(2027, 2, 8))  # a Monday of Spring Festival
    assert WITH_2027.is_working_day(date(2027, 1, 30))  # a make-up Saturday
    monday_to_friday = WorkingCalendar(frozenset({2027}))
    # Monday to Friday alone: to 24:00 on Monday 22 February, the early end the issue describes.
    assert monday_to_friday.working_days_end(opens, 20).astimezone(BEIJING) == datetime(2027, 2, 23, tzinfo=BEIJING)


def test_add_working_days_skips_the_national_day_week():
    # Wednesday 30 September 2026; 1-7 October are holidays; 8 October is the next working day.
    assert PACKAGE.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert PACKAGE.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_a_twenty_working_day_announcement():
    opens = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
    closes = PACKAGE.working_days_end(opens, 20)
    # Twenty working days after Monday 2 March 2026 end with Monday 30 March, at 24:00 Beijing time.
    assert closes.astimezone(BEIJING) == datetime(2026, 3, 31, 0, 0, tzinfo=BEIJING)
    assert closes.tzinfo is not None


def test_calendar_days_count_weekends_and_holidays():
    opens = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    assert calendar_days_end(opens, 15).astimezone(BEIJING) == datetime(2026, 10, 16, tzinfo=BEIJING)


@given(st.dates(date(2004, 1, 1), date(2027, 10, 31)), st.integers(1, 40))
def test_the_result_is_a_working_day_with_exactly_n_working_days_in_between(start, count):
    end = WITH_2027.add_working_days(start, count)
    assert WITH_2027.is_working_day(end)
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(WITH_2027.is_working_day(d) for d in days) == count


def test_from_1_november_the_missing_next_year_is_reported():
    assert missing_next_year(PACKAGE, datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) is None  # 23:59 on 31 October
    assert missing_next_year(PACKAGE, datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == 2027  # 00:00 on 1 November
    assert missing_next_year(WITH_2027, datetime(2026, 12, 2, tzinfo=UTC)) is None


def test_the_fixture_says_it_is_not_the_official_schedule():
    checked = read_schedule(FIXTURE_2027.read_bytes())
    assert "not" in checked.notice.lower() and "fixture" in checked.notice.lower()
    assert "NOT the official schedule" in checked.note


def _schedule(**changes: object) -> bytes:
    body: dict[str, object] = {
        "year": 2027,
        "notice": "国办发明电〔2026〕1号",
        "days_off": [{"date": "2027-02-08", "name": "春节"}],
        "make_up_workdays": [{"date": "2027-02-20", "name": "春节调休"}],
    }
    body.update(changes)
    return msgspec.json.encode(body)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"days_off": [{"date": "2027-02-30", "name": "春节"}]}, "days_off.0.date"),
        ({"days_off": [{"date": "8 Feb 2027", "name": "春节"}]}, "days_off.0.date"),
        ({"days_off": [{"date": "2026-02-08", "name": "春节"}]}, "days_off.0.date"),
        (
            {"days_off": [{"date": "2027-02-08", "name": "春节"}, {"date": "2027-02-08", "name": "春节"}]},
            "days_off.1.date",
        ),
        ({"make_up_workdays": [{"date": "2027-02-08", "name": "调休"}]}, "make_up_workdays.0.date"),
        ({"make_up_workdays": [{"date": "2027-02-22", "name": "调休"}]}, "make_up_workdays.0.date"),
        ({"days_off": []}, "days_off"),
        ({"notice": ""}, "notice"),
        ({"days_off": [{"date": "2027-02-08"}]}, "days_off.0"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(changes, field):
    with pytest.raises(InvalidCalendar) as refused:
        read_schedule(_schedule(**changes))
    assert refused.value.status == 422
    assert field in [e["field"] for e in refused.value.errors or []], refused.value.errors


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30)).map(lambda d: d.replace(tzinfo=UTC)),
    st.integers(min_value=1, max_value=20),
)
def test_working_days_left_is_the_period_on_its_first_day_and_counts_down_to_zero(opened, count):
    ends_at = PACKAGE.working_days_end(opened, count)
    assert PACKAGE.working_days_left(opened, opened, ends_at) == count
    assert PACKAGE.working_days_left(ends_at - timedelta(seconds=1), opened, ends_at) == 1
    assert PACKAGE.working_days_left(ends_at, opened, ends_at) == 0


def test_working_days_left_on_a_weekend_counts_the_days_still_to_come():
    # Opened on Friday 2026-03-06; on Saturday 2026-03-07 the period ends at 24:00 on Tuesday 2026-03-10.
    opened = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)
    now = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
    ends_at = PACKAGE.working_days_end(opened, 2)
    assert ends_at == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    assert PACKAGE.working_days_left(now, opened, ends_at) == 2  # Monday and Tuesday
