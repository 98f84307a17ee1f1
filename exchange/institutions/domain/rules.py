"""An institution's settings (its notice periods, the inventors' declared share, the extra-approval
threshold) and when its notices close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from exchange.institutions.domain.refusals import (
    BP,
    InvalidInstitutionRules,
    Problems,
)
from listings.domain import NoticePeriod
from listings.workdays import WorkingCalendar

# ----------------------------------------------------------------------------------------------
# The institution's settings and its notice period


class PeriodUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"  # on the exchange's working-day calendar


DEFAULT_DECISION_BODY = "成果转化工作领导小组"  # the body that decides, unless the institution names its own
MIN_NOTICE_DAYS = 15  # a transfer's public notice runs at least 15 days (calendar or working)
MAX_NOTICE_DAYS = 90
SHANGHAI_INVENTOR_SHARE_BP = 7_000  # the least share of income a Shanghai public institution gives its inventors
EXTRA_APPROVAL_THRESHOLD_FEN = 30_000_000  # ¥300,000 per person


@dataclass(frozen=True)
class InstitutionRules:
    public: bool = True  # a university or research institute
    notice_days: int = 15
    notice_unit: PeriodUnit = PeriodUnit.CALENDAR_DAYS
    plan_notice_days: int = 15  # the distribution plan's own notice
    plan_notice_unit: PeriodUnit = PeriodUnit.WORKING_DAYS
    inventor_share_bp: int = SHANGHAI_INVENTOR_SHARE_BP  # the declared least share of the inventors
    extra_approval_threshold_fen: int = EXTRA_APPROVAL_THRESHOLD_FEN


def check_institution_rules(rules: InstitutionRules, *, public_minimum_bp: int) -> None:
    """422 ``invalid-institution-rules`` naming every setting at fault: the transfer notice runs
    ``MIN_NOTICE_DAYS`` to ``MAX_NOTICE_DAYS`` days, the plan's notice 1 to ``MAX_NOTICE_DAYS``; the
    declared inventor share is at most 100% and, for a public institution, at least
    ``public_minimum_bp``; the extra-approval threshold is positive."""
    fail = Problems()
    if not MIN_NOTICE_DAYS <= rules.notice_days <= MAX_NOTICE_DAYS:
        fail("notice_days", f"a transfer's notice runs {MIN_NOTICE_DAYS} to {MAX_NOTICE_DAYS} days")
    if not 1 <= rules.plan_notice_days <= MAX_NOTICE_DAYS:
        fail("plan_notice_days", f"a distribution plan's notice runs 1 to {MAX_NOTICE_DAYS} days")
    if not 0 <= rules.inventor_share_bp <= BP:
        fail("inventor_share_bp", f"a share is 0 to {BP} bp")
    elif rules.public and rules.inventor_share_bp < public_minimum_bp:
        fail(
            "inventor_share_bp",
            f"a public institution's inventors receive at least {public_minimum_bp / 100:g}% ({public_minimum_bp} bp)",
        )
    if rules.extra_approval_threshold_fen <= 0:
        fail("extra_approval_threshold_fen", "the threshold is a positive amount of fen")
    fail.raise_as(InvalidInstitutionRules)


def notice_closes_at(opens_at: datetime, days: int, unit: PeriodUnit, calendar: WorkingCalendar) -> datetime:
    """When a notice opened at ``opens_at`` closes: at 24:00 Beijing time of the ``days``-th day
    (calendar or working) after the opening day, exactly as the exchange's own notices count
    (``listings.domain.NoticePeriod``). Working days count on ``calendar``: a period that runs
    into a year it has no data for is 409 ``calendar-year-missing``."""
    if days < 1:
        raise InvalidInstitutionRules("notice_days: a notice runs at least one day", field="notice_days")
    return NoticePeriod(days, working_days=unit is PeriodUnit.WORKING_DAYS).end(opens_at, calendar)
