"""Imports every table of the exchange module so that its metadata is complete."""

from exchange.parties.models import Org, OrgEvent, User

__all__ = ["Org", "OrgEvent", "User"]
