"""Imports every table of the exchange module so that its metadata is complete."""

from exchange.idempotency import IdempotencyRecord
from exchange.parties.models import Org, OrgEvent, User

__all__ = ["IdempotencyRecord", "Org", "OrgEvent", "User"]
