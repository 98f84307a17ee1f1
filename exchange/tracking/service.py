"""Use cases of tracking after the deal: each settled deal's schedule of reports (made by the
sweeper's catch-up from trading's settled deals), the buyer filing and correcting a report (its
seller told of each), the reminders and overdue notices, what each side and the operators see, and
the year's outcomes for the institutions' annual reports and the white paper (``year_outcomes``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.parties.models import Org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.reminders import remind_once
from exchange.tracking import domain
from exchange.tracking.context import SettledDeals, TrackingContext
from exchange.tracking.domain import (
    BEIJING,
    DealTrack,
    Outcomes,
    ReportContent,
    SlotState,
    TrackingRuleBroken,
    check_may_file,
    check_report,
    next_reminder_at,
    reminder_now,
    slot_state,
)
from exchange.tracking.models import TrackedDeal, TrackingReport
from exchange.tracking.schemas import OverdueOut, ReportIn, ReportOut, TrackedDealOut
from exchange.web.labels import zh
from kernel.errors import Forbidden, InvalidState, NotFound
from kernel.pagination import by_id, id_after, keyset_page

# The catch-up reads again the settled deals of this long before the newest one tracked: a deal
# whose settlement committed late, with an earlier time, is still found (tracked ones are skipped).
CATCH_UP_OVERLAP = timedelta(days=1)
PAGE = 200


# -- the schedules, caught up from trading's settled deals -------------------------------------------


async def untracked_deals(session: AsyncSession, deals: SettledDeals, how_many: int) -> list[uuid.UUID]:
    """Settled deals with no schedule yet, oldest settlement first, at most ``how_many``."""
    newest = await session.scalar(select(func.max(TrackedDeal.settled_at)))
    after: tuple[datetime, uuid.UUID] | None = None
    if newest is not None:
        after = (newest - CATCH_UP_OVERLAP, uuid.UUID(int=0))
    found: list[uuid.UUID] = []
    while len(found) < how_many:
        page = list(await deals.settled_since(session, after, PAGE))
        if not page:
            break
        ids = [d.deal_id for d in page]
        tracked = set((await session.scalars(select(TrackedDeal.deal_id).where(TrackedDeal.deal_id.in_(ids)))).all())
        found.extend(i for i in ids if i not in tracked)
        after = (page[-1].settled_at, page[-1].deal_id)
        if len(page) < PAGE:
            break
    return found[:how_many]


async def track_deal(session: AsyncSession, ctx: TrackingContext, deal_id: uuid.UUID, now: datetime) -> bool:
    """Make a settled deal's schedule of reports; False when it has one already (or is not settled)."""
    if ctx.deals is None:
        return False
    if await session.scalar(select(TrackedDeal.id).where(TrackedDeal.deal_id == deal_id)) is not None:
        return False
    deal = await ctx.deals.settled_deal(session, deal_id)
    if deal is None:
        return False
    tracked = TrackedDeal(
        deal_id=deal.deal_id, listing_id=deal.listing_id, buyer_org_id=deal.buyer_org_id,
        seller_org_id=deal.seller_org_id, title=deal.title[:200], field=deal.field, deal_type=deal.deal_type,
        amount=deal.amount, settled_at=deal.settled_at, created_at=now,
    )  # fmt: skip
    session.add(tracked)
    await session.flush()
    for slot in domain.schedule(deal.settled_at, ctx.offsets):
        session.add(
            TrackingReport(
                tracked_deal_id=tracked.id, deal_id=deal.deal_id, buyer_org_id=deal.buyer_org_id,
                seller_org_id=deal.seller_org_id, seq=slot.seq, months=slot.months, due_on=slot.due_on,
                opens_at=slot.opens_at, overdue_at=slot.overdue_at, corrections_until=slot.corrections_until,
                next_remind_at=next_reminder_at(slot.due_on, now), created_at=now,
            )
        )  # fmt: skip
    await session.flush()
    return True


# -- what each side sees ---------------------------------------------------------------------------


def _filed(report: TrackingReport) -> bool:
    return report.filed_at is not None


def state_of(report: TrackingReport, now: datetime) -> SlotState:
    return slot_state(opens_at=report.opens_at, overdue_at=report.overdue_at, filed=_filed(report), now=now)


def may_file(report: TrackingReport, now: datetime) -> bool:
    try:
        check_may_file(
            opens_at=report.opens_at, corrections_until=report.corrections_until, filed=_filed(report), now=now
        )
    except InvalidState:
        return False
    return True


def report_out(report: TrackingReport, now: datetime) -> ReportOut:
    return ReportOut(
        id=report.id, deal_id=report.deal_id, seq=report.seq, months=report.months, due_on=report.due_on,
        opens_at=report.opens_at, overdue_at=report.overdue_at, corrections_until=report.corrections_until,
        state=state_of(report, now).value, may_file=may_file(report, now), status=report.status,
        reason=report.reason, products=report.products, revenue_band=report.revenue_band,
        jobs_created=report.jobs_created, further_ip_count=report.further_ip_count, further_ip=report.further_ip,
        filed_by=report.filed_by, filed_at=report.filed_at, corrected_at=report.corrected_at,
    )  # fmt: skip


async def _names(session: AsyncSession, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not org_ids:
        return {}
    return {i: n for i, n in await session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids)))}


def latest_filed(reports: Sequence[TrackingReport], before: datetime | None = None) -> TrackingReport | None:
    filed = [r for r in reports if r.filed_at is not None and (before is None or r.filed_at <= before)]
    return max(filed, key=lambda r: r.seq) if filed else None


def deal_out(
    deal: TrackedDeal, reports: Sequence[TrackingReport], names: dict[uuid.UUID, str], now: datetime
) -> TrackedDealOut:
    rows = sorted(reports, key=lambda r: r.seq)
    latest = latest_filed(rows)
    pending = [r for r in rows if r.filed_at is None]
    return TrackedDealOut(
        deal_id=deal.deal_id, listing_id=deal.listing_id, title=deal.title, field=deal.field,
        deal_type=deal.deal_type, amount=deal.amount, settled_at=deal.settled_at, buyer_org_id=deal.buyer_org_id,
        buyer_name=names.get(deal.buyer_org_id, ""), seller_org_id=deal.seller_org_id,
        seller_name=names.get(deal.seller_org_id, ""), latest_status=latest.status if latest else None,
        overdue=sum(1 for r in rows if state_of(r, now) is SlotState.OVERDUE),
        next_due_on=pending[0].due_on if pending else None, reports=[report_out(r, now) for r in rows],
    )  # fmt: skip


async def _shown(session: AsyncSession, deals: Sequence[TrackedDeal], now: datetime) -> list[TrackedDealOut]:
    ids = [d.id for d in deals]
    reports: dict[uuid.UUID, list[TrackingReport]] = defaultdict(list)
    if ids:
        for r in (await session.scalars(select(TrackingReport).where(TrackingReport.tracked_deal_id.in_(ids)))).all():
            reports[r.tracked_deal_id].append(r)
    names = await _names(session, {d.buyer_org_id for d in deals} | {d.seller_org_id for d in deals})
    return [deal_out(d, reports[d.id], names, now) for d in deals]


async def deals_of_side(
    session: AsyncSession, caller: Principal, side: str, now: datetime, *, limit: int = 100, cursor: str | None = None
) -> tuple[list[TrackedDealOut], str | None]:
    """The caller's organisation's tracked deals as buyer (it files) or seller (it follows), the
    latest settlement first… by id (newest first: ids are time-ordered)."""
    column = TrackedDeal.buyer_org_id if side == "buyer" else TrackedDeal.seller_org_id
    query = select(TrackedDeal).where(column == caller.org_id).order_by(TrackedDeal.id.desc()).limit(limit + 1)
    after = id_after(cursor)
    if after is not None:
        query = query.where(TrackedDeal.id < after)
    rows, next_cursor = keyset_page((await session.scalars(query)).all(), limit, by_id)
    return await _shown(session, rows, now), next_cursor


async def tracked_deal(session: AsyncSession, caller: Principal, deal_id: uuid.UUID, now: datetime) -> TrackedDealOut:
    """One tracked deal: its buyer, its seller and operators (404 for others, and while untracked)."""
    deal = await session.scalar(select(TrackedDeal).where(TrackedDeal.deal_id == deal_id))
    if deal is None or not (caller.is_operator or caller.org_id in (deal.buyer_org_id, deal.seller_org_id)):
        raise NotFound(f"no tracking of deal {deal_id}")
    (shown,) = await _shown(session, [deal], now)
    return shown


async def overdue_reports(
    session: AsyncSession, caller: Principal, now: datetime, *, limit: int = 100, cursor: str | None = None
) -> tuple[list[OverdueOut], str | None]:
    """Operators: every report past its due date and not filed, by id."""
    caller.require_operator()
    query = (
        select(TrackingReport)
        .where(TrackingReport.filed_at.is_(None), TrackingReport.overdue_at <= now)
        .order_by(TrackingReport.id)
        .limit(limit + 1)
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(TrackingReport.id > after)
    rows, next_cursor = keyset_page((await session.scalars(query)).all(), limit, by_id)
    deals = {
        d.id: d
        for d in (
            await session.scalars(select(TrackedDeal).where(TrackedDeal.id.in_({r.tracked_deal_id for r in rows})))
        ).all()
    }
    names = await _names(session, {r.buyer_org_id for r in rows} | {r.seller_org_id for r in rows})
    today = domain.beijing_date(now)
    items = [
        OverdueOut(
            report=report_out(r, now),
            title=deals[r.tracked_deal_id].title,
            buyer_org_id=r.buyer_org_id,
            buyer_name=names.get(r.buyer_org_id, ""),
            seller_org_id=r.seller_org_id,
            seller_name=names.get(r.seller_org_id, ""),
            days_overdue=(today - r.due_on).days,
        )
        for r in rows
    ]
    return items, next_cursor


# -- filing ----------------------------------------------------------------------------------------


def content_of(data: ReportIn) -> ReportContent:
    return ReportContent(
        status=data.status.value, reason=data.reason, products=data.products, revenue_band=data.revenue_band.value,
        jobs_created=data.jobs_created, further_ip_count=data.further_ip_count, further_ip=data.further_ip,
    )  # fmt: skip


async def file_report(
    session: AsyncSession, caller: Principal, report_id: uuid.UUID, data: ReportIn, now: datetime
) -> TrackingReport:
    """The buyer's organisation files the report (or corrects it until the next is due): 422 naming
    the field at fault, 409 outside its window, nothing written when refused."""
    report = await session.get(TrackingReport, report_id, with_for_update=True)
    if report is None or not (caller.is_operator or caller.org_id in (report.buyer_org_id, report.seller_org_id)):
        raise NotFound(f"tracking report {report_id} not found")
    if caller.org_id != report.buyer_org_id:
        raise Forbidden("only the buyer's organisation files its implementation reports")
    content = check_report(content_of(data))
    check_may_file(opens_at=report.opens_at, corrections_until=report.corrections_until, filed=_filed(report), now=now)
    corrected = report.filed_at is not None
    if not corrected:
        report.filed_at = now
    else:
        report.corrected_at = now
    report.filed_by = caller.user_id
    report.status, report.reason, report.products = content.status, content.reason, content.products
    report.revenue_band, report.jobs_created = content.revenue_band, content.jobs_created
    report.further_ip_count, report.further_ip = content.further_ip_count, content.further_ip
    report.next_remind_at = None
    await session.flush()
    await _tell_seller(session, report, corrected=corrected, now=now)
    return report


async def _tell_seller(session: AsyncSession, report: TrackingReport, *, corrected: bool, now: datetime) -> None:
    """The seller's organisation learns what the buyer reported (filed, or corrected)."""
    data = await _deal_data(session, report)
    data.update(
        buyer_name=(await _names(session, {report.buyer_org_id})).get(report.buyer_org_id, ""),
        corrected=corrected,
        status=report.status,
        status_label=zh(report.status or "", "tracking_status"),
        reason=report.reason,
        revenue_band=report.revenue_band,
        revenue_band_label=zh(report.revenue_band or "", "revenue_band"),
        jobs_created=report.jobs_created,
        further_ip_count=report.further_ip_count,
    )
    notify(
        session, Kind.TRACKING_REPORT_FILED, to=Audience.of_orgs(report.seller_org_id), now=now,
        subject=Subject("tracked_deal", report.deal_id), data=data,
    )  # fmt: skip


# -- reminders and overdue notices (the sweeper's steps) --------------------------------------------


async def _deal_data(session: AsyncSession, report: TrackingReport) -> dict[str, Any]:
    deal = await session.get(TrackedDeal, report.tracked_deal_id)
    assert deal is not None
    return {
        "report_id": str(report.id),
        "deal_id": str(report.deal_id),
        "title": deal.title,
        "months": report.months,
        "due_on": report.due_on.isoformat(),
    }


async def remind(session: AsyncSession, report_id: uuid.UUID, now: datetime) -> bool:
    """Tell the buyer's organisation, once per reminder, that the report comes due (14 days before,
    and on the day); the next reminder's moment is set, or none."""
    report = await session.get(TrackingReport, report_id, with_for_update=True)
    if report is None or report.filed_at is not None or report.next_remind_at is None or report.next_remind_at > now:
        return False
    days = reminder_now(report.due_on, now)
    report.next_remind_at = next_reminder_at(report.due_on, now)
    await session.flush()
    if days is None or not await remind_once(session, Kind.TRACKING_REPORT_DUE, f"{report.id}:{days}", now):
        return True
    data = {**await _deal_data(session, report), "days_left": days}
    notify(
        session, Kind.TRACKING_REPORT_DUE, to=Audience.of_orgs(report.buyer_org_id), now=now,
        subject=Subject("tracking_report", report.id), data=data,
    )  # fmt: skip
    return True


async def tell_overdue(session: AsyncSession, report_id: uuid.UUID, now: datetime) -> bool:
    """Tell the buyer, the seller and the operators, once, that a report is overdue."""
    report = await session.get(TrackingReport, report_id, with_for_update=True)
    if report is None or report.filed_at is not None or report.overdue_told_at is not None:
        return False
    if now < report.overdue_at:
        return False
    report.overdue_told_at = now
    await session.flush()
    if not await remind_once(session, Kind.TRACKING_REPORT_OVERDUE, str(report.id), now):
        return True
    data = await _deal_data(session, report)
    names = await _names(session, {report.buyer_org_id})
    data["buyer_name"] = names.get(report.buyer_org_id, "")
    audience = Audience(orgs=(report.buyer_org_id, report.seller_org_id), operators=True)
    subject = Subject("tracking_report", report.id)
    notify(session, Kind.TRACKING_REPORT_OVERDUE, to=audience, now=now, subject=subject, data=data)
    return True


# -- outcomes --------------------------------------------------------------------------------------


def _in_year(year: int) -> tuple[datetime, datetime]:
    if not 2000 <= year <= 2100:
        raise TrackingRuleBroken(f"year: a year from 2000 to 2100, not {year}", field="year")
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


def track_of(reports: Sequence[TrackingReport], year: int, as_of: datetime) -> DealTrack:
    """A deal's figures for ``year`` as known at ``as_of``: its reports due in the year (filed before
    ``as_of``, or overdue then), and its latest report filed before ``as_of``."""
    due = [r for r in reports if r.due_on.year == year and r.due_on < as_of.astimezone(BEIJING).date() + timedelta(1)]
    filed = [r for r in due if r.filed_at is not None and r.filed_at <= as_of]
    latest = latest_filed(reports, before=as_of)
    return DealTrack(
        latest_status=latest.status if latest else None,
        latest_band=latest.revenue_band if latest else None,
        reports_due=len(due),
        reports_filed=len(filed),
        reports_overdue=sum(1 for r in due if r not in filed and r.overdue_at <= as_of),
        jobs=(latest.jobs_created or 0) if latest else 0,
    )


async def outcomes_of(
    session: AsyncSession, year: int, as_of: datetime, *, seller_org_id: uuid.UUID | None = None
) -> Outcomes:
    """The outcomes of the deals tracked in ``year`` (those with a report due in it, Beijing dates)
    as known at ``as_of``; only those ``seller_org_id`` sold when given."""
    start, end = _in_year(year)
    as_of = min(as_of, end)
    conditions: list[ColumnElement[bool]] = [
        TrackingReport.due_on >= start.date(),
        TrackingReport.due_on < end.date(),
    ]
    if seller_org_id is not None:
        conditions.append(TrackingReport.seller_org_id == seller_org_id)
    tracked = select(TrackingReport.tracked_deal_id).where(*conditions).distinct()
    reports: dict[uuid.UUID, list[TrackingReport]] = defaultdict(list)
    for r in (await session.scalars(select(TrackingReport).where(TrackingReport.tracked_deal_id.in_(tracked)))).all():
        reports[r.tracked_deal_id].append(r)
    return domain.outcomes(track_of(rows, year, as_of) for rows in reports.values())


def outcomes_dict(found: Outcomes) -> dict[str, Any]:
    return {
        "deals": found.deals,
        "by_status": dict(found.by_status),
        "reports": {"due": found.reports_due, "filed": found.reports_filed, "overdue": found.reports_overdue},
        "jobs": found.jobs,
        "by_revenue_band": dict(found.by_revenue_band),
    }


async def year_outcomes(session: AsyncSession, year: int, *, as_of: datetime | None = None) -> dict[str, Any]:
    """The exchange's tracking outcomes of ``year``, for the annual white paper.

    The deals counted are those *tracked in the year*: with at least one report due in it (its due
    date, a Beijing date, in the year). Everything is as known at the end of the year (00:00 Beijing
    on 1 January after it), or at ``as_of`` when earlier::

        {
          "year": 2026,
          "deals": 3,                       # deals tracked in the year
          "by_status": {                    # each deal by its latest report filed by then
            "in_development": 1, "in_production": 1, "abandoned": 0,
            "not_reported": 1,              # no report filed yet
          },
          "reports": {                      # reports due in the year
            "due": 3,
            "filed": 2,                     # filed by then
            "overdue": 1,                   # not filed by then, and past their due date
          },
          "jobs": 45,                       # jobs created, as the deals' latest reports say
          "by_revenue_band": {              # the deals' latest reports' revenue bands
            "none": 1, "under_1m": 0, "1m_10m": 1, "10m_100m": 0, "over_100m": 0,
          },
        }

    Every status and band is present (0 when none). A year outside 2000–2100 is refused (422 naming
    ``year``).
    """
    _, end = _in_year(year)
    found = await outcomes_of(session, year, min(as_of, end) if as_of else end)
    return {"year": year, **outcomes_dict(found)}
