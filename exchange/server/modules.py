"""Builds the domain modules' runtimes from settings and keys, for the app and the CLI alike.

Later modules register here: trading sets the listings' close handler and notice handlers,
vouchers register their notice handler, and each adds its sweep steps. The server and
``techx sweep`` hand in the live events of the configured channels backend, so that a sweep from
either publishes what it closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange import vouchers
from exchange.accounting.jobs import HoldExpirySweep
from exchange.platform.events import Events
from exchange.platform.keys import Keys
from exchange.platform.settings import Settings
from exchange.platform.sweeper import Sweeper
from exchange.trading import FeeSchedule, TradingContext, TradingRules, create_trading, sweep_steps
from listings import ListingRules, ListingsContext, NoticeSweep, create_listings


def listing_rules(settings: Settings) -> ListingRules:
    return ListingRules(
        announcement_working_days=settings.announcement_working_days,
        relist_working_days=settings.relist_working_days,
        deposit_default_bp=settings.deposit_default_bp,
        deposit_max_bp=settings.deposit_max_bp,
        increment_default_bp=settings.increment_default_bp,
        negotiated_price_notice_days=settings.negotiated_price_notice_days,
        deal_result_notice_working_days=settings.deal_result_notice_working_days,
        redemption_notice_working_days=settings.redemption_notice_working_days,
    )


def trading_rules(settings: Settings) -> TradingRules:
    return TradingRules(
        fees=FeeSchedule(settings.fee_tiers, settings.fee_minimum_fen),
        auction_minutes=settings.auction_minutes,
        anti_sniping_minutes=settings.anti_sniping_minutes,
        offer_expiry_days=settings.offer_expiry_days,
        max_offers_per_thread=settings.max_offers_per_thread,
        payment_working_days=settings.payment_working_days,
        inventor_reward_bp=settings.inventor_reward_bp,
    )


@dataclass(frozen=True)
class Modules:
    listings: ListingsContext
    sweeper: Sweeper
    trading: TradingContext


def build_modules(settings: Settings, keys: Keys, *, events: Events | None) -> Modules:
    """The modules; what they publish (auction bids, extensions and closes) goes out through
    ``events`` after commit — None only where no subscriber can be listening."""
    listings = create_listings(listing_rules(settings), keys.signer, keys.data_key)
    trading = create_trading(trading_rules(settings), listings)
    trading.publish = events.publish if events is not None else None
    # Buyer-side exchange fees are paid with vouchers where the buyer's program covers brokerage.
    trading.fee_voucher_payer = vouchers.BrokerageFeeVouchers()
    sweeper = Sweeper([NoticeSweep(listings), HoldExpirySweep(), *sweep_steps(trading)])
    vouchers.register(listings, sweeper)
    return Modules(listings=listings, sweeper=sweeper, trading=trading)
