"""The white paper's sections, in order: each a function ``(session, year) -> Section`` whose
figures are aggregates the database computes (GROUP BY, a few dozen rows back at most), never the
rows themselves, so that the memory a white paper takes does not grow with the exchange's data.

The year is the Beijing calendar year. Listings count by their first announcement; deals by their
settlement (as ``GET /stats``); auctions by their close; vouchers by the moment of their ledger
movement (a grant, an accepted order's posted hold, a fee paid with vouchers, an approved redemption).

``SECTIONS`` is the white paper's table of contents: a later section is a function of the same
shape appended to it (its number in the paper follows from its place).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.credit.service import grade_counts
from exchange.parties.models import Org
from exchange.stats.white_paper.domain import (
    APPRAISAL_BANDS,
    BIDDER_BANDS,
    CONCLUDED_BY,
    ChartSpec,
    Column,
    Ratio,
    Section,
    Unit,
    month_label,
    region_of,
    region_order,
    year_bounds,
)
from exchange.tracking import year_outcomes
from exchange.trading.models import Auction, Bid, Deal
from exchange.trading.stats import DEAL_TYPES, FIELDS, SELLER_KINDS
from exchange.trading.views import deal_result_out
from exchange.vouchers.domain import Category
from exchange.vouchers.models import FeePayment, Redemption, ServiceOrder, VoucherGrant, VoucherProgram
from exchange.web.labels import zh
from kernel.db import beijing_month
from ledger.domain import Phase
from ledger.models import Entry
from listings import Listing, Notice
from listings.domain import NoticeStatus

SectionMaker = Callable[[AsyncSession, int], Awaitable[Section]]

LARGEST = 10  # the largest deals listed
TOTAL = "合计"


def _listed(year: int) -> tuple[Any, ...]:
    start, end = year_bounds(year)
    return (Listing.first_announced_at >= start, Listing.first_announced_at < end)


def _settled(year: int) -> tuple[Any, ...]:
    start, end = year_bounds(year)
    return (Deal.state == "settled", Deal.settled_at >= start, Deal.settled_at < end)


# -- overview -------------------------------------------------------------------------------------


async def overview(session: AsyncSession, year: int) -> Section:
    start, end = year_bounds(year)
    listed, asking = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Listing.asking_price), 0)).where(*_listed(year))
        )
    ).one()
    formed, formed_value = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Deal.price), 0)).where(
                Deal.created_at >= start, Deal.created_at < end
            )
        )
    ).one()
    settled, value, fees = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Deal.price), 0),
                func.coalesce(func.sum(Deal.seller_fee + Deal.buyer_fee), 0),
            ).where(*_settled(year))
        )
    ).one()
    auctions = await session.scalar(
        select(func.count()).select_from(Auction).where(Auction.closed_at >= start, Auction.closed_at < end)
    )
    issued = await session.scalar(
        select(func.coalesce(func.sum(VoucherGrant.amount), 0)).where(
            VoucherGrant.created_at >= start, VoucherGrant.created_at < end
        )
    )
    rows = (
        ("挂牌项目（首次公告）", int(listed), int(asking), Unit.MONEY),
        ("新达成交易", int(formed), int(formed_value), Unit.MONEY),
        ("结算成交", int(settled), int(value), Unit.MONEY),
        ("交易服务费（结算成交）", None, int(fees), Unit.MONEY),
        ("结束的竞价", int(auctions or 0), None, Unit.MONEY),
        ("发放的创新券", None, int(issued or 0), Unit.VOUCHERS),
    )
    return Section(
        key="overview",
        title=f"{year}年度概览",
        columns=(Column("指标", Unit.TEXT), Column("数量", Unit.COUNT), Column("金额", Unit.MONEY)),
        rows=tuple(row[:3] for row in rows),
        note="挂牌项目按首次公告时间计；新达成交易按成交时间计；结算成交按结算时间计；均为北京时间自然年。"
        "挂牌项目的金额为挂牌价合计，成交的金额为成交价合计；创新券以元计。",
    )


# -- listings and deals by one dimension -----------------------------------------------------------


async def _by(
    session: AsyncSession,
    year: int,
    listing_key: Any,
    deal_key: Any,
    *,
    listing_join: Any = None,
    deal_join: Any = None,
) -> tuple[dict[Any, int], dict[Any, tuple[int, int]]]:
    """The year's listings counted, and settled deals counted and summed, by a key each."""
    listings_query = select(listing_key, func.count()).select_from(Listing)
    if listing_join is not None:
        listings_query = listings_query.join(*listing_join)
    listed = {
        key: int(n) for key, n in await session.execute(listings_query.where(*_listed(year)).group_by(listing_key))
    }
    deals_query = select(deal_key, func.count(), func.coalesce(func.sum(Deal.price), 0)).select_from(Deal)
    if deal_join is not None:
        deals_query = deals_query.join(*deal_join)
    deals = {
        key: (int(n), int(total))
        for key, n, total in await session.execute(deals_query.where(*_settled(year)).group_by(deal_key))
    }
    return listed, deals


DIMENSION_COLUMNS = (
    Column("挂牌项目", Unit.COUNT),
    Column("成交笔数", Unit.COUNT),
    Column("成交金额", Unit.MONEY),
    Column("占成交金额", Unit.PERCENT),
)


def _dimension_rows(
    labels: list[tuple[str, list[Any]]], listed: dict[Any, int], deals: dict[Any, tuple[int, int]]
) -> tuple[tuple[tuple[Any, ...], ...], tuple[Any, ...]]:
    """One row per label (summing the keys it covers), and the total row."""
    value = sum(total for _, total in deals.values())
    rows = []
    for label, keys in labels:
        n_listed = sum(listed.get(k, 0) for k in keys)
        n_deals = sum(deals.get(k, (0, 0))[0] for k in keys)
        amount = sum(deals.get(k, (0, 0))[1] for k in keys)
        rows.append((label, n_listed, n_deals, amount, Ratio(amount, value)))
    total = (TOTAL, sum(listed.values()), sum(n for n, _ in deals.values()), value, Ratio(value, value))
    return tuple(rows), total


def _dimension(key: str, heading: str, label: str, rows: Any, total: Any, note: str, **chart: Any) -> Section:
    return Section(
        key=key,
        title=heading,
        columns=(Column(label, Unit.TEXT), *DIMENSION_COLUMNS),
        rows=rows,
        total=total,
        chart=ChartSpec(value=3, unit_name="万元", **chart),
        note=note,
    )


SETTLED_NOTE = "挂牌项目按首次公告、成交按结算时间（北京时间）计。"


async def by_deal_type(session: AsyncSession, year: int) -> Section:
    listed, deals = await _by(session, year, Listing.deal_type, Deal.deal_type)
    rows, total = _dimension_rows([(zh(k, "deal_type"), [k]) for k in DEAL_TYPES], listed, deals)
    return _dimension(
        "by-deal-type", "按交易方式", "交易方式", rows, total, SETTLED_NOTE, title=f"{year}年按交易方式的成交金额"
    )


async def by_field(session: AsyncSession, year: int) -> Section:
    listed, deals = await _by(session, year, Listing.field, Deal.field)
    rows, total = _dimension_rows([(zh(k, "field"), [k]) for k in FIELDS], listed, deals)
    return _dimension(
        "by-field", "按技术领域", "技术领域", rows, total, SETTLED_NOTE, title=f"{year}年按技术领域的成交金额"
    )


async def by_month(session: AsyncSession, year: int) -> Section:
    listed, deals = await _by(
        session, year, beijing_month(Listing.first_announced_at, session), beijing_month(Deal.settled_at, session)
    )
    rows, total = _dimension_rows(
        [(month_label(m), [m]) for m in range(1, 13)],
        {int(k): n for k, n in listed.items()},
        {int(k): v for k, v in deals.items()},
    )
    return _dimension(
        "by-month", "按月份", "月份", rows, total, SETTLED_NOTE + "月份按北京时间。", title=f"{year}年各月成交金额",
        columns=True,
    )  # fmt: skip


async def by_region(session: AsyncSession, year: int) -> Section:
    division = func.substr(Org.credit_code, 3, 6)
    listed, deals = await _by(
        session,
        year,
        division,
        division,
        listing_join=(Org, Org.id == Listing.seller_org_id),
        deal_join=(Org, Org.id == Deal.seller_org_id),
    )
    regions: dict[str, list[Any]] = {}
    for code in {*listed, *deals}:
        regions.setdefault(region_of(code), []).append(code)
    order = region_order()
    labels = [(name, regions[name]) for name in order if name in regions]
    rows, total = _dimension_rows(labels, listed, deals)
    return _dimension(
        "by-region",
        "按地区（转让方所在区）",
        "地区",
        rows,
        total,
        SETTLED_NOTE
        + "地区取转让方统一社会信用代码第3至8位（登记管理机关行政区划码）：上海市各区分列（已撤并区的代码计入"
        "所并入的区），市级登记机关登记的计为“上海市（市级登记）”，外省市按省级行政区计。只列出有挂牌或成交的地区。",
        title=f"{year}年按地区的成交金额",
    )


async def by_seller_kind(session: AsyncSession, year: int) -> Section:
    listed, deals = await _by(session, year, Listing.seller_kind, Deal.seller_kind)
    rows, total = _dimension_rows([(zh(k, "org_kind"), [k]) for k in SELLER_KINDS], listed, deals)
    return _dimension(
        "by-seller-kind",
        "按转让方类型",
        "转让方类型",
        rows,
        total,
        SETTLED_NOTE,
        title=f"{year}年按转让方类型的成交金额",
    )


# -- prices against appraisals ----------------------------------------------------------------------


def _appraisal_band_sql(price: Any, appraised: Any) -> Any:
    """``domain.appraisal_band`` in SQL: integer comparisons, the highest band reached first."""
    whens = [
        (price * lower.denominator >= appraised * lower.numerator, i)
        for i, (_, lower) in reversed(list(enumerate(APPRAISAL_BANDS)))
        if lower is not None
    ]
    return case(*whens, else_=0)


async def prices_against_appraisals(session: AsyncSession, year: int) -> Section:
    band = _appraisal_band_sql(Deal.price, Listing.appraised_value)
    query = (
        select(band, func.count(), func.sum(Deal.price), func.sum(Listing.appraised_value))
        .select_from(Deal)
        .join(Listing, Listing.id == Deal.listing_id)
        .where(*_settled(year), Listing.appraised_value > 0)
        .group_by(band)
    )
    found = {int(b): (int(n), int(p), int(a)) for b, n, p, a in await session.execute(query)}
    rows = []
    for i, (name, _) in enumerate(APPRAISAL_BANDS):
        n, price, appraised = found.get(i, (0, 0, 0))
        rows.append((name, n, price, appraised, Ratio(price, appraised)))
    n, price, appraised = (sum(v[k] for v in found.values()) for k in range(3))
    unappraised = await session.scalar(
        select(func.count())
        .select_from(Deal)
        .join(Listing, Listing.id == Deal.listing_id)
        .where(*_settled(year), func.coalesce(Listing.appraised_value, 0) <= 0)
    )
    return Section(
        key="appraisals",
        title="成交价与评估值",
        columns=(
            Column("成交价 / 评估值", Unit.TEXT),
            Column("成交笔数", Unit.COUNT),
            Column("成交金额", Unit.MONEY),
            Column("评估值", Unit.MONEY),
            Column("成交价为评估值的", Unit.PERCENT),
        ),
        rows=tuple(rows),
        total=(TOTAL, n, price, appraised, Ratio(price, appraised)),
        chart=ChartSpec(title=f"{year}年成交价相对评估值的分布（笔）", value=1, unit_name="笔"),
        note=f"结算成交中挂牌时载有评估值（资产评估报告）的项目；另有 {int(unappraised or 0)} 笔成交的项目未作评估，"
        "不在此表。比例为成交金额合计与评估值合计之比。",
        extra={"unappraised": int(unappraised or 0)},
    )


# -- auctions -----------------------------------------------------------------------------------------


async def auctions(session: AsyncSession, year: int) -> Section:
    start, end = year_bounds(year)
    bidders = (
        select(Bid.auction_id.label("auction_id"), func.count(distinct(Bid.org_id)).label("bidders"))
        .group_by(Bid.auction_id)
        .subquery()
    )
    count = func.coalesce(bidders.c.bidders, 0)
    band = case(
        *[(count >= least, i) for i, (_, least) in reversed(list(enumerate(BIDDER_BANDS))) if least > 0], else_=0
    )
    sold = and_(Auction.deal_id.is_not(None), Auction.high_amount.is_not(None))
    query = (
        select(
            band,
            func.count(),
            func.coalesce(func.sum(count), 0),
            func.coalesce(func.sum(case((sold, 1), else_=0)), 0),
            func.coalesce(func.sum(case((sold, Auction.asking_price), else_=0)), 0),
            func.coalesce(func.sum(case((sold, Auction.high_amount), else_=0)), 0),
        )
        .select_from(Auction)
        .outerjoin(bidders, bidders.c.auction_id == Auction.id)
        .where(Auction.closed_at >= start, Auction.closed_at < end)
        .group_by(band)
    )
    found = {int(b): tuple(int(x) for x in rest) for b, *rest in await session.execute(query)}

    def row(name: str, held: int, people: int, deals: int, asking: int, high: int) -> tuple[Any, ...]:
        return (name, held, Ratio(people, held), deals, asking, high, Ratio(high - asking, asking))

    rows = [row(name, *found.get(i, (0, 0, 0, 0, 0))) for i, (name, _) in enumerate(BIDDER_BANDS)]
    totals = [sum(v[k] for v in found.values()) for k in range(5)]
    return Section(
        key="auctions",
        title="网络竞价",
        columns=(
            Column("竞买人数", Unit.TEXT),
            Column("竞价场次", Unit.COUNT),
            Column("平均竞买人数", Unit.AVERAGE),
            Column("成交场次", Unit.COUNT),
            Column("起拍价合计（成交场次）", Unit.MONEY),
            Column("成交价合计", Unit.MONEY),
            Column("溢价率", Unit.PERCENT),
        ),
        rows=tuple(rows),
        total=row(TOTAL, *totals),
        chart=ChartSpec(title=f"{year}年竞价场次按竞买人数", value=1, unit_name="场"),
        note="按竞价结束时间（北京时间）计。竞买人数为出过价的不同机构数；溢价率为成交场次的成交价合计高出起拍价合计的比例。",
    )


# -- vouchers ---------------------------------------------------------------------------------------

EXCHANGE_FEES = "交易服务费"
COMMISSIONS = "技术经纪佣金"
GENERAL = "多类别通用（发放）"


async def vouchers(session: AsyncSession, year: int) -> Section:
    start, end = year_bounds(year)
    labels = [zh(c.value, "category") for c in Category]
    issued: dict[str, int] = {}
    grants = select(VoucherGrant.program_id, func.sum(VoucherGrant.amount)).where(
        VoucherGrant.created_at >= start, VoucherGrant.created_at < end
    )
    by_program = {p: int(total) for p, total in await session.execute(grants.group_by(VoucherGrant.program_id))}
    if by_program:  # the year's programs: a few dozen rows
        programs = await session.execute(
            select(VoucherProgram.id, VoucherProgram.categories).where(VoucherProgram.id.in_(list(by_program)))
        )
        for program_id, categories in programs:
            label = zh(categories[0], "category") if len(categories) == 1 else GENERAL
            issued[label] = issued.get(label, 0) + by_program[program_id]
    # Spent: an order's vouchers move when its hold is posted (the acceptance), a fee's when it is paid.
    posted = (
        select(ServiceOrder.category, func.sum(ServiceOrder.voucher_amount))
        .join(Entry, Entry.resolves_id == ServiceOrder.voucher_hold_id)
        .where(Entry.phase == Phase.POST_PENDING.value, Entry.created_at >= start, Entry.created_at < end)
        .group_by(ServiceOrder.category)
    )
    spent = {zh(c, "category"): int(total) for c, total in await session.execute(posted)}
    fee_kind = case((FeePayment.recipient_org_id.is_(None), EXCHANGE_FEES), else_=COMMISSIONS)
    fees = select(fee_kind, func.sum(FeePayment.amount)).where(
        FeePayment.created_at >= start, FeePayment.created_at < end
    )
    spent.update({k: int(total) for k, total in await session.execute(fees.group_by(fee_kind))})
    # Redeemed: the orders and fee payments of the redemptions approved in the year.
    approved = (Redemption.state == "approved", Redemption.decided_at >= start, Redemption.decided_at < end)
    orders = (
        select(ServiceOrder.category, func.sum(ServiceOrder.voucher_amount))
        .join(Redemption, Redemption.id == ServiceOrder.redemption_id)
        .where(*approved)
        .group_by(ServiceOrder.category)
    )
    redeemed = {zh(c, "category"): int(total) for c, total in await session.execute(orders)}
    fee_redeemed = (
        select(fee_kind, func.sum(FeePayment.amount))
        .join(Redemption, Redemption.id == FeePayment.redemption_id)
        .where(*approved)
        .group_by(fee_kind)
    )
    redeemed.update({k: int(total) for k, total in await session.execute(fee_redeemed)})
    names = [*labels, EXCHANGE_FEES, COMMISSIONS, GENERAL]
    rows = tuple((n, issued.get(n, 0), spent.get(n, 0), redeemed.get(n, 0)) for n in names)
    return Section(
        key="vouchers",
        title="创新券：按服务类别的发放、使用与兑付",
        columns=(
            Column("服务类别", Unit.TEXT),
            Column("发放", Unit.VOUCHERS),
            Column("使用", Unit.VOUCHERS),
            Column("兑付", Unit.VOUCHERS),
        ),
        rows=rows,
        total=(TOTAL, sum(issued.values()), sum(spent.values()), sum(redeemed.values())),
        chart=ChartSpec(title=f"{year}年创新券按服务类别的使用", value=2, unit_name="万元"),
        note="发放按发放时间、计入创新券项目适用的服务类别（适用多个类别的项目计入“多类别通用”）；使用按服务订单验收"
        "（账本中冻结转为入账）或以创新券支付交易服务费、经纪佣金的时间；兑付按兑付申请批准的时间。金额以元计。",
    )


# -- the largest deals, as published ----------------------------------------------------------------


async def largest_deals(session: AsyncSession, year: int) -> Section:
    query = (
        select(Notice, Deal.settled_at)
        .join(Deal, Deal.notice_id == Notice.id)
        .where(*_settled(year), Notice.status != NoticeStatus.CANCELLED.value)
        .order_by(Deal.price.desc(), Deal.id)
        .limit(LARGEST)
    )
    rows = []
    for i, (notice, settled_at) in enumerate(await session.execute(query), start=1):
        shown = deal_result_out(notice)
        rows.append(
            (
                str(i),
                shown.achievement,
                zh(shown.deal_type, "deal_type"),
                shown.price,
                shown.seller,
                shown.buyer,
                CONCLUDED_BY.get(shown.concluded_by, "—"),
                settled_at,
            )
        )
    return Section(
        key="largest-deals",
        title=f"成交金额最大的{LARGEST}项交易",
        columns=(
            Column("序号", Unit.TEXT),
            Column("成果名称", Unit.TEXT),
            Column("交易方式", Unit.TEXT),
            Column("成交价", Unit.MONEY),
            Column("转让方", Unit.TEXT),
            Column("受让方", Unit.TEXT),
            Column("成交方式", Unit.TEXT),
            Column("结算日期", Unit.DATE),
        ),
        rows=tuple(rows),
        note="本年度结算的成交中成交价最高者，名称、价格与双方均按其已发布的成交结果公告（或协议定价公示）所载。",
    )


# -- service institutions by credit grade, and tracking after the deal ------------------------------------

GRADES = ("A", "B", "C", "D")


async def service_institutions(session: AsyncSession, year: int) -> Section:
    counts = await grade_counts(session)
    rows = (*((f"{g} 级", counts[g]) for g in GRADES), ("尚未评价", counts["unrated"]))
    return Section(
        key="service-institutions",
        title="技术转移服务机构：按信用等级",
        columns=(Column("信用等级", Unit.TEXT), Column("机构数", Unit.COUNT)),
        rows=rows,
        total=(TOTAL, sum(counts[g] for g in GRADES) + counts["unrated"]),
        chart=ChartSpec(title="服务机构信用等级分布", value=1, unit_name="家"),
        note=f"按白皮书生成时公布的信用评分（docs/credit.md）；其中示范机构 {counts['demonstration']} 家，"
        "计入其所在等级。",
        extra={"counts": counts},
    )


async def tracking_outcomes(session: AsyncSession, year: int) -> Section:
    found = await year_outcomes(session, year)
    statuses = tuple((zh(s, "tracking_status"), n) for s, n in found["by_status"].items())
    bands = found["by_revenue_band"]
    reports = found["reports"]
    return Section(
        key="tracking",
        title="成果转化跟踪：成交后的实施情况",
        columns=(Column("实施状态", Unit.TEXT), Column("成交项数", Unit.COUNT)),
        rows=statuses,
        total=(TOTAL, found["deals"]),
        chart=ChartSpec(title=f"{year}年跟踪成交的实施状态", value=1, unit_name="项"),
        note=f"本年度有实施情况报告到期的成交，按年末前最近一次报告的状态计。年内到期报告 {reports['due']} 份，"
        f"已报 {reports['filed']} 份，逾期未报 {reports['overdue']} 份；最近报告所载新增就业合计 {found['jobs']} 人；"
        "营业收入区间：" + "，".join(f"{zh(b, 'revenue_band')} {n} 项" for b, n in bands.items()) + "。",
        extra={"outcomes": found},
    )


# The table of contents. A section added later is appended here (see docs/reports.md).
SECTIONS: list[SectionMaker] = [
    overview,
    by_deal_type,
    by_field,
    by_month,
    by_region,
    by_seller_kind,
    prices_against_appraisals,
    auctions,
    vouchers,
    service_institutions,
    tracking_outcomes,
    largest_deals,
]


async def sections_of(session: AsyncSession, year: int, makers: list[SectionMaker] | None = None) -> list[Section]:
    return [await make(session, year) for make in (SECTIONS if makers is None else makers)]
