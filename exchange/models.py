"""Imports every table of the exchange module so that its metadata is complete."""

from exchange.idempotency import IdempotencyRecord
from exchange.parties.models import Org, OrgEvent, User
from exchange.payments.models import (
    BankTransfer,
    Booking,
    ProviderRecord,
    Reconciliation,
    ReconciliationLine,
    Resolution,
    StripeEvent,
    StripePayment,
    StripeRefund,
    Withdrawal,
)
from exchange.trading.models import Auction, Bid, Deal, Intent, IntentNotification, Negotiation, Offer
from exchange.vouchers.models import (
    FeePayment,
    ProviderRevocation,
    Redemption,
    RelatedParty,
    Service,
    ServiceOrder,
    VoucherGrant,
    VoucherProgram,
    VoucherWallet,
)

__all__ = [
    "Auction",
    "BankTransfer",
    "Bid",
    "Booking",
    "Deal",
    "FeePayment",
    "IdempotencyRecord",
    "Intent",
    "IntentNotification",
    "Negotiation",
    "Offer",
    "Org",
    "OrgEvent",
    "ProviderRecord",
    "ProviderRevocation",
    "Reconciliation",
    "ReconciliationLine",
    "Redemption",
    "RelatedParty",
    "Resolution",
    "Service",
    "ServiceOrder",
    "StripeEvent",
    "StripePayment",
    "StripeRefund",
    "User",
    "VoucherGrant",
    "VoucherProgram",
    "VoucherWallet",
    "Withdrawal",
]
