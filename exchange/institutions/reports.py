"""The annual report (年度报告) of an institution for a year, the office's inputs to it, and the
exchange-wide summary for operators. Queries here, the counting and summing in ``annual.py``,
and ``shape_report`` turns what they give into the answer (pure).

Deals belong to trading, which this module may not import. They are read with one narrowly scoped
query over the ``trading_deals`` table (its id, listing, seller, deal type, price, state and
creation: nothing else), written against a lightweight ``table()`` of those columns; the listings'
titles come from ``listings.Listing``, the listings package's public model. A deal counts in the
year it was formed (created) in Beijing time, unless it was cancelled.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import BigInteger, ColumnElement, String, Uuid, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.annual import (
    CONTRACT_KINDS,
    AnnualInputs,
    DealFacts,
    DisclosureFacts,
    JointBody,
    SummaryRow,
    Tally,
    achievements,
    check_inputs,
    check_year,
    contracts_total,
    deal_section,
    disclosure_facts,
    income,
    totals,
    year_bounds,
)
from exchange.institutions.config import INSTITUTION_KINDS, require_office
from exchange.institutions.contracts import TransferOutcomes
from exchange.institutions.models import AnnualReportInput, Disclosure, DistributionPlan, IncomeReceipt, TransferProcess
from exchange.institutions.schemas import (
    AchievementsOut,
    AnnualInputsIn,
    AnnualInputsOut,
    AnnualReportOut,
    AnnualSummaryOut,
    DealsOut,
    IncomeOut,
    JointBodyIn,
    ReportDealOut,
    SummaryRowOut,
    TallyOut,
    TrackingOut,
)
from exchange.parties.domain import Principal
from exchange.parties.models import Org
from exchange.parties.service import get_org
from kernel.columns import UTCDateTime
from kernel.errors import NotFound
from listings import Listing

# The columns of trading's deals the report reads, and no others.
DEALS = table(
    "trading_deals",
    column("id", Uuid),
    column("listing_id", Uuid),
    column("seller_org_id", Uuid),
    column("deal_type", String),
    column("price", BigInteger),
    column("state", String),
    column("created_at", UTCDateTime),
)
CANCELLED = "cancelled"

OrgKey = uuid.UUID


# -- queries: the year's rows, by institution (one institution, or all of them) ------------------


def _of(col: Any, org_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    return [] if org_id is None else [col == org_id]


async def _disclosures(
    session: AsyncSession, year: int, org_id: uuid.UUID | None
) -> dict[OrgKey, list[DisclosureFacts]]:
    start, end = year_bounds(year)
    rows = await session.execute(
        select(Disclosure.org_id, Disclosure.ip_assets, Disclosure.funding, Disclosure.intended_form).where(
            Disclosure.opened_at >= start, Disclosure.opened_at < end, *_of(Disclosure.org_id, org_id)
        )
    )
    out: dict[OrgKey, list[DisclosureFacts]] = defaultdict(list)
    for org, assets, funding, form in rows.all():
        out[org].append(disclosure_facts(assets or [], funding or [], form))
    return out


def _formed_in(year: int) -> list[ColumnElement[bool]]:
    start, end = year_bounds(year)
    return [DEALS.c.created_at >= start, DEALS.c.created_at < end, DEALS.c.state != CANCELLED]


async def _titles(session: AsyncSession, listing_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(listing_ids)
    if not ids:
        return {}
    rows = await session.execute(select(Listing.id, Listing.title).where(Listing.id.in_(ids)))
    return {lid: title for lid, title in rows.all()}


async def _deals(session: AsyncSession, query: Any) -> dict[OrgKey, list[DealFacts]]:
    rows = (await session.execute(query)).all()
    titles = await _titles(session, (r.listing_id for r in rows))
    out: dict[OrgKey, list[DealFacts]] = defaultdict(list)
    for r in rows:
        out[r.org_id].append(
            DealFacts(
                str(r.id),
                str(r.listing_id),
                titles.get(r.listing_id, ""),
                r.deal_type,
                int(r.price),
                r.state,
                r.created_at,
            )
        )
    return out


_DEAL_COLUMNS = (DEALS.c.id, DEALS.c.listing_id, DEALS.c.deal_type, DEALS.c.price, DEALS.c.state, DEALS.c.created_at)


async def _process_deals(session: AsyncSession, year: int, org_id: uuid.UUID | None) -> dict[OrgKey, list[DealFacts]]:
    """Deals of the listings the institution's transfer processes implemented (``listing_id``)."""
    query = (
        select(TransferProcess.org_id.label("org_id"), *_DEAL_COLUMNS)
        .join(TransferProcess, TransferProcess.listing_id == DEALS.c.listing_id)
        .where(*_formed_in(year), *_of(TransferProcess.org_id, org_id))
    )
    return await _deals(session, query)


async def _seller_deals(session: AsyncSession, year: int, org_id: uuid.UUID | None) -> dict[OrgKey, list[DealFacts]]:
    """Every deal with the institution as seller."""
    query = select(DEALS.c.seller_org_id.label("org_id"), *_DEAL_COLUMNS).where(
        *_formed_in(year), *_of(DEALS.c.seller_org_id, org_id)
    )
    return await _deals(session, query)


async def _receipts(session: AsyncSession, year: int, org_id: uuid.UUID | None) -> dict[OrgKey, list[int]]:
    start, end = year_bounds(year)
    rows = await session.execute(
        select(IncomeReceipt.org_id, IncomeReceipt.amount).where(
            IncomeReceipt.received_at >= start, IncomeReceipt.received_at < end, *_of(IncomeReceipt.org_id, org_id)
        )
    )
    out: dict[OrgKey, list[int]] = defaultdict(list)
    for org, amount in rows.all():
        out[org].append(int(amount))
    return out


async def _paid_plans(
    session: AsyncSession, year: int, org_id: uuid.UUID | None
) -> dict[OrgKey, list[list[dict[str, Any]]]]:
    start, end = year_bounds(year)
    rows = await session.execute(
        select(DistributionPlan.org_id, DistributionPlan.payouts).where(
            DistributionPlan.status == "paid",
            DistributionPlan.paid_at >= start,
            DistributionPlan.paid_at < end,
            *_of(DistributionPlan.org_id, org_id),
        )
    )
    out: dict[OrgKey, list[list[dict[str, Any]]]] = defaultdict(list)
    for org, payouts in rows.all():
        out[org].append(list(payouts or []))
    return out


async def _inputs(session: AsyncSession, year: int, org_id: uuid.UUID | None) -> dict[OrgKey, AnnualReportInput]:
    rows = await session.scalars(
        select(AnnualReportInput).where(AnnualReportInput.year == year, *_of(AnnualReportInput.org_id, org_id))
    )
    return {row.org_id: row for row in rows.all()}


# -- shaping (pure) ------------------------------------------------------------------------------


def inputs_of(row: AnnualReportInput | None) -> AnnualInputs:
    if row is None:
        return AnnualInputs()
    contracts = {
        k: Tally(
            int((row.contracts or {}).get(k, {}).get("count", 0)),
            int((row.contracts or {}).get(k, {}).get("amount", 0)),
        )
        for k in CONTRACT_KINDS
    }
    bodies = tuple(
        JointBody(b["name"], b.get("partner", ""), date.fromisoformat(b["founded_on"]) if b.get("founded_on") else None)
        for b in row.joint_bodies or []
    )
    return AnnualInputs(contracts, bodies, row.problems, row.plans)


def _tally(t: Tally) -> TallyOut:
    return TallyOut(t.count, t.amount)


def _deals_out(deals: Iterable[DealFacts]) -> DealsOut:
    section = deal_section(deals)
    return DealsOut(
        by_type={k: _tally(v) for k, v in section.by_type.items()},
        total=_tally(section.total),
        deals=[
            ReportDealOut(
                uuid.UUID(d.deal_id), uuid.UUID(d.listing_id), d.title, d.deal_type, d.price, d.state, d.formed_at
            )
            for d in section.deals
        ],
    )


def _inputs_out(inputs: AnnualInputs, row: AnnualReportInput | None) -> AnnualInputsOut:
    return AnnualInputsOut(
        contracts={k: _tally(inputs.contracts.get(k, Tally())) for k in CONTRACT_KINDS},
        contracts_total=_tally(contracts_total(inputs)),
        joint_bodies=[JointBodyIn(b.name, b.partner, b.founded_on) for b in inputs.joint_bodies],
        problems=inputs.problems,
        plans=inputs.plans,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


def shape_report(
    org: Org,
    year: int,
    *,
    disclosures: Sequence[DisclosureFacts],
    process_deals: Sequence[DealFacts],
    seller_deals: Sequence[DealFacts],
    receipts: Sequence[int],
    paid_plans: Sequence[Sequence[Mapping[str, Any]]],
    inputs: AnnualReportInput | None,
    now: datetime,
) -> AnnualReportOut:
    """The report from the year's rows of one institution."""
    found = achievements(disclosures)
    money = income(receipts, paid_plans)
    return AnnualReportOut(
        org_id=org.id,
        org_name=org.name,
        org_kind=org.kind,
        year=year,
        achievements=AchievementsOut(
            found.disclosures, found.ip_assets, found.by_ip_kind, found.by_funding, found.by_form
        ),
        process_deals=_deals_out(process_deals),
        seller_deals=_deals_out(seller_deals),
        income=IncomeOut(
            _tally(money.received), money.plans_paid, money.to_inventors, money.retained, money.retained_by_part
        ),
        inputs=_inputs_out(inputs_of(inputs), inputs),
        generated_at=now,
    )


def summary_row(report: AnnualReportOut) -> SummaryRow:
    inputs = report.inputs
    return SummaryRow(
        org_id=str(report.org_id),
        name=report.org_name,
        disclosures=report.achievements.disclosures,
        government_funded=report.achievements.by_funding.get("government", 0),
        ip_assets=report.achievements.ip_assets,
        process_deals=Tally(report.process_deals.total.count, report.process_deals.total.amount),
        seller_deals=Tally(report.seller_deals.total.count, report.seller_deals.total.amount),
        received=report.income.received.amount,
        to_inventors=report.income.to_inventors,
        retained=report.income.retained,
        contracts=Tally(inputs.contracts_total.count, inputs.contracts_total.amount),
        joint_bodies=len(inputs.joint_bodies),
    )


def summary_row_out(row: SummaryRow) -> SummaryRowOut:
    return SummaryRowOut(
        org_id=uuid.UUID(row.org_id) if row.org_id else None,
        name=row.name,
        disclosures=row.disclosures,
        government_funded=row.government_funded,
        ip_assets=row.ip_assets,
        process_deals=_tally(row.process_deals),
        seller_deals=_tally(row.seller_deals),
        received=row.received,
        to_inventors=row.to_inventors,
        retained=row.retained,
        contracts=_tally(row.contracts),
        joint_bodies=row.joint_bodies,
    )


# -- services ------------------------------------------------------------------------------------


async def _institution(session: AsyncSession, org_id: uuid.UUID) -> Org:
    org = await get_org(session, org_id)
    if org.kind not in {k.value for k in INSTITUTION_KINDS}:
        raise NotFound(f"organisation {org_id} is not an institution: it has no annual report")
    return org


async def _tracking(
    session: AsyncSession, outcomes: TransferOutcomes | None, org_id: uuid.UUID, year: int, now: datetime
) -> TrackingOut | None:
    if outcomes is None:
        return None
    f = await outcomes.of_seller(session, org_id, year, now)
    return TrackingOut(
        deals=f.deals, by_status=dict(f.by_status), reports_due=f.reports_due, reports_filed=f.reports_filed,
        reports_overdue=f.reports_overdue, jobs=f.jobs, by_revenue_band=dict(f.by_revenue_band),
    )  # fmt: skip


async def _reports(
    session: AsyncSession, orgs: Sequence[Org], year: int, org_id: uuid.UUID | None, now: datetime
) -> list[AnnualReportOut]:
    disclosures = await _disclosures(session, year, org_id)
    process_deals = await _process_deals(session, year, org_id)
    seller_deals = await _seller_deals(session, year, org_id)
    receipts = await _receipts(session, year, org_id)
    plans = await _paid_plans(session, year, org_id)
    inputs = await _inputs(session, year, org_id)
    return [
        shape_report(
            org,
            year,
            disclosures=disclosures.get(org.id, []),
            process_deals=process_deals.get(org.id, []),
            seller_deals=seller_deals.get(org.id, []),
            receipts=receipts.get(org.id, []),
            paid_plans=plans.get(org.id, []),
            inputs=inputs.get(org.id),
            now=now,
        )
        for org in orgs
    ]


async def annual_report(
    session: AsyncSession,
    caller: Principal,
    org_id: uuid.UUID,
    year: int,
    now: datetime,
    outcomes: TransferOutcomes | None = None,
) -> AnnualReportOut:
    """The institution's report for the year, for its members and operators (403 for others);
    with ``outcomes``, the tracking of what it transferred (五、成果转化跟踪)."""
    check_year(year)
    caller.require_member_of(org_id, operators_too=True)
    org = await _institution(session, org_id)
    (report,) = await _reports(session, [org], year, org_id, now)
    tracking = await _tracking(session, outcomes, org_id, year, now)
    return msgspec.structs.replace(report, tracking=tracking) if tracking else report


async def annual_summary(session: AsyncSession, caller: Principal, year: int, now: datetime) -> AnnualSummaryOut:
    """Every institution's figures of the year, one row each (by name), and their totals: operators."""
    caller.require_operator()
    check_year(year)
    orgs = (
        await session.scalars(
            select(Org).where(Org.kind.in_([k.value for k in INSTITUTION_KINDS])).order_by(Org.name, Org.id)
        )
    ).all()
    rows = [summary_row(r) for r in await _reports(session, orgs, year, None, now)]
    return AnnualSummaryOut(year, [summary_row_out(r) for r in rows], summary_row_out(totals(rows)), now)


async def save_inputs(
    session: AsyncSession,
    caller: Principal,
    org_id: uuid.UUID,
    year: int,
    data: AnnualInputsIn,
    now: datetime,
    outcomes: TransferOutcomes | None = None,
) -> AnnualReportOut:
    """The office saves its inputs for the year whole; 422 naming the field at fault, nothing written."""
    check_year(year)
    await require_office(session, caller, org_id, "types the annual report's inputs")
    contracts = {k: Tally(getattr(data.contracts, k).count, getattr(data.contracts, k).amount) for k in CONTRACT_KINDS}
    bodies = tuple(JointBody(b.name.strip(), b.partner.strip(), b.founded_on) for b in data.joint_bodies)
    inputs = AnnualInputs(contracts, bodies, data.problems.strip(), data.plans.strip())
    check_inputs(inputs, year)
    row = await session.get(AnnualReportInput, (org_id, year), with_for_update=True)
    if row is None:
        row = AnnualReportInput(org_id=org_id, year=year)
        session.add(row)
    row.contracts = {k: {"count": t.count, "amount": t.amount} for k, t in contracts.items()}
    row.joint_bodies = [
        {"name": b.name, "partner": b.partner, "founded_on": b.founded_on.isoformat() if b.founded_on else None}
        for b in bodies
    ]
    row.problems, row.plans = inputs.problems, inputs.plans
    row.updated_by, row.updated_at = caller.user_id, now
    await session.flush()
    return await annual_report(session, caller, org_id, year, now, outcomes)
