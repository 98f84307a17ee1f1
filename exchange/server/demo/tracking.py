"""The demo's history before its present-day story: two deals that settled long ago, and what their
buyers reported since (成果转化跟踪).

A deal's first implementation report is due six months after it settles, so the deals of the
demo's quarter have none due yet. Two older ones go through the same trading flow as the others —
listed, an intent and its deposit, the listed price accepted, the negotiated-price notice, both
signatures, payment — with the clock moving from about nineteen months before the present:

- 申江医科大学's antibody platform, sold to 康源生物 and settled about sixteen months before the
  present: its six-month report filed (研发中) after the reminder, its twelve-month report never
  filed — overdue, told to the buyer, the seller and operators;
- 申江医科大学's imaging algorithm, licensed to 智造装备 and settled a year and about twelve days
  before the present: its six-month report filed (已投产); its twelve-month report is open for
  filing and due a dozen days after the present (its 14-day reminder goes out with the sweep of the
  present's last days).

The sweeper makes the schedules, tells the reminders and the overdue notice at their moments; the
buyers file at theirs. The scene then hands the clock to the present-day story at its start (S).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import select

from exchange.payments import bank
from exchange.payments.domain import china_day
from exchange.server.demo.data import DemoListing
from exchange.server.demo.scenes import listing_request
from exchange.server.demo.stage import Demo, DemoError, morning
from exchange.tracking import service as tracking
from exchange.tracking.domain import REMINDER_DAYS, beijing_date, start_of
from exchange.tracking.models import TrackingReport
from exchange.tracking.schemas import ReportIn
from exchange.trading import deals, intents, negotiations
from exchange.trading.models import Deal, Negotiation
from listings import Notice
from listings import service as listing_service
from listings.domain import ReviewDecision, add_months

LEAD = timedelta(days=90)  # from a listing's creation to the day its deal is signed and paid: room enough


@dataclass(frozen=True)
class PastDeal:
    """A deal of the demo's history: what was listed (``index``: its place after the catalogue, for
    its made-up patent number), who bought it, how many months before the present it settled (and
    days after that), and the reports its buyer filed (by months after settlement)."""

    index: int
    item: DemoListing
    buyer: str
    months_ago: int
    days_after: int
    filed: dict[int, dict[str, Any]]


PAST_DEALS = [
    PastDeal(
        index=42,
        item=DemoListing(
            "shenjiang", "全人源单克隆抗体高通量筛选平台", "biomedicine", ("单克隆抗体", "高通量筛选", "噬菌体展示"),
            "基于单细胞测序与噬菌体展示的全人源抗体筛选平台，筛选周期由6个月缩短到8周。",
            "invention_patent", "transfer", "listed", 680_000, ("周立", "钱颖"),
        ),
        buyer="kangyuan",
        months_ago=16,
        days_after=0,
        filed={
            6: {"status": "in_development", "products": "抗PD-L1候选抗体两株，完成细胞水平验证",
                "revenue_band": "none", "jobs_created": 6, "further_ip_count": 1,
                "further_ip": "一种抗PD-L1全人源抗体及其应用（申请中）"},
        },
    ),
    PastDeal(
        index=44,
        item=DemoListing(
            "shenjiang", "冠脉CT影像斑块智能识别算法", "electronic_information", ("医学影像", "冠脉CT", "深度学习"),
            "对冠脉CT血管成像自动识别钙化与非钙化斑块，狭窄程度评估与专家判读一致率92%。",
            "software_copyright", "license", "listed", 450_000, ("吴迪",),
        ),
        buyer="zhizao",
        months_ago=12,
        days_after=12,
        filed={
            6: {"status": "in_production", "products": "冠脉斑块分析软件模块，已随CT后处理工作站销售",
                "revenue_band": "under_1m", "jobs_created": 9},
        },
    ),
]  # fmt: skip
FUNDING_MARGIN = 1.05  # the buyer's bank transfer: the price and the exchange's fee


def settles_on(present: datetime, past: PastDeal) -> date:
    """The Beijing day a past deal is signed and paid."""
    return add_months(beijing_date(present), -past.months_ago) + timedelta(days=past.days_after)


def history_start(present: datetime) -> datetime:
    """Where the demo's clock starts: room for the oldest past deal's listing to sell and settle."""
    return morning(min(settles_on(present, p) for p in PAST_DEALS)) - LEAD


async def _listed(demo: Demo, past: PastDeal) -> uuid.UUID:
    request = listing_request(past.item, past.index, demo.now.date())
    seller, ops = demo.actor(past.item.seller), demo.actor("ops")

    async def work(session: Any) -> uuid.UUID:
        rules = demo.modules.listings
        listing = await listing_service.create_listing(
            session, rules, seller, request.content(), request.confidential_details, demo.now
        )
        await listing_service.submit_listing(session, rules, seller, listing.id, demo.now)
        await listing_service.review_listing(
            session, rules, ops, listing.id, ReviewDecision.APPROVE, "材料齐全，同意挂牌", demo.now
        )
        return listing.id

    return await demo.tx(work)  # type: ignore[no-any-return]


def funding(past: PastDeal) -> int:
    """The buyer's bank transfer for a past deal (fen)."""
    return int(past.item.asking_yuan * 100 * FUNDING_MARGIN)


async def _fund(demo: Demo, past: PastDeal, number: int) -> None:
    amount = funding(past)
    ops = demo.principals["ops"]
    await demo.tx(
        lambda s: bank.record_transfer(
            s, org_id=demo.org(past.buyer), amount=amount, reference=f"CMB{china_day(demo.now):%Y%m%d}{9000 + number}",
            received_on=china_day(demo.now), note="银行转账入金（演示）", operator_id=ops.user_id, now=demo.now,
        )
    )  # fmt: skip


async def _trade(demo: Demo, past: PastDeal, number: int) -> uuid.UUID:
    """The listing announced, an intent, the listed price accepted, its notice; signed and paid on its day."""
    on = settles_on(demo.present, past)
    demo.advance_to(morning(on) - LEAD)
    await _fund(demo, past, number)
    listing_id = await _listed(demo, past)
    demo.advance_to(demo.next_morning(2))
    buyer, seller = demo.principals[past.buyer], demo.principals[past.item.seller]
    await demo.tx(lambda s: intents.register_intent(s, demo.modules.trading, buyer, listing_id, demo.now))
    async with demo.db.read() as session:
        listing = await listing_service.load_listing(session, listing_id, check=False)
    assert listing.closes_at is not None
    demo.advance_to(listing.closes_at + timedelta(hours=1))
    await demo.sweep()  # the announcement closes: the listed price stands as the seller's offer
    demo.advance_to(demo.next_morning(1))
    async with demo.db.read() as session:
        thread = await session.scalar(select(Negotiation).where(Negotiation.listing_id == listing_id))
        assert thread is not None, "a listed price with an intent opens a negotiation"
        standing = (await negotiations.offers_of(session, thread.id))[-1]
    deal = await demo.tx(
        lambda s: negotiations.accept(s, demo.modules.trading, buyer, thread.id, standing.id, demo.now)
    )
    async with demo.db.read() as session:
        closes = await session.scalar(select(Notice.closes_at).where(Notice.id == deal.notice_id))
    if closes is None or closes >= morning(on):
        raise DemoError(f"the past deal of {past.item.title} could not settle on {on} (its notice closes {closes})")
    demo.advance_to(closes + timedelta(minutes=5))
    await demo.sweep()  # the negotiated-price notice closes: the deal awaits its signatures
    demo.advance_to(morning(on) + timedelta(hours=1))
    for party in (seller, buyer):
        await demo.tx(lambda s, p=party: deals.sign(s, demo.modules.trading, p, deal.id, demo.now))
        demo.advance_to(demo.now + timedelta(hours=1))
    paid = await demo.tx(lambda s: deals.pay(s, demo.modules.trading, buyer, deal.id, demo.now))
    if paid.state != "settled":
        raise DemoError(f"the past deal of {past.item.title} is {paid.state}, not settled")
    await demo.sweep()  # its schedule of implementation reports is made
    return deal.id  # type: ignore[no-any-return]


async def _file(demo: Demo, buyer: str, report_id: uuid.UUID, body: dict[str, Any]) -> None:
    data = msgspec.convert(body, ReportIn)
    principal = demo.principals[buyer]
    await demo.tx(lambda s: tracking.file_report(s, principal, report_id, data, demo.now))


async def scene_tracking_history(demo: Demo) -> str:
    """The history before S: two deals settled long ago; their buyers' implementation reports since."""
    if demo.start is None or history_start(demo.present) > demo.start:
        raise DemoError("the demo's clock must start before its history")
    settled = {p.index: await _trade(demo, p, n) for n, p in enumerate(PAST_DEALS, start=1)}
    async with demo.db.read() as session:
        rows = (await session.scalars(select(TrackingReport).where(TrackingReport.deal_id.in_(settled.values())))).all()
    by_slot = {(r.deal_id, r.months): r for r in rows}
    # The agenda up to S: each report due before it is reminded 14 days before and on the day; the
    # ones the buyers file are filed a few days before they are due; the others are told overdue.
    agenda: list[tuple[datetime, int, Any]] = []
    for past in PAST_DEALS:
        for (deal_id, months), report in by_slot.items():
            if deal_id != settled[past.index] or report.overdue_at > demo.start:
                continue
            body = past.filed.get(months)
            reminders = [start_of(report.due_on - timedelta(days=d)) for d in REMINDER_DAYS]
            agenda += [(at, 0, None) for at in (reminders if body is None else reminders[:1])]
            if body is None:
                agenda.append((report.overdue_at + timedelta(hours=1), 0, None))
            else:
                at = morning(report.due_on - timedelta(days=5)) + timedelta(hours=1)
                agenda.append((at, 1, (past.buyer, report.id, body)))
    filed = 0
    for at, _, filing in sorted(agenda, key=lambda a: (a[0], a[1])):
        if at < demo.now:
            raise DemoError(f"the demo's history would go back in time ({at.isoformat()})")
        demo.advance_to(at)
        if filing is None:
            await demo.sweep()  # a reminder, or the overdue notice
        else:
            await _file(demo, *filing)
            filed += 1
    demo.advance_to(demo.start)
    async with demo.db.read() as session:
        rows = (await session.scalars(select(TrackingReport).where(TrackingReport.deal_id.in_(settled.values())))).all()
        prices = (await session.scalars(select(Deal.price).where(Deal.id.in_(settled.values())))).all()
    overdue = sum(1 for r in rows if r.filed_at is None and r.overdue_at <= demo.now)
    first = min(settles_on(demo.present, p) for p in PAST_DEALS)
    return (
        f"{len(settled)} deals settled from {first} (¥{sum(prices) // 100:,}); "
        f"{filed} implementation reports filed, {overdue} overdue"
    )
