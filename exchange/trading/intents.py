"""Intents with deposits (SPEC §3.1) and what follows an announcement (the listings' close handler).

A deposit is a ledger hold ``org:<buyer>:cash → listing:<id>:deposits`` placed in the same
transaction as the intent row; withdrawing or releasing the intent voids it in the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties.domain import OrgStatus, Principal
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.trading.context import TradingContext
from exchange.trading.domain import (
    AUCTIONS,
    INTENTS,
    AuctionAction,
    IntentAction,
    IntentStatus,
    NextStep,
    next_intent_state,
    next_step,
    takes_part,
)
from exchange.trading.errors import IntentExists, NotAnnounced, NotParticipant, SellerCannotBuy
from exchange.trading.models import Auction, Intent, IntentNotification
from kernel.errors import NotFound
from kernel.pagination import by_id, id_after, keyset_page
from kernel.time import rfc3339
from ledger import service as ledger
from listings import Amendment, Listing, ListingObserver, ListingStatus, ListingTransition, load_listing

ACTIVE = IntentStatus.ACTIVE.value
OPEN_FOR_INTENTS = (ListingStatus.ANNOUNCED.value,)


async def register_intent(
    session: AsyncSession, ctx: TradingContext, buyer: Principal, listing_id: uuid.UUID, now: datetime
) -> Intent:
    """One intent per organisation and listing, during the announcement, with its deposit held."""
    buyer.require_active_verified()
    listing = await load_listing(session, listing_id, lock=True)
    if listing.seller_org_id == buyer.org_id:
        raise SellerCannotBuy("the seller cannot register intent on its own listing")
    if listing.status not in OPEN_FOR_INTENTS:
        raise NotAnnounced(
            f"intents are registered during the announcement; the listing is {listing.status}", state=listing.status
        )
    intent = await org_intent(session, listing.id, buyer.org_id)
    if intent is not None and intent.status == ACTIVE:
        raise IntentExists(f"intent {intent.id} is already registered", intent_id=str(intent.id))
    if intent is None:
        count = await session.scalar(select(func.count()).select_from(Intent).where(Intent.listing_id == listing.id))
        intent = Intent(listing_id=listing.id, org_id=buyer.org_id, number=int(count or 0) + 1, end_reason="")
        intent.status = INTENTS.initial.value
        session.add(intent)
    else:  # the organisation's intent of an earlier announcement of the listing
        intent.status = next_intent_state(intent.status, IntentAction.REGISTER).value
    intent.user_id = buyer.user_id
    intent.deposit = listing.deposit
    intent.created_at = now
    intent.ended_at = None
    intent.end_reason = ""
    intent.hold_entry_id = None
    await session.flush()
    if listing.deposit > 0:
        held = (chart.org_cash(buyer.org_id), chart.listing_deposits(listing.id))
        meta = {"listing_id": str(listing.id), "intent_id": str(intent.id)}
        why = f"deposit for listing {listing.number}"
        hold = await chart.move(
            session, *held, listing.deposit, kind="deposit_hold", now=now, pending=True, metadata=meta, description=why
        )
        intent.hold_entry_id = hold.id
    _tell_registered(session, listing, intent, now)
    return intent


def _about(listing: Listing) -> dict[str, object]:
    return {"listing_id": str(listing.id), "listing_number": listing.number, "listing_title": listing.title}


def _tell_registered(session: AsyncSession, listing: Listing, intent: Intent, now: datetime) -> None:
    """The buyer is told its intent (and deposit) is registered; the seller that one more buyer is,
    anonymously ("bidder N")."""
    about = {**_about(listing), "closes_at": rfc3339(listing.closes_at) if listing.closes_at else None}
    mine = {**about, "intent_id": str(intent.id), "bidder_number": intent.number, "deposit_fen": intent.deposit}
    buyer = Audience.of_orgs(intent.org_id)
    notify(session, Kind.INTENT_REGISTERED, to=buyer, now=now, subject=Subject("intent", intent.id), data=mine)
    seller = Audience.of_orgs(listing.seller_org_id)
    theirs = {**about, "bidder_number": intent.number}
    notify(session, Kind.INTENT_REGISTERED, to=seller, now=now, subject=Subject("listing", listing.id), data=theirs)
    if intent.hold_entry_id is not None:
        notify(session, Kind.DEPOSIT_HELD, to=buyer, now=now, subject=Subject("intent", intent.id), data=mine)


async def org_intent(session: AsyncSession, listing_id: uuid.UUID, org_id: uuid.UUID) -> Intent | None:
    """The organisation's intent on the listing, whatever its state (one row per organisation and listing)."""
    return await session.scalar(select(Intent).where(Intent.listing_id == listing_id, Intent.org_id == org_id))


async def next_step_on(
    session: AsyncSession, listing: Listing, viewer: Principal | None, auction: Auction | None
) -> tuple[NextStep | None, Intent | None]:
    """What the viewer may do next on a listing (``domain.next_step``) and its intent, if any."""
    intent = await org_intent(session, listing.id, viewer.org_id) if viewer is not None else None
    in_auction = (
        auction is not None
        and intent is not None
        and AUCTIONS.allows(auction.status, AuctionAction.BID)
        and takes_part(intent.status, intent.created_at, intent.ended_at, auction.starts_at)
    )
    step = next_step(
        open_for_intents=listing.status in OPEN_FOR_INTENTS,
        signed_in=viewer is not None,
        operator=viewer is not None and viewer.is_operator,
        seller=viewer is not None and viewer.org_id == listing.seller_org_id,
        may_trade=viewer is not None and viewer.org_verified and viewer.org_status is OrgStatus.ACTIVE,
        intent_active=intent is not None and intent.status == ACTIVE,
        in_running_auction=in_auction,
    )
    return step, intent


async def get_intent(session: AsyncSession, viewer: Principal, intent_id: uuid.UUID, *, lock: bool = False) -> Intent:
    query = select(Intent).where(Intent.id == intent_id)
    if lock:
        query = query.with_for_update()
    intent = await session.scalar(query)
    if intent is None or not (viewer.is_operator or intent.org_id == viewer.org_id):
        raise NotFound(f"intent {intent_id} not found")
    return intent


async def withdraw_intent(
    session: AsyncSession, ctx: TradingContext, buyer: Principal, intent_id: uuid.UUID, now: datetime
) -> Intent:
    intent = await get_intent(session, buyer, intent_id)
    if intent.org_id != buyer.org_id:
        raise NotParticipant("only the organisation that registered an intent withdraws it")
    listing = await load_listing(session, intent.listing_id, lock=True, check=False)
    await session.refresh(intent, with_for_update=True)
    next_intent_state(intent.status, IntentAction.WITHDRAW, refusal=NotAnnounced)
    if listing.status not in (ListingStatus.ANNOUNCED.value, ListingStatus.SUSPENDED.value):
        raise NotAnnounced(
            f"an intent is withdrawn during the announcement; the listing is {listing.status}", state=listing.status
        )
    await release(session, intent, "withdrawn by the buyer", now, IntentAction.WITHDRAW)
    return intent


async def release(
    session: AsyncSession, intent: Intent, reason: str, now: datetime, action: IntentAction = IntentAction.RELEASE
) -> None:
    """End an active intent (released, or withdrawn by its buyer) and void its deposit hold; an intent
    already ended stays as it is."""
    if not INTENTS.allows(intent.status, action):
        return
    intent.status = next_intent_state(intent.status, action).value
    intent.ended_at = now
    intent.end_reason = reason[:500]
    if intent.hold_entry_id is not None:
        await ledger.void_hold(session, intent.hold_entry_id, now=now, description=reason[:500])
        listing = await session.get(Listing, intent.listing_id)
        data = {
            **(_about(listing) if listing is not None else {"listing_id": str(intent.listing_id)}),
            "intent_id": str(intent.id),
            "deposit_fen": intent.deposit,
            "reason": intent.end_reason,
        }
        notify(
            session,
            Kind.DEPOSIT_RELEASED,
            to=Audience.of_orgs(intent.org_id),
            now=now,
            subject=Subject("intent", intent.id),
            data=data,
        )
    await session.flush()  # the session does not autoflush: later queries must see the release


def win(intent: Intent, reason: str, now: datetime) -> None:
    """The intent became a deal: its deposit hold now belongs to the deal."""
    intent.status = next_intent_state(intent.status, IntentAction.WIN).value
    intent.ended_at = now
    intent.end_reason = reason[:500]


async def active_intents(session: AsyncSession, listing_id: uuid.UUID, *, lock: bool = False) -> list[Intent]:
    query = select(Intent).where(Intent.listing_id == listing_id, Intent.status == ACTIVE).order_by(Intent.number)
    if lock:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


async def release_all(
    session: AsyncSession, listing_id: uuid.UUID, reason: str, now: datetime, *, keep: uuid.UUID | None = None
) -> int:
    """Release every active intent of a listing but ``keep``; returns how many."""
    released = 0
    for intent in await active_intents(session, listing_id, lock=True):
        if intent.id != keep:
            await release(session, intent, reason, now)
            released += 1
    return released


async def list_intents(
    session: AsyncSession, viewer: Principal, listing_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[Intent], dict[uuid.UUID, list[IntentNotification]], str | None]:
    """A page of the caller's own intents (operators: all), newest first, with their notifications,
    and the cursor of the next page.

    Not even the seller learns who holds intents: bidders stay anonymous until the deal's notice.
    """
    query = select(Intent)
    if listing_id is not None:
        query = query.where(Intent.listing_id == listing_id)
    if not viewer.is_operator:
        query = query.where(Intent.org_id == viewer.org_id)
    if (after := id_after(cursor)) is not None:
        query = query.where(Intent.id < after)
    rows, next_cursor = keyset_page(
        (await session.scalars(query.order_by(Intent.id.desc()).limit(limit + 1))).all(), limit, by_id
    )
    return rows, await notifications(session, [r.id for r in rows]), next_cursor


async def notifications(
    session: AsyncSession, intent_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[IntentNotification]]:
    """The notifications of these intents (each an empty list at least), oldest first."""
    notes: dict[uuid.UUID, list[IntentNotification]] = {i: [] for i in intent_ids}
    if intent_ids:
        found = await session.scalars(
            select(IntentNotification)
            .where(IntentNotification.intent_id.in_(intent_ids))
            .order_by(IntentNotification.created_at, IntentNotification.id)
        )
        for note in found:
            notes[note.intent_id].append(note)
    return notes


class IntentObserver(ListingObserver):
    """Tells intent holders of amendments; releases deposits when a listing is withdrawn, rejected or unsold."""

    STOPPED = frozenset({ListingStatus.WITHDRAWN.value, ListingStatus.REJECTED.value, ListingStatus.UNSOLD.value})

    async def on_transition(self, session: AsyncSession, listing: Listing, transition: ListingTransition) -> None:
        if transition.to_status in self.STOPPED:
            reason = f"the listing is {transition.to_status}"
            await release_all(session, listing.id, reason, transition.created_at)

    async def on_amended(self, session: AsyncSession, listing: Listing, amendment: Amendment) -> None:
        parts = ", ".join(amendment.changed)
        message = (
            f"listing {listing.number} was amended ({parts}); "
            + ("the announcement period restarted. " if amendment.material else "")
            + "You may withdraw your intent and deposit while the announcement runs."
        )
        now = listing.updated_at
        holders = await active_intents(session, listing.id)
        if holders:
            data = {
                **_about(listing),
                "version": amendment.version,
                "material": amendment.material,
                "changed": list(amendment.changed),
                "closes_at": rfc3339(amendment.closes_at),
            }
            to = Audience.of_orgs(*(i.org_id for i in holders))
            notify(session, Kind.LISTING_AMENDED, to=to, now=now, subject=Subject("listing", listing.id), data=data)
        for intent in holders:
            session.add(
                IntentNotification(
                    intent_id=intent.id,
                    kind="listing_amended",
                    message=message[:1000],
                    details={
                        "listing_id": str(listing.id),
                        "version": amendment.version,
                        "material": amendment.material,
                        "changed": list(amendment.changed),
                        "closes_at": amendment.closes_at.isoformat(),
                        "notice_id": str(amendment.notice_id),
                    },
                    created_at=now,
                )
            )
        await session.flush()
