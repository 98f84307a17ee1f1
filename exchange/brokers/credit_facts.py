"""What the credit evaluation reads of brokered deals (``exchange.credit``'s ``Engagements``, wired
by the composition root). A brokered deal is a broker engagement bound to a deal; its client is the
party that engaged the broker, its provider the broker's organisation. It is finished — rated, and
counted in the provider's volume — once a payment of the deal settled with the broker's commission
leg (a ``CommissionEntry``). Brokers record no penalties of their own."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.brokers.models import Broker, CommissionEntry, Engagement
from exchange.credit import EngagementFacts, EngagementKind, PenaltyFact


class CreditDeals:
    kind = EngagementKind.BROKERED_DEAL

    async def engagement(self, session: AsyncSession, engagement_id: uuid.UUID) -> EngagementFacts | None:
        row = (
            await session.execute(
                select(Engagement, Broker.name)
                .join(Broker, Broker.id == Engagement.broker_id)
                .where(Engagement.id == engagement_id, Engagement.deal_id.is_not(None))
            )
        ).first()
        if row is None:
            return None
        engagement, broker = row
        settled = await session.scalar(
            select(CommissionEntry.id).where(CommissionEntry.engagement_id == engagement.id).limit(1)
        )
        return EngagementFacts(
            kind=self.kind,
            id=engagement.id,
            client_org_id=engagement.engaged_by_org_id,
            provider_org_id=engagement.broker_org_id,
            finished=settled is not None,
            title=f"技术经纪服务：{broker}",
            link=f"/workspace/brokerage#engagement-{engagement.id}",
        )

    async def finished_count(self, session: AsyncSession, provider_org_id: uuid.UUID) -> int:
        query = (
            select(func.count(func.distinct(CommissionEntry.engagement_id)))
            .join(Engagement, Engagement.id == CommissionEntry.engagement_id)
            .where(Engagement.broker_org_id == provider_org_id)
        )
        return int(await session.scalar(query) or 0)

    async def penalties(self, session: AsyncSession, provider_org_id: uuid.UUID) -> list[PenaltyFact]:
        return []
