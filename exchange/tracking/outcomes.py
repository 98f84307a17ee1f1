"""What the institutions' annual report reads of tracking (its ``TransferOutcomes`` protocol, wired
by the composition root): the outcomes of the deals an organisation sold that were tracked in the
year (``service.outcomes_of``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.tracking.domain import Outcomes
from exchange.tracking.service import outcomes_of


class SellerOutcomes:
    async def of_seller(self, session: AsyncSession, seller_org_id: uuid.UUID, year: int, as_of: datetime) -> Outcomes:
        return await outcomes_of(session, year, as_of, seller_org_id=seller_org_id)
