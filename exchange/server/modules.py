"""Builds the domain modules' runtimes from settings and keys, for the app and the CLI alike.

Later modules register here: trading sets the listings' close handler and notice handlers,
vouchers register their notice handler, and each adds its sweep steps. The server and
``techx sweep`` hand in the live events of the configured channels backend, so that a sweep from
either publishes what it closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange import brokers, demands, institutions, payments, vouchers
from exchange import registry as achievement_registry
from exchange import tracking as tracking_module
from exchange.accounting.jobs import HoldExpirySweep
from exchange.brokers.credit_facts import CreditDeals
from exchange.credit import CreditContext
from exchange.credit.sweep import sweep_steps as credit_sweep_steps
from exchange.documents import DocumentsContext, OwnerKind, create_documents
from exchange.documents.owners import ObjectionDocuments
from exchange.institutions.registry_disclosures import RegistryDisclosures
from exchange.matching.service import MatchingContext
from exchange.platform.events import Events
from exchange.platform.keys import Keys
from exchange.platform.settings import Settings
from exchange.platform.sweeper import Sweeper, SweepFailures
from exchange.server.ops import CalendarWatch
from exchange.trading import (
    AnnouncementObjections,
    FeeSchedule,
    ListingNotices,
    ObjectionAnswers,
    TradingContext,
    TradingRules,
    create_trading,
    sweep_steps,
)
from exchange.trading.demand_negotiations import DemandNegotiations
from exchange.trading.institution_deals import InstitutionDeals
from exchange.trading.subjects import TradeSubjects
from exchange.trading.tracked_deals import TrackedDeals
from exchange.vouchers.credit_facts import CreditOrders
from kernel.shapes import shaped
from listings import ListingRules, ListingsContext, NoticeKind, NoticeSweep, create_listings


def listing_rules(settings: Settings) -> ListingRules:
    """The listings module's rules: the settings of the same names, and two named otherwise."""
    return shaped(
        ListingRules,
        settings,
        inventor_reward_min_bp=settings.inventor_reward_bp,
        auction_opens_at=settings.auction_opening_time,
    )


def trading_rules(settings: Settings) -> TradingRules:
    return shaped(TradingRules, settings, fees=FeeSchedule(settings.fee_tiers, settings.fee_minimum_fen))


@dataclass(frozen=True)
class Modules:
    listings: ListingsContext
    sweeper: Sweeper
    trading: TradingContext
    documents: DocumentsContext
    institutions: institutions.InstitutionsContext
    payers: payments.Payers
    demands: demands.DemandsContext
    brokers: brokers.BrokersContext
    matching: MatchingContext
    registry: achievement_registry.RegistryContext
    tracking: tracking_module.TrackingContext
    credit: CreditContext


def build_modules(settings: Settings, keys: Keys, *, events: Events | None) -> Modules:
    """The modules; what they publish (auction bids, extensions and closes) goes out through
    ``events`` after commit — None only where no subscriber can be listening."""
    listings = create_listings(listing_rules(settings), keys.signer, keys.data, settings.public_base_url)
    trading = create_trading(trading_rules(settings), listings)
    # What the exchange tells about listings (review, unsold) and objections to their announcements.
    listings.hooks.add_listing_observer(ListingNotices())
    listings.hooks.register_notice_handler(NoticeKind.LISTING_ANNOUNCEMENT, AnnouncementObjections())
    # The seller's answer to an objection, whatever the notice: the objector and operators are told.
    for kind in NoticeKind:
        listings.hooks.register_notice_handler(kind, ObjectionAnswers())
    trading.live = events
    # Buyer-side exchange fees are paid with vouchers where the buyer's program covers brokerage.
    trading.fee_voucher_payer = vouchers.BrokerageFeeVouchers()
    rows = SweepFailures(
        max_attempts=settings.sweep_max_attempts,
        base_seconds=settings.sweep_retry_base_seconds,
        max_seconds=settings.sweep_retry_max_seconds,
    )
    # The ledger's hold expiry works in batches: a failure fails the step as a whole (counted, retried next pass).
    sweeper = Sweeper(
        [NoticeSweep(listings, rows=rows), HoldExpirySweep(), *sweep_steps(trading, rows), CalendarWatch(listings)],
        rows=rows,
    )
    vouchers.register(listings, sweeper)
    documents = create_documents(settings, keys.data)
    # An objection's evidence is seen by whoever sees the objection; a service order's documents
    # follow the order's own rule, which vouchers keeps.
    documents.owners[OwnerKind.OBJECTION] = ObjectionDocuments(listings)
    documents.owners[OwnerKind.SERVICE_ORDER] = vouchers.ServiceOrderDocuments()
    documents.owners[OwnerKind.TRANSFER_PROCESS] = institutions.ProcessDocuments()  # each step's papers
    # An institution's own transfer notice (公示) moves its process; its office answers and resolves
    # the objections; contract registrations read the deals through trading's reader.
    listings.hooks.register_notice_handler(NoticeKind.INSTITUTION_TRANSFER, institutions.TransferNotices())
    # An institution's income: a receipt for each settled payment of a deal its process implemented,
    # and its distribution plans' public notices, whose objections its office resolves.
    trading.settlement_observers.append(institutions.IncomeReceipts())
    # A deal of a listing a transfer process implemented keeps to its decision (counterparty, contract, floor).
    trading.deal_guards.append(institutions.DecidedTerms())
    # …and the listing it created keeps the decided floor price before and after its submission.
    listings.hooks.add_content_guard(institutions.DecidedListing())
    listings.hooks.register_notice_handler(NoticeKind.DISTRIBUTION_PLAN, institutions.DistributionNotices())
    # An inventor paid by an institution withdraws from their own account as an organisation from its
    # wallet: payments draws on it through the institution's answer to who may (payments.PayerAccounts),
    # and the inventor's page asks payments for the account's withdrawals.
    payers = payments.Payers({institutions.INVENTOR_PAYER: institutions.InventorPayers()})
    context = institutions.InstitutionsContext(
        listings=listings, deals=InstitutionDeals(), withdrawals=payments.PayerWithdrawals(payers)
    )
    # Technical demands: deadlines and campaigns closed by the sweeper; a proposal's negotiation on a
    # listing opens what a buyer opens in trading (its intent), through demands' NegotiationOpener.
    # Matching: one index per process, fed by the listings and the demands; the sweeper's digest
    # step and the app's routes share it.
    matching = MatchingContext.of(demands.DemandSource())
    for step in demands.sweep_steps(rows, matching):
        sweeper.add(step)
    demand_context = demands.DemandsContext(listings=listings, negotiations=DemandNegotiations(trading))
    # A technology broker's commission is a further leg of each payment's settlement batch, declared in
    # the deal's result notice and certificate; brokers read the negotiations and deals they are engaged on.
    trading.settlement_legs.append(brokers.BrokerCommissions())
    # A listing's announcement notice declares the brokers its seller engaged (nothing added when none).
    listings.hooks.add_announcement_declarer(brokers.ListingBrokers())
    listings.hooks.add_page_part(brokers.ListingBrokers())  # the listing's page lists its seller's brokers
    broker_context = brokers.BrokersContext(subjects=TradeSubjects())
    # The achievement registry numbers registrations under the exchange's region code, signs the feed's
    # batches with the exchange's key, and prefills a registration from an institution's disclosure.
    registry = achievement_registry.RegistryContext(
        region_code=settings.registry_region_code, signer=keys.signer, disclosures=RegistryDisclosures()
    )
    # Tracking after the deal: the sweeper makes each settled deal's schedule of reports from trading's
    # settled deals (catching up idempotently), reminds the buyers and tells overdue reports; the
    # institutions' annual report reads the outcomes of what each institution transferred.
    tracking = tracking_module.TrackingContext(deals=TrackedDeals(), offsets=settings.tracking_report_months)
    for tracking_step in tracking_module.sweep_steps(tracking, rows):
        sweeper.add(tracking_step)
    context.outcomes = tracking_module.SellerOutcomes()
    # Credit rates the providers of finished service orders (vouchers) and brokered deals (brokers) and
    # reads the vouchers' revocations and missed deliveries as penalties.
    credit = CreditContext(sources=(CreditOrders(), CreditDeals()))
    # Once a Beijing day the sweeper recomputes the aged scores (decay, closed penalty windows) and
    # ends the designations whose criteria lapsed.
    for credit_step in credit_sweep_steps(credit, rows):
        sweeper.add(credit_step)
    return Modules(
        listings=listings, sweeper=sweeper, trading=trading, documents=documents, institutions=context, payers=payers,
        demands=demand_context, brokers=broker_context, matching=matching, registry=registry,
        tracking=tracking, credit=credit,
    )  # fmt: skip
