"""Pure rules of the credit evaluation of service institutions (服务与信用评价): a rating's marks, the
published credit score and its grade, and the criteria of a demonstration institution (示范机构).

No database and no framework here; ``service.py`` gathers the facts and applies these rules. The
formula is published in docs/credit.md with the same constants.

The score of a provider at a moment ``now``::

    weight(r)   = 0.5 ** (age of r in days / HALF_LIFE_DAYS)           each rating r
    mark(r)     = (quality + timeliness + professionalism) / 3           1 … 5
    mean        = (PRIOR_MEAN × PRIOR_WEIGHT + Σ weight × mark) / (PRIOR_WEIGHT + Σ weight)
    base        = (mean − 1) / 4 × 100                                   0 … 100
    penalties   = Σ points of each penalty still within its window
    score       = clamp(base − penalties, 0, 100), kept to one decimal (tenths)

A provider with neither a rating nor a penalty has no score and no grade (未评级).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from kernel.errors import Conflict, DomainError

# -- the published constants -------------------------------------------------------------------------

PRIOR_MEAN = 3.5  # every provider starts from a middling mark …
PRIOR_WEIGHT = 3.0  # … worth three fresh ratings: one or two ratings cannot make or break a score
HALF_LIFE_DAYS = 365.0  # a rating a year old counts half as much as a fresh one


class PenaltyKind(StrEnum):
    UPHELD_COMPLAINT = "upheld_complaint"  # an operator upheld a client's complaint
    REVOCATION = "revocation"  # a voucher program revoked the provider
    MISSED_DELIVERY = "missed_delivery"  # the provider cancelled a service order it had confirmed


@dataclass(frozen=True)
class PenaltyRule:
    points: float  # taken off the score, each
    window_days: int  # counted while younger than this


PENALTIES: dict[PenaltyKind, PenaltyRule] = {
    PenaltyKind.UPHELD_COMPLAINT: PenaltyRule(points=10.0, window_days=730),
    PenaltyKind.REVOCATION: PenaltyRule(points=15.0, window_days=1095),
    PenaltyKind.MISSED_DELIVERY: PenaltyRule(points=5.0, window_days=365),
}


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"

    def meets(self, minimum: Grade) -> bool:
        """A is the best grade: A meets every minimum, D only D."""
        return GRADE_ORDER.index(self) <= GRADE_ORDER.index(minimum)


GRADE_ORDER = (Grade.A, Grade.B, Grade.C, Grade.D)
# The least score (tenths of a point) of each grade, best first; below the last: D.
GRADE_THRESHOLDS: tuple[tuple[Grade, int], ...] = ((Grade.A, 850), (Grade.B, 700), (Grade.C, 550))

# Demonstration institutions (示范机构): the published criteria.
DEMONSTRATION_MIN_GRADE = Grade.A
DEMONSTRATION_MIN_ENGAGEMENTS = 5  # finished service orders and brokered deals
DEMONSTRATION_CLEAN_DAYS = 365  # no complaint upheld within this many days

BEIJING = ZoneInfo("Asia/Shanghai")


# -- errors ------------------------------------------------------------------------------------------


class CreditRuleBroken(DomainError):
    status = 422
    problem_type = "credit-rule-broken"
    title = "The request breaks a rule of the credit evaluation"


class EngagementNotFinished(DomainError):
    status = 409
    problem_type = "engagement-not-finished"
    title = "Only a finished service order or brokered deal is rated"


class AlreadyRated(Conflict):
    problem_type = "already-rated"
    title = "An engagement is rated once"


class AlreadyAnswered(Conflict):
    problem_type = "already-answered"
    title = "A provider answers a rating once"


class ComplaintOpen(Conflict):
    problem_type = "complaint-open"
    title = "A complaint about this engagement is waiting for an operator"


class ComplaintDecided(Conflict):
    problem_type = "complaint-decided"
    title = "The complaint is decided already"


class CriteriaNotMet(DomainError):
    status = 422
    problem_type = "demonstration-criteria-not-met"
    title = "The provider does not meet the criteria of a demonstration institution"


class ProviderGradeTooLow(DomainError):
    status = 422
    problem_type = "provider-grade-too-low"
    title = "The program requires a better credit grade of its service providers"


# -- engagements, ratings, complaints ----------------------------------------------------------------


class EngagementKind(StrEnum):
    SERVICE_ORDER = "service_order"  # an innovation-voucher service order, finished when accepted
    BROKERED_DEAL = "brokered_deal"  # a broker engagement bound to a deal, finished when it settled


class ComplaintStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class ComplaintDecision(StrEnum):
    UPHOLD = "uphold"
    DISMISS = "dismiss"


DECIDED_STATUS = {
    ComplaintDecision.UPHOLD: ComplaintStatus.UPHELD,
    ComplaintDecision.DISMISS: ComplaintStatus.DISMISSED,
}

MARK_FIELDS = ("quality", "timeliness", "professionalism")


def check_marks(quality: int, timeliness: int, professionalism: int) -> None:
    for name, value in zip(MARK_FIELDS, (quality, timeliness, professionalism), strict=True):
        if not 1 <= value <= 5:
            raise CreditRuleBroken(f"{name} is a mark from 1 to 5, not {value}", field=name)


def check_reason(reason: str, field: str = "reason") -> str:
    reason = reason.strip()
    if not reason:
        raise CreditRuleBroken("a reason is required", field=field)
    return reason


def next_complaint_status(status: str, decision: ComplaintDecision) -> ComplaintStatus:
    if status != ComplaintStatus.OPEN.value:
        raise ComplaintDecided(f"the complaint is {status} already", state=status)
    return DECIDED_STATUS[decision]


# -- the score ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingFact:
    quality: int
    timeliness: int
    professionalism: int
    at: datetime

    @property
    def mark(self) -> float:
        return (self.quality + self.timeliness + self.professionalism) / 3


@dataclass(frozen=True)
class PenaltyFact:
    kind: PenaltyKind
    at: datetime
    ref: str = ""  # what it is about (a complaint, a program, an order)
    note: str = ""


def decay_weight(at: datetime, now: datetime) -> float:
    """A rating's weight: 1 when fresh, half after HALF_LIFE_DAYS; never above 1 (a future date counts as now)."""
    age_days = max(0.0, (now - at).total_seconds() / 86_400)
    return float(0.5 ** (age_days / HALF_LIFE_DAYS))


def counts(penalty: PenaltyFact, now: datetime) -> bool:
    return now - penalty.at < timedelta(days=PENALTIES[penalty.kind].window_days)


def grade_of(score_tenths: int) -> Grade:
    for grade, least in GRADE_THRESHOLDS:
        if score_tenths >= least:
            return grade
    return Grade.D


@dataclass(frozen=True)
class Score:
    """A provider's score with how it was made (stored as ``breakdown`` and shown to the provider)."""

    score_tenths: int  # 0 … 1000: the score is score_tenths / 10
    grade: Grade
    ratings: int
    weight: float  # Σ weight of the ratings
    mean: float  # the Bayesian mean mark, 1 … 5
    base: float  # 0 … 100, before penalties
    penalty_points: float
    penalties: tuple[dict[str, Any], ...] = field(default=())

    @property
    def score(self) -> float:
        return self.score_tenths / 10

    def breakdown(self) -> dict[str, Any]:
        return {
            "prior_mean": PRIOR_MEAN,
            "prior_weight": PRIOR_WEIGHT,
            "half_life_days": HALF_LIFE_DAYS,
            "ratings": self.ratings,
            "ratings_weight": round(self.weight, 4),
            "mean": round(self.mean, 4),
            "base": round(self.base, 2),
            "penalties": list(self.penalties),
            "penalty_points": round(self.penalty_points, 2),
            "score": self.score,
            "grade": self.grade.value,
            "thresholds": {g.value: least / 10 for g, least in GRADE_THRESHOLDS},
        }


def compute_score(ratings: Sequence[RatingFact], penalties: Iterable[PenaltyFact], now: datetime) -> Score:
    """The published formula (the module's docstring). Pure: the same facts and ``now``, the same score."""
    weight = 0.0
    weighted = 0.0
    for rating in ratings:
        w = decay_weight(rating.at, now)
        weight += w
        weighted += w * rating.mark
    mean = (PRIOR_MEAN * PRIOR_WEIGHT + weighted) / (PRIOR_WEIGHT + weight)
    base = (mean - 1) / 4 * 100
    counted = []
    points = 0.0
    for penalty in sorted(penalties, key=lambda p: (p.at, p.kind.value, p.ref)):
        if not counts(penalty, now):
            continue
        rule = PENALTIES[penalty.kind]
        points += rule.points
        counted.append(
            {"kind": penalty.kind.value, "at": penalty.at.isoformat(), "points": rule.points, "ref": penalty.ref,
             "note": penalty.note, "until": (penalty.at + timedelta(days=rule.window_days)).isoformat()}
        )  # fmt: skip
    tenths = round(min(100.0, max(0.0, base - points)) * 10)
    tenths = min(1000, max(0, tenths))
    return Score(
        score_tenths=tenths, grade=grade_of(tenths), ratings=len(ratings), weight=weight, mean=mean, base=base,
        penalty_points=points, penalties=tuple(counted),
    )  # fmt: skip


def refresh_cutoff(now: datetime) -> datetime:
    """The start of ``now``'s Beijing day: a graded score computed before it has aged (its ratings'
    weights decayed, a penalty's window may have closed, a designation's criteria may have lapsed)
    and the daily sweep recomputes it; one computed since is left alone until the next day."""
    day = now.astimezone(BEIJING).date()
    return datetime.combine(day, time(0), tzinfo=BEIJING).astimezone(UTC)


def has_score(ratings: int, penalties: int) -> bool:
    """A provider is graded once it has a rating or a penalty; before that it is unrated (未评级)."""
    return ratings > 0 or penalties > 0


# -- demonstration institutions ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemonstrationFacts:
    grade: Grade | None
    engagements: int  # finished service orders and brokered deals
    last_upheld_at: datetime | None  # the latest upheld complaint's decision


def unmet_criteria(facts: DemonstrationFacts, now: datetime) -> list[tuple[str, str]]:
    """(criterion, why) for each published criterion the provider does not meet; empty: it qualifies."""
    unmet = []
    if facts.grade is None or not facts.grade.meets(DEMONSTRATION_MIN_GRADE):
        shown = facts.grade.value if facts.grade else "unrated"
        unmet.append(("grade", f"grade {DEMONSTRATION_MIN_GRADE.value} is required; the provider's is {shown}"))
    if facts.engagements < DEMONSTRATION_MIN_ENGAGEMENTS:
        unmet.append(
            (
                "engagements",
                f"{DEMONSTRATION_MIN_ENGAGEMENTS} finished engagements are required; it has {facts.engagements}",
            )
        )
    if facts.last_upheld_at is not None and now - facts.last_upheld_at < timedelta(days=DEMONSTRATION_CLEAN_DAYS):
        unmet.append(("upheld_complaints", f"a complaint was upheld within {DEMONSTRATION_CLEAN_DAYS} days"))
    return unmet


def require_criteria(facts: DemonstrationFacts, now: datetime) -> None:
    unmet = unmet_criteria(facts, now)
    if unmet:
        raise CriteriaNotMet("; ".join(w for _, w in unmet), field=unmet[0][0], criteria=[c for c, _ in unmet])


def require_grade(minimum: str | None, grade: Grade | None, provider_org_id: uuid.UUID, field: str) -> None:
    """A voucher program's ``min_provider_grade``: the provider's grade meets it (an unrated provider does not)."""
    if not minimum:
        return
    needed = Grade(minimum)
    if grade is None or not grade.meets(needed):
        shown = grade.value if grade else "unrated"
        raise ProviderGradeTooLow(
            f"the program's min_provider_grade is {needed.value}; the provider's grade is {shown}",
            field=field, min_provider_grade=needed.value, provider_grade=shown, provider_org_id=str(provider_org_id),
        )  # fmt: skip
