"""Deals (SPEC §3.4–3.5): formation with its result notice, signatures and the certificate,
payment into escrow, settlement, instalments, default and forfeiture.

Every money movement goes through the ledger in the same transaction as the deal's state change.
A deal pays its price by its schedule (``schedule``): a lump sum is one payment, instalment terms
one per instalment. The first payment (the whole price, or the down payment) is the buyer's
``pay``: it posts the winner's deposit hold and moves the rest into ``deal:<id>:escrow``. Later
instalments are collected by the sweeper from the buyer's wallet on their due date (``collect``),
or paid by the buyer during their grace period when the wallet was short. Each payment settles at
once, in one atomic ledger batch: escrow → seller net of its fee, fees → ``exchange:fees``, the
inventors' share → ``org:<seller>:inventor_rewards``, the buyer's fee from its wallet — each the
payment's share of the deal's settlement, so that the shares add up to the lump sum's.

Every change of a deal's state goes through ``domain.DEAL_TRANSITIONS`` (``_move``) with the deal's
row locked; every writer of a deal's schedule holds that lock first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties import service as parties
from exchange.parties.domain import OrgStatus, Principal
from exchange.parties.models import Org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.trading import schedule
from exchange.trading.context import (
    FormedDeal,
    LiveEvent,
    SchedulePart,
    SettledPayment,
    SettlementLeg,
    SettlingPayment,
    TradingContext,
)
from exchange.trading.domain import (
    DealAction,
    DealState,
    InstalmentAction,
    InstalmentStatus,
    Side,
    forfeiture,
    held_deadline,
    next_deal_state,
    payment_action,
    settlement,
)
from exchange.trading.errors import AlreadySigned, DealOnHold, InstalmentNotDue, NotAdmin, NotParticipant
from exchange.trading.intents import release_all, win
from exchange.trading.listing_notices import tell_objection_filed, tell_objection_resolved
from exchange.trading.models import Deal, DealInstalment, Intent
from kernel.db import is_postgres
from kernel.errors import InvalidState, NotFound, found
from kernel.pagination import by_id, id_after, keyset_page
from kernel.signing import sign_content
from kernel.time import rfc3339
from ledger import EntrySpec
from ledger import service as ledger
from ledger.errors import InsufficientFunds
from listings import (
    Listing,
    Notice,
    NoticeHandler,
    NoticeKind,
    NoticeStatus,
    Objection,
    PricingMode,
    cancel_deal,
    complete_sale,
    open_notice,
    public_listing,
    working_calendar,
)
from listings import (
    form_deal as listing_form_deal,
)

PUBLIC_INSTITUTIONS = frozenset({"university", "research_institute"})
ISSUER = "TechX technology-transfer exchange"
PAYING = (DealState.AWAITING_PAYMENT.value, DealState.PAYING_INSTALMENTS.value)
log = structlog.get_logger("techx.trading.deals")


def is_related_party(listing: Listing, buyer_credit_code: str) -> bool:
    return any(buyer_credit_code in (i.get("related_to_buyer") or []) for i in listing.inventors)


def notice_kind_for(listing: Listing, concluded_by: str) -> NoticeKind:
    """A public institution's price concluded by negotiation gets a ``negotiated_price`` notice (≥ 15 days)."""
    public = listing.seller_kind in PUBLIC_INSTITUTIONS
    negotiated = concluded_by == "negotiation" and listing.pricing_mode != PricingMode.AUCTION.value
    return NoticeKind.NEGOTIATED_PRICE if public and negotiated else NoticeKind.DEAL_RESULT


async def form_deal(
    session: AsyncSession,
    ctx: TradingContext,
    intent: Intent,
    price: int,
    now: datetime,
    *,
    concluded_by: str,
    terms: dict[str, Any],
) -> Deal:
    """The winner's intent becomes a deal: the listing moves to ``deal_formed``, the other deposits
    are released, and the result (or negotiated price) notice opens."""
    listing = await listing_form_deal(
        session, ctx.listings, intent.listing_id, now, reason=f"concluded by {concluded_by}"
    )
    win(intent, f"won by {concluded_by}", now)
    await session.flush()
    await release_all(session, listing.id, "another buyer concluded the deal", now)
    buyer = await session.get(Org, intent.org_id)
    seller = await session.get(Org, listing.seller_org_id)
    assert buyer is not None and seller is not None
    # The share the seller declared on its listing (public institutions; none for other sellers).
    declared = listing.inventor_reward_bp if listing.seller_kind in PUBLIC_INSTITUTIONS else None
    reward_bp = declared if declared is not None else 0
    split = settlement(price, ctx.rules.fees, inventor_reward_bp=reward_bp)
    related = is_related_party(listing, buyer.credit_code)
    shown = public_listing(listing)  # as its announcement showed it
    snapshot = {
        "listing": {
            "id": str(listing.id),
            "number": listing.number,
            "title": listing.title,
            "summary": listing.summary,
            "field": listing.field,
            "pricing_mode": listing.pricing_mode,
            "asking_price": listing.asking_price,
            "appraised_value": listing.appraised_value,
            "appraisal_report": shown["pricing"]["appraisal_report"],
            "inventor_reward_bp": listing.inventor_reward_bp,
            "ip_assets": [{"kind": a.kind, "number": a.number, "title": a.title} for a in listing.ip_assets],
        },
        "deal_type": listing.deal_type,
        "deal_terms": listing.deal_terms,
        "payment_terms": terms.get("payment_terms", {"kind": "lump_sum"}),
        "adjustments": terms.get("adjustments", {}),
        "seller": {"id": str(seller.id), "name": seller.name, "credit_code": seller.credit_code, "kind": seller.kind},
        "buyer": {"id": str(buyer.id), "name": buyer.name, "credit_code": buyer.credit_code, "kind": buyer.kind},
    }
    kind = notice_kind_for(listing, concluded_by)
    deal = Deal(
        listing_id=listing.id,
        buyer_org_id=buyer.id,
        seller_org_id=seller.id,
        intent_id=intent.id,
        concluded_by=concluded_by,
        deal_type=listing.deal_type,
        field=listing.field,
        seller_kind=listing.seller_kind,
        snapshot=snapshot,
        price=price,
        deposit=intent.deposit if intent.hold_entry_id else 0,
        hold_entry_id=intent.hold_entry_id,
        seller_fee=split.seller_fee,
        buyer_fee=split.buyer_fee,
        inventor_reward_bp=reward_bp,
        inventor_reward=split.inventor_reward,
        seller_proceeds=split.seller_proceeds,
        buyer_fee_vouchers=0,
        related_party=related,
        state=DealState.RESULT_NOTICE.value,
        notice_kind=kind.value,
        forfeited_to_seller=0,
        forfeited_to_exchange=0,
        end_reason="",
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    await session.flush()
    session.add_all(schedule.plan(deal, now))
    formed = FormedDeal(
        deal_id=deal.id, listing_id=listing.id, intent_id=intent.id, seller_org_id=seller.id,
        buyer_org_id=buyer.id, price=price, seller_proceeds=split.seller_proceeds,
    )  # fmt: skip
    brokerage = [item for source in ctx.settlement_legs for item in await source.bind(session, formed, now)]
    if brokerage:  # declared in the result notice and (as it stands when signed) in the certificate
        deal.snapshot = {**snapshot, "brokerage": brokerage}
    body: dict[str, Any] = {
        "achievement": listing.title,
        "summary": listing.summary,
        "listing_number": listing.number,
        "deal_type": listing.deal_type,
        "deal_terms": listing.deal_terms,
        "price": price,
        "buyer": buyer.name,
        "seller": seller.name,
        "concluded_by": concluded_by,
    }
    if brokerage:
        body["brokerage"] = brokerage
    if kind is NoticeKind.NEGOTIATED_PRICE:
        body["related_party"] = related
    title = ("协议定价公示 " if kind is NoticeKind.NEGOTIATED_PRICE else "成交结果公示 ") + listing.title
    notice = await open_notice(
        session, ctx.listings, kind=kind, subject_type="deal", subject_id=deal.id, title=title, body=body, now=now
    )
    deal.notice_id = notice.id
    await session.flush()
    return deal


async def load_deal(session: AsyncSession, deal_id: uuid.UUID, *, lock: bool = False) -> Deal:
    query = select(Deal).where(Deal.id == deal_id)
    if lock:
        # The deal may already sit in the session, read before the lock was granted (the pay route
        # reads it to check the payer): refresh it from the locked row, or a payment racing another
        # sees the state from before the other committed and pays again.
        query = query.with_for_update().execution_options(populate_existing=True)
    return found(await session.scalar(query), NotFound(f"deal {deal_id} not found"))


async def visible_deal(session: AsyncSession, viewer: Principal, deal_id: uuid.UUID, *, lock: bool = False) -> Deal:
    """The parties and operators see a deal; anyone else learns nothing of it (404)."""
    deal = await load_deal(session, deal_id, lock=lock)
    if not (viewer.is_operator or viewer.org_id in (deal.buyer_org_id, deal.seller_org_id)):
        raise NotFound(f"deal {deal_id} not found")
    return deal


def _move(deal: Deal, action: DealAction, now: datetime) -> None:
    deal.state = next_deal_state(DealState(deal.state), action).value
    deal.updated_at = now


def about_deal(deal: Deal) -> dict[str, Any]:
    """What every notification about a deal names: the deal, its listing, the parties and the price."""
    listing = deal.snapshot.get("listing", {})
    return {
        "deal_id": str(deal.id),
        "listing_id": str(deal.listing_id),
        "listing_number": listing.get("number"),
        "listing_title": listing.get("title"),
        "buyer_name": deal.snapshot.get("buyer", {}).get("name"),
        "seller_name": deal.snapshot.get("seller", {}).get("name"),
        "price_fen": deal.price,
    }


def tell(session: AsyncSession, kind: Kind, deal: Deal, to: Audience, now: datetime, **data: Any) -> None:
    notify(session, kind, to=to, now=now, subject=Subject("deal", deal.id), data={**about_deal(deal), **data})


def both_parties(deal: Deal, *, admins_only: bool = False) -> Audience:
    return Audience.of_orgs(deal.buyer_org_id, deal.seller_org_id, admins_only=admins_only)


# -- the result notice -------------------------------------------------------------------------------


class DealNoticeHandler(NoticeHandler):
    """Moves a deal when its result or negotiated-price notice closes or an objection is upheld."""

    def __init__(self, ctx: TradingContext) -> None:
        self.ctx = ctx

    async def _deal(self, session: AsyncSession, notice: Notice) -> Deal | None:
        if notice.subject_type != "deal":
            return None
        # Another module may publish deal notices of its own: a notice of no deal here is not ours.
        deal = await session.scalar(select(Deal).where(Deal.id == notice.subject_id).with_for_update())
        return deal if deal is not None and deal.notice_id == notice.id else None

    async def on_closed(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        deal = await self._deal(session, notice)
        if deal is not None and deal.state == DealState.RESULT_NOTICE.value:
            _move(deal, DealAction.NOTICE_CLOSED, now)
            if deal.state == DealState.AWAITING_SIGNATURES.value:
                # Signing is for admins: the admins of each party (neither has signed yet).
                fees = {"buyer_fee_fen": deal.buyer_fee, "seller_fee_fen": deal.seller_fee}
                tell(session, Kind.DEAL_AWAITING_SIGNATURE, deal, both_parties(deal, admins_only=True), now, **fees)

    async def on_objection_filed(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        deal = await self._deal(session, notice)
        if deal is not None:
            tell_objection_filed(session, notice, objection, (deal.seller_org_id, deal.buyer_org_id), now)

    async def on_objection_resolved(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        deal = await self._deal(session, notice)
        if deal is not None:
            tell_objection_resolved(session, notice, objection, (deal.seller_org_id, deal.buyer_org_id), now)

    def answering_side(self, org_id: uuid.UUID) -> ColumnElement[bool]:
        """The deal's seller answers objections to its result or negotiated-price notice."""
        sold = select(Deal.notice_id).where(Deal.seller_org_id == org_id, Deal.notice_id.is_not(None))
        return and_(Notice.subject_type == "deal", Notice.id.in_(sold))

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        deal = await self._deal(session, notice)
        if deal is None or deal.state != DealState.RESULT_NOTICE.value:
            return
        _move(deal, DealAction.OBJECTION_UPHELD, now)
        reason = f"objection upheld: {objection.resolution_note}".strip().rstrip(":")
        deal.ended_at = now
        deal.end_reason = reason[:500]
        schedule.close_unpaid(await schedule.schedule_of(session, deal.id), InstalmentAction.DEAL_CANCELLED, now)
        if deal.hold_entry_id is not None:
            await ledger.void_hold(session, deal.hold_entry_id, now=now, description="the deal was cancelled")
        await cancel_deal(session, self.ctx.listings, deal.listing_id, now, reason=reason)


# -- on hold while a party is suspended -----------------------------------------------------------------


async def suspended_parties(session: AsyncSession, deal: Deal) -> list[str]:
    """The deal's parties (``buyer``, ``seller``) whose organisation is suspended now."""
    parties_ = (("buyer", deal.buyer_org_id), ("seller", deal.seller_org_id))
    rows = await session.execute(select(Org.id, Org.status).where(Org.id.in_([org for _, org in parties_])))
    suspended = {org_id for org_id, status in rows if status == OrgStatus.SUSPENDED.value}
    return [side for side, org_id in parties_ if org_id in suspended]


async def refuse_on_hold(session: AsyncSession, deal: Deal) -> None:
    """409 ``deal-on-hold`` while a party is suspended: nobody signs, pays or is paid."""
    if suspended := await suspended_parties(session, deal):
        raise DealOnHold(
            f"the deal is on hold while the {' and the '.join(suspended)} "
            f"{'is' if len(suspended) == 1 else 'are'} suspended; it resumes when the exchange reinstates "
            f"{'it' if len(suspended) == 1 else 'them'}",
            suspended=suspended,
        )


async def payment_deadline(session: AsyncSession, deal: Deal, row: DealInstalment) -> datetime | None:
    """The payment's deadline moved by the time the deal was on hold since the payment became
    payable (the signatures for the first payment, the due date for a later instalment); ``None``
    while on hold."""
    assert row.deadline_at is not None
    signed = max(t for t in (deal.buyer_signed_at, deal.seller_signed_at) if t is not None)
    since = signed if row.seq == 0 or row.due_at is None else row.due_at
    periods = await parties.suspensions(session, [deal.buyer_org_id, deal.seller_org_id])
    return held_deadline(row.deadline_at, since, periods)


# -- signatures and the certificate --------------------------------------------------------------------


async def sign(
    session: AsyncSession, ctx: TradingContext, signer: Principal, deal_id: uuid.UUID, now: datetime
) -> Deal:
    deal = await visible_deal(session, signer, deal_id, lock=True)
    if signer.org_id not in (deal.buyer_org_id, deal.seller_org_id):
        raise NotParticipant("only the buyer and the seller sign a deal")
    if not signer.is_admin:
        raise NotAdmin("a deal is signed by an admin of each party", field="role")
    if deal.state != DealState.AWAITING_SIGNATURES.value:
        raise InvalidState(f"the deal is {deal.state}; it is signed while awaiting signatures", state=deal.state)
    await refuse_on_hold(session, deal)
    side = "buyer" if signer.org_id == deal.buyer_org_id else "seller"
    if getattr(deal, f"{side}_signed_at") is not None:
        raise AlreadySigned(f"the {side} has already signed this deal")
    setattr(deal, f"{side}_signed_by", signer.user_id)
    setattr(deal, f"{side}_signed_at", now)
    deal.updated_at = now
    if deal.buyer_signed_at and deal.seller_signed_at:
        _move(deal, DealAction.BOTH_SIGNED, now)
        rows = await schedule.schedule_of(session, deal.id)
        schedule.date_schedule(rows, ctx.rules, now, await working_calendar(session, ctx.listings.calendar))
        deal.payment_due_at = rows[0].deadline_at
        brokerage = [item for source in ctx.settlement_legs for item in await source.declared(session, deal.id)]
        if brokerage or "brokerage" in deal.snapshot:
            deal.snapshot = {**deal.snapshot, "brokerage": brokerage}
        signer = ctx.listings.signer
        deal.certificate, deal.certificate_signature = sign_content(signer, certificate_content(deal, now, rows))
        deal.certificate_key_id = signer.key_id
    await session.flush()
    return deal


async def list_deals(
    session: AsyncSession,
    viewer: Principal,
    listing_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    side: Side | None = None,
) -> tuple[list[Deal], str | None]:
    """A page of the deals of the caller's organisation (operators: all), newest first; ``side``:
    only those where it buys (or sells)."""
    query = select(Deal)
    if side is Side.BUYER:
        query = query.where(Deal.buyer_org_id == viewer.org_id)
    elif side is Side.SELLER:
        query = query.where(Deal.seller_org_id == viewer.org_id)
    elif not viewer.is_operator:
        query = query.where((Deal.buyer_org_id == viewer.org_id) | (Deal.seller_org_id == viewer.org_id))
    if listing_id is not None:
        query = query.where(Deal.listing_id == listing_id)
    if (after := id_after(cursor)) is not None:
        query = query.where(Deal.id < after)
    rows = (await session.scalars(query.order_by(Deal.id.desc()).limit(limit + 1))).all()
    return keyset_page(rows, limit, by_id)


async def published_deals(
    session: AsyncSession, *, org_id: uuid.UUID | None = None, listing_id: uuid.UUID | None = None, limit: int = 20
) -> list[tuple[Deal, Notice]]:
    """Deals whose result (or negotiated-price) notice has been published and not withdrawn, with
    that notice, newest first: what the public knows of them (the notice's parties and price).
    ``org_id``: those the organisation bought or sold; ``listing_id``: those of one listing."""
    query = (
        select(Deal, Notice)
        .join(Notice, Notice.id == Deal.notice_id)
        .where(Notice.status != NoticeStatus.CANCELLED.value)
    )
    if org_id is not None:
        query = query.where((Deal.buyer_org_id == org_id) | (Deal.seller_org_id == org_id))
    if listing_id is not None:
        query = query.where(Deal.listing_id == listing_id)
    rows = await session.execute(query.order_by(Deal.id.desc()).limit(limit))
    return [(deal, notice) for deal, notice in rows]


def _at(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None


def certificate_content(deal: Deal, issued_at: datetime, rows: list[DealInstalment]) -> dict[str, Any]:
    """The deal certificate (技术交易凭证): what was agreed, by whom, at what price and fees, and
    when each payment of the price is due and must be paid by."""
    return {
        "certificate": "技术交易凭证 technology transaction certificate",
        "issuer": ISSUER,
        "deal_id": str(deal.id),
        "issued_at": rfc3339(issued_at),
        "concluded_by": deal.concluded_by,
        "deal_type": deal.deal_type,
        "listing": deal.snapshot["listing"],
        "deal_terms": deal.snapshot["deal_terms"],
        "payment_terms": deal.snapshot["payment_terms"],
        "adjustments": deal.snapshot["adjustments"],
        "seller": deal.snapshot["seller"],
        "buyer": deal.snapshot["buyer"],
        "price": deal.price,
        "fees": {"seller": deal.seller_fee, "buyer": deal.buyer_fee},
        "inventor_reward": deal.inventor_reward,
        "inventor_reward_bp": deal.inventor_reward_bp,
        **({"brokerage": deal.snapshot["brokerage"]} if deal.snapshot.get("brokerage") else {}),
        "related_party": deal.related_party,
        "result_notice_id": str(deal.notice_id) if deal.notice_id else None,
        "signatures": {
            "seller": {"user_id": str(deal.seller_signed_by), "signed_at": _at(deal.seller_signed_at)},
            "buyer": {"user_id": str(deal.buyer_signed_by), "signed_at": _at(deal.buyer_signed_at)},
        },
        "payment_due_at": _at(deal.payment_due_at),
        "payment_schedule": [schedule.describe(row) for row in rows],
    }


# -- cancellation by agreement -----------------------------------------------------------------------


async def agree_to_cancel(
    session: AsyncSession, ctx: TradingContext, party: Principal, deal_id: uuid.UUID, now: datetime
) -> Deal:
    """An admin of each party agrees; with both, the deal is cancelled and the deposit returned."""
    deal = await visible_deal(session, party, deal_id, lock=True)
    if party.org_id not in (deal.buyer_org_id, deal.seller_org_id):
        raise NotParticipant("only the buyer and the seller cancel a deal by agreement")
    if not party.is_admin:
        raise NotAdmin("a deal is cancelled by agreement of an admin of each party", field="role")
    if deal.state not in (DealState.AWAITING_SIGNATURES.value, DealState.AWAITING_PAYMENT.value):
        raise InvalidState(
            f"the deal is {deal.state}; it is cancelled by agreement before it is paid", state=deal.state
        )
    side = "buyer" if party.org_id == deal.buyer_org_id else "seller"
    if getattr(deal, f"{side}_cancel_at") is None:
        setattr(deal, f"{side}_cancel_at", now)
    deal.updated_at = now
    if deal.buyer_cancel_at and deal.seller_cancel_at:
        _move(deal, DealAction.CANCEL_BY_AGREEMENT, now)
        deal.ended_at = now
        deal.end_reason = "cancelled by agreement of both parties"
        schedule.close_unpaid(await schedule.schedule_of(session, deal.id), InstalmentAction.DEAL_CANCELLED, now)
        if deal.hold_entry_id is not None:
            await ledger.void_hold(session, deal.hold_entry_id, now=now, description="the deal was cancelled")
        await cancel_deal(session, ctx.listings, deal.listing_id, now, reason=deal.end_reason)
    await session.flush()
    return deal


# -- payment and settlement ------------------------------------------------------------------------------


def _entry(
    debit: uuid.UUID, credit: uuid.UUID, amount: int, kind: str, deal: Deal, row: DealInstalment, description: str
) -> EntrySpec:
    return EntrySpec.transfer(
        debit,
        credit,
        amount,
        unit=chart.CNY,
        kind=kind,
        description=description,
        metadata={"deal_id": str(deal.id), "listing_id": str(deal.listing_id), "instalment": row.seq},
    )


async def pay(session: AsyncSession, ctx: TradingContext, payer: Principal, deal_id: uuid.UUID, now: datetime) -> Deal:
    """The buyer pays the payment now due into escrow; it settles in the same transaction.

    Awaiting payment, that is the whole price or the down payment (the deposit counts toward it);
    while paying instalments, an instalment that is due and was not collected (it is overdue, or
    the sweeper has not come to it yet). An instalment not yet due is not paid early.
    """
    deal = await visible_deal(session, payer, deal_id, lock=True)
    if payer.org_id != deal.buyer_org_id:
        raise NotParticipant("only the buyer pays for a deal")
    if not payer.is_admin:
        raise NotAdmin("a deal is paid by an admin of the buyer", field="role")
    if deal.state not in PAYING:
        raise InvalidState(f"the deal is {deal.state}; it is paid while awaiting payment", state=deal.state)
    await refuse_on_hold(session, deal)
    payer.require_active_verified()
    rows = await schedule.schedule_of(session, deal.id)
    row = schedule.next_unpaid(rows)
    assert row is not None and row.due_at is not None and row.deadline_at is not None
    deadline = await payment_deadline(session, deal, row)
    if deadline is not None and now >= deadline:
        raise InvalidState(f"the payment deadline passed at {rfc3339(deadline)}; the deal defaults", state="defaulted")
    if now < row.due_at:
        raise InstalmentNotDue(
            f"the next instalment, {row.amount} fen, is due at {rfc3339(row.due_at)}; it is collected "
            "from the buyer's wallet then",
            instalment=row.seq,
            due_at=rfc3339(row.due_at),
        )
    await _pay_and_settle(session, ctx, deal, rows, row, now)
    return deal


async def _pay_and_settle(
    session: AsyncSession,
    ctx: TradingContext,
    deal: Deal,
    rows: list[DealInstalment],
    row: DealInstalment,
    now: datetime,
) -> None:
    """Move the payment into escrow and settle it: every ledger write first (a refusal raises with
    nothing of the deal changed), then the deal's and the payment's rows."""
    escrow = await chart.open_account(session, chart.deal_escrow(deal.id), now)
    cash = await chart.open_account(session, chart.org_cash(deal.buyer_org_id), now)
    paid_ids: list[str] = []
    from_deposit = 0
    if row.seq == 0 and deal.hold_entry_id is not None:
        # The deposit counts toward the first payment; a deposit larger than it is released.
        from_deposit = min(deal.deposit, row.amount)
        posted = await ledger.post_hold(
            session, deal.hold_entry_id, now=now, amount=from_deposit, description=f"deposit applied to deal {deal.id}"
        )
        paid_ids.append(str(posted.id))
    batch = []
    if from_deposit:
        pool = await chart.open_account(session, chart.listing_deposits(deal.listing_id), now)
        batch.append(_entry(pool.id, escrow.id, from_deposit, "deal_payment", deal, row, "deposit into escrow"))
    if row.amount > from_deposit:
        rest = row.amount - from_deposit
        what = "price into escrow" if len(rows) == 1 else f"instalment {row.seq} into escrow"
        batch.append(_entry(cash.id, escrow.id, rest, "deal_payment", deal, row, what))
    paid = await ledger.post_batch(session, batch, now=now)
    paid_ids += [str(item.entry.id) for item in paid.results if item.entry is not None]
    vouchers, settled_ids, by_seller = await _settle(session, ctx, deal, rows, row, now)
    row.from_deposit = from_deposit
    row.buyer_fee_vouchers = vouchers
    row.payment_entry_ids, row.settlement_entry_ids = paid_ids, settled_ids
    row.paid_at = row.settled_at = now
    schedule.move(row, InstalmentAction.PAID, now)
    settled = SettledPayment(
        deal_id=deal.id, listing_id=deal.listing_id, seller_org_id=deal.seller_org_id,
        buyer_org_id=deal.buyer_org_id, seq=row.seq, amount=row.amount,
        seller_proceeds=row.seller_proceeds - by_seller, inventor_reward=row.inventor_reward, settled_at=now,
    )  # fmt: skip
    for observer in ctx.settlement_observers:
        await observer.on_payment_settled(session, settled)
    deal.buyer_fee_vouchers += vouchers
    unpaid = sum(1 for r in rows if r.status != InstalmentStatus.SETTLED.value)
    _move(deal, payment_action(unpaid), now)
    if unpaid == 0:
        deal.paid_at = deal.settled_at = deal.ended_at = now
        await complete_sale(session, ctx.listings, deal.listing_id, now, reason=f"deal {deal.id} settled")
        amounts = {
            "seller_fee_fen": deal.seller_fee,
            "buyer_fee_fen": deal.buyer_fee,
            "buyer_fee_vouchers_fen": deal.buyer_fee_vouchers,
            "inventor_reward_fen": deal.inventor_reward,
            "net_to_seller_fen": deal.seller_proceeds,
            "settled_at": rfc3339(now),
        }
        tell(session, Kind.DEAL_SETTLED, deal, both_parties(deal), now, **amounts)


async def _settle(
    session: AsyncSession,
    ctx: TradingContext,
    deal: Deal,
    rows: list[DealInstalment],
    row: DealInstalment,
    now: datetime,
) -> tuple[int, list[str], int]:
    """Escrow holds this payment: pay its shares to the seller, the exchange and the inventors in one
    atomic batch, the buyer's share of its fee, and the further legs of the settlement sources (a
    broker's commission: out of the seller's proceeds, or from the buyer's wallet). Returns (fee paid
    with vouchers, entry ids, fen of further legs the seller paid out of its proceeds)."""
    vouchers = 0
    if ctx.fee_voucher_payer is not None and row.buyer_fee > 0:
        vouchers = await ctx.fee_voucher_payer.pay_fee(
            session, buyer_org_id=deal.buyer_org_id, fee=row.buyer_fee, deal_id=deal.id, now=now, instalment=row.seq
        )
        if not 0 <= vouchers <= row.buyer_fee:
            raise ValueError(f"the voucher payer paid {vouchers} of a fee of {row.buyer_fee}")
    payment = SettlingPayment(
        deal_id=deal.id, listing_id=deal.listing_id, seller_org_id=deal.seller_org_id,
        buyer_org_id=deal.buyer_org_id, price=deal.price, seq=row.seq,
        schedule=tuple(SchedulePart(r.seq, r.amount, r.seller_proceeds) for r in rows), settled_at=now,
    )  # fmt: skip
    legs: list[tuple[Any, SettlementLeg]] = []
    for source in ctx.settlement_legs:
        legs += [(source, leg) for leg in await source.legs(session, payment) if leg.amount > 0]
    by_seller = sum(leg.amount for _, leg in legs if leg.payer == Side.SELLER.value)
    if any(leg.payer not in (Side.SELLER.value, Side.BUYER.value) for _, leg in legs) or not (
        0 <= by_seller <= row.seller_proceeds
    ):
        raise ValueError(f"further legs of {by_seller} fen exceed the seller's proceeds of {row.seller_proceeds}")
    escrow = await chart.open_account(session, chart.deal_escrow(deal.id), now)
    fees = await chart.open_account(session, chart.EXCHANGE_FEES, now)
    seller_cash = await chart.open_account(session, chart.org_cash(deal.seller_org_id), now)
    buyer_cash = await chart.open_account(session, chart.org_cash(deal.buyer_org_id), now)
    parts = [
        (escrow.id, seller_cash.id, row.seller_proceeds - by_seller, "settlement", "proceeds to the seller"),
        (escrow.id, fees.id, row.seller_fee, "fee", "seller-side fee"),
        (buyer_cash.id, fees.id, row.buyer_fee - vouchers, "fee", "buyer-side fee"),
    ]
    if row.inventor_reward:
        rewards = await chart.open_account(session, chart.org_inventor_rewards(deal.seller_org_id), now)
        parts.append((escrow.id, rewards.id, row.inventor_reward, "inventor_reward", "inventors' reward share"))
    posted = [(d, c, amount, kind, text) for d, c, amount, kind, text in parts if amount > 0]
    # A buyer's leg owed to a service provider may be paid partly with its vouchers (SPEC §4).
    in_vouchers: list[tuple[int, list[str]]] = []
    for _, leg in legs:
        voucher_ids: list[str] = []
        part = 0
        payee = leg.voucher_payee if leg.payer == Side.BUYER.value else None
        if ctx.fee_voucher_payer is not None and payee is not None:
            part = await ctx.fee_voucher_payer.pay_fee(
                session, buyer_org_id=deal.buyer_org_id, fee=leg.amount, deal_id=deal.id, now=now,
                instalment=row.seq, recipient_org_id=payee, ref=leg.ref, entries=voucher_ids,
            )  # fmt: skip
            if not 0 <= part <= leg.amount:
                raise ValueError(f"the voucher payer paid {part} of a leg of {leg.amount}")
        in_vouchers.append((part, voucher_ids))
    first_leg = len(posted)
    in_cash = [leg.amount - part for (_, leg), (part, _) in zip(legs, in_vouchers, strict=True)]
    for (_, leg), amount in zip(legs, in_cash, strict=True):
        if amount > 0:  # vouchers may pay a leg whole
            credit = await chart.open_account(session, leg.credit, now)
            debit = escrow.id if leg.payer == Side.SELLER.value else buyer_cash.id
            posted.append((debit, credit.id, amount, leg.kind, leg.description))
    batch = [_entry(d, c, amount, kind, deal, row, text) for d, c, amount, kind, text in posted]
    result = await ledger.post_batch(session, batch, now=now, atomic=True)
    entries = [item.entry for item in result.results]
    ids = [str(entry.id) for entry in entries if entry is not None]
    cash_entries = iter(entries[first_leg:])
    leg_ids = [
        (str(entry.id) if (entry := next(cash_entries)) is not None else "") if amount > 0 else "" for amount in in_cash
    ]
    row.settlement_legs = [
        {"payer": leg.payer, "kind": leg.kind, "label": leg.label, "amount": leg.amount, "entry_id": entry_id}
        | ({"vouchers": part, "voucher_entry_ids": voucher_ids} if part else {})
        for (_, leg), entry_id, (part, voucher_ids) in zip(legs, leg_ids, in_vouchers, strict=True)
    ]
    for source in ctx.settlement_legs:
        mine = [
            (leg, entry_id)
            for (owner, leg), cash_id, (_, voucher_ids) in zip(legs, leg_ids, in_vouchers, strict=True)
            if owner is source
            for entry_id in ([cash_id] if cash_id else []) + voucher_ids
        ]
        if mine:
            await source.posted(session, payment, mine)
    return vouchers, ids, by_seller


# -- instalments: reminders and collection -------------------------------------------------------------


def _instalment_claim(skip: set[uuid.UUID]) -> Any:
    query = select(DealInstalment).join(Deal, Deal.id == DealInstalment.deal_id)
    query = query.where(Deal.state == DealState.PAYING_INSTALMENTS.value)
    if skip:
        query = query.where(DealInstalment.id.not_in(skip))
    return query


async def _claim(session: AsyncSession, query: Any) -> Any:
    if is_postgres(session):
        # Lock the deal: every writer of a deal's schedule takes the deal's lock first.
        query = query.with_for_update(skip_locked=True, of=Deal)
    return await session.scalar(query.limit(1))


async def claim_due_reminder(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> DealInstalment | None:
    """A payment whose reminder is due: a later instalment before its due date, or the first
    payment (the price, or the down payment) before its deadline."""
    query = select(DealInstalment).join(Deal, Deal.id == DealInstalment.deal_id)
    if skip:
        query = query.where(DealInstalment.id.not_in(skip))
    query = query.where(
        DealInstalment.status == InstalmentStatus.PENDING.value,
        DealInstalment.remind_at <= now,
        DealInstalment.reminded_at.is_(None),
        or_(
            (Deal.state == DealState.PAYING_INSTALMENTS.value) & (DealInstalment.due_at > now),
            (Deal.state == DealState.AWAITING_PAYMENT.value)
            & (DealInstalment.seq == 0)
            & (DealInstalment.deadline_at > now),
        ),
    )
    return await _claim(session, query.order_by(DealInstalment.remind_at, DealInstalment.id))


async def claim_due_instalment(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> DealInstalment | None:
    query = _instalment_claim(skip).where(
        DealInstalment.status == InstalmentStatus.PENDING.value,
        DealInstalment.seq > 0,
        DealInstalment.due_at <= now,
    )
    return await _claim(session, query.order_by(DealInstalment.due_at, DealInstalment.id))


async def _current(session: AsyncSession, claimed: DealInstalment) -> tuple[Deal, list[DealInstalment], DealInstalment]:
    """The claimed instalment's deal, locked, and its schedule as committed."""
    deal = await load_deal(session, claimed.deal_id, lock=True)
    rows = await schedule.schedule_of(session, deal.id)
    return deal, rows, next(r for r in rows if r.id == claimed.id)


async def remind(
    session: AsyncSession, ctx: TradingContext, claimed: DealInstalment, now: datetime, _: list[LiveEvent]
) -> bool:
    """A few working days before an instalment's due date the buyer is told what will be collected;
    before the first payment's deadline, what it must pay."""
    deal, _rows, row = await _current(session, claimed)
    if row.status != InstalmentStatus.PENDING.value or row.reminded_at is not None:
        return False
    if row.seq == 0 and deal.state == DealState.AWAITING_PAYMENT.value:
        return _remind_first(session, deal, row, now)
    if deal.state != DealState.PAYING_INSTALMENTS.value:
        return False
    assert row.due_at is not None and row.deadline_at is not None
    row.reminded_at = row.updated_at = now
    _tell_due(session, deal, row, now)
    schedule.notify(
        session,
        deal,
        "payment_reminder",
        f"An instalment of {row.amount} fen and its buyer-side fee of {row.buyer_fee} fen are collected from "
        f"the buyer's wallet at {rfc3339(row.due_at)}; keep them available there. If the wallet is short, "
        f"pay with POST /deals/{deal.id}/pay by {rfc3339(row.deadline_at)}, or the deal defaults.",
        {**schedule.describe(row), "buyer_fee": row.buyer_fee},
        now,
    )
    log.info("instalment reminder", deal=str(deal.id), instalment=row.seq, due_at=rfc3339(row.due_at))
    return True


def _tell_due(session: AsyncSession, deal: Deal, row: DealInstalment, now: datetime) -> None:
    """``payment.due`` to the buyer: what to pay (the payment, its share of the buyer's fee) and by when."""
    assert row.deadline_at is not None
    tell(
        session,
        Kind.PAYMENT_DUE,
        deal,
        Audience.of_orgs(deal.buyer_org_id),
        now,
        instalment=row.seq,
        amount_fen=row.amount,
        buyer_fee_fen=row.buyer_fee,
        due_at=rfc3339(row.due_at) if row.due_at else None,
        deadline_at=rfc3339(row.deadline_at),
        collected=row.seq > 0,  # a later instalment is collected from the wallet on its due date
    )


def _remind_first(session: AsyncSession, deal: Deal, row: DealInstalment, now: datetime) -> bool:
    """The first payment (the price, or the down payment) is unpaid a few working days before its deadline."""
    assert row.deadline_at is not None
    row.reminded_at = row.updated_at = now
    due = row.amount - min(deal.deposit, row.amount) if deal.hold_entry_id is not None else row.amount
    _tell_due(session, deal, row, now)
    schedule.notify(
        session,
        deal,
        "payment_reminder",
        f"The payment of {row.amount} fen ({due} fen after the deposit) and the buyer-side fee of "
        f"{row.buyer_fee} fen are due: pay with POST /deals/{deal.id}/pay by {rfc3339(row.deadline_at)}, "
        "or the deal defaults and the deposit is forfeited.",
        {**schedule.describe(row), "buyer_fee": row.buyer_fee, "after_deposit": due},
        now,
    )
    log.info("payment reminder", deal=str(deal.id), deadline_at=rfc3339(row.deadline_at))
    return True


async def collect(
    session: AsyncSession, ctx: TradingContext, claimed: DealInstalment, now: datetime, _: list[LiveEvent]
) -> bool:
    """On its due date an instalment is collected from the buyer's wallet into escrow and settled;
    a wallet that is short leaves it ``overdue`` for the buyer to pay before its deadline."""
    deal, rows, row = await _current(session, claimed)
    if deal.state != DealState.PAYING_INSTALMENTS.value or row is not schedule.next_unpaid(rows):
        return False  # paid meanwhile, or an earlier instalment is still open
    if row.status != InstalmentStatus.PENDING.value or row.due_at is None or row.due_at > now:
        return False
    if await suspended_parties(session, deal):
        return False  # on hold: collected when the party is reinstated (its deadline moves meanwhile)
    try:
        async with session.begin_nested():  # the ledger's refusal rolls back the voucher payer's work too
            await _pay_and_settle(session, ctx, deal, rows, row, now)
    except InsufficientFunds as refused:
        assert row.deadline_at is not None
        schedule.move(row, InstalmentAction.COLLECTION_FAILED, now)
        details = {**schedule.describe(row), "buyer_fee": row.buyer_fee, **getattr(refused, "extra", {})}
        schedule.notify(
            session,
            deal,
            "payment_overdue",
            f"The instalment of {row.amount} fen due at {rfc3339(row.due_at)} could not be collected: "
            f"{refused.detail}. Pay it with POST /deals/{deal.id}/pay by {rfc3339(row.deadline_at)}, "
            "or the deal defaults.",
            details,
            now,
        )
        tell(
            session,
            Kind.PAYMENT_OVERDUE,
            deal,
            Audience.of_orgs(deal.buyer_org_id),
            now,
            instalment=row.seq,
            amount_fen=row.amount,
            buyer_fee_fen=row.buyer_fee,
            due_at=rfc3339(row.due_at),
            deadline_at=rfc3339(row.deadline_at),
        )
        log.info("instalment overdue", deal=str(deal.id), instalment=row.seq, deadline_at=rfc3339(row.deadline_at))
    return True


# -- default ----------------------------------------------------------------------------------------------


async def claim_due_default(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> Deal | None:
    """A deal with a payment unpaid at its deadline: the first payment, or an instalment."""
    query = (
        select(Deal)
        .join(DealInstalment, DealInstalment.deal_id == Deal.id)
        .where(
            Deal.state.in_(PAYING),
            DealInstalment.status.in_([InstalmentStatus.PENDING.value, InstalmentStatus.OVERDUE.value]),
            DealInstalment.deadline_at <= now,
        )
    )
    if skip:
        query = query.where(Deal.id.not_in(skip))
    return await _claim(session, query.order_by(DealInstalment.deadline_at, Deal.id))


async def default(session: AsyncSession, ctx: TradingContext, claimed: Deal, now: datetime) -> bool:
    """A payment's deadline passed unpaid: the deal defaults (``PAYMENT_MISSED``).

    Missing the first payment forfeits the deposit to the seller, less the exchange's fee on it.
    Missing a later instalment leaves what was paid and settled as it is: the seller keeps the
    instalments it was paid (the deposit went into the down payment), nothing more moves, and the
    unpaid instalments end ``defaulted``. Either way the listing ends ``unsold``.
    """
    deal = await load_deal(session, claimed.id, lock=True)
    rows = await schedule.schedule_of(session, deal.id)
    missed = schedule.next_unpaid(rows)
    if deal.state not in PAYING or missed is None or missed.deadline_at is None or missed.deadline_at > now:
        return False  # paid, cancelled or defaulted meanwhile
    deadline = await payment_deadline(session, deal, missed)
    if deadline is None or deadline > now:
        return False  # on hold, or its deadline moved by the time on hold: not due yet
    first_payment = deal.state == DealState.AWAITING_PAYMENT.value
    _move(deal, DealAction.PAYMENT_MISSED, now)
    deal.ended_at = now
    deal.end_reason = (
        "the payment deadline passed"
        if first_payment
        else f"the instalment due in month {missed.due_months} was not paid by its deadline"
    )
    schedule.close_unpaid(rows, InstalmentAction.DEAL_DEFAULTED, now)
    if first_payment and deal.hold_entry_id is not None and deal.deposit > 0:
        to_seller, to_exchange = forfeiture(deal.deposit, ctx.rules.fees)
        await ledger.post_hold(session, deal.hold_entry_id, now=now, description=f"deposit forfeited on deal {deal.id}")
        pool = await chart.open_account(session, chart.listing_deposits(deal.listing_id), now)
        seller_cash = await chart.open_account(session, chart.org_cash(deal.seller_org_id), now)
        forfeits = await chart.open_account(session, chart.EXCHANGE_FORFEITS, now)
        parts = [
            (pool.id, seller_cash.id, to_seller, "forfeiture", "forfeited deposit to the seller"),
            (pool.id, forfeits.id, to_exchange, "forfeiture", "the exchange's fee on the forfeited deposit"),
        ]
        batch = [_entry(d, c, amount, kind, deal, missed, text) for d, c, amount, kind, text in parts if amount > 0]
        await ledger.post_batch(session, batch, now=now, atomic=True)
        deal.forfeited_to_seller, deal.forfeited_to_exchange = to_seller, to_exchange
    await cancel_deal(session, ctx.listings, deal.listing_id, now, reason=f"deal {deal.id} defaulted")
    tell(
        session,
        Kind.PAYMENT_DEFAULTED,
        deal,
        both_parties(deal),
        now,
        reason=deal.end_reason,
        instalment=missed.seq,
        amount_fen=missed.amount,
        deadline_at=rfc3339(missed.deadline_at),
        forfeited_to_seller_fen=deal.forfeited_to_seller,
        forfeited_to_exchange_fen=deal.forfeited_to_exchange,
    )
    return True
