"""Imports every table of the exchange module so that its metadata is complete."""

from exchange.idempotency import IdempotencyRecord
from exchange.parties.models import Org, OrgEvent, User
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
    "FeePayment",
    "IdempotencyRecord",
    "Org",
    "OrgEvent",
    "ProviderRevocation",
    "Redemption",
    "RelatedParty",
    "Service",
    "ServiceOrder",
    "User",
    "VoucherGrant",
    "VoucherProgram",
    "VoucherWallet",
]
