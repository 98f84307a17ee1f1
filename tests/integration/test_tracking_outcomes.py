"""The white paper's tracking figures (``year_outcomes``): deals tracked in a year by their latest
reported status, the year's reports due, filed and overdue, jobs and revenue bands — equal to what
the reports say. The schedules come from the catch-up over a reader of settled deals, which skips
the deals already tracked however often it runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from exchange.parties.domain import OrgKind, OrgStatus, Principal, Role
from exchange.stats.white_paper.sections import tracking_outcomes
from exchange.tracking import TrackingContext, year_outcomes
from exchange.tracking.domain import start_of
from exchange.tracking.schemas import ReportIn
from exchange.tracking.service import deals_of_side, file_report, track_deal, untracked_deals
from tests.helpers import operator, verified


@dataclass(frozen=True)
class Facts:
    deal_id: uuid.UUID
    listing_id: uuid.UUID
    buyer_org_id: uuid.UUID
    seller_org_id: uuid.UUID
    title: str
    field: str
    deal_type: str
    amount: int
    settled_at: datetime


class Deals:
    def __init__(self, deals: list[Facts]) -> None:
        self.deals = sorted(deals, key=lambda d: (d.settled_at, d.deal_id))

    async def settled_since(self, session, after, limit):
        return [d for d in self.deals if after is None or (d.settled_at, d.deal_id) > after][:limit]

    async def settled_deal(self, session, deal_id):
        return next((d for d in self.deals if d.deal_id == deal_id), None)


async def test_year_outcomes_are_the_reports_figures(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", "示范大学")
    buyer = await verified(client, ops, "enterprise", "示范企业")
    db = app.state.db

    def deal(day: int) -> Facts:
        return Facts(uuid.uuid4(), uuid.uuid4(), uuid.UUID(buyer.org_id), uuid.UUID(seller.org_id), f"成果{day}",
                     "new_materials", "transfer", 100_000_000, datetime(2026, 1, day, 4, tzinfo=UTC))  # fmt: skip

    facts = [deal(5), deal(6), deal(7)]
    ctx = TrackingContext(deals=Deals(facts), offsets=(6, 12))
    now = datetime(2026, 3, 2, 1, tzinfo=UTC)
    for _ in range(2):  # the catch-up again finds nothing more to do
        ids = await db.transaction(lambda s: untracked_deals(s, ctx.deals, 100))
        for deal_id in ids:
            await db.transaction(lambda s, d=deal_id: track_deal(s, ctx, d, now))
    assert ids == []
    principal = Principal(
        user_id=uuid.UUID(buyer.user_id), email=buyer.email, display_name="经办人", role=Role.ADMIN,
        org_id=uuid.UUID(buyer.org_id), org_name="示范企业", org_kind=OrgKind.ENTERPRISE, org_verified=True,
        org_status=OrgStatus.ACTIVE,
    )  # fmt: skip
    async with db.read() as session:
        shown, _ = await deals_of_side(session, principal, "buyer", now)
    assert len(shown) == 3
    first = {d.title: d.reports[0] for d in shown}
    # 成果5 filed in production with 40 jobs, 成果6 abandoned, 成果7 never filed (overdue).
    filing = start_of(first["成果5"].due_on) + timedelta(hours=10)
    bodies = {
        "成果5": msgspec.convert({"status": "in_production", "revenue_band": "1m_10m", "jobs_created": 40}, ReportIn),
        "成果6": msgspec.convert({"status": "abandoned", "reason": "资金不足，项目终止。"}, ReportIn),
    }
    for title, body in bodies.items():
        await db.transaction(lambda s, r=first[title].id, b=body: file_report(s, principal, r, b, filing))
    async with db.read() as session:
        figures = await year_outcomes(session, 2026)
        nothing = await year_outcomes(session, 2025)
    assert figures == {
        "year": 2026,
        "deals": 3,
        "by_status": {"in_development": 0, "in_production": 1, "abandoned": 1, "not_reported": 1},
        "reports": {"due": 3, "filed": 2, "overdue": 1},
        "jobs": 40,
        "by_revenue_band": {"none": 1, "under_1m": 0, "1m_10m": 1, "10m_100m": 0, "over_100m": 0},
    }
    assert nothing["deals"] == 0 and nothing["reports"] == {"due": 0, "filed": 0, "overdue": 0}

    # The white paper's section says the same, in words.
    async with db.read() as session:
        section = await tracking_outcomes(session, 2026)
    assert [(row[0], row[1]) for row in section.rows] == [("研发中", 0), ("已投产", 1), ("已终止", 1), ("尚未报告", 1)]
    assert section.total == ("合计", 3)
    assert "已报 2 份，逾期未报 1 份" in section.note and "新增就业合计 40 人" in section.note
