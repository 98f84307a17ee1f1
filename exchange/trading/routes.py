"""HTTP controllers of trading: intents, auctions (with live events), negotiations and deals. Thin."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.http import Caller
from exchange.platform.events import Events
from exchange.platform.http import BEARER, Db, Now
from exchange.platform.keyed import IdempotencyKey, KeyedWrite, answer, keyed
from exchange.trading import auction_events, auctions, bidding, deals, intents, negotiations, printing, schedule
from exchange.trading.context import TradingContext
from exchange.trading.domain import Side
from exchange.trading.errors import NotParticipant
from exchange.trading.models import Bid, Deal
from exchange.trading.schemas import (
    AuctionOut,
    BidIn,
    BidOut,
    BidPage,
    CertificateOut,
    DealOut,
    DealPage,
    IntentOut,
    IntentPage,
    NegotiationOut,
    NegotiationPage,
    OfferIn,
    SettlementStatementOut,
)
from exchange.trading.views import (
    auction_out,
    bid_out,
    deal_out,
    intent_out,
    negotiation_out,
)
from kernel.pagination import Cursor, Limit
from kernel.printing import PDF
from listings import load_listing

Trading = NamedDependency[TradingContext]


async def _deals_out(session: Any, rows: list[Deal]) -> list[DealOut]:
    """Deals with their payment schedules and notifications (two statements for a page)."""
    ids = [d.id for d in rows]
    payments, notes = await schedule.schedules_of(session, ids), await schedule.notifications_of(session, ids)
    return [deal_out(d, payments.get(d.id, []), notes.get(d.id, [])) for d in rows]


async def _deal_out(session: Any, deal: Deal) -> DealOut:
    return (await _deals_out(session, [deal]))[0]


def provide_trading(state: State) -> TradingContext:
    return state["trading"]


DEPENDENCIES = {"trading": Provide(provide_trading, sync_to_thread=False)}


class IntentController(Controller):
    tags = ["trading"]
    security = BEARER
    dependencies = DEPENDENCIES

    @post("/listings/{listing_id:uuid}/intents", status_code=201, summary="Register intent and hold the deposit")
    async def register(
        self, listing_id: FromPath[uuid.UUID], trader: Caller, db: Db, clock: Now, trading: Trading
    ) -> IntentOut:
        intent = await db.transaction(lambda s: intents.register_intent(s, trading, trader, listing_id, clock.now()))
        return intent_out(intent)

    @get("/intents", summary="The caller's intents, with notifications (operators: all)")
    async def mine(
        self,
        user: Caller,
        db: Db,
        listing_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> IntentPage:
        async with db.read() as session:
            rows, notes, next_cursor = await intents.list_intents(session, user, listing_id, limit, cursor)
        return IntentPage(items=[intent_out(r, notes[r.id]) for r in rows], next_cursor=next_cursor)

    @get("/intents/{intent_id:uuid}", summary="One intent of the caller, with its notifications")
    async def one(self, intent_id: FromPath[uuid.UUID], user: Caller, db: Db) -> IntentOut:
        async with db.read() as session:
            intent = await intents.get_intent(session, user, intent_id)
            notes = await intents.notifications(session, [intent.id])
        return intent_out(intent, notes[intent.id])

    @delete("/intents/{intent_id:uuid}", status_code=200, summary="Withdraw an intent during the announcement")
    async def withdraw(
        self, intent_id: FromPath[uuid.UUID], trader: Caller, db: Db, clock: Now, trading: Trading
    ) -> IntentOut:
        intent = await db.transaction(lambda s: intents.withdraw_intent(s, trading, trader, intent_id, clock.now()))
        return intent_out(intent)


async def _high_number(session: Any, auction: Any) -> int | None:
    if auction.high_bid_id is None:
        return None
    return await session.scalar(select(Bid.bidder_number).where(Bid.id == auction.high_bid_id))


class AuctionController(Controller):
    tags = ["trading"]
    security = BEARER
    dependencies = DEPENDENCIES

    @get("/listings/{listing_id:uuid}/auction", summary="The auction of a listing (participants, seller, operators)")
    async def of_listing(self, listing_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> AuctionOut:
        async with db.read() as session:
            auction = await auctions.auction_of_listing(session, user, listing_id)
            return auction_out(auction, user.org_id, await _high_number(session, auction), clock.now())

    @get("/auctions/{auction_id:uuid}", summary="An auction: opening, high bid, end, next minimum bid")
    async def one(self, auction_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> AuctionOut:
        async with db.read() as session:
            auction, _ = await auctions.visible_auction(session, user, auction_id)
            return auction_out(auction, user.org_id, await _high_number(session, auction), clock.now())

    @get("/auctions/{auction_id:uuid}/bids", summary="Accepted bids, newest first (bidders as 'you' or labels)")
    async def bids(
        self, auction_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> BidPage:
        async with db.read() as session:
            auction, _ = await auctions.visible_auction(session, user, auction_id)
            rows, next_cursor = await auctions.list_bids(session, auction, limit, cursor)
        return BidPage(items=[bid_out(b, user.org_id) for b in rows], next_cursor=next_cursor)

    @post(
        "/auctions/{auction_id:uuid}/bids",
        status_code=201,
        summary="Bid (intent holders; Idempotency-Key required)",
        operation_class=KeyedWrite,
    )
    async def bid(
        self,
        auction_id: FromPath[uuid.UUID],
        data: JSONBody[BidIn],
        trader: Caller,
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BidOut]:
        # The hottest route reads its services from the state: each injected dependency would cost
        # the request a task and a validation (a third of a refused bid's time in the framework).
        outcome = await bidding.submit_bid(
            state.trading, state.db, trader, auction_id, data.amount, key=idempotency_key, now=state.clock.now
        )
        return answer(outcome)

    @get(
        "/auctions/{auction_id:uuid}/events",
        summary="Live events of an auction (Server-Sent Events: snapshot, bid, extended, closed; resumable)",
        media_type="text/event-stream",
    )
    async def live(
        self,
        auction_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        events: NamedDependency[Events],
        last_event_id: auction_events.LastEventId = "",
    ) -> ServerSentEvent:
        async with db.read() as session:
            auction, _ = await auctions.visible_auction(session, user, auction_id)
        return auction_events.stream(events, db, auction.id, user.org_id, last_event_id)


class NegotiationController(Controller):
    tags = ["trading"]
    security = BEARER
    dependencies = DEPENDENCIES

    @post("/listings/{listing_id:uuid}/negotiations", status_code=201, summary="Open a negotiation with an offer")
    async def start(
        self,
        listing_id: FromPath[uuid.UUID],
        data: JSONBody[OfferIn],
        trader: Caller,
        db: Db,
        clock: Now,
        trading: Trading,
    ) -> NegotiationOut:
        thread, offers = await db.transaction(
            lambda s: negotiations.start(s, trading, trader, listing_id, data.plain(), clock.now())
        )
        return negotiation_out(thread, offers)

    @get("/listings/{listing_id:uuid}/negotiations", summary="Negotiations on a listing the caller is party to")
    async def of_listing(self, listing_id: FromPath[uuid.UUID], user: Caller, db: Db) -> NegotiationPage:
        async with db.read() as session:
            listing = await load_listing(session, listing_id, viewer=user)  # the listing's own visibility
            threads = await negotiations.threads_on(session, listing, user)
            items = [negotiation_out(thread, offers) for thread, offers in threads]
        return NegotiationPage(items=items, next_cursor=None)

    @get("/negotiations/{negotiation_id:uuid}", summary="A negotiation and its offers (its parties)")
    async def one(self, negotiation_id: FromPath[uuid.UUID], user: Caller, db: Db) -> NegotiationOut:
        async with db.read() as session:
            thread = await negotiations.visible_thread(session, user, negotiation_id)
            return negotiation_out(thread, await negotiations.offers_of(session, thread.id))

    @post("/negotiations/{negotiation_id:uuid}/offers", status_code=201, summary="Make a counter-offer")
    async def offer(
        self,
        negotiation_id: FromPath[uuid.UUID],
        data: JSONBody[OfferIn],
        trader: Caller,
        db: Db,
        clock: Now,
        trading: Trading,
    ) -> NegotiationOut:
        thread, offers = await db.transaction(
            lambda s: negotiations.counter(s, trading, trader, negotiation_id, data.plain(), clock.now())
        )
        return negotiation_out(thread, offers)

    @post(
        "/negotiations/{negotiation_id:uuid}/offers/{offer_id:uuid}/accept",
        status_code=201,
        summary="Accept the standing offer: the deal forms",
    )
    async def accept(
        self,
        negotiation_id: FromPath[uuid.UUID],
        offer_id: FromPath[uuid.UUID],
        trader: Caller,
        db: Db,
        clock: Now,
        trading: Trading,
    ) -> DealOut:
        async def work(session: Any) -> DealOut:
            deal = await negotiations.accept(session, trading, trader, negotiation_id, offer_id, clock.now())
            return await _deal_out(session, deal)

        return await db.transaction(work)

    @post(
        "/negotiations/{negotiation_id:uuid}/offers/{offer_id:uuid}/decline",
        status_code=200,
        summary="Decline the standing offer: the negotiation ends",
    )
    async def decline(
        self,
        negotiation_id: FromPath[uuid.UUID],
        offer_id: FromPath[uuid.UUID],
        trader: Caller,
        db: Db,
        clock: Now,
        trading: Trading,
    ) -> NegotiationOut:
        async def work(session: Any) -> NegotiationOut:
            thread = await negotiations.decline(session, trading, trader, negotiation_id, offer_id, clock.now())
            return negotiation_out(thread, await negotiations.offers_of(session, thread.id))

        return await db.transaction(work)


class DealController(Controller):
    path = "/deals"
    tags = ["trading"]
    security = BEARER
    dependencies = DEPENDENCIES

    @get("/", summary="Deals of the caller's organisation (operators: all), newest first")
    async def mine(
        self,
        user: Caller,
        db: Db,
        listing_id: FromQuery[uuid.UUID | None] = None,
        side: FromQuery[Side | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DealPage:
        """``side``: only the deals where the caller's organisation is the buyer (or the seller)."""
        async with db.read() as session:
            rows, next_cursor = await deals.list_deals(session, user, listing_id, limit, cursor, side)
            items = await _deals_out(session, rows)
        return DealPage(items=items, next_cursor=next_cursor)

    @get(
        "/{deal_id:uuid}",
        summary="A deal: terms, price, fee breakdown, payment schedule, state (its parties and operators)",
    )
    async def one(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db) -> DealOut:
        async with db.read() as session:
            return await _deal_out(session, await deals.visible_deal(session, user, deal_id))

    @get("/{deal_id:uuid}/certificate", summary="The signed deal certificate (verify with GET /keys)")
    async def certificate(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db) -> CertificateOut:
        return (await printing.certificate_of(db, user, deal_id))[1]

    @get(
        "/{deal_id:uuid}/certificate/pdf",
        media_type=PDF,
        summary="The deal certificate as PDF: in Chinese, with its signature and a QR code of the result notice",
    )
    async def certificate_pdf(
        self, request: Request[Any, Any, Any], deal_id: FromPath[uuid.UUID], user: Caller, db: Db, trading: Trading
    ) -> Response[bytes]:
        return await printing.certificate_pdf(request, db, user, trading, deal_id)

    @get(
        "/{deal_id:uuid}/settlement",
        summary="The signed settlement statement: fees, inventor reward and proceeds of each settled payment",
    )
    async def settlement(
        self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, trading: Trading
    ) -> SettlementStatementOut:
        return (await printing.statement_of(db, user, trading, deal_id))[1]

    @get(
        "/{deal_id:uuid}/settlement/pdf",
        media_type=PDF,
        summary="The settlement statement printed as PDF: in Chinese, with its signature and a QR code",
    )
    async def settlement_pdf(
        self, request: Request[Any, Any, Any], deal_id: FromPath[uuid.UUID], user: Caller, db: Db, trading: Trading
    ) -> Response[bytes]:
        return await printing.settlement_pdf(request, db, user, trading, deal_id)

    @post("/{deal_id:uuid}/sign", status_code=200, summary="Sign the deal (an admin of each party)")
    async def sign(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, trading: Trading) -> DealOut:
        async def work(session: Any) -> DealOut:
            return await _deal_out(session, await deals.sign(session, trading, user, deal_id, clock.now()))

        return await db.transaction(work)

    @post(
        "/{deal_id:uuid}/cancel",
        status_code=200,
        summary="Agree to cancel the deal before payment (an admin of each party; both cancel it)",
    )
    async def cancel(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, trading: Trading) -> DealOut:
        async def work(session: Any) -> DealOut:
            return await _deal_out(session, await deals.agree_to_cancel(session, trading, user, deal_id, clock.now()))

        return await db.transaction(work)

    @post(
        "/{deal_id:uuid}/pay",
        status_code=200,
        summary="Pay the price, the down payment or a due instalment into escrow (buyer; Idempotency-Key required)",
        operation_class=KeyedWrite,
    )
    async def pay(
        self,
        deal_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        clock: Now,
        trading: Trading,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DealOut]:
        async def work(session: AsyncSession) -> DealOut:
            deal = await deals.visible_deal(session, user, deal_id)
            if user.org_id != deal.buyer_org_id:
                raise NotParticipant("only the buyer pays for a deal")
            return await _deal_out(session, await deals.pay(session, trading, user, deal_id, clock.now()))

        return await keyed(
            db,
            clock,
            user,
            idempotency_key,
            action="deal-payment",
            request=str(deal_id),
            work=work,
            status=200,
            required=True,
        )


ROUTE_HANDLERS = [IntentController, AuctionController, NegotiationController, DealController]
