"""Use cases of technology brokers: one function, one business operation, one transaction (the
caller's). Registration and verification of brokers, engagements and their answers, a broker's record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.brokers.domain import (
    BrokerAction,
    BrokerNotVerified,
    BrokerRuleBroken,
    BrokerStatus,
    EngagementAction,
    EngagementStatus,
    Side,
    SubjectKind,
    basis_text,
    check_commission,
    check_credential_number,
    commission_of,
    next_broker_status,
    next_engagement_status,
    refuse_unbearable,
)
from exchange.brokers.models import Broker, CommissionEntry, Engagement
from exchange.credit import Standing, standings
from exchange.parties.domain import OrgKind, Principal
from exchange.parties.http import actor_of
from exchange.parties.models import Org
from exchange.parties.service import get_org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from kernel.errors import Conflict, Forbidden, NotFound, found
from ledger.models import Posting
from listings import load_listing
from listings.models import Listing


class TradeSubject(Protocol):
    """What brokers read of a negotiation or a deal (trading's ``TradeSubject``)."""

    listing_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    state: str
    open: bool
    price: int | None
    seller_proceeds: int | None


class TradeSubjects(Protocol):
    """Reads a negotiation or a deal by id (wired by the composition root to trading's reader)."""

    async def trade_subject(self, session: AsyncSession, kind: str, subject_id: uuid.UUID) -> TradeSubject | None: ...


@dataclass
class BrokersContext:
    subjects: TradeSubjects


# -- brokers ----------------------------------------------------------------------------------------------


async def register(session: AsyncSession, user: Principal, data: Any, now: datetime) -> Broker:
    """An admin of a verified service-provider organisation registers a broker: pending an operator."""
    user.require_kind(OrgKind.SERVICE_PROVIDER)
    user.require_admin()
    user.require_active_verified()
    number = check_credential_number(data.credential_number)
    existing = await session.scalar(select(Broker).where(Broker.credential_number == number))
    if existing is not None:
        if existing.org_id != user.org_id or existing.status != BrokerStatus.REJECTED.value:
            raise Conflict(f"a broker with credential number {number} is registered already", field="credential_number")
        # A rejected broker registered again, corrected, by its organisation: the same record (its
        # credential number stays unique), pending an operator again.
        existing.name, existing.issuing_body = data.name.strip(), data.issuing_body.strip()
        existing.contact, existing.status, existing.reason = data.contact.strip(), BrokerStatus.PENDING.value, ""
        existing.registered_by, existing.updated_at = user.user_id, now
        await session.flush()
        return existing
    broker = Broker(
        org_id=user.org_id, name=data.name.strip(), credential_number=number, issuing_body=data.issuing_body.strip(),
        contact=data.contact.strip(), status=BrokerStatus.PENDING.value, reason="", registered_by=user.user_id,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(broker)
    await session.flush()
    return broker


async def get_broker(session: AsyncSession, broker_id: uuid.UUID, viewer: Principal | None = None) -> Broker:
    """A verified or suspended broker is public; a pending or rejected one only to its organisation and operators."""
    broker = found(await session.get(Broker, broker_id), NotFound(f"broker {broker_id} not found"))
    public = broker.status in (BrokerStatus.VERIFIED.value, BrokerStatus.SUSPENDED.value)
    if not public and not (viewer is not None and (viewer.is_operator or viewer.org_id == broker.org_id)):
        raise NotFound(f"broker {broker_id} not found")
    return broker


async def decide(
    session: AsyncSession, operator: Principal, broker_id: uuid.UUID, action: BrokerAction, reason: str, now: datetime
) -> Broker:
    """An operator verifies a broker's credential, rejects it, suspends or reinstates the broker."""
    operator.require_operator()
    broker = await get_broker(session, broker_id, operator)
    if action in (BrokerAction.REJECT, BrokerAction.SUSPEND) and not reason.strip():
        raise BrokerRuleBroken(f"a broker is {action}ed with a reason", field="reason")
    broker.status = next_broker_status(BrokerStatus(broker.status), action).value
    broker.reason = reason.strip() if action in (BrokerAction.REJECT, BrokerAction.SUSPEND) else ""
    broker.decided_by, broker.decided_at = operator.user_id, now
    if action is BrokerAction.VERIFY:
        broker.verified_by, broker.verified_at = operator.user_id, now
    broker.updated_at = now
    told = {
        BrokerAction.VERIFY: Kind.BROKER_VERIFIED,
        BrokerAction.REJECT: Kind.BROKER_REJECTED,
        BrokerAction.SUSPEND: Kind.BROKER_SUSPENDED,
        BrokerAction.REINSTATE: Kind.BROKER_REINSTATED,
    }[action]
    data = {"broker_name": broker.name, "credential_number": broker.credential_number, "reason": broker.reason}
    to = Audience.of_orgs(broker.org_id)
    notify(session, told, to=to, now=now, subject=Subject("broker", broker.id), data=data)
    await session.flush()
    return broker


async def list_brokers(
    session: AsyncSession, viewer: Principal | None, status: BrokerStatus | None, org_id: uuid.UUID | None
) -> list[Broker]:
    """Brokers, newest first: the public ones; operators see every status, an organisation its own."""
    query = select(Broker)
    if status is not None:
        query = query.where(Broker.status == status.value)
    if org_id is not None:
        query = query.where(Broker.org_id == org_id)
    if viewer is None or not viewer.is_operator:
        public = Broker.status.in_([BrokerStatus.VERIFIED.value, BrokerStatus.SUSPENDED.value])
        query = query.where(public | (Broker.org_id == viewer.org_id) if viewer is not None else public)
    return list((await session.scalars(query.order_by(Broker.id.desc()).limit(200))).all())


# -- engagements ------------------------------------------------------------------------------------------


def can_see(engagement: Engagement, viewer: Principal | None) -> bool:
    """The parties, the broker's organisation and operators see an engagement; an accepted engagement
    on a listing is declared publicly (the notices name it)."""
    if viewer is not None and (
        viewer.is_operator
        or viewer.org_id
        in (engagement.engaged_by_org_id, engagement.broker_org_id, engagement.seller_org_id, engagement.buyer_org_id)
    ):
        return True
    return engagement.subject_kind == SubjectKind.LISTING.value and engagement.status in (
        EngagementStatus.ACCEPTED.value,
    )


async def get_engagement(session: AsyncSession, engagement_id: uuid.UUID, viewer: Principal | None) -> Engagement:
    engagement = await session.get(Engagement, engagement_id)
    if engagement is None or not can_see(engagement, viewer):
        raise NotFound(f"engagement {engagement_id} not found")
    return engagement


async def engage(session: AsyncSession, ctx: BrokersContext, user: Principal, data: Any, now: datetime) -> Engagement:
    """A party's admin engages a verified broker on its listing, a listing it would buy, a demand,
    its negotiation or its deal (before signing), with the commission its side owes."""
    user.require_admin()
    user.require_active_verified()
    check_commission(data.commission_bp, data.commission_fen)
    broker = await session.get(Broker, data.broker_id)
    if broker is None or broker.status == BrokerStatus.REJECTED.value:
        raise BrokerRuleBroken(f"broker {data.broker_id} is not registered", field="broker_id")
    if broker.status != BrokerStatus.VERIFIED.value:
        raise BrokerNotVerified(f"the broker is {broker.status}; only a verified broker is engaged", field="broker_id")
    if broker.org_id == user.org_id:
        raise BrokerRuleBroken("an organisation does not engage its own broker", field="broker_id")
    kind, owed_by = SubjectKind(data.subject_kind), Side(data.owed_by)
    listing_id = seller = buyer = None
    price = proceeds = None
    if kind is SubjectKind.LISTING:
        listing = await load_listing(session, data.subject_id, viewer=actor_of(user))
        listing_id, seller = listing.id, listing.seller_org_id
        side = Side.SELLER if seller == user.org_id else Side.BUYER
        buyer = user.org_id if side is Side.BUYER else None
        price = listing.asking_price or None
    elif kind is SubjectKind.DEMAND:
        side = owed_by  # the demand is another module's: the party states its side
    else:
        subject = await ctx.subjects.trade_subject(session, kind.value, data.subject_id)
        if subject is None or user.org_id not in (subject.seller_org_id, subject.buyer_org_id):
            raise NotFound(f"{kind} {data.subject_id} not found")
        if not subject.open:
            what = "an open negotiation" if kind is SubjectKind.NEGOTIATION else "a deal before it is signed"
            raise BrokerRuleBroken(f"a broker is engaged on {what}; it is {subject.state}", field="subject_id")
        listing_id, seller, buyer = subject.listing_id, subject.seller_org_id, subject.buyer_org_id
        side = Side.SELLER if user.org_id == seller else Side.BUYER
        price, proceeds = subject.price, subject.seller_proceeds
    if owed_by is not side:
        raise BrokerRuleBroken(f"a party engages a broker on its own account: the {side} owes it", field="owed_by")
    if price is not None:  # what can be checked now; a listing's deal is checked again when it forms
        commission = commission_of(price, bp=data.commission_bp, fixed=data.commission_fen)
        bound = proceeds if proceeds is not None else price
        field = "commission_fen" if data.commission_fen is not None else "commission_bp"
        refuse_unbearable(commission, side, price=price, seller_proceeds=bound, field=field)
    engagement = Engagement(
        broker_id=broker.id, broker_org_id=broker.org_id, subject_kind=kind.value, subject_id=data.subject_id,
        listing_id=listing_id, seller_org_id=seller, buyer_org_id=buyer, engaged_by_org_id=user.org_id,
        engaged_by=user.user_id, side=side.value, commission_bp=data.commission_bp,
        commission_fen=data.commission_fen, note=data.note, status=EngagementStatus.PROPOSED.value, reason="",
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(engagement)
    await session.flush()
    data = await _about(session, engagement, broker)
    to = Audience.of_orgs(broker.org_id, admins_only=True)
    notify(
        session,
        Kind.ENGAGEMENT_PROPOSED,
        to=to,
        now=now,
        subject=Subject("broker_engagement", engagement.id),
        data=data,
    )
    return engagement


SUBJECT_WORDS = {"listing": "挂牌项目", "demand": "技术需求", "negotiation": "议价", "deal": "成交"}
SIDE_WORDS = {"seller": "转让方", "buyer": "受让方"}


async def _about(session: AsyncSession, engagement: Engagement, broker: Broker) -> dict[str, Any]:
    """What the notifications of an engagement name: the broker, both organisations, the subject, the commission."""
    orgs = select(Org.id, Org.name).where(Org.id.in_([broker.org_id, engagement.engaged_by_org_id]))
    names = {org_id: name for org_id, name in await session.execute(orgs)}
    title = ""
    if engagement.listing_id is not None:
        title = await session.scalar(select(Listing.title).where(Listing.id == engagement.listing_id)) or ""
    return {
        "engagement_id": str(engagement.id),
        "broker_id": str(broker.id),
        "broker_name": broker.name,
        "broker_org_name": names.get(broker.org_id, ""),
        "engaged_by_org_name": names.get(engagement.engaged_by_org_id, ""),
        "subject_kind": engagement.subject_kind,
        "subject_id": str(engagement.subject_id),
        "subject_words": SUBJECT_WORDS.get(engagement.subject_kind, engagement.subject_kind),
        "listing_title": title,
        "owed_by": engagement.side,
        "owed_by_words": SIDE_WORDS.get(engagement.side, engagement.side),
        "basis": basis_text(engagement.commission_bp, engagement.commission_fen),
        "commission_bp": engagement.commission_bp,
        "commission_fen": engagement.commission_fen,
        "reason": engagement.reason,
    }


async def answer(
    session: AsyncSession,
    ctx: BrokersContext,
    user: Principal,
    engagement_id: uuid.UUID,
    action: EngagementAction,
    reason: str,
    now: datetime,
) -> Engagement:
    """The broker's organisation accepts or declines (with a reason); the engaging party withdraws
    before the engagement is bound to a deal. An engagement on a deal is bound when accepted."""
    user.require_admin()
    engagement = await get_engagement(session, engagement_id, user)
    if action is EngagementAction.WITHDRAW:
        if user.org_id != engagement.engaged_by_org_id:
            raise Forbidden("only the party that engaged the broker withdraws the engagement")
        if engagement.deal_id is not None:
            raise Conflict("the engagement is bound to a deal; it is charged at its settlement", field="engagement")
    elif user.org_id != engagement.broker_org_id:
        raise Forbidden("only the broker's organisation answers an engagement")
    if action is EngagementAction.DECLINE and not reason.strip():
        raise BrokerRuleBroken("an engagement is declined with a reason", field="reason")
    if action is EngagementAction.ACCEPT:
        broker = await session.get(Broker, engagement.broker_id)
        if broker is None or broker.status != BrokerStatus.VERIFIED.value:
            raise BrokerNotVerified("the broker is no longer verified", field="broker_id")
    engagement.status = next_engagement_status(EngagementStatus(engagement.status), action).value
    engagement.reason = reason.strip()
    engagement.answered_by, engagement.answered_at, engagement.updated_at = user.user_id, now, now
    if action is EngagementAction.ACCEPT and engagement.subject_kind == SubjectKind.DEAL.value:
        subject = await ctx.subjects.trade_subject(session, "deal", engagement.subject_id)
        if subject is None or not subject.open or subject.price is None or subject.seller_proceeds is None:
            raise BrokerRuleBroken("the deal has been signed: a broker is engaged on it before", field="engagement")
        await bind_one(session, engagement, subject.price, subject.seller_proceeds, now)
    await session.flush()
    told = {EngagementAction.ACCEPT: Kind.ENGAGEMENT_ACCEPTED, EngagementAction.DECLINE: Kind.ENGAGEMENT_DECLINED}
    if action in told:
        broker = await session.get(Broker, engagement.broker_id)
        assert broker is not None
        data = await _about(session, engagement, broker)
        to = Audience.of_orgs(engagement.engaged_by_org_id)
        subject_ = Subject("broker_engagement", engagement.id)
        notify(session, told[action], to=to, now=now, subject=subject_, data=data)
    return engagement


async def bind_one(session: AsyncSession, engagement: Engagement, price: int, proceeds: int, now: datetime) -> None:
    """Fix the engagement's commission on its deal; a commission its side cannot bear lapses."""
    commission = commission_of(price, bp=engagement.commission_bp, fixed=engagement.commission_fen)
    limit = proceeds if engagement.side == Side.SELLER.value else price
    if commission > limit:
        engagement.status = next_engagement_status(EngagementStatus.ACCEPTED, EngagementAction.LAPSE).value
        engagement.reason = f"the commission of {commission} fen exceeds the {limit} fen the {engagement.side} can bear"
        engagement.updated_at = now
        return
    engagement.commission, engagement.bound_at, engagement.updated_at = commission, now, now


async def list_engagements(
    session: AsyncSession,
    viewer: Principal | None,
    *,
    broker_id: uuid.UUID | None = None,
    listing_id: uuid.UUID | None = None,
    deal_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    broker_org_id: uuid.UUID | None = None,
    engaged_by_org_id: uuid.UUID | None = None,
) -> list[Engagement]:
    query = select(Engagement)
    if broker_org_id is not None:
        query = query.where(Engagement.broker_org_id == broker_org_id)
    if engaged_by_org_id is not None:
        query = query.where(Engagement.engaged_by_org_id == engaged_by_org_id)
    if broker_id is not None:
        query = query.where(Engagement.broker_id == broker_id)
    if listing_id is not None:
        query = query.where(Engagement.listing_id == listing_id)
    if deal_id is not None:
        query = query.where(Engagement.deal_id == deal_id)
    if subject_id is not None:
        query = query.where(Engagement.subject_id == subject_id)
    rows = (await session.scalars(query.order_by(Engagement.id.desc()).limit(500))).all()
    return [row for row in rows if can_see(row, viewer)]


# -- a broker's record ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    broker: Broker
    org: Org
    engagements: dict[str, int]  # by status
    deals: int  # deals it was bound to
    deals_closed: int  # of them, those settled
    earned: int  # fen, from the ledger entries that paid its commissions
    earned_deals: list[tuple[uuid.UUID, int]]
    credit: Standing  # its organisation's published credit: clients rate it after each brokered deal


async def earned_by(session: AsyncSession, engagements: list[Engagement]) -> dict[uuid.UUID, int]:
    """Fen each engagement's commission entries credited to the broker's organisation, from the ledger:
    to its wallet, and the part a buyer paid with innovation vouchers to its vouchers received."""
    ids = [e.id for e in engagements]
    if not ids:
        return {}
    org_of = {e.id: e.broker_org_id for e in engagements}
    accounts: dict[uuid.UUID, set[uuid.UUID]] = {}
    for org in set(org_of.values()):
        found = [await chart.find_account(session, spec(org)) for spec in (chart.org_cash, chart.org_vouchers_received)]
        accounts[org] = {account.id for account in found if account is not None}
    rows = await session.execute(
        select(CommissionEntry.engagement_id, Posting.account_id, func.sum(Posting.amount))
        .join(Posting, Posting.entry_id == CommissionEntry.entry_id)
        .where(CommissionEntry.engagement_id.in_(ids), Posting.side == "credit")
        .group_by(CommissionEntry.engagement_id, Posting.account_id)
    )
    earned: dict[uuid.UUID, int] = {}
    for engagement_id, account_id, amount in rows:
        if account_id in accounts[org_of[engagement_id]]:
            earned[engagement_id] = earned.get(engagement_id, 0) + int(amount)
    return earned


async def record(session: AsyncSession, ctx: BrokersContext, broker_id: uuid.UUID, viewer: Principal | None) -> Record:
    broker = await get_broker(session, broker_id, viewer)
    org = await get_org(session, broker.org_id)
    engagements = list((await session.scalars(select(Engagement).where(Engagement.broker_id == broker.id))).all())
    counts: dict[str, int] = {}
    for e in engagements:
        counts[e.status] = counts.get(e.status, 0) + 1
    bound = [e for e in engagements if e.deal_id is not None and e.status == EngagementStatus.ACCEPTED.value]
    closed = 0
    for deal_id in {e.deal_id for e in bound}:
        assert deal_id is not None
        subject = await ctx.subjects.trade_subject(session, "deal", deal_id)
        closed += subject is not None and subject.state == "settled"
    earned = await earned_by(session, bound)
    per_deal: dict[uuid.UUID, int] = {}
    for e in bound:
        assert e.deal_id is not None
        per_deal[e.deal_id] = per_deal.get(e.deal_id, 0) + earned.get(e.id, 0)
    standing = (await standings(session, [org.id]))[org.id]
    return Record(
        broker, org, counts, len({e.deal_id for e in bound}), closed, sum(earned.values()), sorted(per_deal.items()),
        standing,
    )  # fmt: skip
