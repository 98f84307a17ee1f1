"""What tracking needs from its host, and the protocol through which it reads settled deals.

Tracking never imports trading: the settled deals are read through ``SettledDeals``, which trading
implements (``exchange/trading/tracked_deals.py``) and the composition root wires into
``TrackingContext`` with the schedule's offsets (``TECHX_TRACKING_REPORT_MONTHS``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.tracking.domain import DEFAULT_OFFSETS


class SettledDeal(Protocol):
    """A settled deal as tracking records it: its parties, what was sold, for how much (fen), when."""

    @property
    def deal_id(self) -> uuid.UUID: ...

    @property
    def listing_id(self) -> uuid.UUID: ...

    @property
    def buyer_org_id(self) -> uuid.UUID: ...

    @property
    def seller_org_id(self) -> uuid.UUID: ...

    @property
    def title(self) -> str: ...

    @property
    def field(self) -> str: ...

    @property
    def deal_type(self) -> str: ...

    @property
    def amount(self) -> int: ...

    @property
    def settled_at(self) -> datetime: ...


class SettledDeals(Protocol):
    async def settled_since(
        self, session: AsyncSession, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[SettledDeal]:
        """Settled deals after the position ``(settled_at, deal_id)`` (None: from the first), in
        that order, at most ``limit``."""
        ...

    async def settled_deal(self, session: AsyncSession, deal_id: uuid.UUID) -> SettledDeal | None:
        """The deal if it is settled; None otherwise (unknown, or not settled)."""
        ...


@dataclass
class TrackingContext:
    """The settled deals (None where no trading is wired: nothing is scheduled) and the schedule."""

    deals: SettledDeals | None = None
    offsets: tuple[int, ...] = DEFAULT_OFFSETS
