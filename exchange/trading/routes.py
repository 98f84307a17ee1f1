"""HTTP controllers of trading: intents, auctions (with live events), negotiations and deals. Thin."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter
from litestar.response import ServerSentEvent
from sqlalchemy import select

from exchange.accounting.routes import KeyedWrite
from exchange.parties.http import Caller
from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.events import Events
from exchange.platform.http import BEARER, Db, Now
from exchange.platform.keyed import Outcome, idempotent, required_key, stored_answer
from exchange.trading import auction_events, auctions, deals, intents, negotiations
from exchange.trading.context import LiveEvent, TradingContext
from exchange.trading.errors import NotParticipant
from exchange.trading.models import Auction, Bid, Deal
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
)
from exchange.trading.views import (
    auction_out,
    bid_out,
    certificate_out,
    deal_out,
    intent_out,
    negotiation_out,
)
from kernel.errors import DomainError, InvalidState, NotFound
from listings import load_listing

Trading = NamedDependency[TradingContext]
Limit = FromQuery[Annotated[int, Parameter(ge=1, le=100, description="items per page")]]
Cursor = FromQuery[Annotated[str | None, Parameter(max_length=100, description="next_cursor of the previous page")]]
KeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", min_length=1, max_length=255, description="Required: a replay returns the original"
    ),
]


class InvalidCursor(DomainError):
    problem_type = "invalid-cursor"
    status = 422
    title = "The cursor is not one this endpoint issued"


def _cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        return uuid.UUID(cursor)
    except ValueError:
        raise InvalidCursor("the cursor is not one this endpoint issued", field="cursor") from None


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
            rows, notes = await intents.list_intents(session, user, listing_id, limit, _cursor(cursor))
        items = [intent_out(r, notes[r.id]) for r in rows[:limit]]
        return IntentPage(items=items, next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None)

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
    async def of_listing(self, listing_id: FromPath[uuid.UUID], user: Caller, db: Db) -> AuctionOut:
        async with db.read() as session:
            found = await session.scalar(
                select(Auction).where(Auction.listing_id == listing_id).order_by(Auction.starts_at.desc()).limit(1)
            )
            if found is None:
                raise NotFound(f"listing {listing_id} has no auction")
            auction, _ = await auctions.visible_auction(session, user, found.id)
            return auction_out(auction, user.org_id, await _high_number(session, auction))

    @get("/auctions/{auction_id:uuid}", summary="An auction: high bid, end, next minimum bid")
    async def one(self, auction_id: FromPath[uuid.UUID], user: Caller, db: Db) -> AuctionOut:
        async with db.read() as session:
            auction, _ = await auctions.visible_auction(session, user, auction_id)
            return auction_out(auction, user.org_id, await _high_number(session, auction))

    @get("/auctions/{auction_id:uuid}/bids", summary="Accepted bids, newest first (bidders as 'you' or labels)")
    async def bids(
        self, auction_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> BidPage:
        before = None
        if cursor is not None:
            if not cursor.isdigit() or len(cursor) > 9:
                raise InvalidCursor("the cursor is not one this endpoint issued", field="cursor")
            before = int(cursor)
        async with db.read() as session:
            auction, _ = await auctions.visible_auction(session, user, auction_id)
            rows, next_seq = await auctions.list_bids(session, auction, limit, before)
        return BidPage(
            items=[bid_out(b, user.org_id) for b in rows], next_cursor=str(next_seq) if next_seq is not None else None
        )

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
        idempotency_key: KeyHeader = None,
    ) -> Response[BidOut]:
        # The hottest route reads its services from the state: each injected dependency would cost
        # the request a task and a validation (a third of a refused bid's time in the framework).
        db: Database = state.db
        clock: Clock = state.clock
        trading: TradingContext = state.trading
        events: Events = state.events
        key = required_key(idempotency_key)
        scope = f"org:{trader.org_id}:bid"
        # Screened in one statement outside a transaction; only a bid that passes (or whose key
        # holds an answer already) opens one.
        screened = await auctions.screen_bid(db, trader, auction_id, data.amount, clock.now(), scope=scope, key=key)
        collected: list[LiveEvent] = []
        request = {"auction_id": str(auction_id), "amount": data.amount}

        async def work(session: Any) -> Outcome:
            collected.clear()
            bid, ends_at = await auctions.place_bid(
                session, trading, trader, auction_id, data.amount, clock.now(), collected, screened
            )
            return Outcome(201, bid_out(bid, trader.org_id, ends_at))

        async def place() -> Outcome:
            return await idempotent(
                db,
                scope=scope,
                key=key,
                request=request,
                now=clock.now,
                work=work,
                key_seen_free=screened is not None,
            )

        def publish() -> None:
            for channel, name, payload in collected:
                events.publish(channel, name, payload)
            collected.clear()

        if screened is None:  # the key holds an answer already, or the request may be a replay
            outcome = await place()
        else:
            turns = trading.bid_turns
            outbid: DomainError | None = None
            async with turns.turn(auction_id):
                try:
                    auctions.check_against(screened, data.amount, turns.high(auction_id))
                except DomainError as refusal:
                    outbid = refusal  # answered after the turn: the bids behind it need not wait for a read
                else:
                    outcome = await place()
                    if outcome.status_code == 201 and not outcome.replayed:
                        turns.committed(auction_id, data.amount)
                        publish()  # in turn: this process publishes an auction's bids in their order
            if outbid is not None:
                # Outbid while waiting its turn; a replay of a bid accepted meanwhile gets its answer.
                stored = await stored_answer(db, scope=scope, key=key, request=request)
                if stored is None:
                    raise outbid
                outcome = stored
        if not outcome.replayed:
            publish()
        return Response(outcome.body, status_code=outcome.status_code, headers=outcome.headers)

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
            listing = await load_listing(session, listing_id, viewer=None, check=False)
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
        deal = await db.transaction(
            lambda s: negotiations.accept(s, trading, trader, negotiation_id, offer_id, clock.now())
        )
        return deal_out(deal)

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
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DealPage:
        query = select(Deal)
        if not user.is_operator:
            query = query.where((Deal.buyer_org_id == user.org_id) | (Deal.seller_org_id == user.org_id))
        if listing_id is not None:
            query = query.where(Deal.listing_id == listing_id)
        after = _cursor(cursor)
        if after is not None:
            query = query.where(Deal.id < after)
        async with db.read() as session:
            rows = list((await session.scalars(query.order_by(Deal.id.desc()).limit(limit + 1))).all())
        return DealPage(
            items=[deal_out(d) for d in rows[:limit]],
            next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None,
        )

    @get("/{deal_id:uuid}", summary="A deal: terms, price, fee breakdown, state (its parties and operators)")
    async def one(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db) -> DealOut:
        async with db.read() as session:
            return deal_out(await deals.visible_deal(session, user, deal_id))

    @get("/{deal_id:uuid}/certificate", summary="The signed deal certificate (verify with GET /keys)")
    async def certificate(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db) -> CertificateOut:
        async with db.read() as session:
            deal = await deals.visible_deal(session, user, deal_id)
        if deal.certificate is None:
            raise InvalidState(
                f"the certificate is issued when both parties have signed; the deal is {deal.state}", state=deal.state
            )
        return certificate_out(deal)

    @post("/{deal_id:uuid}/sign", status_code=200, summary="Sign the deal (an admin of each party)")
    async def sign(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, trading: Trading) -> DealOut:
        deal = await db.transaction(lambda s: deals.sign(s, trading, user, deal_id, clock.now()))
        return deal_out(deal)

    @post(
        "/{deal_id:uuid}/cancel",
        status_code=200,
        summary="Agree to cancel the deal before payment (an admin of each party; both cancel it)",
    )
    async def cancel(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, trading: Trading) -> DealOut:
        deal = await db.transaction(lambda s: deals.agree_to_cancel(s, trading, user, deal_id, clock.now()))
        return deal_out(deal)

    @post(
        "/{deal_id:uuid}/pay",
        status_code=200,
        summary="Pay the price into escrow (buyer; Idempotency-Key required)",
        operation_class=KeyedWrite,
    )
    async def pay(
        self,
        deal_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        clock: Now,
        trading: Trading,
        idempotency_key: KeyHeader = None,
    ) -> Response[DealOut]:
        key = required_key(idempotency_key)

        async def work(session: Any) -> Outcome:
            deal = await deals.visible_deal(session, user, deal_id)
            if user.org_id != deal.buyer_org_id:
                raise NotParticipant("only the buyer pays for a deal")
            return Outcome(200, deal_out(await deals.pay(session, trading, user, deal_id, clock.now())))

        outcome = await idempotent(
            db,
            scope=f"org:{user.org_id}:deal-pay",
            key=key,
            request={"deal_id": str(deal_id)},
            now=clock.now,
            work=work,
        )
        return Response(outcome.body, status_code=outcome.status_code, headers=outcome.headers)


ROUTE_HANDLERS = [IntentController, AuctionController, NegotiationController, DealController]
