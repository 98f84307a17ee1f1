"""Trading and settlement: intents with deposits, auctions, negotiation, deals, certificates,
payment into escrow by a payment schedule (a lump sum, or instalments collected on their due
dates), settlement and default (SPEC §3). Pure rules live in ``domain``; a deal's schedule in
``schedule``, its payments, settlement and default in ``deals``.

``create_trading`` builds the runtime and registers it with the listings module: the close
handler (what follows an announcement), the intent observer (amendments, withdrawn or rejected
listings) and the notice handlers of ``negotiated_price`` and ``deal_result`` notices. The
composition root registers ``ListingNotices``, ``AnnouncementObjections`` and ``ObjectionAnswers``:
what the exchange tells about listings' review and end, about objections to their announcements,
and about the seller's answers to objections to any notice.
"""

from __future__ import annotations

from exchange.trading.closing import close_handler
from exchange.trading.context import (
    FeeVoucherPayer,
    FormedDeal,
    SchedulePart,
    SettledPayment,
    SettlementLeg,
    SettlementLegs,
    SettlementObserver,
    SettlingPayment,
    TradingContext,
    TradingRules,
)
from exchange.trading.deals import DealNoticeHandler
from exchange.trading.domain import FeeSchedule
from exchange.trading.intents import IntentObserver
from exchange.trading.listing_notices import AnnouncementObjections, ListingNotices, ObjectionAnswers
from exchange.trading.sweep import sweep_steps
from listings import ListingsContext, NoticeKind


def create_trading(rules: TradingRules, listings: ListingsContext) -> TradingContext:
    ctx = TradingContext(rules=rules, listings=listings)
    listings.hooks.set_close_handler(close_handler(ctx))
    listings.hooks.add_listing_observer(IntentObserver())
    handler = DealNoticeHandler(ctx)
    listings.hooks.register_notice_handler(NoticeKind.NEGOTIATED_PRICE, handler)
    listings.hooks.register_notice_handler(NoticeKind.DEAL_RESULT, handler)
    return ctx


__all__ = [
    "AnnouncementObjections",
    "FeeSchedule",
    "FeeVoucherPayer",
    "FormedDeal",
    "ListingNotices",
    "ObjectionAnswers",
    "SchedulePart",
    "SettledPayment",
    "SettlementLeg",
    "SettlementLegs",
    "SettlementObserver",
    "SettlingPayment",
    "TradingContext",
    "TradingRules",
    "create_trading",
    "sweep_steps",
]
