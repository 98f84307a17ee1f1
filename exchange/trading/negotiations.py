"""Negotiation (SPEC §3.3): threads of alternating offers between a buyer and the seller.

A counter-offer supersedes the standing offer; only the other party accepts or declines it, and
only before it expires. Accepting forms the deal and closes every other thread of the listing,
releasing its deposit. Declining or letting the standing offer expire ends the thread and releases
the buyer's deposit; a listing left with no buyer then ends unsold.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.tables import new_id
from exchange.trading import deals
from exchange.trading.context import TradingContext
from exchange.trading.domain import (
    NEGOTIATIONS,
    OFFERS,
    STANDING_OFFER_ON_END,
    Installment,
    NegotiationAction,
    NegotiationStatus,
    OfferAction,
    OfferStatus,
    Side,
    TradingRuleBroken,
    check_answer,
    check_counter_offer,
    check_installments,
    next_negotiation_state,
    next_offer_state,
)
from exchange.trading.errors import IntentExists, NotParticipant, OfferExpired, OfferNotStanding, SellerCannotBuy
from exchange.trading.intents import ACTIVE, active_intents, release
from exchange.trading.models import Deal, Intent, Negotiation, Offer
from kernel.db import is_postgres
from kernel.errors import NotFound
from kernel.time import rfc3339
from listings import Listing, ListingStatus, PricingMode, close_unsold, load_listing

LICENSE_FIELDS = frozenset({"scope", "term_months", "territory", "field_of_use", "royalty_bp"})
EQUITY_FIELDS = frozenset({"shares_bp", "company_name"})


def check_terms(price: int, payment_terms: dict[str, Any], adjustments: dict[str, Any], deal_type: str) -> None:
    if payment_terms.get("kind") == "installments":
        check_installments(
            price, [Installment(i["due_months"], i["amount"]) for i in payment_terms.get("installments") or []]
        )
    elif payment_terms.get("installments"):
        raise TradingRuleBroken("a lump sum has no instalments", field="payment_terms.installments")
    allowed = LICENSE_FIELDS if deal_type == "license" else EQUITY_FIELDS if deal_type == "equity" else frozenset()
    for name in adjustments:
        if name not in allowed:
            raise TradingRuleBroken(f"{name} cannot be adjusted in a {deal_type} deal", field=f"adjustments.{name}")


async def open_with_listed_price(
    session: AsyncSession, ctx: TradingContext, listing: Listing, intent: Intent, now: datetime
) -> Negotiation:
    """Listed mode with one intent: the listed price stands as the seller's opening offer."""
    thread = _thread(listing, intent, now)
    session.add(thread)
    await session.flush()
    _add_offer(
        session, ctx, thread, Side.SELLER, None, listing.asking_price, {"kind": "lump_sum"}, {}, "", now, None, listing
    )
    await session.flush()
    return thread


def _thread(listing: Listing, intent: Intent, now: datetime) -> Negotiation:
    return Negotiation(
        listing_id=listing.id,
        intent_id=intent.id,
        buyer_org_id=intent.org_id,
        seller_org_id=listing.seller_org_id,
        status=NEGOTIATIONS.initial.value,
        offer_count=0,
        created_at=now,
        end_reason="",
    )


def _add_offer(
    session: AsyncSession,
    ctx: TradingContext,
    thread: Negotiation,
    side: Side,
    user_id: uuid.UUID | None,
    price: int,
    payment_terms: dict[str, Any],
    adjustments: dict[str, Any],
    note: str,
    now: datetime,
    expires_at: datetime | None,
    listing: Listing | None = None,
) -> Offer:
    thread.offer_count += 1
    offer = Offer(
        id=new_id(),
        negotiation_id=thread.id,
        seq=thread.offer_count,
        side=side.value,
        by_user_id=user_id,
        price=price,
        payment_terms=payment_terms,
        adjustments=adjustments,
        note=note,
        status=OFFERS.initial.value,
        expires_at=expires_at or now + timedelta(days=ctx.rules.offer_expiry_days),
        created_at=now,
    )
    session.add(offer)
    to = thread.buyer_org_id if side is Side.SELLER else thread.seller_org_id
    data = {**about_offer(thread, offer, listing), "payment_terms": payment_terms, "adjustments": adjustments}
    notify(session, Kind.OFFER_RECEIVED, to=Audience.of_orgs(to), now=now, subject=offer_subject(thread), data=data)
    return offer


def offer_subject(thread: Negotiation) -> Subject:
    return Subject("negotiation", thread.id)


def about_offer(thread: Negotiation, offer: Offer, listing: Listing | None = None) -> dict[str, Any]:
    """What notifications about an offer name: the listing, the thread, the offer, its price and expiry."""
    data: dict[str, Any] = {
        "listing_id": str(thread.listing_id),
        "negotiation_id": str(thread.id),
        "offer_id": str(offer.id),
        "offer_seq": offer.seq,
        "offer_side": offer.side,
        "price_fen": offer.price,
        "expires_at": rfc3339(offer.expires_at),
    }
    if listing is not None:
        data.update({"listing_number": listing.number, "listing_title": listing.title})
    return data


def offerer(thread: Negotiation, offer: Offer) -> uuid.UUID:
    return thread.seller_org_id if offer.side == Side.SELLER.value else thread.buyer_org_id


def _expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at <= now or expires_at > now + timedelta(days=30):
        raise TradingRuleBroken("an offer expires after now and within 30 days", field="expires_at")
    return expires_at


async def start(
    session: AsyncSession,
    ctx: TradingContext,
    buyer: Principal,
    listing_id: uuid.UUID,
    offer: dict[str, Any],
    now: datetime,
) -> tuple[Negotiation, list[Offer]]:
    """A buyer holding an intent on a negotiated listing opens a thread with its first offer."""
    buyer.require_active_verified()
    listing = await load_listing(session, listing_id, lock=True)
    if listing.seller_org_id == buyer.org_id:
        raise SellerCannotBuy("the seller answers negotiations; it does not open them")
    intent = await session.scalar(
        select(Intent).where(Intent.listing_id == listing.id, Intent.org_id == buyer.org_id, Intent.status == ACTIVE)
    )
    if intent is None:
        raise NotParticipant("only organisations holding an intent on the listing negotiate")
    if listing.status != ListingStatus.NEGOTIATING.value:
        raise OfferNotStanding(f"the listing is {listing.status}, not negotiating", state=listing.status)
    existing = await session.scalar(select(Negotiation).where(Negotiation.intent_id == intent.id))
    if existing is not None:
        raise IntentExists(
            f"negotiation {existing.id} is already open for this intent", negotiation_id=str(existing.id)
        )
    if listing.pricing_mode != PricingMode.NEGOTIATED.value:
        raise OfferNotStanding("in listed mode the listed price stands as the seller's opening offer", state="listed")
    check_terms(offer["price"], offer["payment_terms"], offer["adjustments"], listing.deal_type)
    thread = _thread(listing, intent, now)
    session.add(thread)
    await session.flush()
    _add_offer(
        session,
        ctx,
        thread,
        Side.BUYER,
        buyer.user_id,
        offer["price"],
        offer["payment_terms"],
        offer["adjustments"],
        offer["note"],
        now,
        _expiry(offer.get("expires_at"), now),
        listing,
    )
    await session.flush()
    return thread, await offers_of(session, thread.id)


async def visible_thread(
    session: AsyncSession, viewer: Principal, negotiation_id: uuid.UUID, *, lock: bool = False
) -> Negotiation:
    query = select(Negotiation).where(Negotiation.id == negotiation_id)
    if lock:
        query = query.with_for_update()
    thread = await session.scalar(query)
    if thread is None or not (viewer.is_operator or viewer.org_id in (thread.buyer_org_id, thread.seller_org_id)):
        raise NotFound(f"negotiation {negotiation_id} not found")
    return thread


async def offers_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[Offer]:
    return list(
        (await session.scalars(select(Offer).where(Offer.negotiation_id == negotiation_id).order_by(Offer.seq))).all()
    )


async def threads_on(
    session: AsyncSession, listing: Listing, party: Principal, limit: int = 100
) -> list[tuple[Negotiation, list[Offer]]]:
    """The listing's negotiations ``party`` takes part in (all of them for its seller and operators),
    oldest first, each with its offers — two statements, however many threads."""
    query = select(Negotiation).where(Negotiation.listing_id == listing.id)
    if not (party.is_operator or party.org_id == listing.seller_org_id):
        query = query.where(Negotiation.buyer_org_id == party.org_id)
    threads = list((await session.scalars(query.order_by(Negotiation.created_at).limit(limit))).all())
    offers: dict[uuid.UUID, list[Offer]] = {t.id: [] for t in threads}
    if threads:
        rows = await session.scalars(
            select(Offer).where(Offer.negotiation_id.in_(offers)).order_by(Offer.negotiation_id, Offer.seq)
        )
        for offer in rows:
            offers[offer.negotiation_id].append(offer)
    return [(t, offers[t.id]) for t in threads]


async def threads_of(
    session: AsyncSession, org_id: uuid.UUID, side: Side, limit: int = 50
) -> list[tuple[Negotiation, list[Offer]]]:
    """The negotiations an organisation takes part in on one side, open ones first, then the newest,
    each with its offers (two statements): the workspaces' lists of what waits for an answer."""
    column = Negotiation.buyer_org_id if side is Side.BUYER else Negotiation.seller_org_id
    still_open = case((Negotiation.status == NegotiationStatus.OPEN.value, 0), else_=1)
    query = select(Negotiation).where(column == org_id).order_by(still_open, Negotiation.created_at.desc())
    threads = list((await session.scalars(query.limit(limit))).all())
    offers: dict[uuid.UUID, list[Offer]] = {t.id: [] for t in threads}
    if threads:
        rows = await session.scalars(
            select(Offer).where(Offer.negotiation_id.in_(offers)).order_by(Offer.negotiation_id, Offer.seq)
        )
        for offer in rows:
            offers[offer.negotiation_id].append(offer)
    return [(t, offers[t.id]) for t in threads]


def _side(thread: Negotiation, party: Principal) -> Side:
    if party.org_id == thread.buyer_org_id:
        return Side.BUYER
    if party.org_id == thread.seller_org_id:
        return Side.SELLER
    raise NotParticipant("only the buyer and the seller of a negotiation make or answer offers")


async def _standing(session: AsyncSession, thread: Negotiation) -> Offer | None:
    return await session.scalar(
        select(Offer)
        .where(Offer.negotiation_id == thread.id, Offer.status == OfferStatus.OPEN.value)
        .order_by(Offer.seq.desc())
        .limit(1)
    )


async def counter(
    session: AsyncSession,
    ctx: TradingContext,
    party: Principal,
    negotiation_id: uuid.UUID,
    offer: dict[str, Any],
    now: datetime,
) -> tuple[Negotiation, list[Offer]]:
    thread = await visible_thread(session, party, negotiation_id, lock=True)
    side = _side(thread, party)
    party.require_active_verified()
    next_negotiation_state(
        thread.status, NegotiationAction.OFFER, refusal=OfferNotStanding, detail=f"the negotiation is {thread.status}"
    )
    standing = await _standing(session, thread)
    if standing is not None and now >= standing.expires_at:
        raise OfferExpired("the standing offer has expired; the negotiation ends with the next sweep", state="expired")
    check_counter_offer(
        Side(standing.side) if standing else None, side, thread.offer_count, ctx.rules.max_offers_per_thread
    )
    listing = await load_listing(session, thread.listing_id, check=False)
    check_terms(offer["price"], offer["payment_terms"], offer["adjustments"], listing.deal_type)
    expires_at = _expiry(offer.get("expires_at"), now)
    if standing is not None:
        standing.status = next_offer_state(standing.status, OfferAction.SUPERSEDE).value
        standing.answered_at = now
    _add_offer(
        session,
        ctx,
        thread,
        side,
        party.user_id,
        offer["price"],
        offer["payment_terms"],
        offer["adjustments"],
        offer["note"],
        now,
        expires_at,
        listing,
    )
    await session.flush()
    return thread, await offers_of(session, thread.id)


async def _answerable(
    session: AsyncSession,
    party: Principal,
    negotiation_id: uuid.UUID,
    offer_id: uuid.UUID,
    now: datetime,
    answer: tuple[OfferAction, NegotiationAction],
) -> tuple[Negotiation, Offer, Side]:
    thread = await visible_thread(session, party, negotiation_id, lock=True)
    side = _side(thread, party)
    party.require_active_verified()
    offer = await session.get(Offer, offer_id)
    if offer is None or offer.negotiation_id != thread.id:
        raise NotFound(f"offer {offer_id} not found in negotiation {negotiation_id}")
    offer_action, thread_action = answer
    if not (OFFERS.allows(offer.status, offer_action) and NEGOTIATIONS.allows(thread.status, thread_action)):
        raise OfferNotStanding(f"the offer is {offer.status} and the negotiation {thread.status}", state=offer.status)
    if now >= offer.expires_at:
        raise OfferExpired("the offer has expired", state="expired")
    check_answer(Side(offer.side), side, expires_at=offer.expires_at, now=now)
    return thread, offer, side


async def accept(
    session: AsyncSession,
    ctx: TradingContext,
    party: Principal,
    negotiation_id: uuid.UUID,
    offer_id: uuid.UUID,
    now: datetime,
) -> Deal:
    answer = (OfferAction.ACCEPT, NegotiationAction.AGREE)
    thread, offer, _ = await _answerable(session, party, negotiation_id, offer_id, now, answer)
    for guard in ctx.deal_guards:
        await guard.check_negotiated_deal(
            session, listing_id=thread.listing_id, buyer_org_id=thread.buyer_org_id, price=offer.price
        )
    offer.status = next_offer_state(offer.status, OfferAction.ACCEPT).value
    offer.answered_at = now
    thread.status = next_negotiation_state(thread.status, NegotiationAction.AGREE).value
    thread.ended_at = now
    thread.end_reason = f"offer {offer.seq} accepted"
    others = await session.scalars(
        select(Negotiation).where(
            Negotiation.listing_id == thread.listing_id,
            Negotiation.status == NegotiationStatus.OPEN.value,
            Negotiation.id != thread.id,
        )
    )
    for other in others:
        await _end(session, other, NegotiationAction.CLOSE, "another buyer concluded the deal", now)
    intent = await session.get(Intent, thread.intent_id, with_for_update=True)
    assert intent is not None
    terms = {"payment_terms": offer.payment_terms, "adjustments": offer.adjustments}
    deal = await deals.form_deal(session, ctx, intent, offer.price, now, concluded_by="negotiation", terms=terms)
    listing = deal.snapshot["listing"]
    data = {
        **about_offer(thread, offer),
        "listing_number": listing["number"],
        "listing_title": listing["title"],
        "deal_id": str(deal.id),
    }
    to = Audience.of_orgs(offerer(thread, offer))
    notify(session, Kind.OFFER_ACCEPTED, to=to, now=now, subject=offer_subject(thread), data=data)
    return deal


async def decline(
    session: AsyncSession,
    ctx: TradingContext,
    party: Principal,
    negotiation_id: uuid.UUID,
    offer_id: uuid.UUID,
    now: datetime,
) -> Negotiation:
    answer = (OfferAction.DECLINE, NegotiationAction.DECLINE)
    thread, offer, _ = await _answerable(session, party, negotiation_id, offer_id, now, answer)
    offer.status = next_offer_state(offer.status, OfferAction.DECLINE).value
    offer.answered_at = now
    listing = await load_listing(session, thread.listing_id, check=False)
    to = Audience.of_orgs(offerer(thread, offer))
    data = about_offer(thread, offer, listing)
    notify(session, Kind.OFFER_DECLINED, to=to, now=now, subject=offer_subject(thread), data=data)
    await _end(session, thread, NegotiationAction.DECLINE, f"offer {offer.seq} declined", now)
    await _unsold_if_nobody_left(session, ctx, thread.listing_id, now)
    return thread


async def _end(
    session: AsyncSession, thread: Negotiation, action: NegotiationAction, reason: str, now: datetime
) -> None:
    """End an open thread: its standing offer follows (``STANDING_OFFER_ON_END``), its deposit is released."""
    status = next_negotiation_state(thread.status, action)
    thread.status = status.value
    thread.ended_at = now
    thread.end_reason = reason
    standing = await _standing(session, thread)
    if standing is not None:
        offer_action = STANDING_OFFER_ON_END.get(action)
        if offer_action is not None and OFFERS.allows(standing.status, offer_action):
            standing.status = next_offer_state(standing.status, offer_action).value
        standing.answered_at = standing.answered_at or now
    intent = await session.get(Intent, thread.intent_id, with_for_update=True)
    if intent is not None:
        await release(session, intent, f"negotiation {status.value}: {reason}", now)


async def _unsold_if_nobody_left(
    session: AsyncSession, ctx: TradingContext, listing_id: uuid.UUID, now: datetime
) -> None:
    listing = await load_listing(session, listing_id, lock=True, check=False)
    if listing.status == ListingStatus.NEGOTIATING.value and not await active_intents(session, listing_id):
        await close_unsold(session, ctx.listings, listing_id, now, reason="every negotiation ended without a deal")


# -- expiry (swept) -----------------------------------------------------------------------------------


async def claim_expired_offer(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> Offer | None:
    query = select(Offer).where(Offer.status == OfferStatus.OPEN.value, Offer.expires_at <= now)
    if skip:
        query = query.where(Offer.id.not_in(skip))
    query = query.order_by(Offer.expires_at, Offer.id).limit(1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


async def expire(session: AsyncSession, ctx: TradingContext, offer: Offer, now: datetime) -> bool:
    thread = await session.scalar(select(Negotiation).where(Negotiation.id == offer.negotiation_id).with_for_update())
    await session.refresh(offer)
    if not OFFERS.allows(offer.status, OfferAction.EXPIRE):
        return False
    if thread is None or not NEGOTIATIONS.allows(thread.status, NegotiationAction.EXPIRE):
        offer.status = next_offer_state(offer.status, OfferAction.EXPIRE).value
        return False
    await _end(session, thread, NegotiationAction.EXPIRE, f"offer {offer.seq} expired unanswered", now)
    await _unsold_if_nobody_left(session, ctx, thread.listing_id, now)
    return True


async def seller_threads(
    session: AsyncSession, seller: Principal, limit: int = 100
) -> list[tuple[Negotiation, list[Offer]]]:
    """The negotiations on the listings of ``seller``'s organisation, open ones first and then the
    newest, each with its offers (the seller's workspace: what waits for its answer)."""
    query = (
        select(Negotiation)
        .where(Negotiation.seller_org_id == seller.org_id)
        .order_by((Negotiation.status != "open"), Negotiation.created_at.desc())
        .limit(limit)
    )
    threads = list((await session.scalars(query)).all())
    offers: dict[uuid.UUID, list[Offer]] = {t.id: [] for t in threads}
    if threads:
        rows = await session.scalars(
            select(Offer).where(Offer.negotiation_id.in_(offers)).order_by(Offer.negotiation_id, Offer.seq)
        )
        for offer in rows:
            offers[offer.negotiation_id].append(offer)
    return [(t, offers[t.id]) for t in threads]
