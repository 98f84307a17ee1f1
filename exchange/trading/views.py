"""Rows to response shapes, with the caller in mind (bidders appear as "you" or an anonymous label)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from exchange.trading.auctions import bidder_label
from exchange.trading.domain import AuctionStatus, IntentStatus, NegotiationStatus, OfferStatus
from exchange.trading.models import (
    Auction,
    Bid,
    Deal,
    DealInstalment,
    DealNotification,
    Intent,
    IntentNotification,
    Negotiation,
    Offer,
)
from exchange.trading.schemas import (
    AuctionOut,
    BidOut,
    CertificateOut,
    DealOut,
    FeesOut,
    IntentOut,
    NegotiationOut,
    NotificationOut,
    OfferOut,
    PaymentOut,
)


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def intent_out(intent: Intent, notes: list[IntentNotification] | None = None) -> IntentOut:
    return IntentOut(
        id=str(intent.id),
        listing_id=str(intent.listing_id),
        org_id=str(intent.org_id),
        status=IntentStatus(intent.status),
        deposit=intent.deposit,
        hold_entry_id=_id(intent.hold_entry_id),
        bidder_label=f"bidder {intent.number}",
        created_at=intent.created_at,
        ended_at=intent.ended_at,
        end_reason=intent.end_reason,
        notifications=[NotificationOut(n.kind, n.message, n.details, n.created_at) for n in notes or []],
    )


def auction_out(
    auction: Auction, viewer_org: uuid.UUID | None, high_number: int | None, now: datetime | None = None
) -> AuctionOut:
    """``status`` is ``scheduled`` until ``starts_at`` (bids are refused until then), then ``open``
    until the auction is closed."""
    high = auction.high_amount
    scheduled = auction.status == "open" and now is not None and now < auction.starts_at
    return AuctionOut(
        id=str(auction.id),
        listing_id=str(auction.listing_id),
        status="scheduled" if scheduled else auction.status,
        asking_price=auction.asking_price,
        increment=auction.increment,
        starts_at=auction.starts_at,
        scheduled_end=auction.scheduled_end,
        ends_at=auction.ends_at,
        high_amount=high,
        high_bidder=bidder_label(auction.high_org_id, high_number, viewer_org)
        if auction.high_org_id is not None and high_number is not None
        else None,
        minimum_next_bid=(auction.asking_price if high is None else high + auction.increment)
        if auction.status == AuctionStatus.OPEN
        else None,
        bid_count=auction.bid_count,
        deal_id=_id(auction.deal_id),
    )


def bid_out(bid: Bid, viewer_org: uuid.UUID | None, ends_at=None) -> BidOut:  # type: ignore[no-untyped-def]
    return BidOut(
        id=str(bid.id),
        auction_id=str(bid.auction_id),
        amount=bid.amount,
        seq=bid.seq,
        bidder=bidder_label(bid.org_id, bid.bidder_number, viewer_org),
        created_at=bid.created_at,
        ends_at=ends_at,
    )


def offer_out(offer: Offer) -> OfferOut:
    return OfferOut(
        id=str(offer.id),
        seq=offer.seq,
        side=offer.side,
        price=offer.price,
        payment_terms=offer.payment_terms,
        adjustments=offer.adjustments,
        note=offer.note,
        status=OfferStatus(offer.status),
        expires_at=offer.expires_at,
        created_at=offer.created_at,
        answered_at=offer.answered_at,
    )


def negotiation_out(thread: Negotiation, offers: list[Offer]) -> NegotiationOut:
    standing = next((o for o in reversed(offers) if o.status == OfferStatus.OPEN), None)
    return NegotiationOut(
        id=str(thread.id),
        listing_id=str(thread.listing_id),
        intent_id=str(thread.intent_id),
        buyer_org_id=str(thread.buyer_org_id),
        seller_org_id=str(thread.seller_org_id),
        status=NegotiationStatus(thread.status),
        offer_count=thread.offer_count,
        standing_offer_id=_id(standing.id) if standing else None,
        created_at=thread.created_at,
        ended_at=thread.ended_at,
        end_reason=thread.end_reason,
        offers=[offer_out(o) for o in offers],
    )


def payment_out(row: DealInstalment) -> PaymentOut:
    return PaymentOut(
        seq=row.seq,
        due_months=row.due_months,
        amount=row.amount,
        status=row.status,
        due_at=row.due_at,
        remind_at=row.remind_at,
        deadline_at=row.deadline_at,
        reminded_at=row.reminded_at,
        paid_at=row.paid_at,
        settled_at=row.settled_at,
        from_deposit=row.from_deposit,
        seller_fee=row.seller_fee,
        buyer_fee=row.buyer_fee,
        buyer_fee_vouchers=row.buyer_fee_vouchers,
        inventor_reward=row.inventor_reward,
        seller_proceeds=row.seller_proceeds,
        payment_entry_ids=list(row.payment_entry_ids),
        settlement_entry_ids=list(row.settlement_entry_ids),
    )


def deal_out(deal: Deal, payments: list[DealInstalment], notes: list[DealNotification]) -> DealOut:
    return DealOut(
        id=str(deal.id),
        listing_id=str(deal.listing_id),
        buyer_org_id=str(deal.buyer_org_id),
        seller_org_id=str(deal.seller_org_id),
        state=deal.state,
        concluded_by=deal.concluded_by,
        deal_type=deal.deal_type,
        price=deal.price,
        deposit=deal.deposit,
        fees=FeesOut(
            seller_fee=deal.seller_fee,
            buyer_fee=deal.buyer_fee,
            buyer_fee_vouchers=deal.buyer_fee_vouchers,
            inventor_reward_bp=deal.inventor_reward_bp,
            inventor_reward=deal.inventor_reward,
            seller_proceeds=deal.seller_proceeds,
        ),
        related_party=deal.related_party,
        notice_id=_id(deal.notice_id),
        notice_kind=deal.notice_kind,
        buyer_signed_at=deal.buyer_signed_at,
        seller_signed_at=deal.seller_signed_at,
        payment_due_at=deal.payment_due_at,
        paid_at=deal.paid_at,
        settled_at=deal.settled_at,
        buyer_cancel_at=deal.buyer_cancel_at,
        seller_cancel_at=deal.seller_cancel_at,
        forfeited_to_seller=deal.forfeited_to_seller,
        forfeited_to_exchange=deal.forfeited_to_exchange,
        terms=deal.snapshot,
        payment_schedule=[payment_out(p) for p in payments],
        notifications=[NotificationOut(n.kind, n.message, n.details, n.created_at) for n in notes],
        created_at=deal.created_at,
        ended_at=deal.ended_at,
        end_reason=deal.end_reason,
    )


def certificate_out(deal: Deal) -> CertificateOut:
    assert deal.certificate and deal.certificate_signature and deal.certificate_key_id
    return CertificateOut(
        deal_id=str(deal.id),
        content=json.loads(deal.certificate),
        signed_content=deal.certificate,
        signature=deal.certificate_signature,
        key_id=deal.certificate_key_id,
    )
