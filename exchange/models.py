"""Imports every table of the exchange module so that its metadata is complete."""

from exchange.idempotency import IdempotencyRecord
from exchange.parties.models import Org, OrgEvent, User
from exchange.trading.models import Auction, Bid, Deal, Intent, IntentNotification, Negotiation, Offer

__all__ = [
    "Auction",
    "Bid",
    "Deal",
    "IdempotencyRecord",
    "Intent",
    "IntentNotification",
    "Negotiation",
    "Offer",
    "Org",
    "OrgEvent",
    "User",
]
