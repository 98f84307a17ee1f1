"""What the demands module needs from its host, and the protocol through which it meets trading.

Demands never import trading: opening a negotiation on a proposal's listing goes through
``NegotiationOpener``, which trading implements (``exchange/trading/demand_negotiations.py``) and
the composition root wires into ``DemandsContext``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from listings import ListingsContext


class OpenedNegotiation(Protocol):
    """What trading opened for the buyer: ``kind`` ``intent`` (registered, deposit held) or
    ``negotiation`` (a thread already running on the buyer's intent), and its id."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> uuid.UUID: ...


class NegotiationOpener(Protocol):
    async def open(
        self, session: AsyncSession, buyer: Principal, listing_id: uuid.UUID, now: datetime
    ) -> OpenedNegotiation:
        """Do on ``listing_id`` what a buyer does to negotiate; trading's refusals pass through."""
        ...


@dataclass
class DemandsContext:
    """Listings (sealing the confidential part with the data keys, listing drafts from a proposal)
    and trading's negotiation entry (None where no trading is wired: opening is then refused)."""

    listings: ListingsContext
    negotiations: NegotiationOpener | None = None
