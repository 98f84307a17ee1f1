"""The demo's trading: intents with deposits, auctions with bids, negotiations, deals to settlement.

Nine listings of the catalogue trade, each to a different end, so the exchange shows every state:
settled deals with certificates (an auction, a transfer), a licence paying in instalments (its
down payment settled, the rest due in six and twelve months), a deal defaulted with its deposit
forfeited, one cancelled by agreement, one awaiting a signature, one under its result notice, a
listing in negotiation with standing offers, and a live auction that opened a few minutes before
the present.

Auctions open at a set time of day, on the first working day after their announcement closes
(``TECHX_AUCTION_OPENS_AT``). So that one is live whenever the demo is built, the demo exchange sets
that time to ten minutes before the present (``demo_auction_time``) and relists its live auction to
end the working day before; when the present's day is no working day, that auction opens on the next
one instead, shown as scheduled.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import func, select

from exchange.server.demo.data import CATALOGUE
from exchange.server.demo.scenes import create_and_submit, listing_status, review
from exchange.server.demo.stage import Demo, morning
from exchange.trading import bidding, deals, intents, negotiations
from exchange.trading.models import Auction, Deal, Negotiation, Offer
from exchange.trading.schemas import OfferIn
from listings import Notice
from listings import service as listing_service
from listings.domain import ReviewDecision
from listings.workdays import BEIJING, WorkingCalendar

AUCTION_SETTLED = 32  # a university's patent sold at auction, paid and settled
LICENCE_IN_INSTALMENTS = 33  # an institute's licence on instalment terms: the down payment settled
DEFAULTED = 34  # listed price accepted by its one intent holder, never paid
AWAITING_SIGNATURE = 35  # won at auction; the seller signed, the buyer has not yet
TRANSFER_SETTLED = 36  # an enterprise's transfer negotiated and settled
CANCELLED = 37  # negotiated, signed, then cancelled by agreement before payment
NEGOTIATING = 38  # two buyers negotiating now, offers standing
RESULT_NOTICE = 39  # agreed a few hours ago: its negotiated-price notice is open
LIVE_AUCTION = 40  # unsold at first, relisted for five working days, its auction live now

TRADED = list(range(AUCTION_SETTLED, LIVE_AUCTION + 1))
INTENTS = {
    AUCTION_SETTLED: ["guneng", "zhizao"],
    LICENCE_IN_INSTALMENTS: ["xinxun"],
    DEFAULTED: ["lvhe"],
    AWAITING_SIGNATURE: ["zhizao", "kangyuan"],
    TRANSFER_SETTLED: ["guneng"],
    CANCELLED: ["qinghuan"],
    NEGOTIATING: ["zhizao", "guneng"],
    RESULT_NOTICE: ["kangyuan"],
}
RELIST_BIDDERS = ["xinxun", "zhizao", "guneng"]
LIVE_AUCTION_OPENED = timedelta(minutes=10)  # before the present


def demo_auction_time(present: datetime) -> str:
    """The demo exchange's ``TECHX_AUCTION_OPENS_AT``: ten minutes before the present, Beijing time."""
    return f"{(present - LIVE_AUCTION_OPENED).astimezone(BEIJING):%H:%M}"


def offer(price_yuan: int, note: str, installments: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    """An offer as the API receives it (``OfferIn``), in yuan for readability; instalments as (month, yuan)."""
    terms: dict[str, Any] = {"kind": "lump_sum"}
    if installments:
        terms = {
            "kind": "installments",
            "installments": [{"due_months": m, "amount": yuan * 100} for m, yuan in installments],
        }
    body = {"price": price_yuan * 100, "payment_terms": terms, "note": note}
    return msgspec.convert(body, OfferIn).plain()


async def _register_intents(demo: Demo, index: int, buyers: list[str]) -> int:
    held = 0
    for buyer in buyers:
        intent = await demo.tx(
            lambda s, b=buyer: intents.register_intent(
                s, demo.modules.trading, demo.principals[b], demo.listings[index], demo.now
            )
        )
        held += intent.deposit
        demo.advance_to(demo.now + timedelta(minutes=17))
    return held


async def scene_trading_announcements(demo: Demo) -> str:
    """Ten weeks ago: nine more listings announced; enterprises register intent and deposits are held."""
    demo.advance_to(demo.now + timedelta(hours=2))
    for index in TRADED:
        await create_and_submit(demo, index)
        await review(demo, index, ReviewDecision.APPROVE, "材料齐全，同意挂牌")
    demo.advance_to(demo.now + timedelta(days=1))
    held = 0
    for index, buyers in INTENTS.items():
        held += await _register_intents(demo, index, buyers)
    count = sum(len(b) for b in INTENTS.values())
    return f"{len(TRADED)} listings announced, {count} intents registered, ¥{held // 100:,} of deposits held"


async def _auction_of(demo: Demo, index: int) -> Auction:
    async with demo.db.read() as session:
        found = await session.scalar(
            select(Auction).where(Auction.listing_id == demo.listings[index]).order_by(Auction.starts_at.desc())
        )
    assert found is not None, f"listing {index} has no auction"
    return found


async def _bid(demo: Demo, auction: Auction, bidder: str, steps: int) -> None:
    """A bid of the asking price plus ``steps`` increments, through the bid route's own entry point."""
    amount = auction.asking_price + steps * auction.increment
    await bidding.submit_bid(
        demo.modules.trading,
        demo.db,
        demo.principals[bidder],
        auction.id,
        amount,
        key=f"demo-bid:{auction.id}:{amount}",
        now=demo.clock.now,
    )


async def _run_auction(demo: Demo, index: int, bids: list[tuple[str, int]]) -> int:
    auction = await _auction_of(demo, index)
    demo.advance_to(auction.starts_at)  # it opens at the set time of the next working day
    for bidder, steps in bids:
        demo.advance_to(demo.now + timedelta(minutes=3))
        await _bid(demo, auction, bidder, steps)
    return len(bids)


async def _thread_of(demo: Demo, index: int, buyer: str) -> Negotiation:
    async with demo.db.read() as session:
        found = await session.scalar(
            select(Negotiation).where(
                Negotiation.listing_id == demo.listings[index], Negotiation.buyer_org_id == demo.org(buyer)
            )
        )
    assert found is not None
    return found


async def _standing(demo: Demo, thread_id: uuid.UUID) -> Offer:
    async with demo.db.read() as session:
        offers = await negotiations.offers_of(session, thread_id)
    return offers[-1]


async def _open(demo: Demo, index: int, buyer: str, first: dict[str, Any]) -> uuid.UUID:
    thread, _ = await demo.tx(
        lambda s: negotiations.start(
            s, demo.modules.trading, demo.principals[buyer], demo.listings[index], first, demo.now
        )
    )
    return thread.id


async def _counter(demo: Demo, thread_id: uuid.UUID, party: str, terms: dict[str, Any]) -> None:
    await demo.tx(
        lambda s: negotiations.counter(s, demo.modules.trading, demo.principals[party], thread_id, terms, demo.now)
    )


async def _accept(demo: Demo, index: int, thread_id: uuid.UUID, party: str) -> Deal:
    standing = await _standing(demo, thread_id)
    deal = await demo.tx(
        lambda s: negotiations.accept(s, demo.modules.trading, demo.principals[party], thread_id, standing.id, demo.now)
    )
    demo.deals[index] = deal.id
    return deal


async def scene_trading_opens(demo: Demo) -> str:
    """Six weeks ago: the announcements end; two auctions run the next working day, four negotiations agree."""
    async with demo.db.read() as session:
        closes = [
            (await listing_service.load_listing(session, demo.listings[i], check=False)).closes_at for i in TRADED
        ]
    demo.advance_to(max(closes) + timedelta(hours=1))
    await demo.sweep()  # auctions are scheduled, negotiations may start, the listing without intent is unsold

    bids = await _run_auction(demo, AUCTION_SETTLED, [("guneng", 0), ("zhizao", 2), ("guneng", 5), ("zhizao", 12)])
    bids += await _run_auction(
        demo, AWAITING_SIGNATURE, [("zhizao", 0), ("kangyuan", 3), ("zhizao", 4), ("kangyuan", 8)]
    )
    ends = max([(await _auction_of(demo, i)).ends_at for i in (AUCTION_SETTLED, AWAITING_SIGNATURE)])
    demo.advance_to(ends + timedelta(minutes=1))
    await demo.sweep()  # the auctions close: the highest bidders' deals form
    for index in (AUCTION_SETTLED, AWAITING_SIGNATURE):
        deal_id = (await _auction_of(demo, index)).deal_id
        assert deal_id is not None, "an auction with bids closes with a deal"
        demo.deals[index] = deal_id

    # Negotiations over the following days, in office hours.
    demo.advance_to(demo.next_morning())
    licence = await _open(
        demo,
        LICENCE_IN_INSTALMENTS,
        "xinxun",
        offer(500_000, "首付30%，余款一年内两期付清", [(0, 150_000), (6, 175_000), (12, 175_000)]),
    )
    transfer = await _open(demo, TRANSFER_SETTLED, "guneng", offer(300_000, "希望一次性付款，尽快完成专利转让登记"))
    cancelled = await _open(demo, CANCELLED, "qinghuan", offer(380_000, "用于园区配电改造试点"))
    demo.advance_to(demo.next_morning(1))
    await _counter(
        demo,
        licence,
        "pujiang",
        offer(560_000, "独占许可，价格需反映中试投入", [(0, 168_000), (6, 196_000), (12, 196_000)]),
    )
    await _counter(demo, transfer, "zhizao", offer(340_000, "含两次现场技术指导"))
    await _accept(demo, CANCELLED, cancelled, "donghai")
    listed = await _thread_of(demo, DEFAULTED, "lvhe")  # the listed price stands as the seller's offer
    await _accept(demo, DEFAULTED, listed.id, "lvhe")
    demo.advance_to(demo.next_morning(5))
    await _counter(
        demo, licence, "xinxun", offer(550_000, "接受独占许可条款", [(0, 165_000), (6, 192_500), (12, 192_500)])
    )
    await _accept(demo, TRANSFER_SETTLED, transfer, "guneng")
    demo.advance_to(demo.now + timedelta(hours=2))
    await _accept(demo, LICENCE_IN_INSTALMENTS, licence, "pujiang")
    return f"2 auctions closed after {bids} bids, 4 negotiations agreed: {len(demo.deals)} deals under result notice"


async def _deal(demo: Demo, index: int) -> Deal:
    async with demo.db.read() as session:
        return await deals.load_deal(session, demo.deals[index])


async def _notice_closes(demo: Demo, indices: list[int]) -> Any:
    async with demo.db.read() as session:
        ids = [(await deals.load_deal(session, demo.deals[i])).notice_id for i in indices]
        return await session.scalar(select(func.max(Notice.closes_at)).where(Notice.id.in_(ids)))


async def _sign(demo: Demo, index: int, *parties: str) -> None:
    for party in parties:
        await demo.tx(
            lambda s, p=party: deals.sign(s, demo.modules.trading, demo.principals[p], demo.deals[index], demo.now)
        )
        demo.advance_to(demo.now + timedelta(hours=1))


async def _pay(demo: Demo, index: int) -> None:
    buyer_org = (await _deal(demo, index)).buyer_org_id
    buyer = next(k for k, p in demo.principals.items() if p.org_id == buyer_org)
    await demo.tx(lambda s: deals.pay(s, demo.modules.trading, demo.principals[buyer], demo.deals[index], demo.now))


async def scene_deals(demo: Demo) -> str:
    """Four weeks ago: result notices close, parties sign, certificates issue, two deals settle.

    The buyers of the auctioned patent and of the negotiated transfer pay."""
    quick = [AUCTION_SETTLED, DEFAULTED, AWAITING_SIGNATURE, TRANSFER_SETTLED]  # deal-result notices
    demo.advance_to(await _notice_closes(demo, quick) + timedelta(minutes=5))
    await demo.sweep()
    demo.advance_to(demo.next_morning(1))
    await _sign(demo, AUCTION_SETTLED, "donghai", "zhizao")
    await _sign(demo, TRANSFER_SETTLED, "zhizao", "guneng")
    await _sign(demo, DEFAULTED, "kangyuan", "lvhe")  # the buyer will not pay before its deadline
    await _sign(demo, AWAITING_SIGNATURE, "shenjiang")
    demo.advance_to(demo.now + timedelta(days=1))
    await _pay(demo, AUCTION_SETTLED)
    await _pay(demo, TRANSFER_SETTLED)
    states = Counter([(await _deal(demo, i)).state for i in quick])
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items()))


async def scene_negotiated_deals(demo: Demo) -> str:
    """Three weeks ago: negotiated-price notices close; a licence pays, a deal is cancelled.

    The licence pays its down payment (the rest is collected in six and twelve months); a signed
    deal is cancelled by agreement."""
    # Public institutions' negotiated prices are published for fifteen days.
    demo.advance_to(await _notice_closes(demo, [LICENCE_IN_INSTALMENTS, CANCELLED]) + timedelta(minutes=5))
    await demo.sweep()
    demo.advance_to(demo.next_morning(1))
    await _sign(demo, LICENCE_IN_INSTALMENTS, "pujiang", "xinxun")
    await _sign(demo, CANCELLED, "donghai", "qinghuan")
    await _pay(demo, LICENCE_IN_INSTALMENTS)
    demo.advance_to(demo.now + timedelta(days=1))
    for party in ("qinghuan", "donghai"):  # the pilot site fell through: both agree to cancel
        await demo.tx(
            lambda s, p=party: deals.agree_to_cancel(
                s, demo.modules.trading, demo.principals[p], demo.deals[CANCELLED], demo.now
            )
        )
    states = Counter([(await _deal(demo, i)).state for i in demo.deals])
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items()))


def relist_moment(demo: Demo, calendar: WorkingCalendar, working_days: int) -> Any:
    """The morning from which a relisting of ``working_days`` ends with the last working day before
    the live auction's day: its auction opens on the first working day after, at the demo's time."""
    auction_day = (demo.present - LIVE_AUCTION_OPENED).astimezone(BEIJING).date()
    day = auction_day - timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    counted = 0
    while counted < working_days:
        day -= timedelta(days=1)
        counted += calendar.is_working_day(day)
    return max(morning(day), demo.now)


async def scene_relisted_auction(demo: Demo) -> str:
    """Last week or two: the storage-alloy patent, unsold, is relisted for five working days; three bidders join."""
    days = demo.modules.listings.rules.relist_working_days
    demo.advance_to(relist_moment(demo, await demo.calendar(), days))
    seller = demo.actor(CATALOGUE[LIVE_AUCTION].seller)
    listing = await demo.tx(
        lambda s: listing_service.relist_listing(
            s, demo.modules.listings, seller, demo.listings[LIVE_AUCTION], demo.now, working_days=days
        )
    )
    demo.advance_to(demo.now + timedelta(hours=5))
    held = await _register_intents(demo, LIVE_AUCTION, RELIST_BIDDERS)
    return (
        f"relisted until {listing.closes_at:%Y-%m-%d %H:%M} UTC; {len(RELIST_BIDDERS)} intents, ¥{held // 100:,} held"
    )


async def scene_negotiations(demo: Demo) -> str:
    """Yesterday and today: two buyers negotiate a licence; a transfer is agreed and goes under notice."""
    present = demo.present
    demo.advance_to(morning(present.date() - timedelta(days=1)) + timedelta(hours=1))
    first = await _open(demo, NEGOTIATING, "zhizao", offer(800_000, "非独占许可，限电动工具领域"))
    second = await _open(
        demo, NEGOTIATING, "guneng", offer(850_000, "首付30%，余款12个月内付清", [(0, 255_000), (12, 595_000)])
    )
    coating = await _open(demo, RESULT_NOTICE, "kangyuan", offer(900_000, "分两期支付", [(0, 300_000), (6, 600_000)]))
    demo.advance_to(demo.now + timedelta(hours=5))
    await _counter(demo, first, "xinxun", offer(880_000, "可接受非独占许可，价格需上调"))
    await _counter(demo, second, "xinxun", offer(900_000, "首付比例提高到40%", [(0, 360_000), (12, 540_000)]))
    await _counter(demo, coating, "shenjiang", offer(980_000, "含工艺转移与人员培训", [(0, 300_000), (6, 680_000)]))
    demo.advance_to(min(present - timedelta(hours=1), morning(present.date()) + timedelta(hours=1)))
    await _counter(demo, first, "zhizao", offer(860_000, "最终报价，含三年技术支持"))
    await _accept(demo, RESULT_NOTICE, coating, "kangyuan")
    return "2 negotiations with standing offers; 1 deal agreed, its negotiated-price notice open for 15 days"


async def scene_live_auction(demo: Demo) -> str:
    """Ten minutes ago: the relisted listing's auction opened at the set time; the bidding starts."""
    async with demo.db.read() as session:
        listing = await listing_service.load_listing(session, demo.listings[LIVE_AUCTION], check=False)
    if listing.closes_at is not None:
        demo.advance_to(listing.closes_at)  # the sweeper closes the announcement on time
    swept = await demo.sweep()
    if await listing_status(demo, LIVE_AUCTION) != "auctioning":
        return f"the relisted announcement has not ended yet: no live auction this time ({swept})"
    auction = await _auction_of(demo, LIVE_AUCTION)
    demo.auction_id = auction.id
    demo.auction_starts_at = auction.starts_at
    if auction.starts_at > demo.present - timedelta(minutes=6):
        demo.auction_ends_at = auction.ends_at
        return (
            f"3 intents; the auction opens at {auction.starts_at:%Y-%m-%d %H:%M} UTC (the next working day); "
            f"the auction ends at {auction.ends_at:%H:%M} UTC unless a late bid extends it"
        )
    demo.advance_to(auction.starts_at)
    for bidder, steps in (("xinxun", 0), ("zhizao", 3), ("guneng", 6)):
        demo.advance_to(demo.now + timedelta(minutes=2))
        await _bid(demo, auction, bidder, steps)
    demo.auction_ends_at = (await _auction_of(demo, LIVE_AUCTION)).ends_at
    async with demo.db.read() as session:
        defaulted = await session.scalar(select(func.count()).select_from(Deal).where(Deal.state == "defaulted"))
    return (
        f"3 bids; the auction ends at {demo.auction_ends_at:%H:%M} UTC; {defaulted} deal defaulted (deposit forfeited)"
    )
