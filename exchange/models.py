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

__all__ = [
    "BankTransfer",
    "Booking",
    "IdempotencyRecord",
    "Org",
    "OrgEvent",
    "ProviderRecord",
    "Reconciliation",
    "ReconciliationLine",
    "Resolution",
    "StripeEvent",
    "StripePayment",
    "StripeRefund",
    "User",
    "Withdrawal",
]
