"""What the buyer's and both parties' workspace pages gather: an organisation's intents with where
their deposits are, its purchases, and one negotiation or deal with what it waits for.

Reads only, over the same services as the API (``intents.list_intents``, ``deals.list_deals``,
``negotiations.visible_thread``, ``deals.visible_deal``); the rules of what a deposit's state is or
whose turn it is are the pure ones of ``domain``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.trading import deals, intents, negotiations, schedule
from exchange.trading.domain import (
    DepositState,
    InstalmentStatus,
    PartyTask,
    Side,
    cash_due,
    deal_task,
    deposit_state,
    negotiation_task,
)
from exchange.trading.models import Auction, Deal, DealInstalment, Intent, Negotiation, Offer
from listings import Listing

INTENTS_PER_PAGE = 20
DEALS_PER_PAGE = 20


@dataclass(slots=True)
class IntentRow:
    intent: Intent
    listing: Listing | None
    deposit: DepositState
    auction: Auction | None = None
    deal: Deal | None = None
    negotiation: Negotiation | None = None
    may_negotiate: bool = False  # a negotiated listing waiting for this buyer's opening offer


async def _by_id(session: AsyncSession, model: Any, column: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    return {getattr(row, column.key): row for row in await session.scalars(select(model).where(column.in_(ids)))}


async def intent_rows(
    session: AsyncSession, viewer: Principal, cursor: str | None
) -> tuple[list[IntentRow], str | None]:
    """A page of the organisation's intents (``GET /intents``), each with its listing, the latest
    auction of the listing, its negotiation and its deal, and where its deposit is."""
    rows, _, next_cursor = await intents.list_intents(session, viewer, None, INTENTS_PER_PAGE, cursor)
    listing_ids = list({r.listing_id for r in rows})
    listings = await _by_id(session, Listing, Listing.id, listing_ids)
    found_deals = await _by_id(session, Deal, Deal.intent_id, [r.id for r in rows])
    threads = await _by_id(session, Negotiation, Negotiation.intent_id, [r.id for r in rows])
    auctions: dict[uuid.UUID, Auction] = {}
    if listing_ids:
        for auction in await session.scalars(
            select(Auction).where(Auction.listing_id.in_(listing_ids)).order_by(Auction.starts_at)
        ):
            auctions[auction.listing_id] = auction  # the latest wins
    out = []
    for intent in rows:
        deal = found_deals.get(intent.id)
        listing = listings.get(intent.listing_id)
        thread = threads.get(intent.id)
        forfeited = (deal.forfeited_to_seller + deal.forfeited_to_exchange) if deal else 0
        out.append(
            IntentRow(
                intent=intent,
                listing=listing,
                deposit=deposit_state(intent.deposit, intent.status, deal.state if deal else None, forfeited),
                auction=auctions.get(intent.listing_id),
                deal=deal,
                negotiation=thread,
                may_negotiate=(
                    thread is None
                    and intent.status == intents.ACTIVE
                    and listing is not None
                    and listing.status == "negotiating"
                    and listing.pricing_mode == "negotiated"
                ),
            )
        )
    return out, next_cursor


@dataclass(slots=True)
class ThreadRow:
    thread: Negotiation
    offers: list[Offer]
    standing: Offer | None
    title: str
    task: PartyTask | None


@dataclass(slots=True)
class DealRow:
    deal: Deal
    title: str
    task: PartyTask | None
    next_payment: DealInstalment | None = None


def standing_offer(offers: list[Offer]) -> Offer | None:
    return next((o for o in reversed(offers) if o.status == "open"), None)


async def thread_rows(session: AsyncSession, org_id: uuid.UUID, side: Side) -> list[ThreadRow]:
    threads = await negotiations.threads_of(session, org_id, side)
    titles = await _titles(session, [t.listing_id for t, _ in threads])
    out = []
    for thread, offers in threads:
        standing = standing_offer(offers)
        task = negotiation_task(thread.status, standing.side if standing else None, side)
        out.append(ThreadRow(thread, offers, standing, titles.get(thread.listing_id, ""), task))
    return out


async def _titles(session: AsyncSession, listing_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not listing_ids:
        return {}
    rows = await session.execute(select(Listing.id, Listing.title).where(Listing.id.in_(set(listing_ids))))
    return {listing_id: title for listing_id, title in rows}


def next_payment(rows: list[DealInstalment]) -> DealInstalment | None:
    return next((r for r in rows if r.status in (InstalmentStatus.PENDING, InstalmentStatus.OVERDUE)), None)


def task_of(deal: Deal, side: Side, rows: list[DealInstalment], now: datetime) -> PartyTask | None:
    signed = (deal.buyer_signed_at if side is Side.BUYER else deal.seller_signed_at) is not None
    upcoming = next_payment(rows)
    return deal_task(deal.state, side, signed=signed, next_payment_due=upcoming.due_at if upcoming else None, now=now)


async def deal_rows(
    session: AsyncSession, viewer: Principal, side: Side, cursor: str | None, now: datetime
) -> tuple[list[DealRow], str | None]:
    """A page of the deals where the organisation is on ``side`` (``GET /deals?side=``), each with
    what it waits for from that side."""
    rows, next_cursor = await deals.list_deals(session, viewer, None, DEALS_PER_PAGE, cursor, side)
    payments = await schedule.schedules_of(session, [d.id for d in rows])
    out = []
    for deal in rows:
        plan = payments.get(deal.id, [])
        title = deal.snapshot.get("listing", {}).get("title", "")
        out.append(DealRow(deal, title, task_of(deal, side, plan, now), next_payment(plan)))
    return out, next_cursor


def side_of(deal_or_thread: Deal | Negotiation, org_id: uuid.UUID) -> Side | None:
    """The viewer's side of a deal or a negotiation (None: an operator looking on)."""
    if org_id == deal_or_thread.buyer_org_id:
        return Side.BUYER
    if org_id == deal_or_thread.seller_org_id:
        return Side.SELLER
    return None


@dataclass(slots=True)
class DealView:
    deal: Deal
    side: Side | None
    payments: list[DealInstalment]
    task: PartyTask | None
    upcoming: DealInstalment | None
    cash_due: int | None  # what the next payment takes from the buyer's wallet (before vouchers)
    notes: list[Any] = field(default_factory=list)


async def deal_view(session: AsyncSession, viewer: Principal, deal_id: uuid.UUID, now: datetime) -> DealView:
    deal = await deals.visible_deal(session, viewer, deal_id)  # the parties and operators; 404 for others
    payments = await schedule.schedule_of(session, deal.id)
    notes = (await schedule.notifications_of(session, [deal.id])).get(deal.id, [])
    side = side_of(deal, viewer.org_id)
    upcoming = next_payment(payments)
    task = task_of(deal, side, payments, now) if side else None
    due = None
    if upcoming is not None:
        held = deal.hold_entry_id is not None
        due = cash_due(upcoming.amount, upcoming.seq, deal.deposit, held, upcoming.buyer_fee)
    return DealView(deal, side, payments, task, upcoming, due, notes)


async def deal_of_thread(session: AsyncSession, thread: Negotiation) -> Deal | None:
    return await session.scalar(select(Deal).where(Deal.intent_id == thread.intent_id))


async def intent_of(session: AsyncSession, intent_id: uuid.UUID) -> Intent | None:
    return await session.get(Intent, intent_id)
