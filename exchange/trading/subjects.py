"""What another module reads of a negotiation or a deal it refers to (a broker's engagement):
the listing, the parties, the state, and for a deal its price and the seller's proceeds. Wired by
the composition root as that module's reader protocol; trading imports none of its readers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading.domain import DealState, NegotiationStatus
from exchange.trading.models import Deal, Negotiation


@dataclass(frozen=True)
class TradeSubject:
    kind: str  # "negotiation" | "deal"
    id: uuid.UUID
    listing_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    state: str  # the negotiation's status, or the deal's state
    open: bool  # a negotiation still open; a deal not yet signed by both parties
    price: int | None  # a deal's price
    seller_proceeds: int | None  # a deal's proceeds to its seller after its fee and the inventors' share


class TradeSubjects:
    async def trade_subject(self, session: AsyncSession, kind: str, subject_id: uuid.UUID) -> TradeSubject | None:
        if kind == "negotiation":
            talk = await session.get(Negotiation, subject_id)
            if talk is None:
                return None
            return TradeSubject(
                kind, talk.id, talk.listing_id, talk.seller_org_id, talk.buyer_org_id, talk.status,
                talk.status == NegotiationStatus.OPEN.value, None, None,
            )  # fmt: skip
        if kind == "deal":
            deal = await session.get(Deal, subject_id)
            if deal is None:
                return None
            unsigned = deal.state in (DealState.RESULT_NOTICE.value, DealState.AWAITING_SIGNATURES.value)
            return TradeSubject(
                kind, deal.id, deal.listing_id, deal.seller_org_id, deal.buyer_org_id, deal.state, unsigned,
                deal.price, deal.seller_proceeds,
            )  # fmt: skip
        return None
