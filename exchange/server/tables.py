"""Every table of the application, so that the metadata Alembic compares against is complete."""

from sqlalchemy import MetaData

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
from exchange.platform.keyed import IdempotencyRecord
from exchange.platform.tables import Base
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
from ledger.models import LedgerBase
from listings import Base as ListingsBase

__all__ = [
    "Auction",
    "BankTransfer",
    "Bid",
    "Booking",
    "Deal",
    "DealInstalment",
    "DealNotification",
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
    "target_metadata",
]


def target_metadata() -> list[MetaData]:
    """Every module's table metadata, for ``alembic revision --autogenerate`` comparisons."""
    return [Base.metadata, LedgerBase.metadata, ListingsBase.metadata]
