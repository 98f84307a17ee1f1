"""The portal's live auction, its bids, and the published deal results with their certificates.

The live page is watched by anyone under ``auctions.watched_auction`` (the portal's rule: an
auction of a public listing; every bidder anonymised but the watcher's own organisation when it
takes part), fed by the auction's own event stream (``auction_events.stream``) rendered for the
watcher. A bid from the page goes through ``bidding.submit_bid``, the one way to place a bid, as
``POST /api/v1/auctions/{id}/bids`` does, with the form's idempotency key.

A listing's page and an organisation's public profile live here too: they show trading's facts
(the auction, the published deals, the visitor's next step) beside the listing's public fields,
and the listings module knows nothing of the exchange (import-linter), while trading already reads
listings through their public services.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, Template
from msgspec import Struct

from exchange import credit
from exchange.accounting.wallet import cash_of
from exchange.parties import service as parties
from exchange.parties.domain import OrgKind, Principal
from exchange.parties.http import Caller
from exchange.platform.events import Events
from exchange.platform.http import Db, Now
from exchange.trading import auction_events, auctions, bidding, deals, intents, printing
from exchange.trading.context import TradingContext
from exchange.trading.domain import NextStep, bid_grid
from exchange.trading.models import Bid
from exchange.trading.routes import DEPENDENCIES, Trading
from exchange.trading.statements import SETTLED_STATES
from exchange.trading.views import auction_out
from exchange.web.formats import fen_of_yuan
from kernel.page_actions import is_htmx
from kernel.pagination import Cursor
from listings import (
    PUBLIC_STATUSES,
    Actor,
    ListingsContext,
    ListingStatus,
    NoticeKind,
    NoticeStatus,
    load_listing,
    notices,
)
from listings.queries import SearchQuery, count_listings, search_listings
from listings.views import listing_out, listing_summary

RESULTS_PER_PAGE = 20
HISTORY = 50  # the bids a page shows when it opens; later ones arrive through the stream


def bidder_name(label: str) -> str:
    """The API's bidder label in Chinese: "you" → 您, "bidder 3" → 竞买人 3 (auction.js does the same live)."""
    return "您" if label == "you" else label.replace("bidder ", "竞买人 ")


def new_form_key() -> str:
    """A fresh idempotency key for one bid form: a resubmission of the same form (a double click, a
    retried request) is the same bid. An accepted bid's answer swaps in a new key; a refused bid
    stores nothing under its key, so the corrected amount is sent with the same one."""
    return uuid.uuid4().hex


@get("/auctions/{auction_id:uuid}", include_in_schema=False, name="auction")
async def auction_page(
    auction_id: FromPath[uuid.UUID], principal: NamedDependency[Principal | None], db: Db, clock: Now
) -> Template:
    now = clock.now()
    async with db.read() as session:
        watch = await auctions.watched_auction(session, principal, auction_id)
        auction = watch.auction
        high = await session.get(Bid, auction.high_bid_id) if auction.high_bid_id is not None else None
        rows, _ = await auctions.list_bids(session, auction, HISTORY, None)
    shown = auction_out(auction, watch.label_org, high.bidder_number if high else None, now)
    is_open = shown.status == "open"
    context: dict[str, Any] = {
        "section": "listings",
        "auction": shown,
        "listing": watch.listing,
        "bids": [
            {
                "seq": b.seq,
                "amount": b.amount,
                "at": b.created_at,
                "bidder": bidder_name(auctions.bidder_label(b.org_id, b.bidder_number, watch.label_org)),
            }
            for b in rows
        ],
        "high_bidder": bidder_name(shown.high_bidder) if shown.high_bidder else None,
        "grid": bid_grid(auction.asking_price, auction.increment, auction.high_amount) if is_open else [],
        "signed_in": principal is not None,
        "may_bid": watch.may_bid,
        "form_key": new_form_key(),
        # Where the page's stream resumes: after the bids (and extension) this page already shows.
        "after": auction_events.event_id(auction.bid_count, auction_events.EXTENDED),
    }
    # The public's page is kept in memory until the next bid (exchange/web/caching.py); a signed-in
    # reader's page, which may hold its bid form's key, is never kept (private, no-store).
    return Template("trading/auction.html", context=context)


@get("/auctions/{auction_id:uuid}/live", include_in_schema=False, media_type="text/event-stream")
async def auction_live(
    auction_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal | None],
    db: Db,
    events: NamedDependency[Events],
    last_event_id: auction_events.LastEventId = "",
    after: FromQuery[str] = "",
) -> ServerSentEvent:
    """The auction's event stream for the live page, under the page's watch rule: the API's stream,
    rendered for the watcher (the public: for nobody, so that every bidder is a label).
    ``after``: the position the page was rendered at (EventSource's ``Last-Event-ID`` wins on a
    reconnection); an id this stream never issued is ignored (a fresh stream)."""
    async with db.read() as session:
        watch = await auctions.watched_auction(session, principal, auction_id)
    return auction_events.stream(events, db, watch.auction.id, watch.label_org, last_event_id or after[:11] or None)


class BidForm(Struct):
    amount: str = ""  # yuan, as typed
    key: str = ""  # the form's idempotency key


@post("/auctions/{auction_id:uuid}/bids", include_in_schema=False, status_code=201, dependencies=DEPENDENCIES)
async def bid_from_page(
    request: Request[Any, Any, Any],
    auction_id: FromPath[uuid.UUID],
    data: Annotated[BidForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    trader: Caller,
    db: Db,
    clock: Now,
    trading: NamedDependency[TradingContext],
) -> Template:
    """A bid typed in yuan: the API's bid (same service, same refusals, answered in Chinese)."""
    amount = fen_of_yuan(data.amount)
    outcome = await bidding.submit_bid(trading, db, trader, auction_id, amount, key=data.key or None, now=clock.now)
    context = {"amount": amount, "replayed": outcome.replayed, "auction_id": auction_id, "form_key": new_form_key()}
    fragment = is_htmx(request)
    template = "trading/bid_answer.html" if fragment else "trading/bid_answer_page.html"
    return Template(template, context=context, status_code=outcome.status_code, headers={"Cache-Control": "no-store"})


# -- deal results and certificates ----------------------------------------------------------------

RESULT_TABS = {NoticeStatus.OPEN: "公示中", NoticeStatus.CLOSED: "公示期满"}


@get("/deals/results", include_in_schema=False, name="deal-results")
async def deal_results(
    db: Db,
    clock: Now,
    status: FromQuery[NoticeStatus] = NoticeStatus.OPEN,
    cursor: Cursor = None,
) -> Template:
    """The published results of deals: their ``deal_result`` notices, read as the notice board's
    API reads them (``GET /api/v1/notices?kind=deal_result&status=…``), with the figures each
    signed notice published (achievement, price, buyer, seller)."""
    async with db.read() as session:
        rows, next_cursor = await notices.list_notices(
            session, status=status, kind=NoticeKind.DEAL_RESULT, subject_id=None, limit=RESULTS_PER_PAGE, cursor=cursor
        )
    results = [{"notice": n, "body": json.loads(n.content)["body"]} for n in rows]
    context = {
        "section": "deals",
        "status": status.value,
        "tabs": {s.value: label for s, label in RESULT_TABS.items()},
        "results": results,
        "next_cursor": next_cursor,
        "now": clock.now(),
    }
    return Template("trading/results.html", context=context)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@get("/deals/{deal_id:uuid}/certificate", include_in_schema=False, name="deal-certificate")
async def certificate_page(deal_id: FromPath[uuid.UUID], user: Caller, db: Db) -> Template:
    """The signed certificate, verified in the reader's browser. Its readers are the API's: the
    deal's parties and operators (``deals.visible_deal``); the certificate names the signers and
    the fees and payment schedule the result notice does not publish. The public verifies the
    deal's result notice instead."""
    deal, shown = await printing.certificate_of(db, user, deal_id)
    content = shown.content
    schedule = [
        {
            "seq": row["seq"],
            "amount": row["amount"],
            "due_at": _moment(row.get("due_at")),
            "deadline_at": _moment(row.get("deadline_at")),
        }
        for row in content.get("payment_schedule", [])
    ]
    context = {
        "section": "deals",
        "settled": deal.state in SETTLED_STATES,
        "certificate": shown,
        "content": content,
        "issued_at": _moment(content.get("issued_at")),
        "schedule": schedule,
    }
    return Template("trading/certificate.html", context=context, headers={"Cache-Control": "private, no-store"})


PRIVATE = {"public_cache": False}  # the deal's parties and operators only


@get(
    "/deals/{deal_id:uuid}/certificate/pdf",
    include_in_schema=False,
    name="deal-certificate-pdf",
    opt=PRIVATE,
    dependencies=DEPENDENCIES,
)
async def certificate_pdf_page(
    request: Request[Any, Any, Any], deal_id: FromPath[uuid.UUID], user: Caller, db: Db, trading: Trading
) -> Response[bytes]:
    """The certificate page's "下载 PDF": the API's PDF, for the same readers."""
    return await printing.certificate_pdf(request, db, user, trading, deal_id)


@get(
    "/deals/{deal_id:uuid}/settlement/pdf",
    include_in_schema=False,
    name="deal-settlement-pdf",
    opt=PRIVATE,
    dependencies=DEPENDENCIES,
)
async def settlement_pdf_page(
    request: Request[Any, Any, Any], deal_id: FromPath[uuid.UUID], user: Caller, db: Db, trading: Trading
) -> Response[bytes]:
    """The settlement statement's PDF (linked from the certificate page once a payment is settled)."""
    return await printing.settlement_pdf(request, db, user, trading, deal_id)


ORG_LISTINGS = 10  # the newest on the profile; the library lists them all
ORG_DEALS = 20


@get("/listings/{listing_id:uuid}", include_in_schema=False, name="listing")
async def listing_page(
    listing_id: FromPath[uuid.UUID],
    db: Db,
    clock: Now,
    principal: NamedDependency[Principal | None],
    viewer: NamedDependency[Actor | None],
    listings: NamedDependency[ListingsContext],
) -> Template:
    now = clock.now()
    async with db.replica() as session:  # the replica for an anonymous reader (exchange/web/replica.py)
        # The API's rule: public once announced, a draft only to its seller and operators (else 404).
        listing = await load_listing(session, listing_id, viewer=viewer)
        auction = await auctions.latest_auction(session, listing.id)
        published = await deals.published_deals(session, listing_id=listing.id)
        timeline = await notices.notices_about(session, [listing.id, *(deal.id for deal, _ in published)])
        step, intent = await intents.next_step_on(session, listing, principal, auction)
        # The running announcement's working days left, counted as the notice board counts them.
        left = await notices.working_days_left(session, listings, list(timeline), now)
        days_left = left.get(listing.notice_id) if listing.status == ListingStatus.ANNOUNCED else None
        # Before registering, the buyer sees what its wallet has available beside the deposit to hold.
        cash = await cash_of(session, principal.org_id) if step is NextStep.REGISTER_INTENT and principal else None
        # What other modules show of it (the brokers its seller engaged), through the listings' hooks.
        shown = [await part.part(session, listing) for part in listings.hooks.page_parts]
    context = {
        "section": "listings",
        "listing": listing_out(listing, viewer),
        "deal_type": listing.deal_type,  # the tag of the deal terms, which msgspec keeps off the struct
        "public": listing.status in PUBLIC_STATUSES,
        "auction": auction_out(auction, None, None, now) if auction else None,
        "deals": [deal_row(deal, notice, None) for deal, notice in published],
        "timeline": timeline,
        "days_left": days_left,
        "step": step.value if step else None,
        "intent": intent if step is NextStep.INTENT_REGISTERED else None,
        "cash": cash,
        "parts": [{"template": template, "context": part} for template, part in filter(None, shown)],
    }
    return Template("trading/listing.html", context=context)


@post(
    "/listings/{listing_id:uuid}/intent",
    include_in_schema=False,
    status_code=303,
    dependencies=DEPENDENCIES,
    name="register-intent",
)
async def register_intent(
    listing_id: FromPath[uuid.UUID], trader: NamedDependency[Principal], db: Db, clock: Now, trading: Trading
) -> Redirect:
    """The API's ``POST /listings/{id}/intents``: the deposit is held from the wallet, or the refusal
    (not verified, not announced, already registered, short of funds) is a Chinese page."""
    await db.transaction(lambda s: intents.register_intent(s, trading, trader, listing_id, clock.now()))
    return Redirect(path=f"/listings/{listing_id}#next-step", status_code=303)


def deal_row(deal: Any, notice: Any, org_id: uuid.UUID | None) -> dict[str, Any]:
    """A published deal as its notice shows it: the achievement, the parties by name, the price."""
    snapshot = deal.snapshot
    return {
        "listing_id": deal.listing_id,
        "title": snapshot["listing"]["title"],
        "deal_type": deal.deal_type,
        "concluded_by": deal.concluded_by,
        "price": deal.price,
        "seller": snapshot["seller"]["name"],
        "seller_id": deal.seller_org_id,
        "buyer": snapshot["buyer"]["name"],
        "buyer_id": deal.buyer_org_id,
        "role": None if org_id is None else ("seller" if deal.seller_org_id == org_id else "buyer"),
        "notice_id": notice.id,
        "notice_kind": notice.kind,
        "published_at": notice.opens_at,
    }


@get("/orgs/{org_id:uuid}", include_in_schema=False, name="org-profile")
async def org_page(org_id: FromPath[uuid.UUID], db: Db, viewer: NamedDependency[Actor | None]) -> Template:
    # Only what the exchange already publishes: the name, kind and verification (notices name the
    # parties), its public listings and its published deals. No credit code, members or e-mails.
    # A service provider's published credit evaluation too (grade, score, ratings, 示范机构), as the
    # service catalogue shows it; its breakdown is on /credit/providers/{id}.
    search = SearchQuery(seller_org_id=org_id, order="newest", limit=ORG_LISTINGS)
    async with db.read() as session:
        org = await parties.get_org(session, org_id)  # 404 for an unknown organisation
        rows, _ = await search_listings(session, search, viewer)
        total = await count_listings(session, search, viewer)
        published = await deals.published_deals(session, org_id=org.id, limit=ORG_DEALS)
        provider = org.kind == OrgKind.SERVICE_PROVIDER
        standing = (await credit.standings(session, [org.id]))[org.id] if provider else None
    context = {
        "org": {"id": org.id, "name": org.name, "kind": org.kind, "verified": org.verified},
        "credit": standing,
        "listings": [listing_summary(row) for row in rows],
        "listing_total": total,
        "deals": [deal_row(deal, notice, org.id) for deal, notice in published],
    }
    return Template("trading/org.html", context=context)


PAGE_HANDLERS = [
    auction_page,
    auction_live,
    bid_from_page,
    deal_results,
    certificate_page,
    certificate_pdf_page,
    settlement_pdf_page,
    listing_page,
    register_intent,
    org_page,
]
