"""What trading needs at run time, built once per application by the composition root."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading.bid_turns import BidTurns
from exchange.trading.domain import FeeSchedule
from listings import ListingsContext


class FeeVoucherPayer(Protocol):
    """Pays part of a buyer-side fee with innovation vouchers, inside the settlement's transaction.

    Returns the fen paid with vouchers (0 ≤ paid ≤ fee); the rest is paid in cash. It must move
    the vouchers through the ledger in ``session`` and raise to refuse (the settlement then rolls back).
    A deal paid in instalments settles its buyer-side fee in parts: ``fee`` is the part charged on
    payment ``instalment`` of the deal's schedule (0: a lump sum or the down payment).
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
class TradingRules:
    """Trading's settings (SPEC §3), handed in from ``Settings``."""

    fees: FeeSchedule
    auction_minutes: int = 30
    anti_sniping_minutes: int = 5
    offer_expiry_days: int = 6
    max_offers_per_thread: int = 20
    payment_working_days: int = 5  # the first payment's deadline after signing, and each instalment's grace
    instalment_reminder_working_days: int = 3  # 0: no reminders


Publish = Callable[[str, str, dict[str, Any]], None]
LiveEvent = tuple[str, str, dict[str, Any]]  # (channel, event, data)
T = TypeVar("T")


@dataclass
class TradingContext:
    """Rules, the listings module (notices, transitions, signing key) and the optional seams.

    ``publish(channel, event, data)`` sends a live event; call it only after commit.
    ``fee_voucher_payer`` is set by the composition root when vouchers may pay buyer fees;
    ``settlement_observers`` are told of each settled payment (the composition root adds them);
    ``deal_guards`` are asked before an accepted offer forms a deal.
    """

    rules: TradingRules
    listings: ListingsContext
    publish: Publish | None = None
    fee_voucher_payer: FeeVoucherPayer | None = None
    settlement_observers: list[SettlementObserver] = field(default_factory=list)
    deal_guards: list[NegotiatedDealGuard] = field(default_factory=list)
    bid_turns: BidTurns = field(default_factory=BidTurns)

    async def run(self, db: Any, work: Callable[[AsyncSession, list[LiveEvent]], Awaitable[T]]) -> T:
        """``work(session, events)`` in one transaction; the events it collected go out after commit."""
        events: list[LiveEvent] = []

        async def attempt(session: AsyncSession) -> T:
            events.clear()  # a retried transaction collects its events again
            return await work(session, events)

        result = await db.transaction(attempt)
        if self.publish is not None:
            for channel, name, data in events:
                self.publish(channel, name, data)
        return result


def auction_channel(auction_id: uuid.UUID | str) -> str:
    return f"auction:{auction_id}"
