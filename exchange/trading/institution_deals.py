"""What an institution's contract registration reads of a deal (its ``DealReader`` protocol, wired
by the composition root): the parties, the state, whether both have signed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading.models import Deal


@dataclass(frozen=True)
class DealFacts:
    deal_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    state: str
    signed: bool


class InstitutionDeals:
    async def deal_facts(self, session: AsyncSession, deal_id: uuid.UUID) -> DealFacts | None:
        deal = await session.get(Deal, deal_id)
        if deal is None:
            return None
        signed = deal.buyer_signed_at is not None and deal.seller_signed_at is not None
        return DealFacts(deal.id, deal.seller_org_id, deal.buyer_org_id, deal.state, signed)
