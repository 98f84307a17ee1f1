"""What trading needs at run time, built once per application by the composition root."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting.chart import AccountSpec
from exchange.platform.events import LiveEvent
from exchange.trading.bid_turns import BidTurns
from exchange.trading.domain import FeeSchedule
from listings import ListingsContext


class FeeVoucherPayer(Protocol):
    """Pays part of a buyer-side fee with innovation vouchers, inside the settlement's transaction.

    Returns the fen paid with vouchers (0 ≤ paid ≤ fee); the rest is paid in cash. It must move
    the vouchers through the ledger in ``session`` and raise to refuse (the settlement then rolls back).
    A deal paid in instalments settles its buyer-side fee in parts: ``fee`` is the part charged on
    payment ``instalment`` of the deal's schedule (0: a lump sum or the down payment).

    The same payer pays a buyer's further leg owed to a service provider (a broker's commission,
    ``SettlementLeg.voucher_payee``): ``recipient_org_id`` receives the voucher part, ``ref`` names
    the leg, and the ids of the ledger entries that paid it are appended to ``entries``. Trading
    passes these only for such legs; a payer of the exchange's fee alone need not take them.
    """

    async def pay_fee(
        self,
        session: AsyncSession,
        *,
        buyer_org_id: uuid.UUID,
        fee: int,
        deal_id: uuid.UUID,
        now: datetime,
        instalment: int = 0,
        recipient_org_id: uuid.UUID | None = None,
        ref: str = "",
        entries: list[str] | None = None,
    ) -> int: ...


@dataclass(frozen=True)
class SettledPayment:
    """One payment of a deal, settled: what its seller received of it (``seller_proceeds`` to the
    seller's cash, ``inventor_reward`` held in the seller's inventors' rewards account), fen."""

    deal_id: uuid.UUID
    listing_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    seq: int  # the deal's payment: 0 the price or the down payment, 1… the instalments
    amount: int
    seller_proceeds: int
    inventor_reward: int
    settled_at: datetime


class SettlementObserver(Protocol):
    """Told of every settled payment inside the settlement's transaction (raise to refuse it: the
    settlement then rolls back). An institution records its income from the deals it implemented."""

    async def on_payment_settled(self, session: AsyncSession, payment: SettledPayment) -> None: ...


class NegotiatedDealGuard(Protocol):
    """Asked before an accepted offer forms a deal, inside the acceptance's transaction (raise a
    ``DomainError`` to refuse it: nothing is written). An institution holds the deals of a listing
    its transfer process implemented to its decision: the named counterparty, the contract's amount,
    the floor price."""

    async def check_negotiated_deal(
        self, session: AsyncSession, *, listing_id: uuid.UUID, buyer_org_id: uuid.UUID, price: int
    ) -> None: ...


@dataclass(frozen=True)
class FormedDeal:
    """A deal as it forms: its parties, the intent it came from, its price and the seller's
    proceeds of the lump sum (after its fee and the inventors' share), fen."""

    deal_id: uuid.UUID
    listing_id: uuid.UUID
    intent_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    price: int
    seller_proceeds: int


@dataclass(frozen=True)
class SchedulePart:
    """One payment of a deal's schedule, as settlement legs are apportioned over it."""

    seq: int
    amount: int
    seller_proceeds: int  # this payment's share of the seller's proceeds before any further leg


@dataclass(frozen=True)
class SettlingPayment:
    """The payment being settled, with the deal's whole schedule (to apportion a lump sum over it)."""

    deal_id: uuid.UUID
    listing_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    price: int
    seq: int
    schedule: tuple[SchedulePart, ...]
    settled_at: datetime


class SettlementLeg(Protocol):
    """A further leg of a payment's settlement batch: ``amount`` fen to ``credit``, owed by the
    ``payer`` — ``seller``: out of its proceeds (escrow → credit, the seller's proceeds leg smaller by
    it); ``buyer``: from its wallet, like its fee. ``ref`` names the leg to its source again once
    posted; ``label`` is how the settlement statement names it (who is paid, on what basis).
    ``voucher_payee``: the service provider organisation that takes part of a buyer's leg in
    innovation vouchers where a program the buyer holds covers brokerage (SPEC §4); None: cash only."""

    @property
    def payer(self) -> str: ...  # "seller" | "buyer"
    @property
    def credit(self) -> AccountSpec: ...
    @property
    def amount(self) -> int: ...
    @property
    def kind(self) -> str: ...  # the ledger entry's kind, e.g. "commission"
    @property
    def description(self) -> str: ...  # the entry's description: it shows on the statements
    @property
    def ref(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def voucher_payee(self) -> uuid.UUID | None: ...


class SettlementLegs(Protocol):
    """A source of further legs of a deal's settlement (a technology broker's commission), asked
    inside trading's transactions; raise a ``DomainError`` to refuse.

    ``bind`` when a deal forms: what the result notice and the certificate declare of it (JSON-able
    dicts, empty when nothing); ``declared`` when it is signed, the same as it stands then;
    ``legs`` when a payment settles: the further legs of that payment, posted in the same atomic
    batch as the rest of its settlement; ``posted`` after: each leg with the id of its ledger entry.
    """

    async def bind(self, session: AsyncSession, deal: FormedDeal, now: datetime) -> list[dict[str, Any]]: ...

    async def declared(self, session: AsyncSession, deal_id: uuid.UUID) -> list[dict[str, Any]]: ...

    async def legs(self, session: AsyncSession, payment: SettlingPayment) -> list[SettlementLeg]: ...

    async def posted(
        self, session: AsyncSession, payment: SettlingPayment, entries: list[tuple[SettlementLeg, str]]
    ) -> None: ...


@dataclass(frozen=True)
class TradingRules:
    """Trading's settings (SPEC §3), handed in from ``Settings``."""

    fees: FeeSchedule
    auction_minutes: int = 30
    anti_sniping_minutes: int = 5
    offer_expiry_days: int = 6
    max_offers_per_thread: int = 20
    payment_working_days: int = 5  # the first payment's deadline after signing, and each instalment's grace
    instalment_reminder_working_days: int = 3  # 0: no reminders


T = TypeVar("T")


class LiveEvents(Protocol):
    """Where a transaction's live events go (``exchange.platform.events.Events``): ``record`` in the
    transaction when ``records`` (an outbox), ``committed`` after its commit."""

    @property
    def records(self) -> bool: ...

    async def record(self, session: AsyncSession, events: Sequence[LiveEvent]) -> None: ...

    def committed(self, events: Sequence[LiveEvent]) -> None: ...


@dataclass
class TradingContext:
    """Rules, the listings module (notices, transitions, signing key) and the optional seams.

    ``live`` takes the live events a transaction collected (``record`` / ``committed``).
    ``fee_voucher_payer`` is set by the composition root when vouchers may pay buyer fees;
    ``settlement_observers`` are told of each settled payment (the composition root adds them);
    ``deal_guards`` are asked before an accepted offer forms a deal; ``settlement_legs`` add further
    legs to each payment's settlement batch (and declare them in the notice and the certificate).
    """

    rules: TradingRules
    listings: ListingsContext
    live: LiveEvents | None = None
    fee_voucher_payer: FeeVoucherPayer | None = None
    settlement_observers: list[SettlementObserver] = field(default_factory=list)
    deal_guards: list[NegotiatedDealGuard] = field(default_factory=list)
    settlement_legs: list[SettlementLegs] = field(default_factory=list)
    bid_turns: BidTurns = field(default_factory=BidTurns)

    async def run(self, db: Any, work: Callable[[AsyncSession, list[LiveEvent]], Awaitable[T]]) -> T:
        """``work(session, events)`` in one transaction; the events it collected go out after commit."""
        events: list[LiveEvent] = []

        async def attempt(session: AsyncSession) -> T:
            events.clear()  # a retried transaction collects its events again
            result = await work(session, events)
            await self.record(session, events)
            return result

        result = await db.transaction(attempt)
        self.committed(events)
        return result

    async def record(self, session: AsyncSession, events: list[LiveEvent]) -> None:
        """At the end of a transaction's work (after the statements that lock what the events are
        about, so that one auction's events are recorded in its order): into the outbox, if any."""
        if events and self.live is not None and self.live.records:
            await self.live.record(session, events)

    def committed(self, events: list[LiveEvent]) -> None:
        """After the commit of the transaction that collected ``events``."""
        if events and self.live is not None:
            self.live.committed(events)


def auction_channel(auction_id: uuid.UUID | str) -> str:
    return f"auction:{auction_id}"
