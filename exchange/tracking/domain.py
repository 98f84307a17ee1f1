"""Pure rules of tracking after the deal (成果转化跟踪): the schedule of a settled deal's
implementation reports in Beijing dates, when a report may be filed and corrected, when it is due
and overdue, the reminders before its due date, what a report must say, and the tallies of
outcomes. No database and no framework here; ``service.py`` and ``sweep.py`` apply these rules.

The schedule: one report at each offset in months after the deal settled (a setting,
``TECHX_TRACKING_REPORT_MONTHS``, default 6, 12, 24 and 36), due on the Beijing date that many
calendar months after the settlement's Beijing date (31 August + 6 months: the last day of
February). A report may be filed from ``FILING_OPENS_DAYS`` before its due date; it is overdue
from the day after its due date while not filed; a filed report may be corrected until the next
report is due (the last one until ``LAST_CORRECTION_MONTHS`` after its own due date).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kernel.errors import DomainError, InvalidState
from listings.domain import add_months

BEIJING = ZoneInfo("Asia/Shanghai")

DEFAULT_OFFSETS = (6, 12, 24, 36)  # months after settlement
MAX_OFFSET = 120
MAX_REPORTS = 12
FILING_OPENS_DAYS = 30  # a report may be filed from this many days before its due date
REMINDER_DAYS = (14, 0)  # reminders this many days before the due date (0: on the day)
LAST_CORRECTION_MONTHS = 12  # the last report may be corrected this long after its due date

MAX_TEXT = 2000
MAX_JOBS = 1_000_000
MAX_IP = 10_000


class TrackingRuleBroken(DomainError):
    problem_type = "tracking-rule-broken"
    status = 422
    title = "The implementation report breaks a rule of tracking"


class ReportStatus(StrEnum):
    """The state of the transferred technology's implementation the buyer reports."""

    IN_DEVELOPMENT = "in_development"  # 研发中
    IN_PRODUCTION = "in_production"  # 已投产
    ABANDONED = "abandoned"  # 已终止 (with the reason)


class RevenueBand(StrEnum):
    """Revenue from the technology in the period reported, in bands (yuan)."""

    NONE = "none"  # 无
    UNDER_1M = "under_1m"  # 100万元以下
    FROM_1M_TO_10M = "1m_10m"  # 100万–1000万元
    FROM_10M_TO_100M = "10m_100m"  # 1000万–1亿元
    OVER_100M = "over_100m"  # 1亿元以上


class SlotState(StrEnum):
    """Where a report of the schedule stands at a moment."""

    UPCOMING = "upcoming"  # not yet open for filing
    OPEN = "open"  # may be filed; not yet past its due date
    OVERDUE = "overdue"  # past its due date, not filed
    FILED = "filed"


# -- the schedule --------------------------------------------------------------------------------


def check_offsets(offsets: Sequence[int]) -> tuple[int, ...]:
    """1 to 12 offsets in months, each 1 to 120, strictly increasing; ValueError otherwise."""
    values = tuple(offsets)
    if not 1 <= len(values) <= MAX_REPORTS:
        raise ValueError(f"tracking needs 1 to {MAX_REPORTS} report offsets")
    if any(not 1 <= v <= MAX_OFFSET for v in values):
        raise ValueError(f"a report offset is 1 to {MAX_OFFSET} months")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError("report offsets increase strictly")
    return values


def beijing_date(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def start_of(day: date) -> datetime:
    """00:00 of ``day`` on a Beijing clock, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=BEIJING)


@dataclass(frozen=True)
class Slot:
    """One report of a deal's schedule: its place (``seq`` from 0), its offset and its moments."""

    seq: int
    months: int
    due_on: date  # a Beijing date
    opens_at: datetime  # filing opens (00:00 Beijing, FILING_OPENS_DAYS before the due date)
    overdue_at: datetime  # 00:00 Beijing the day after the due date
    corrections_until: datetime  # a filed report may be corrected until then


def schedule(settled_at: datetime, offsets: Sequence[int]) -> list[Slot]:
    """The reports of a deal settled at ``settled_at``."""
    months = check_offsets(offsets)
    settled_on = beijing_date(settled_at)
    dues = [add_months(settled_on, m) for m in months]
    slots = []
    for seq, (m, due_on) in enumerate(zip(months, dues, strict=True)):
        until = dues[seq + 1] if seq + 1 < len(dues) else add_months(due_on, LAST_CORRECTION_MONTHS)
        slots.append(
            Slot(
                seq=seq,
                months=m,
                due_on=due_on,
                opens_at=start_of(due_on - timedelta(days=FILING_OPENS_DAYS)),
                overdue_at=start_of(due_on + timedelta(days=1)),
                corrections_until=start_of(until),
            )
        )
    return slots


def slot_state(*, opens_at: datetime, overdue_at: datetime, filed: bool, now: datetime) -> SlotState:
    if filed:
        return SlotState.FILED
    if now < opens_at:
        return SlotState.UPCOMING
    return SlotState.OPEN if now < overdue_at else SlotState.OVERDUE


def reminder_moments(due_on: date) -> list[tuple[int, datetime]]:
    """The reminders of a report due on ``due_on``: (days before, 00:00 Beijing of that day)."""
    return [(days, start_of(due_on - timedelta(days=days))) for days in REMINDER_DAYS]


def reminder_now(due_on: date, now: datetime) -> int | None:
    """The reminder to tell at ``now`` (days before the due date): the latest one whose moment
    has come, while the report is not overdue; None before the first and from the day after."""
    if now >= start_of(due_on + timedelta(days=1)):
        return None
    reached = [days for days, at in reminder_moments(due_on) if at <= now]
    return min(reached) if reached else None


def next_reminder_at(due_on: date, now: datetime) -> datetime | None:
    """When the next reminder after ``now`` is due; None when none is left."""
    later = [at for _, at in reminder_moments(due_on) if at > now]
    return min(later) if later else None


def check_may_file(*, opens_at: datetime, corrections_until: datetime, filed: bool, now: datetime) -> None:
    """A report is filed from its opening on (late too), and corrected until ``corrections_until``."""
    if now < opens_at:
        opens_on = opens_at.astimezone(BEIJING).date().isoformat()
        raise InvalidState(
            f"this report may be filed from {opens_on} (Beijing time), {FILING_OPENS_DAYS} days before it is due",
            state=SlotState.UPCOMING.value,
        )
    if filed and now >= corrections_until:
        raise InvalidState(
            "a filed report may be corrected only until the next report is due", state=SlotState.FILED.value
        )


# -- what a report says --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContent:
    status: str
    reason: str = ""
    products: str = ""
    revenue_band: str = RevenueBand.NONE.value
    jobs_created: int = 0
    further_ip_count: int = 0
    further_ip: str = ""


def check_report(content: ReportContent) -> ReportContent:
    """The report as stored (texts trimmed; an abandonment's reason kept, others' dropped). Every
    broken rule is reported at once, each naming its field (422)."""
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    if content.status not in {s.value for s in ReportStatus}:
        fail("status", "one of in_development, in_production, abandoned")
    if content.revenue_band not in {b.value for b in RevenueBand}:
        fail("revenue_band", "one of none, under_1m, 1m_10m, 10m_100m, over_100m")
    reason, products, further_ip = content.reason.strip(), content.products.strip(), content.further_ip.strip()
    if content.status == ReportStatus.ABANDONED.value and not reason:
        fail("reason", "an abandoned implementation needs its reason")
    for name, text in (("reason", reason), ("products", products), ("further_ip", further_ip)):
        if len(text) > MAX_TEXT:
            fail(name, f"at most {MAX_TEXT} characters")
    if not 0 <= content.jobs_created <= MAX_JOBS:
        fail("jobs_created", f"a count from 0 to {MAX_JOBS:,}")
    if not 0 <= content.further_ip_count <= MAX_IP:
        fail("further_ip_count", f"a count from 0 to {MAX_IP:,}")
    elif content.further_ip_count > 0 and not further_ip:
        fail("further_ip", "describe the further IP counted (titles or numbers)")
    if errors:
        raise TrackingRuleBroken(errors[0]["message"], errors=errors)
    return ReportContent(
        status=content.status,
        reason=reason if content.status == ReportStatus.ABANDONED.value else "",
        products=products,
        revenue_band=content.revenue_band,
        jobs_created=content.jobs_created,
        further_ip_count=content.further_ip_count,
        further_ip=further_ip,
    )


# -- outcomes ------------------------------------------------------------------------------------

NOT_REPORTED = "not_reported"  # a tracked deal with no report filed yet


@dataclass(frozen=True)
class DealTrack:
    """What the tallies read of one tracked deal at a moment."""

    latest_status: str | None  # of its latest filed report
    latest_band: str | None
    reports_due: int  # reports whose due date has come
    reports_filed: int
    reports_overdue: int
    jobs: int  # jobs created, as its latest filed report says


@dataclass(frozen=True)
class Outcomes:
    deals: int
    by_status: dict[str, int]
    reports_due: int
    reports_filed: int
    reports_overdue: int
    jobs: int
    by_revenue_band: dict[str, int]


def outcomes(tracks: Iterable[DealTrack]) -> Outcomes:
    """Deals by their latest reported status (``not_reported`` when none is filed), reports due,
    filed and overdue, the jobs the latest reports count, and the latest revenue bands."""
    rows = list(tracks)
    statuses = Counter(t.latest_status or NOT_REPORTED for t in rows)
    bands = Counter(t.latest_band for t in rows if t.latest_band)
    return Outcomes(
        deals=len(rows),
        by_status={key: statuses.get(key, 0) for key in (*(s.value for s in ReportStatus), NOT_REPORTED)},
        reports_due=sum(t.reports_due for t in rows),
        reports_filed=sum(t.reports_filed for t in rows),
        reports_overdue=sum(t.reports_overdue for t in rows),
        jobs=sum(t.jobs for t in rows),
        by_revenue_band={b.value: bands.get(b.value, 0) for b in RevenueBand},
    )
