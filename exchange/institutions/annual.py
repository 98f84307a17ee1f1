"""The annual report's rules (年度报告), pure: the year in Beijing time, how the year's disclosures,
deals, receipts and paid plans are counted and summed, the office's inputs and their checks, and the
exchange-wide totals. No database here: ``reports.py`` reads the rows and hands them in.

Amounts are fen. A moment belongs to the year in which it falls on a Beijing clock: a deal formed at
23:30 on 31 December, Beijing time (15:30 UTC), is the old year's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from exchange.institutions.domain import FundingKind, InstitutionRuleBroken, IntendedForm, PayeeKind

BEIJING = ZoneInfo("Asia/Shanghai")
MIN_YEAR, MAX_YEAR = 2000, 2100
DEAL_TYPES = ("transfer", "license", "equity")
CONTRACT_KINDS = ("development", "consulting", "service")  # 技术开发、咨询、服务合同
FORMS = tuple(f.value for f in IntendedForm)
FUNDING = tuple(f.value for f in FundingKind)


class InvalidAnnualReport(InstitutionRuleBroken):
    problem_type = "invalid-annual-report"
    title = "The annual report's year or inputs break a rule"


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidAnnualReport(f"year: a year from {MIN_YEAR} to {MAX_YEAR}", field="year")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January 00:00, next 1 January 00:00) on a Beijing clock, as aware datetimes."""
    check_year(year)
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


def beijing_year(moment: datetime) -> int:
    return moment.astimezone(BEIJING).year


# -- what the rows say ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureFacts:
    """What the report counts of one disclosure."""

    ip_kinds: tuple[str, ...]  # the kind of each IP asset, one entry per asset
    government_funded: bool  # any funding source of kind government
    form: str  # the intended form


def disclosure_facts(
    ip_assets: Sequence[Mapping[str, Any]], funding: Sequence[Mapping[str, Any]], form: str
) -> DisclosureFacts:
    return DisclosureFacts(
        ip_kinds=tuple(str(a.get("kind", "")) for a in ip_assets),
        government_funded=any(f.get("kind") == FundingKind.GOVERNMENT.value for f in funding),
        form=form,
    )


@dataclass(frozen=True)
class DealFacts:
    """A deal the report counts: formed (created) in the year and not cancelled."""

    deal_id: str
    listing_id: str
    title: str
    deal_type: str
    price: int
    state: str
    formed_at: datetime


@dataclass(frozen=True)
class Tally:
    count: int = 0
    amount: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.amount + other.amount)


# -- the sections --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Achievements:
    """一、科技成果: disclosures of the year; IP assets counted one by one, by kind."""

    disclosures: int
    ip_assets: int
    by_ip_kind: dict[str, int]
    by_funding: dict[str, int]  # government | other: a disclosure with any government source is government-funded
    by_form: dict[str, int]


def achievements(disclosures: Iterable[DisclosureFacts]) -> Achievements:
    rows = list(disclosures)
    kinds = Counter(kind for d in rows for kind in d.ip_kinds)
    funded = sum(1 for d in rows if d.government_funded)
    forms = Counter(d.form for d in rows)
    return Achievements(
        disclosures=len(rows),
        ip_assets=sum(kinds.values()),
        by_ip_kind=dict(sorted(kinds.items())),
        by_funding={FundingKind.GOVERNMENT.value: funded, FundingKind.OTHER.value: len(rows) - funded},
        by_form={form: forms.get(form, 0) for form in FORMS},
    )


@dataclass(frozen=True)
class DealSection:
    """二、转化: deals formed in the year by deal type (count and price), and their total."""

    by_type: dict[str, Tally]
    total: Tally
    deals: tuple[DealFacts, ...]


def deal_section(deals: Iterable[DealFacts]) -> DealSection:
    rows = tuple(sorted(deals, key=lambda d: (d.formed_at, d.deal_id)))
    by_type = {t: Tally() for t in DEAL_TYPES}
    for deal in rows:
        by_type[deal.deal_type] = by_type.get(deal.deal_type, Tally()) + Tally(1, deal.price)
    total = sum(by_type.values(), Tally())
    return DealSection(by_type, total, rows)


@dataclass(frozen=True)
class Income:
    """三、收入与分配: income received in the year; what plans paid in the year gave the inventors and
    what they kept for the institution's parts (the retained part), each part by name."""

    received: Tally  # receipts and their amount
    plans_paid: int
    to_inventors: int
    retained: int
    retained_by_part: dict[str, int]


def income(receipts: Iterable[int], paid_plans: Iterable[Sequence[Mapping[str, Any]]]) -> Income:
    amounts = list(receipts)
    plans = list(paid_plans)
    inventors = retained = 0
    parts: Counter[str] = Counter()
    for payouts in plans:
        for payout in payouts:
            amount = int(payout["amount"])
            if payout.get("kind") == PayeeKind.INVENTOR.value:
                inventors += amount
            else:
                retained += amount
                parts[str(payout.get("name", ""))] += amount
    return Income(Tally(len(amounts), sum(amounts)), len(plans), inventors, retained, dict(sorted(parts.items())))


# -- the office's inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class JointBody:
    name: str
    partner: str
    founded_on: date | None


@dataclass(frozen=True)
class AnnualInputs:
    """四、What the exchange does not record, typed by the office."""

    contracts: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in CONTRACT_KINDS})
    joint_bodies: tuple[JointBody, ...] = ()
    problems: str = ""
    plans: str = ""


MAX_COUNT = 10**9
MAX_FEN = 10**15
MAX_NAME = 200
MAX_TEXT = 5000
MAX_JOINT_BODIES = 200


def _refuse(field: str, rule: str) -> InvalidAnnualReport:
    return InvalidAnnualReport(f"{field}: {rule}", field=field)


def check_inputs(inputs: AnnualInputs, year: int) -> None:
    """Counts from 0 to a billion and amounts from 0 to 10^15 fen; a kind of contract with no
    contracts has no amount; a joint body is named (up to 200 characters) once and was not founded
    after the year it is reported for; problems and plans up to 5,000 characters. 422 naming the field."""
    for kind in CONTRACT_KINDS:
        tally = inputs.contracts.get(kind, Tally())
        if not 0 <= tally.count <= MAX_COUNT:
            raise _refuse(f"contracts.{kind}.count", f"a count from 0 to {MAX_COUNT:,}")
        if not 0 <= tally.amount <= MAX_FEN:
            raise _refuse(f"contracts.{kind}.amount", "an amount in fen from 0 to 10^15")
        if tally.count == 0 and tally.amount > 0:
            raise _refuse(f"contracts.{kind}.amount", "an amount without any contract")
    if len(inputs.joint_bodies) > MAX_JOINT_BODIES:
        raise _refuse("joint_bodies", f"at most {MAX_JOINT_BODIES} joint bodies")
    seen: set[str] = set()
    for index, body in enumerate(inputs.joint_bodies):
        key = " ".join(body.name.split()).casefold()
        if not key or len(body.name) > MAX_NAME:
            raise _refuse(f"joint_bodies.{index}.name", f"a name of 1 to {MAX_NAME} characters")
        if len(body.partner) > MAX_NAME:
            raise _refuse(f"joint_bodies.{index}.partner", f"at most {MAX_NAME} characters")
        if key in seen:
            raise _refuse(f"joint_bodies.{index}.name", f"{body.name} is listed twice")
        seen.add(key)
        if body.founded_on is not None and body.founded_on.year > year:
            raise _refuse(f"joint_bodies.{index}.founded_on", f"founded after {year}")
    for name, text in (("problems", inputs.problems), ("plans", inputs.plans)):
        if len(text) > MAX_TEXT:
            raise _refuse(name, f"at most {MAX_TEXT:,} characters")


def contracts_total(inputs: AnnualInputs) -> Tally:
    return sum((inputs.contracts.get(k, Tally()) for k in CONTRACT_KINDS), Tally())


# -- the exchange-wide summary -------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    """One institution's figures in the operators' summary (the totals row has no org)."""

    org_id: str | None
    name: str
    disclosures: int = 0
    government_funded: int = 0
    ip_assets: int = 0
    process_deals: Tally = Tally()
    seller_deals: Tally = Tally()
    received: int = 0
    to_inventors: int = 0
    retained: int = 0
    contracts: Tally = Tally()
    joint_bodies: int = 0


def totals(rows: Iterable[SummaryRow], name: str = "合计") -> SummaryRow:
    rows = list(rows)
    return SummaryRow(
        org_id=None,
        name=name,
        disclosures=sum(r.disclosures for r in rows),
        government_funded=sum(r.government_funded for r in rows),
        ip_assets=sum(r.ip_assets for r in rows),
        process_deals=sum((r.process_deals for r in rows), Tally()),
        seller_deals=sum((r.seller_deals for r in rows), Tally()),
        received=sum(r.received for r in rows),
        to_inventors=sum(r.to_inventors for r in rows),
        retained=sum(r.retained for r in rows),
        contracts=sum((r.contracts for r in rows), Tally()),
        joint_bodies=sum(r.joint_bodies for r in rows),
    )
