"""Rows to response shapes, with the caller in mind (bidders appear as "you" or an anonymous label)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from exchange.trading.auctions import bidder_label
from exchange.trading.domain import AuctionStatus, OfferStatus
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
    DealResultOut,
    IntentOut,
    NegotiationOut,
    PublicAuctionOut,
)
from kernel.shapes import shaped
from listings import Listing, Notice


def intent_out(intent: Intent, notes: list[IntentNotification] | None = None) -> IntentOut:
    return shaped(IntentOut, intent, bidder_label=f"bidder {intent.number}", notifications=notes or [])


def auction_out(
    auction: Auction, viewer_org: uuid.UUID | None, high_number: int | None, now: datetime | None = None
) -> AuctionOut:
    """``status`` is ``scheduled`` until ``starts_at`` (bids are refused until then), then ``open``
    until the auction is closed."""
    high = auction.high_amount
    is_open = auction.status == AuctionStatus.OPEN
    shown = "scheduled" if is_open and now is not None and now < auction.starts_at else auction.status
    high_bidder = None
    if auction.high_org_id is not None and high_number is not None:
        high_bidder = bidder_label(auction.high_org_id, high_number, viewer_org)
    next_bid = (auction.asking_price if high is None else high + auction.increment) if is_open else None
    return shaped(AuctionOut, auction, status=shown, high_bidder=high_bidder, minimum_next_bid=next_bid)


def public_auction_out(auction: Auction, listing: Listing, now: datetime) -> PublicAuctionOut:
    return shaped(
        PublicAuctionOut,
        auction,
        listing_number=listing.number,
        title=listing.title,
        field=listing.field,
        deal_type=listing.deal_type,
        status="scheduled" if now < auction.starts_at else "open",
    )


def deal_result_out(notice: Notice) -> DealResultOut:
    """The deal's public facts from the signed text of its notice: exactly what was published."""
    body = json.loads(notice.content)["body"]
    return DealResultOut(
        notice_id=notice.id,
        kind=notice.kind,  # type: ignore[arg-type]
        status=notice.status,
        achievement=body["achievement"],
        listing_number=body.get("listing_number"),
        deal_type=body["deal_type"],
        price=body["price"],
        buyer=body["buyer"],
        seller=body["seller"],
        concluded_by=body.get("concluded_by", ""),
        opens_at=notice.opens_at,
        closes_at=notice.closes_at,
    )


def bid_out(bid: Bid, viewer_org: uuid.UUID | None, ends_at: datetime | None = None) -> BidOut:
    return shaped(BidOut, bid, bidder=bidder_label(bid.org_id, bid.bidder_number, viewer_org), ends_at=ends_at)


def negotiation_out(thread: Negotiation, offers: list[Offer]) -> NegotiationOut:
    standing = next((o for o in reversed(offers) if o.status == OfferStatus.OPEN), None)
    return shaped(NegotiationOut, thread, standing_offer_id=standing.id if standing else None, offers=offers)


def deal_out(deal: Deal, payments: list[DealInstalment], notes: list[DealNotification]) -> DealOut:
    return shaped(DealOut, deal, fees=deal, terms=deal.snapshot, payment_schedule=payments, notifications=notes)


def certificate_out(deal: Deal) -> CertificateOut:
    assert deal.certificate and deal.certificate_signature and deal.certificate_key_id
    return CertificateOut(
        deal_id=deal.id,
        content=json.loads(deal.certificate),
        signed_content=deal.certificate,
        signature=deal.certificate_signature,
        key_id=deal.certificate_key_id,
    )
