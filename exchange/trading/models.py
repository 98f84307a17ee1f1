"""Tables of trading: intents (with their deposit holds), auctions and bids, negotiations and
offers, deals with their payment schedules and notifications. The schema comes from
migrations/0005_trading and 0009_instalments.

Listings and orgs live in other metadata; the foreign keys to them exist in the database (the
migration) but are not declared here, so each module's metadata stands alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Intent(IdMixin, Base):
    """A buyer's registered intent on a listing; ``hold_entry_id`` is its deposit hold in the ledger."""

    __tablename__ = "trading_intents"
    __table_args__ = (UniqueConstraint("listing_id", "org_id", name="uq_trading_intents_listing_id_org_id"),)

    listing_id: Mapped[uuid.UUID] = mapped_column(index=True)
    org_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    number: Mapped[int] = mapped_column(Integer)  # "bidder N": how others see this buyer
    status: Mapped[str] = mapped_column(String(16))  # active | withdrawn | released | won
    deposit: Mapped[int] = mapped_column(BigInteger)
    hold_entry_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(500), default="")


class IntentNotification(IdMixin, Base):
    """What an intent holder was told (an amendment of the listing during its announcement)."""

    __tablename__ = "trading_intent_notifications"

    intent_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Auction(IdMixin, Base):
    __tablename__ = "trading_auctions"

    listing_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    asking_price: Mapped[int] = mapped_column(BigInteger)
    increment: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    ends_at: Mapped[datetime]  # moved by anti-sniping
    high_amount: Mapped[int | None] = mapped_column(BigInteger)
    high_bid_id: Mapped[uuid.UUID | None]
    high_org_id: Mapped[uuid.UUID | None]
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    deal_id: Mapped[uuid.UUID | None]


class Bid(IdMixin, Base):
    __tablename__ = "trading_bids"

    auction_id: Mapped[uuid.UUID] = mapped_column(index=True)
    intent_id: Mapped[uuid.UUID]
    org_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    bidder_number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)  # order of acceptance in the auction
    created_at: Mapped[datetime]
    extended_to: Mapped[datetime | None]


class Negotiation(IdMixin, Base):
    __tablename__ = "trading_negotiations"

    listing_id: Mapped[uuid.UUID] = mapped_column(index=True)
    intent_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    buyer_org_id: Mapped[uuid.UUID]
    seller_org_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16))  # open | agreed | declined | expired | closed
    offer_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(500), default="")


class Offer(IdMixin, Base):
    __tablename__ = "trading_offers"

    negotiation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(8))  # seller | buyer
    by_user_id: Mapped[uuid.UUID | None]  # None: the listed price standing as the seller's offer
    price: Mapped[int] = mapped_column(BigInteger)
    payment_terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    adjustments: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # open | superseded | accepted | declined | expired
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class Deal(IdMixin, Base):
    __tablename__ = "trading_deals"

    listing_id: Mapped[uuid.UUID] = mapped_column(index=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seller_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    intent_id: Mapped[uuid.UUID]
    concluded_by: Mapped[str] = mapped_column(String(16))  # auction | negotiation
    deal_type: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(40))
    seller_kind: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    price: Mapped[int] = mapped_column(BigInteger)
    deposit: Mapped[int] = mapped_column(BigInteger)
    hold_entry_id: Mapped[uuid.UUID | None]
    seller_fee: Mapped[int] = mapped_column(BigInteger)
    buyer_fee: Mapped[int] = mapped_column(BigInteger)
    inventor_reward_bp: Mapped[int] = mapped_column(Integer)
    inventor_reward: Mapped[int] = mapped_column(BigInteger)
    seller_proceeds: Mapped[int] = mapped_column(BigInteger)
    buyer_fee_vouchers: Mapped[int] = mapped_column(BigInteger, default=0)
    related_party: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(24))
    notice_id: Mapped[uuid.UUID | None]
    notice_kind: Mapped[str] = mapped_column(String(32))
    buyer_signed_by: Mapped[uuid.UUID | None]
    buyer_signed_at: Mapped[datetime | None]
    seller_signed_by: Mapped[uuid.UUID | None]
    seller_signed_at: Mapped[datetime | None]
    certificate: Mapped[str | None] = mapped_column(Text)
    certificate_signature: Mapped[str | None] = mapped_column(String(128))
    certificate_key_id: Mapped[str | None] = mapped_column(String(64))
    payment_due_at: Mapped[datetime | None] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    buyer_cancel_at: Mapped[datetime | None]  # each party's consent to cancel by agreement
    seller_cancel_at: Mapped[datetime | None]
    forfeited_to_seller: Mapped[int] = mapped_column(BigInteger, default=0)
    forfeited_to_exchange: Mapped[int] = mapped_column(BigInteger, default=0)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DealInstalment(IdMixin, Base):
    """One payment of a deal's schedule: a lump sum is one, at signing; instalment terms give one per
    instalment, the down payment first. ``seller_fee`` … ``seller_proceeds`` are this payment's share
    of the deal's settlement (``domain.apportion``); the shares add up to the deal's figures."""

    __tablename__ = "trading_deal_instalments"
    __table_args__ = (UniqueConstraint("deal_id", "seq", name="uq_trading_deal_instalments_deal_id_seq"),)

    deal_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(Integer)  # position in the schedule; 0 is the down payment (or the lump sum)
    due_months: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    seller_fee: Mapped[int] = mapped_column(BigInteger)
    buyer_fee: Mapped[int] = mapped_column(BigInteger)
    buyer_fee_vouchers: Mapped[int] = mapped_column(BigInteger, default=0)
    inventor_reward: Mapped[int] = mapped_column(BigInteger)
    seller_proceeds: Mapped[int] = mapped_column(BigInteger)
    from_deposit: Mapped[int] = mapped_column(BigInteger, default=0)  # the deposit applied to it
    status: Mapped[str] = mapped_column(String(16))  # domain.InstalmentStatus
    due_at: Mapped[datetime | None]  # set when both parties have signed
    remind_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    payment_entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # into escrow
    settlement_entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # out of escrow, and the buyer's fee
    # Further legs of its settlement (a broker's commission): payer, kind, label, amount, entry_id.
    settlement_legs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DealNotification(IdMixin, Base):
    """What the parties of a deal were told by the exchange (a payment reminder, an overdue payment)."""

    __tablename__ = "trading_deal_notifications"

    deal_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
