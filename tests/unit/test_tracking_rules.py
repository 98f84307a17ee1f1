"""Tracking's pure rules: the schedule in Beijing dates, filing and correction windows, reminders,
what a report must say, and the outcomes' tallies."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.tracking import domain
from exchange.tracking.domain import DealTrack, ReportContent, TrackingRuleBroken
from kernel.errors import InvalidState

moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


def test_a_deal_settled_late_on_31_august_utc_is_due_by_beijing_dates_clamped_to_month_end():
    settled = datetime(2026, 8, 30, 16, 30, tzinfo=UTC)  # 00:30 on 31 August in Beijing
    slots = domain.schedule(settled, (6, 12, 24, 36))
    assert [s.due_on for s in slots] == [date(2027, 2, 28), date(2027, 8, 31), date(2028, 8, 31), date(2029, 8, 31)]
    first = slots[0]
    assert first.overdue_at == domain.start_of(date(2027, 3, 1))
    assert first.opens_at == domain.start_of(date(2027, 2, 28) - timedelta(days=30))
    assert first.corrections_until == domain.start_of(date(2027, 8, 31))
    assert slots[-1].corrections_until == domain.start_of(date(2030, 8, 31))


@given(moments, st.lists(st.integers(1, 120), min_size=1, max_size=12, unique=True))
def test_reports_come_due_in_order_each_overdue_after_its_day_and_correctable_until_the_next(settled, offsets):
    slots = domain.schedule(settled, sorted(offsets))
    for a, b in itertools.pairwise(slots):
        assert a.due_on < b.due_on and a.corrections_until == domain.start_of(b.due_on)
    for s in slots:
        assert s.opens_at < s.overdue_at <= s.corrections_until
        assert (
            domain.slot_state(opens_at=s.opens_at, overdue_at=s.overdue_at, filed=False, now=s.overdue_at) == "overdue"
        )
        before = s.overdue_at - timedelta(microseconds=1)
        assert domain.slot_state(opens_at=s.opens_at, overdue_at=s.overdue_at, filed=False, now=before) == "open"


def test_the_offsets_setting_is_checked():
    for bad in ((), (12, 6), (0, 6), (6, 6), tuple(range(1, 14))):
        with pytest.raises(ValueError):
            domain.check_offsets(bad)


def test_reminders_14_days_before_and_on_the_day_then_none():
    due = date(2026, 10, 15)
    at = domain.start_of
    assert domain.reminder_now(due, at(date(2026, 9, 30))) is None
    assert domain.reminder_now(due, at(date(2026, 10, 1))) == 14
    assert domain.reminder_now(due, at(due)) == 0
    assert domain.reminder_now(due, at(date(2026, 10, 16))) is None
    assert domain.next_reminder_at(due, at(date(2026, 10, 1))) == at(due)
    assert domain.next_reminder_at(due, at(due)) is None


def test_filing_is_open_from_30_days_before_and_corrections_end_when_the_next_is_due():
    (slot, nxt) = domain.schedule(datetime(2026, 4, 1, 2, tzinfo=UTC), (6, 12))
    kw = {"opens_at": slot.opens_at, "corrections_until": slot.corrections_until}
    with pytest.raises(InvalidState):
        domain.check_may_file(**kw, filed=False, now=slot.opens_at - timedelta(seconds=1))
    domain.check_may_file(**kw, filed=False, now=slot.overdue_at + timedelta(days=300))  # late: still filed
    domain.check_may_file(**kw, filed=True, now=slot.corrections_until - timedelta(seconds=1))
    with pytest.raises(InvalidState):
        domain.check_may_file(**kw, filed=True, now=domain.start_of(nxt.due_on))


def test_a_report_names_every_field_at_fault_and_keeps_a_reason_only_when_abandoned():
    with pytest.raises(TrackingRuleBroken) as refused:
        domain.check_report(ReportContent(status="abandoned", jobs_created=-1, further_ip_count=2))
    assert [e["field"] for e in refused.value.errors or []] == ["reason", "jobs_created", "further_ip"]
    kept = domain.check_report(ReportContent(status="in_production", reason="  不需要  ", products=" 储氢罐 "))
    assert kept.reason == "" and kept.products == "储氢罐"


def test_outcomes_count_deals_by_latest_status_and_sum_reports_and_jobs():
    tracks = [
        DealTrack("in_production", "1m_10m", reports_due=2, reports_filed=2, reports_overdue=0, jobs=30),
        DealTrack(None, None, reports_due=1, reports_filed=0, reports_overdue=1, jobs=0),
        DealTrack("abandoned", "none", reports_due=1, reports_filed=1, reports_overdue=0, jobs=0),
    ]
    found = domain.outcomes(tracks)
    assert found.deals == 3 and found.jobs == 30
    assert found.by_status == {"in_development": 0, "in_production": 1, "abandoned": 1, "not_reported": 1}
    assert (found.reports_due, found.reports_filed, found.reports_overdue) == (4, 3, 1)
    assert sum(found.by_revenue_band.values()) == 2 and found.by_revenue_band["1m_10m"] == 1
