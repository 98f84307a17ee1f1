"""A broker's commission at settlement: trading's ``SettlementLegs`` protocol, wired by the
composition root. Trading asks inside its own transactions; nothing here imports trading.

``bind`` when a deal forms: the accepted engagements on its listing (the seller's, or the buyer's
own), on its negotiation and on the deal itself are bound to it with their commission fixed on its
price (one its side cannot bear lapses); it answers what the result notice declares. ``legs`` when
a payment settles: each bound engagement's share of its commission (``domain.commission_shares``:
a seller's in proportion to each payment's proceeds, a buyer's to each payment's amount), to the
broker's organisation's wallet (``org:<id>:cash``); a buyer's commission may be paid partly with its
innovation vouchers where a program covers brokerage (``voucher_payee``: the broker's organisation
receives them as a voucher service provider). ``posted`` records each leg's ledger entries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.accounting.chart import AccountSpec
from exchange.brokers.domain import EngagementStatus, Side, SubjectKind, basis_text, commission_shares
from exchange.brokers.models import Broker, CommissionEntry, Engagement
from exchange.brokers.service import bind_one
from exchange.parties.models import Org
from listings import AnnouncementDeclarer, Listing, ListingPagePart

KIND = "commission"  # the ledger entries' kind


class FormedDeal(Protocol):
    deal_id: uuid.UUID
    listing_id: uuid.UUID
    intent_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    price: int
    seller_proceeds: int


class SchedulePart(Protocol):
    seq: int
    amount: int
    seller_proceeds: int


class SettlingPayment(Protocol):
    deal_id: uuid.UUID
    seq: int
    schedule: tuple[Any, ...]  # of SchedulePart
    settled_at: datetime


@dataclass(frozen=True)
class CommissionLeg:
    payer: str
    credit: AccountSpec
    amount: int
    kind: str
    description: str
    ref: str  # the engagement's id
    label: str
    voucher_payee: uuid.UUID | None = None  # a buyer's commission: the broker's organisation (SPEC §4 brokerage)


async def _named(session: AsyncSession, engagements: list[Engagement]) -> dict[uuid.UUID, tuple[Broker, Org]]:
    ids = list({e.broker_id for e in engagements})
    if not ids:
        return {}
    rows = await session.execute(select(Broker, Org).join(Org, Org.id == Broker.org_id).where(Broker.id.in_(ids)))
    return {broker.id: (broker, org) for broker, org in rows}


def declaration(engagement: Engagement, broker: Broker, org: Org) -> dict[str, Any]:
    """What the result notice and the certificate say of an engaged broker."""
    return {
        "broker": broker.name,
        "broker_id": str(broker.id),
        "credential_number": broker.credential_number,
        "broker_org": org.name,
        "owed_by": engagement.side,
        "basis": basis_text(engagement.commission_bp, engagement.commission_fen),
        "commission": engagement.commission,
    }


async def _bound(session: AsyncSession, deal_id: uuid.UUID) -> list[Engagement]:
    query = select(Engagement).where(
        Engagement.deal_id == deal_id, Engagement.status == EngagementStatus.ACCEPTED.value
    )
    return list((await session.scalars(query.order_by(Engagement.id))).all())


class BrokerCommissions:
    async def bind(self, session: AsyncSession, deal: FormedDeal, now: datetime) -> list[dict[str, Any]]:
        listing = and_(Engagement.subject_kind == SubjectKind.LISTING.value, Engagement.listing_id == deal.listing_id)
        ours = or_(Engagement.side == Side.SELLER.value, Engagement.engaged_by_org_id == deal.buyer_org_id)
        talk = and_(
            Engagement.subject_kind == SubjectKind.NEGOTIATION.value,
            Engagement.listing_id == deal.listing_id,
            Engagement.buyer_org_id == deal.buyer_org_id,
        )
        query = select(Engagement).where(
            Engagement.status == EngagementStatus.ACCEPTED.value,
            Engagement.deal_id.is_(None),
            or_(and_(listing, ours), talk),
        )
        for engagement in (await session.scalars(query.with_for_update())).all():
            engagement.deal_id = deal.deal_id
            engagement.buyer_org_id = deal.buyer_org_id
            await bind_one(session, engagement, deal.price, deal.seller_proceeds, now)
        await session.flush()
        return await self.declared(session, deal.deal_id)

    async def declared(self, session: AsyncSession, deal_id: uuid.UUID) -> list[dict[str, Any]]:
        bound = await _bound(session, deal_id)
        named = await _named(session, bound)
        return [declaration(e, *named[e.broker_id]) for e in bound]

    async def legs(self, session: AsyncSession, payment: SettlingPayment) -> list[CommissionLeg]:
        bound = await _bound(session, payment.deal_id)
        named = await _named(session, bound)
        legs = []
        for engagement in bound:
            seller = engagement.side == Side.SELLER.value
            weights = [p.seller_proceeds if seller else p.amount for p in payment.schedule]
            shares = commission_shares(engagement.commission or 0, weights)
            share = shares[[p.seq for p in payment.schedule].index(payment.seq)]
            broker, org = named[engagement.broker_id]
            owner = "转让方" if seller else "受让方"
            legs.append(
                CommissionLeg(
                    payer=engagement.side,
                    credit=chart.org_cash(broker.org_id),
                    amount=share,
                    kind=KIND,
                    description=f"技术经纪佣金（{owner}支付）：{broker.name}，{org.name}",
                    ref=str(engagement.id),
                    label=f"技术经纪佣金 {broker.name}（{org.name}，证书编号 {broker.credential_number}）",
                    voucher_payee=None if seller else broker.org_id,
                )
            )
        return legs

    async def posted(self, session: AsyncSession, payment: SettlingPayment, entries: list[tuple[Any, str]]) -> None:
        for leg, entry_id in entries:
            session.add(
                CommissionEntry(
                    engagement_id=uuid.UUID(leg.ref), deal_id=payment.deal_id, seq=payment.seq,
                    entry_id=uuid.UUID(entry_id), created_at=payment.settled_at,
                )
            )  # fmt: skip
        await session.flush()


class ListingBrokers(AnnouncementDeclarer, ListingPagePart):
    """What a listing's announcement notice declares (``listings``' ``AnnouncementDeclarer``, wired by
    the composition root): the brokers the seller engaged on the listing, accepted by the time the
    notice is signed. A buyer's broker is declared in the deal's result notice, not here (who means to
    buy stays unnamed during the announcement). Nothing engaged: nothing added, the notice as before.
    An engagement accepted after the notice was signed is declared by the next version of the notice
    (an amendment or a relisting), by the result notice and the certificate of the deal it is bound to."""

    async def declare(self, session: AsyncSession, listing: Listing) -> dict[str, Any]:
        query = select(Engagement).where(
            Engagement.subject_kind == SubjectKind.LISTING.value,
            Engagement.listing_id == listing.id,
            Engagement.side == Side.SELLER.value,
            Engagement.status == EngagementStatus.ACCEPTED.value,
            Engagement.deal_id.is_(None),
        )
        engaged = list((await session.scalars(query.order_by(Engagement.id))).all())
        if not engaged:
            return {}
        named = await _named(session, engaged)
        declared = []
        for engagement in engaged:
            item = declaration(engagement, *named[engagement.broker_id])
            del item["commission"]  # fixed on the deal's price; the result notice states it
            declared.append(item)
        return {"brokerage": declared}

    async def part(self, session: AsyncSession, listing: Listing) -> tuple[str, dict[str, Any]] | None:
        """The listing's public page (``listings``' ``ListingPagePart``): the brokers its seller engaged
        and whose organisation accepted — public as their engagements are — bound to a deal or not;
        nothing when there are none. A buyer's broker is not shown (the result notice declares it)."""
        query = select(Engagement).where(
            Engagement.subject_kind == SubjectKind.LISTING.value,
            Engagement.listing_id == listing.id,
            Engagement.side == Side.SELLER.value,
            Engagement.status == EngagementStatus.ACCEPTED.value,
        )
        engaged = list((await session.scalars(query.order_by(Engagement.id))).all())
        if not engaged:
            return None
        named = await _named(session, engaged)
        return "brokers/_listing_brokers.html", {"brokers": [declaration(e, *named[e.broker_id]) for e in engaged]}
