"""The annual white paper on both databases: its figures equal those computed here directly from the
deals, listings, auctions and the ledger; the year is Beijing's; the command writes HTML and a PDF
with the CJK font embedded; the page is the operators' only."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from sqlalchemy import func, select, update

from exchange.parties.domain import credit_code_check_char
from exchange.parties.models import Org
from exchange.server.cli import main
from exchange.stats.white_paper import white_paper
from exchange.stats.white_paper.paper import filename
from exchange.trading.models import Auction, Bid, Deal
from exchange.web.formats import yuan
from ledger.models import Entry, Posting
from listings import Listing
from tests.helpers import operator, relogin, verified
from tests.page_helpers import browser_of
from tests.trading_helpers import (
    API,
    announced,
    bid,
    fund,
    intent,
    key,
    open_auction_with_two_bidders,
    past_notice,
    sweep,
    to_end_of_announcement,
)
from tests.voucher_helpers import act, cast, create_program, grant, order, service, top_up
from tests.voucher_helpers import fund as fund_program

BEIJING = ZoneInfo("Asia/Shanghai")
ASKING, STEP = 50_000_000, 500_000
YEAR = 2026
TYPES = {"transfer": "转让", "license": "许可", "equity": "作价入股"}


def code_in(division: str) -> str:
    first17 = "91" + division + "MA1K2L3N4"
    return first17 + credit_code_check_char(first17)


async def sign_and_pay(client, app, deal, seller, buyer, *others):
    await past_notice(app, client, deal["notice_id"], seller, buyer, *others)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text


async def a_year_of_trading(client, app):
    """An auction won over two bidders and a listed price negotiated, both settled; vouchers granted,
    spent on a testing order and redeemed."""
    auction, seller, a, b = await open_auction_with_two_bidders(client, app)
    ops = await operator(client, app)
    for party, amount in ((a, ASKING), (b, ASKING + STEP), (a, ASKING + 2 * STEP)):
        await bid(client, party, auction["id"], amount)
    app.state.clock.advance(timedelta(minutes=31))
    await sweep(app)
    await relogin(client, seller, a, b)
    (won,) = (await client.get(f"{API}/deals", headers=a.headers)).json()["items"]
    await sign_and_pay(client, app, won, seller, a, b, ops)

    institute = await verified(client, ops, "research_institute", name="上海某研究所")
    buyer = await verified(client, ops, name="宁德新能")
    await fund(app, buyer, 100_000_000)
    listing = await announced(client, institute, ops, mode="listed", deal_type="license")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, institute, buyer)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['offers'][0]['id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    await sign_and_pay(client, app, accepted.json(), institute, buyer, ops)
    await announced(client, institute, ops, mode="listed", deal_type="equity")  # listed, not sold

    # The sellers' registrations: 浦东新区 and 徐汇区.
    async def register_in(session):
        await session.execute(
            update(Org).where(Org.id == uuid.UUID(seller.org_id)).values(credit_code=code_in("310115"))
        )
        await session.execute(
            update(Org).where(Org.id == uuid.UUID(institute.org_id)).values(credit_code=code_in("310104"))
        )

    await app.state.db.transaction(register_in)

    c = await cast(client, app)
    program = await create_program(client, app, c.gov, categories=["testing"])
    await fund_program(client, c.ops, program["id"], 50_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 20_000_000)
    testing = await service(client, c.prov, "testing", 10_000_000)
    await top_up(app, c.ent.org_id, 8_000_000)
    placed = (await order(client, c.ent, testing["id"], 5_000_000)).json()
    for party, step, body in (
        (c.prov, "confirm", None),
        (c.prov, "deliver", {"results_summary": "检测报告"}),
        (c.ent, "accept", None),
    ):
        assert (await act(client, party, placed["id"], step, body)).status_code == 200
    claimed = await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)
    assert claimed.status_code == 201, claimed.text
    app.state.clock.advance(timedelta(days=8))
    await sweep(app)
    await relogin(client, c.gov, c.prov, ops)
    approved = await client.post(f"{API}/redemptions/{claimed.json()['id']}/approve", headers=c.gov.headers)
    assert approved.status_code == 200, approved.text


def in_year(moment, year=YEAR) -> bool:
    return moment is not None and moment.astimezone(BEIJING).year == year


async def ledger_total(session, kind: str, phase: str | None = None) -> int:
    """The VCH moved by the entries of ``kind`` in the year, read from the ledger's postings."""
    start = datetime(YEAR, 1, 1, tzinfo=BEIJING)
    query = (
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Entry.kind == kind, Entry.unit == "VCH", Posting.side == "debit")
        .where(Entry.created_at >= start, Entry.created_at < start.replace(year=YEAR + 1))
    )
    if phase:
        query = query.where(Entry.phase == phase)
    return int(await session.scalar(query))


async def test_the_white_paper_figures_are_those_of_the_deals_and_the_ledger(
    client, app, settings, tmp_path, monkeypatch
):
    await a_year_of_trading(client, app)
    db = app.state.db
    async with db.read() as session:
        deals = [
            d for d in (await session.scalars(select(Deal))).all() if d.state == "settled" and in_year(d.settled_at)
        ]
        listings = [x for x in (await session.scalars(select(Listing))).all() if in_year(x.first_announced_at)]
        auctions = (await session.scalars(select(Auction))).all()
        bids = (await session.scalars(select(Bid))).all()
        appraised = {x.id: x.appraised_value for x in (await session.scalars(select(Listing))).all()}
        issued = await ledger_total(session, "voucher_grant")
        spent = await ledger_total(session, "voucher_order_hold", "post_pending")
        redeemed = await ledger_total(session, "voucher_retirement")  # vouchers retired as the cash is paid
        paper = await white_paper(session, YEAR, app.state.clock.now())
    assert len(deals) == 2 and len(listings) == 3

    # By deal type: listings counted, deals counted and summed, straight from the rows.
    section = paper.section("by-deal-type")
    for code, words in TYPES.items():
        row = section.row(words)
        mine = [d for d in deals if d.deal_type == code]
        assert row["挂牌项目"] == sum(x.deal_type == code for x in listings)
        assert (row["成交笔数"], row["成交金额"]) == (len(mine), sum(d.price for d in mine))
    total = section.row("合计")
    assert (total["挂牌项目"], total["成交笔数"], total["成交金额"]) == (3, 2, sum(d.price for d in deals))
    field = paper.section("by-field").row("新能源")
    assert (field["成交笔数"], field["成交金额"]) == (2, sum(d.price for d in deals))
    kinds = paper.section("by-seller-kind")
    for code, words in (("university", "高等院校"), ("research_institute", "科研院所"), ("enterprise", "企业")):
        mine = [d for d in deals if d.seller_kind == code]
        assert kinds.row(words)["成交金额"] == sum(d.price for d in mine), words
    months = paper.section("by-month")
    by_month = Counter()
    for d in deals:
        by_month[d.settled_at.astimezone(BEIJING).month] += d.price
    assert {m: months.row(f"{m}月")["成交金额"] for m in range(1, 13)} == {m: by_month[m] for m in range(1, 13)}

    regions = paper.section("by-region")
    by_seller = {d.seller_org_id: d.price for d in deals}
    auction_deal = next(d for d in deals if d.concluded_by == "auction")
    other = next(d for d in deals if d.concluded_by != "auction")
    assert regions.row("浦东新区")["成交金额"] == by_seller[auction_deal.seller_org_id]
    assert regions.row("徐汇区")["成交金额"] == other.price
    assert regions.row("徐汇区")["挂牌项目"] == 2  # the institute's licence and its unsold equity listing

    # Prices against appraisals: the ratio of the sums.
    appraisals = paper.section("appraisals").row("合计")
    assert appraisals["成交金额"] == sum(d.price for d in deals)
    assert appraisals["评估值"] == sum(appraised[d.listing_id] for d in deals)
    assert appraisals["成交价为评估值的"].value == Fraction(
        sum(d.price for d in deals), sum(appraised[d.listing_id] for d in deals)
    )

    # Auctions: bidders per auction and the premium over the starting price.
    held = [x for x in auctions if in_year(x.closed_at)]
    (only,) = held
    bidders = len({b.org_id for b in bids if b.auction_id == only.id})
    row = paper.section("auctions").row("合计")
    assert (row["竞价场次"], row["成交场次"], row["平均竞买人数"].value) == (1, 1, bidders)
    assert (
        row["溢价率"].value
        == Fraction(only.high_amount - only.asking_price, only.asking_price)
        == Fraction(2 * STEP, ASKING)
    )
    assert paper.section("auctions").row("2人")["竞价场次"] == 1

    # Vouchers: the section's totals are the ledger's movements of the year.
    vouchers = paper.section("vouchers")
    assert (vouchers.row("合计")["发放"], vouchers.row("合计")["使用"], vouchers.row("合计")["兑付"]) == (
        issued,
        spent,
        redeemed,
    )
    assert (issued, spent, redeemed) == (20_000_000, 5_000_000, 5_000_000)
    assert vouchers.row("检验检测")["使用"] == spent

    # The largest deals, as their result notices published them, the largest first.
    largest = paper.section("largest-deals").rows
    assert [r[3] for r in largest] == sorted((d.price for d in deals), reverse=True)
    assert largest[0][4] == next(iter(d.snapshot["seller"]["name"] for d in deals if d.id == auction_deal.id))

    # Beijing's year: a deal settled at 00:00 on 1 January (Beijing) belongs to the new year; one at
    # 23:59:59 on 31 December to the old one, in December.
    async def move_settlements(session):
        new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
        await session.execute(update(Deal).where(Deal.id == other.id).values(settled_at=new_year))
        await session.execute(
            update(Deal).where(Deal.id == auction_deal.id).values(settled_at=new_year - timedelta(seconds=1))
        )

    await db.transaction(move_settlements)
    async with db.read() as session:
        this_year = await white_paper(session, YEAR, app.state.clock.now())
        next_year = await white_paper(session, YEAR + 1, app.state.clock.now())
    assert this_year.section("by-month").row("12月")["成交金额"] == auction_deal.price
    assert this_year.section("by-deal-type").row("合计")["成交笔数"] == 1
    assert next_year.section("by-month").row("1月")["成交金额"] == other.price

    # The command writes the HTML and the PDF: Chinese, the figures, the CJK font embedded.
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    out = tmp_path / "out"
    status = await asyncio.to_thread(main, ["report", "white-paper", "--year", "2026", "--out", str(out)])
    assert status == 0
    page = (out / filename(YEAR, "html")).read_text(encoding="utf-8")
    assert "2026 年度技术转移白皮书" in page and yuan(auction_deal.price) in page and "data:image/svg+xml" in page
    reader = PdfReader(io.BytesIO((out / filename(YEAR, "pdf")).read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert "年度" in text and yuan(auction_deal.price) in text and "浦东新区" in text
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    assert any("CJK" in str(f["/BaseFont"]) for f in fonts)
    for font in fonts:  # every font is in the file (a CID font's program hangs from its descendant)
        descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)[
            "/FontDescriptor"
        ]
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font

    refused = await asyncio.to_thread(main, ["report", "white-paper", "--year", "1999", "--out", str(out)])
    assert refused == 1


async def test_the_white_paper_page_is_for_operators(client, app):
    ops = await operator(client, app)
    member = await verified(client, ops)
    async with browser_of(app) as anonymous:
        shown = await anonymous.get("/console/reports/white-paper?year=2026", follow_redirects=False)
        assert shown.status_code in (303, 401), shown.status_code
    async with browser_of(app, member) as other:
        assert (await other.get("/console/reports/white-paper?year=2026")).status_code == 403
        assert (await other.get("/console/reports/white-paper/download?year=2026&format=html")).status_code == 403
    async with browser_of(app, ops) as console:
        page = await console.get("/console/reports/white-paper?year=2026")
        assert page.status_code == 200 and "2026 年度技术转移白皮书" in page.text and "按技术领域" in page.text
        assert 'href="/console/reports/white-paper"' in page.text  # in the console's navigation
        download = await console.get("/console/reports/white-paper/download?year=2026&format=html")
        assert download.status_code == 200 and "按交易方式" in download.text
        bad = await console.get("/console/reports/white-paper?year=1999")
        assert bad.status_code == 400
