"""What a demand's owner opens on a proposal's listing (the demands module's ``NegotiationOpener``,
wired by the composition root): exactly what a buyer does to negotiate on a listing — register
intent during the announcement with its deposit held (``intents.register_intent``); a buyer whose
intent is already active with a thread running gets that thread. Trading's refusals pass through
as they are (the listing not announced, no funds for the deposit, the seller buying, an intent
already registered without a thread)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.trading.context import TradingContext
from exchange.trading.intents import ACTIVE, org_intent, register_intent
from exchange.trading.models import Negotiation


@dataclass(frozen=True)
class Opened:
    kind: str  # intent | negotiation
    id: uuid.UUID


class DemandNegotiations:
    def __init__(self, trading: TradingContext) -> None:
        self.trading = trading

    async def open(self, session: AsyncSession, buyer: Principal, listing_id: uuid.UUID, now: datetime) -> Opened:
        intent = await org_intent(session, listing_id, buyer.org_id)
        if intent is not None and intent.status == ACTIVE:
            thread = await session.scalar(select(Negotiation.id).where(Negotiation.intent_id == intent.id))
            if thread is not None:
                return Opened("negotiation", thread)
        intent = await register_intent(session, self.trading, buyer, listing_id, now)
        return Opened("intent", intent.id)
