"""A listing's page and an organisation's public profile: the listing's public fields beside the
trading facts about it (its auction, its published deals, the visitor's next step), and an
organisation's listings beside its published deals.

They live here rather than in ``listings`` because they need trading's facts and the listings
module knows nothing of the exchange (import-linter); trading already reads listings through their
public services, so composing both here adds no new dependency.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from exchange.parties import service as parties
from exchange.parties.domain import Principal
from exchange.platform.http import Db, Now
from exchange.trading import auctions, deals, intents
from exchange.trading.domain import NextStep
from exchange.trading.routes import DEPENDENCIES, Trading
from exchange.trading.views import auction_out
from listings import (
    PUBLIC_STATUSES,
    Actor,
    CalendarYearMissing,
    ListingsContext,
    ListingStatus,
    load_listing,
    notices_about,
    working_calendar,
)
from listings.queries import SearchQuery, count_listings, search_listings
from listings.views import listing_out, listing_summary

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
    days_left = None
    async with db.read() as session:
        # The API's rule: public once announced, a draft only to its seller and operators (else 404).
        listing = await load_listing(session, listing_id, viewer=viewer)
        auction = await auctions.latest_auction(session, listing.id)
        published = await deals.published_deals(session, listing_id=listing.id)
        timeline = await notices_about(session, [listing.id, *(deal.id for deal, _ in published)])
        step, intent = await intents.next_step_on(session, listing, principal, auction)
        if listing.status == ListingStatus.ANNOUNCED and listing.closes_at is not None:
            try:
                calendar = await working_calendar(session, listings.calendar)
                days_left = calendar.working_days_left(now, listing.closes_at)
            except CalendarYearMissing:
                days_left = None  # a year the calendar has no data for: the date alone
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
    search = SearchQuery(seller_org_id=org_id, order="newest", limit=ORG_LISTINGS)
    async with db.read() as session:
        org = await parties.get_org(session, org_id)  # 404 for an unknown organisation
        rows, _ = await search_listings(session, search, viewer)
        total = await count_listings(session, search, viewer)
        published = await deals.published_deals(session, org_id=org.id, limit=ORG_DEALS)
    context = {
        "org": {"id": org.id, "name": org.name, "kind": org.kind, "verified": org.verified},
        "listings": [listing_summary(row) for row in rows],
        "listing_total": total,
        "deals": [deal_row(deal, notice, org.id) for deal, notice in published],
    }
    return Template("trading/org.html", context=context)


PAGE_HANDLERS = [listing_page, register_intent, org_page]
