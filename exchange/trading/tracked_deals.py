"""What tracking after the deal reads of the settled deals (its ``SettledDeals`` protocol, wired by
the composition root): the parties, the listing's title and field, the deal type, the price and
the moment the deal settled (its last payment, for instalments)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading.domain import DealState
from exchange.trading.models import Deal


@dataclass(frozen=True)
class SettledDealFacts:
    deal_id: uuid.UUID
    listing_id: uuid.UUID
    buyer_org_id: uuid.UUID
    seller_org_id: uuid.UUID
    title: str
    field: str
    deal_type: str
    amount: int  # the price, fen
    settled_at: datetime


def _facts(deal: Deal) -> SettledDealFacts:
    assert deal.settled_at is not None
    title = str(deal.snapshot.get("listing", {}).get("title") or "")
    return SettledDealFacts(
        deal.id, deal.listing_id, deal.buyer_org_id, deal.seller_org_id, title, deal.field, deal.deal_type,
        deal.price, deal.settled_at,
    )  # fmt: skip


def _settled() -> list[object]:
    return [Deal.state == DealState.SETTLED.value, Deal.settled_at.is_not(None)]


class TrackedDeals:
    async def settled_since(
        self, session: AsyncSession, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[SettledDealFacts]:
        query = select(Deal).where(*_settled()).order_by(Deal.settled_at, Deal.id).limit(limit)  # type: ignore[arg-type]
        if after is not None:
            at, deal_id = after
            query = query.where(or_(Deal.settled_at > at, and_(Deal.settled_at == at, Deal.id > deal_id)))
        return [_facts(d) for d in (await session.scalars(query)).all()]

    async def settled_deal(self, session: AsyncSession, deal_id: uuid.UUID) -> SettledDealFacts | None:
        deal = await session.scalar(select(Deal).where(Deal.id == deal_id, *_settled()))  # type: ignore[arg-type]
        return _facts(deal) if deal is not None else None
