"""What follows an announcement (SPEC §2.1): by the intents registered, the listing is unsold, goes
to negotiation (the listed price standing as the seller's opening offer when one intent holds a
listed listing) or to auction. The listings module calls this as its close handler."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading import auctions, negotiations
from exchange.trading.context import TradingContext
from exchange.trading.intents import active_intents
from listings import CloseHandler, Listing, ListingStatus, PricingMode


def close_handler(ctx: TradingContext) -> CloseHandler:
    async def decide(session: AsyncSession, listing: Listing, now: datetime) -> ListingStatus:
        intents = await active_intents(session, listing.id, lock=True)
        mode = PricingMode(listing.pricing_mode)
        if not intents:
            return ListingStatus.UNSOLD
        if mode is PricingMode.NEGOTIATED:
            return ListingStatus.NEGOTIATING
        if mode is PricingMode.LISTED and len(intents) == 1:
            await negotiations.open_with_listed_price(session, ctx, listing, intents[0], now)
            return ListingStatus.NEGOTIATING
        await auctions.open_auction(session, ctx, listing, now)
        return ListingStatus.AUCTIONING

    return decide
