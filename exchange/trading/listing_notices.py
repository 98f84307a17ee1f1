"""What the exchange tells about listings and their notices (the outbox, ``exchange.platform.outbox``).

The listings module cannot import the exchange; it tells its hooks, and these listen:

- ``ListingNotices`` (a listing observer): a listing submitted for review (operators), approved
  or rejected (the seller), closed unsold (the seller and the buyers who held intents to the end);
- ``AnnouncementObjections`` (a notice handler of listing announcements) and, for deal notices,
  ``deals.DealNoticeHandler`` through ``tell_objection_filed`` / ``tell_objection_resolved``: an
  objection filed (the subject's owner, the objector; operators to resolve it) and resolved;
- ``ObjectionAnswers`` (a notice handler of every kind): the seller's side answered an objection
  (the objector and operators).

The composition root registers them (``exchange/server/modules.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.outbox import OPERATORS, Audience, Kind, Subject, notify
from exchange.trading.domain import IntentStatus
from exchange.trading.models import Intent
from kernel.time import rfc3339
from listings import Action, Listing, ListingObserver, ListingTransition, Notice, NoticeHandler, Objection


def about_listing(listing: Listing) -> dict[str, Any]:
    """What every notification about a listing names: its id, public number and title."""
    return {"listing_id": str(listing.id), "listing_number": listing.number, "listing_title": listing.title}


def listing_subject(listing_id: uuid.UUID) -> Subject:
    return Subject("listing", listing_id)


async def last_round_buyers(session: AsyncSession, listing_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """The organisations whose intent is active, or was released just now (the round that ended)."""
    rows = await session.scalars(
        select(Intent.org_id)
        .where(
            Intent.listing_id == listing_id,
            or_(
                Intent.status == IntentStatus.ACTIVE.value,
                (Intent.status == IntentStatus.RELEASED.value) & (Intent.ended_at == now),
            ),
        )
        .order_by(Intent.number)
    )
    return list(rows.all())


class ListingNotices(ListingObserver):
    """Tells of a listing's review and of its end unsold, in the transaction of the transition."""

    async def on_transition(self, session: AsyncSession, listing: Listing, transition: ListingTransition) -> None:
        action, now = Action(transition.action), transition.created_at
        data = about_listing(listing)
        subject = listing_subject(listing.id)
        if action is Action.SUBMIT:
            notify(session, Kind.LISTING_TO_REVIEW, to=OPERATORS, now=now, subject=subject, data=data)
        elif action is Action.APPROVE:
            data["closes_at"] = rfc3339(listing.closes_at) if listing.closes_at else None
            seller = Audience.of_orgs(listing.seller_org_id)
            notify(session, Kind.LISTING_APPROVED, to=seller, now=now, subject=subject, data=data)
        elif action is Action.REJECT:
            data["reason"] = transition.reason
            seller = Audience.of_orgs(listing.seller_org_id)
            notify(session, Kind.LISTING_REJECTED, to=seller, now=now, subject=subject, data=data)
        elif action is Action.CLOSE_UNSOLD:
            # After an announcement without intents, an auction without bids, or negotiations that ended.
            buyers = await last_round_buyers(session, listing.id, now)
            data.update({"reason": transition.reason, "stage": transition.from_status or ""})
            audience = Audience.of_orgs(listing.seller_org_id, *buyers)
            notify(session, Kind.AUCTION_UNSOLD, to=audience, now=now, subject=subject, data=data)


# -- objections -------------------------------------------------------------------------------------


def _about_objection(notice: Notice, objection: Objection) -> dict[str, Any]:
    return {
        "notice_id": str(notice.id),
        "notice_kind": notice.kind,
        "notice_title": notice.title,
        "subject_type": notice.subject_type,
        "subject_id": str(notice.subject_id),
        "objection_id": str(objection.id),
        "closes_at": rfc3339(notice.closes_at),
    }


def tell_objection_filed(
    session: AsyncSession, notice: Notice, objection: Objection, owners: Iterable[uuid.UUID], now: datetime
) -> None:
    """The owners of the notice's subject and the objector are told; operators have one to resolve.
    The objector stays anonymous to the owners (the audience names them, the data does not)."""
    data = _about_objection(notice, objection)
    subject = Subject("objection", objection.id)
    to = Audience(orgs=Audience.of_orgs(*owners).orgs, users=(objection.objector_user_id,))
    notify(session, Kind.OBJECTION_FILED, to=to, now=now, subject=subject, data={**data, "reason": objection.reason})
    ops = {**data, "reason": objection.reason, "objector_org_id": str(objection.objector_org_id)}
    notify(session, Kind.OBJECTION_TO_RESOLVE, to=OPERATORS, now=now, subject=subject, data=ops)


def tell_objection_resolved(
    session: AsyncSession, notice: Notice, objection: Objection, owners: Iterable[uuid.UUID], now: datetime
) -> None:
    data = {**_about_objection(notice, objection), "decision": objection.status, "note": objection.resolution_note}
    to = Audience(orgs=Audience.of_orgs(*owners).orgs, users=(objection.objector_user_id,))
    notify(session, Kind.OBJECTION_RESOLVED, to=to, now=now, subject=Subject("objection", objection.id), data=data)


class ObjectionAnswers(NoticeHandler):
    """The seller's side answered an objection (any kind of notice): the objector is told the
    answer as a user (not its whole organisation), and operators have it beside the objection.
    Who answered stays out of the data, as who objected stays out of what the seller is told."""

    async def on_objection_answered(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        data = {**_about_objection(notice, objection), "reason": objection.reason, "answer": objection.answer}
        to = Audience(users=(objection.objector_user_id,), operators=True)
        notify(session, Kind.OBJECTION_ANSWERED, to=to, now=now, subject=Subject("objection", objection.id), data=data)


class AnnouncementObjections(NoticeHandler):
    """Objections to a listing's announcement: its seller is the owner."""

    async def _seller(self, session: AsyncSession, notice: Notice) -> list[uuid.UUID]:
        seller = await session.scalar(select(Listing.seller_org_id).where(Listing.id == notice.subject_id))
        return [seller] if seller is not None else []

    async def on_objection_filed(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        tell_objection_filed(session, notice, objection, await self._seller(session, notice), now)

    async def on_objection_resolved(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        tell_objection_resolved(session, notice, objection, await self._seller(session, notice), now)
