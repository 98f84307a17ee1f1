"""Deals (SPEC §3.4–3.5): formation with its result notice, signatures and the certificate,
payment into escrow, settlement, default and forfeiture.

Every money movement goes through the ledger in the same transaction as the deal's state change:
payment posts the winner's deposit hold and moves the rest of the price into ``deal:<id>:escrow``;
settlement is one atomic ledger batch (escrow → seller net of its fee, fees → ``exchange:fees``,
the inventors' share → ``org:<seller>:inventor_rewards``, the buyer's fee from its wallet).
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties.domain import Principal
from exchange.parties.models import Org
from exchange.trading.context import TradingContext
from exchange.trading.domain import DealAction, DealState, forfeiture, next_deal_state, settlement
from exchange.trading.errors import AlreadySigned, NotAdmin, NotParticipant
from exchange.trading.intents import release_all
from exchange.trading.models import Deal, Intent
from kernel.errors import InvalidState, NotFound
from ledger import EntrySpec
from ledger import service as ledger
from listings import (
    Listing,
    Notice,
    NoticeHandler,
    NoticeKind,
    NoticePeriod,
    Objection,
    PricingMode,
    cancel_deal,
    complete_sale,
    open_notice,
)
from listings import (
    form_deal as listing_form_deal,
)

PUBLIC_INSTITUTIONS = frozenset({"university", "research_institute"})
ISSUER = "TechX technology-transfer exchange"


def rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def canonical_json(content: Any) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
    intent.status = "won"
    intent.ended_at = now
    intent.end_reason = f"won by {concluded_by}"
    await session.flush()
    await release_all(session, listing.id, "another buyer concluded the deal", now)
    buyer = await session.get(Org, intent.org_id)
    seller = await session.get(Org, listing.seller_org_id)
    assert buyer is not None and seller is not None
    public = listing.seller_kind in PUBLIC_INSTITUTIONS
    split = settlement(price, ctx.rules.fees, inventor_reward_bp=ctx.rules.inventor_reward_bp if public else 0)
    related = is_related_party(listing, buyer.credit_code)
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
        inventor_reward_bp=ctx.rules.inventor_reward_bp if public else 0,
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
    deal = await session.scalar(query)
    if deal is None:
        raise NotFound(f"deal {deal_id} not found")
    return deal


async def visible_deal(session: AsyncSession, viewer: Principal, deal_id: uuid.UUID, *, lock: bool = False) -> Deal:
    """The parties and operators see a deal; anyone else learns nothing of it (404)."""
    deal = await load_deal(session, deal_id, lock=lock)
    if not (viewer.is_operator or viewer.org_id in (deal.buyer_org_id, deal.seller_org_id)):
        raise NotFound(f"deal {deal_id} not found")
    return deal


def _move(deal: Deal, action: DealAction, now: datetime) -> None:
    deal.state = next_deal_state(DealState(deal.state), action).value
    deal.updated_at = now


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

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        deal = await self._deal(session, notice)
        if deal is None or deal.state != DealState.RESULT_NOTICE.value:
            return
        _move(deal, DealAction.OBJECTION_UPHELD, now)
        reason = f"objection upheld: {objection.resolution_note}".strip().rstrip(":")
        deal.ended_at = now
        deal.end_reason = reason[:500]
        if deal.hold_entry_id is not None:
            await ledger.void_hold(session, deal.hold_entry_id, now=now, description="the deal was cancelled")
        await cancel_deal(session, self.ctx.listings, deal.listing_id, now, reason=reason)


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
    side = "buyer" if signer.org_id == deal.buyer_org_id else "seller"
    if getattr(deal, f"{side}_signed_at") is not None:
        raise AlreadySigned(f"the {side} has already signed this deal")
    setattr(deal, f"{side}_signed_by", signer.user_id)
    setattr(deal, f"{side}_signed_at", now)
    deal.updated_at = now
    if deal.buyer_signed_at and deal.seller_signed_at:
        _move(deal, DealAction.BOTH_SIGNED, now)
        deal.payment_due_at = NoticePeriod(ctx.rules.payment_working_days, working_days=True).end(now)
        content = certificate_content(deal, now)
        text = canonical_json(content)
        deal.certificate = text
        deal.certificate_signature = base64.b64encode(ctx.listings.signer.sign(text.encode("utf-8"))).decode("ascii")
        deal.certificate_key_id = ctx.listings.signer.key_id
    await session.flush()
    return deal


def certificate_content(deal: Deal, issued_at: datetime) -> dict[str, Any]:
    """The deal certificate (技术交易凭证): what was agreed, by whom, at what price and fees."""
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
        "related_party": deal.related_party,
        "result_notice_id": str(deal.notice_id) if deal.notice_id else None,
        "signatures": {
            "seller": {"user_id": str(deal.seller_signed_by), "signed_at": rfc3339(deal.seller_signed_at)},
            "buyer": {"user_id": str(deal.buyer_signed_by), "signed_at": rfc3339(deal.buyer_signed_at)},
        },
        "payment_due_at": rfc3339(deal.payment_due_at),
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
        if deal.hold_entry_id is not None:
            await ledger.void_hold(session, deal.hold_entry_id, now=now, description="the deal was cancelled")
        await cancel_deal(session, ctx.listings, deal.listing_id, now, reason=deal.end_reason)
    await session.flush()
    return deal


# -- payment and settlement ------------------------------------------------------------------------------


def _entry(debit: uuid.UUID, credit: uuid.UUID, amount: int, kind: str, deal: Deal, description: str) -> EntrySpec:
    return EntrySpec.transfer(
        debit,
        credit,
        amount,
        unit=chart.CNY,
        kind=kind,
        description=description,
        metadata={"deal_id": str(deal.id), "listing_id": str(deal.listing_id)},
    )


async def pay(session: AsyncSession, ctx: TradingContext, payer: Principal, deal_id: uuid.UUID, now: datetime) -> Deal:
    """The buyer pays the price into escrow; the deal then settles in the same transaction."""
    deal = await visible_deal(session, payer, deal_id, lock=True)
    if payer.org_id != deal.buyer_org_id:
        raise NotParticipant("only the buyer pays for a deal")
    payer.require_active_verified()
    if deal.state != DealState.AWAITING_PAYMENT.value:
        raise InvalidState(f"the deal is {deal.state}; it is paid while awaiting payment", state=deal.state)
    assert deal.payment_due_at is not None
    if now >= deal.payment_due_at:
        raise InvalidState(
            f"the payment deadline passed at {rfc3339(deal.payment_due_at)}; the deal defaults", state="defaulted"
        )
    escrow = await chart.open_account(session, chart.deal_escrow(deal.id), now)
    cash = await chart.open_account(session, chart.org_cash(deal.buyer_org_id), now)
    from_deposit = 0
    if deal.hold_entry_id is not None:
        from_deposit = min(deal.deposit, deal.price)
        await ledger.post_hold(
            session, deal.hold_entry_id, now=now, amount=from_deposit, description=f"deposit applied to deal {deal.id}"
        )
    batch = []
    if from_deposit:
        pool = await chart.open_account(session, chart.listing_deposits(deal.listing_id), now)
        batch.append(_entry(pool.id, escrow.id, from_deposit, "deal_payment", deal, "deposit into escrow"))
    if deal.price > from_deposit:
        batch.append(_entry(cash.id, escrow.id, deal.price - from_deposit, "deal_payment", deal, "price into escrow"))
    await ledger.post_batch(session, batch, now=now)
    deal.paid_at = now
    await settle(session, ctx, deal, now)
    return deal


async def settle(session: AsyncSession, ctx: TradingContext, deal: Deal, now: datetime) -> None:
    """Escrow holds the full price: pay the seller, the exchange and the inventors in one atomic batch."""
    vouchers = 0
    if ctx.fee_voucher_payer is not None and deal.buyer_fee > 0:
        vouchers = await ctx.fee_voucher_payer.pay_fee(
            session, buyer_org_id=deal.buyer_org_id, fee=deal.buyer_fee, deal_id=deal.id, now=now
        )
        if not 0 <= vouchers <= deal.buyer_fee:
            raise ValueError(f"the voucher payer paid {vouchers} of a fee of {deal.buyer_fee}")
    escrow = await chart.open_account(session, chart.deal_escrow(deal.id), now)
    fees = await chart.open_account(session, chart.EXCHANGE_FEES, now)
    seller_cash = await chart.open_account(session, chart.org_cash(deal.seller_org_id), now)
    buyer_cash = await chart.open_account(session, chart.org_cash(deal.buyer_org_id), now)
    parts = [
        (escrow.id, seller_cash.id, deal.seller_proceeds, "settlement", "proceeds to the seller"),
        (escrow.id, fees.id, deal.seller_fee, "fee", "seller-side fee"),
        (buyer_cash.id, fees.id, deal.buyer_fee - vouchers, "fee", "buyer-side fee"),
    ]
    if deal.inventor_reward:
        rewards = await chart.open_account(session, chart.org_inventor_rewards(deal.seller_org_id), now)
        parts.append((escrow.id, rewards.id, deal.inventor_reward, "inventor_reward", "inventors' reward share"))
    batch = [_entry(d, c, amount, kind, deal, text) for d, c, amount, kind, text in parts if amount > 0]
    await ledger.post_batch(session, batch, now=now, atomic=True)
    deal.buyer_fee_vouchers = vouchers
    deal.settled_at = now
    deal.ended_at = now
    _move(deal, DealAction.PAID, now)
    await complete_sale(session, ctx.listings, deal.listing_id, now, reason=f"deal {deal.id} settled")


# -- default ----------------------------------------------------------------------------------------------


async def claim_due_default(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> Deal | None:
    query = select(Deal).where(Deal.state == DealState.AWAITING_PAYMENT.value, Deal.payment_due_at <= now)
    if skip:
        query = query.where(Deal.id.not_in(skip))
    query = query.order_by(Deal.payment_due_at, Deal.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


async def default(session: AsyncSession, ctx: TradingContext, deal: Deal, now: datetime) -> bool:
    """The payment deadline passed: the deposit is forfeited to the seller less the exchange's fee on it."""
    moved = await session.execute(
        update(Deal)
        .where(Deal.id == deal.id, Deal.state == DealState.AWAITING_PAYMENT.value, Deal.payment_due_at <= now)
        .values(state=DealState.DEFAULTED.value, updated_at=now, ended_at=now, end_reason="the payment deadline passed")
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.refresh(deal)
    if deal.hold_entry_id is not None and deal.deposit > 0:
        to_seller, to_exchange = forfeiture(deal.deposit, ctx.rules.fees)
        await ledger.post_hold(session, deal.hold_entry_id, now=now, description=f"deposit forfeited on deal {deal.id}")
        pool = await chart.open_account(session, chart.listing_deposits(deal.listing_id), now)
        seller_cash = await chart.open_account(session, chart.org_cash(deal.seller_org_id), now)
        forfeits = await chart.open_account(session, chart.EXCHANGE_FORFEITS, now)
        parts = [
            (pool.id, seller_cash.id, to_seller, "forfeiture", "forfeited deposit to the seller"),
            (pool.id, forfeits.id, to_exchange, "forfeiture", "the exchange's fee on the forfeited deposit"),
        ]
        batch = [_entry(d, c, amount, kind, deal, text) for d, c, amount, kind, text in parts if amount > 0]
        await ledger.post_batch(session, batch, now=now, atomic=True)
        deal.forfeited_to_seller, deal.forfeited_to_exchange = to_seller, to_exchange
    await cancel_deal(session, ctx.listings, deal.listing_id, now, reason=f"deal {deal.id} defaulted")
    return True
