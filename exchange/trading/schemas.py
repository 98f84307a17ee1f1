"""Request and response shapes of trading. Money in integer fen, times RFC 3339 UTC."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from exchange.trading.domain import IntentStatus, NegotiationStatus, OfferStatus
from kernel.pagination import Page

MAX_FEN = 10**15
Fen = Annotated[int, msgspec.Meta(ge=1, le=MAX_FEN)]


class BidIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Fen


class InstallmentIn(msgspec.Struct, forbid_unknown_fields=True):
    due_months: Annotated[int, msgspec.Meta(ge=0, le=120)]
    amount: Fen


class PaymentTermsIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["lump_sum", "installments"] = "lump_sum"
    installments: Annotated[list[InstallmentIn], msgspec.Meta(max_length=24)] = []


class AdjustmentsIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Changes to the listed licence or equity terms proposed with an offer."""

    scope: Literal["exclusive", "sole", "non_exclusive"] | None = None
    term_months: Annotated[int, msgspec.Meta(ge=1, le=240)] | None = None
    territory: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    field_of_use: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    # The OpenAPI generator drops a bound of 0 on an optional field (it tests the bound for
    # truth), so the schema's minimum is stated again for it.
    royalty_bp: Annotated[int, msgspec.Meta(ge=0, le=10_000, extra_json_schema={"extra": {"minimum": 0}})] | None = None
    shares_bp: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    company_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class OfferIn(msgspec.Struct, forbid_unknown_fields=True):
    price: Fen
    payment_terms: PaymentTermsIn = msgspec.field(default_factory=PaymentTermsIn)
    adjustments: AdjustmentsIn = msgspec.field(default_factory=AdjustmentsIn)
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    expires_at: datetime | None = None

    def plain(self) -> dict[str, Any]:
        terms = msgspec.to_builtins(self.payment_terms)
        if self.payment_terms.kind == "lump_sum" and not self.payment_terms.installments:
            terms = {"kind": "lump_sum"}
        return {
            "price": self.price,
            "payment_terms": terms,
            "adjustments": {k: v for k, v in msgspec.to_builtins(self.adjustments).items() if v is not None},
            "note": self.note.strip(),
            "expires_at": self.expires_at,
        }


class NotificationOut(msgspec.Struct):
    kind: str
    message: str
    details: dict[str, Any]
    created_at: datetime


class IntentOut(msgspec.Struct):
    id: uuid.UUID
    listing_id: uuid.UUID
    org_id: uuid.UUID
    status: IntentStatus
    deposit: int
    hold_entry_id: uuid.UUID | None
    bidder_label: str
    created_at: datetime
    ended_at: datetime | None
    end_reason: str
    notifications: list[NotificationOut]


IntentPage = Page[IntentOut]


class AuctionOut(msgspec.Struct):
    id: uuid.UUID
    listing_id: uuid.UUID
    status: Literal["scheduled", "open", "closed"]  # scheduled: bids are taken from starts_at
    asking_price: int
    increment: int
    starts_at: datetime
    scheduled_end: datetime
    ends_at: datetime
    high_amount: int | None
    high_bidder: str | None  # "you" or an anonymous label
    minimum_next_bid: int | None
    bid_count: int
    deal_id: uuid.UUID | None


class PublicAuctionOut(msgspec.Struct):
    """What anyone may see of an auction not yet closed: its listing, the price reached and the end
    (the bids and bidders stay with the participants)."""

    id: uuid.UUID
    listing_id: uuid.UUID
    listing_number: int
    title: str
    field: str
    deal_type: str
    status: Literal["scheduled", "open"]  # scheduled: opens at starts_at
    asking_price: int
    increment: int
    high_amount: int | None
    bid_count: int
    starts_at: datetime
    ends_at: datetime


class DealResultOut(msgspec.Struct):
    """A deal as its public notice states it (a deal result, or a public institution's negotiated price)."""

    notice_id: uuid.UUID
    kind: Literal["deal_result", "negotiated_price"]
    status: str  # the notice's: open, suspended (an objection is being decided) or closed
    achievement: str
    listing_number: int | None
    deal_type: str
    price: int
    buyer: str
    seller: str
    concluded_by: str  # auction | negotiation
    opens_at: datetime
    closes_at: datetime


class BidOut(msgspec.Struct):
    id: uuid.UUID
    auction_id: uuid.UUID
    amount: int
    seq: int
    bidder: str  # "you" or an anonymous label
    created_at: datetime
    ends_at: datetime | None = None  # the auction's end after this bid (only in the answer to the bidder)


BidPage = Page[BidOut]


class OfferOut(msgspec.Struct):
    id: uuid.UUID
    seq: int
    side: str
    price: int
    payment_terms: dict[str, Any]
    adjustments: dict[str, Any]
    note: str
    status: OfferStatus
    expires_at: datetime
    created_at: datetime
    answered_at: datetime | None


class NegotiationOut(msgspec.Struct):
    id: uuid.UUID
    listing_id: uuid.UUID
    intent_id: uuid.UUID
    buyer_org_id: uuid.UUID
    seller_org_id: uuid.UUID
    status: NegotiationStatus
    offer_count: int
    standing_offer_id: uuid.UUID | None
    created_at: datetime
    ended_at: datetime | None
    end_reason: str
    offers: list[OfferOut]


NegotiationPage = Page[NegotiationOut]


class FeesOut(msgspec.Struct):
    seller_fee: int
    buyer_fee: int
    buyer_fee_vouchers: int
    inventor_reward_bp: int
    inventor_reward: int
    seller_proceeds: int


class PaymentOut(msgspec.Struct):
    """One payment of a deal's schedule: the whole price of a lump sum, or one instalment."""

    seq: int  # 0: the lump sum or the down payment, paid with POST /deals/{id}/pay
    due_months: int  # months after signing
    amount: int
    status: str  # pending | overdue | settled | defaulted | cancelled
    due_at: datetime | None  # when both parties have signed: later instalments are collected then
    remind_at: datetime | None  # when the buyer is reminded (later instalments)
    deadline_at: datetime | None  # unpaid by then, the deal defaults
    reminded_at: datetime | None
    paid_at: datetime | None
    settled_at: datetime | None
    from_deposit: int  # the deposit applied to this payment
    seller_fee: int  # this payment's shares of the deal's fees, reward and proceeds
    buyer_fee: int
    buyer_fee_vouchers: int
    inventor_reward: int
    seller_proceeds: int
    payment_entry_ids: list[str]  # ledger entries that brought it into escrow
    settlement_entry_ids: list[str]  # ledger entries that settled it
    # Further legs of its settlement, each its own ledger entry: a broker's commission
    # ({"payer": "seller" | "buyer", "kind": "commission", "label", "amount", "entry_id"}).
    settlement_legs: list[dict[str, Any]] = msgspec.field(default_factory=list)


class DealOut(msgspec.Struct):
    id: uuid.UUID
    listing_id: uuid.UUID
    buyer_org_id: uuid.UUID
    seller_org_id: uuid.UUID
    state: str
    concluded_by: str
    deal_type: str
    price: int
    deposit: int
    fees: FeesOut
    related_party: bool
    notice_id: uuid.UUID | None
    notice_kind: str
    buyer_signed_at: datetime | None
    seller_signed_at: datetime | None
    payment_due_at: datetime | None
    paid_at: datetime | None
    settled_at: datetime | None
    buyer_cancel_at: datetime | None
    seller_cancel_at: datetime | None
    forfeited_to_seller: int
    forfeited_to_exchange: int
    terms: dict[str, Any]
    payment_schedule: list[PaymentOut]
    notifications: list[NotificationOut]
    created_at: datetime
    ended_at: datetime | None
    end_reason: str


DealPage = Page[DealOut]


class CertificateOut(msgspec.Struct):
    deal_id: uuid.UUID
    content: dict[str, Any]
    signed_content: str  # exactly the signed bytes (UTF-8)
    signature: str  # base64 Ed25519 signature over ``signed_content``
    key_id: str  # the key in GET /api/v1/keys
    algorithm: str = "Ed25519"


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class SettlementStatementOut(msgspec.Struct):
    """A deal's settlement statement (技术交易结算单): what each settled payment moved, signed by the
    exchange's current key when it is read (Ed25519 is deterministic: the same facts, the same bytes)."""

    deal_id: uuid.UUID
    content: dict[str, Any]
    signed_content: str  # exactly the signed bytes (UTF-8)
    signature: str  # base64 Ed25519 signature over ``signed_content``
    key_id: str  # the key in GET /api/v1/keys
    algorithm: str = "Ed25519"
