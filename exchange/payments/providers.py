"""The payment providers behind one interface, as reconciliation sees them.

A provider has a ledger account that holds the money while it is at the provider
(``chart.clearing(provider)``, in ``exchange.accounting.chart``) and a source of records for a
period: (reference, signed amount in fen, when the money moved), in any order. ``bank_transfer``
reads an uploaded CSV statement; ``stripe`` lists balance transactions through the API. Top-ups
differ by nature (an operator records a bank transfer; Stripe confirms a card payment by webhook)
and live in ``bank`` and ``card``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from exchange.payments import reconciliation
from exchange.payments.domain import Provider, ProviderNotConfigured, day_start, period_bounds
from exchange.payments.gateway import StripeGateway, configured, stripe_gateway
from exchange.payments.models import Reconciliation
from exchange.payments.reconcile import RowError, read_statement
from exchange.payments.reconciliation import Statement
from exchange.platform.db import Database
from exchange.platform.settings import Settings

ProviderRecord = tuple[str, int, datetime]
STRIPE_TYPES = frozenset({"charge", "payment", "refund", "payment_refund"})


class RecordSource(Protocol):
    provider: Provider
    row_errors: list[RowError]  # records the source could not read, found while reading

    def records(self, start: datetime, end: datetime) -> AsyncIterator[ProviderRecord]: ...


@dataclass
class BankStatementSource:
    statement: Statement
    provider: Provider = Provider.BANK_TRANSFER
    row_errors: list[RowError] = field(default_factory=list)

    async def records(self, start: datetime, end: datetime) -> AsyncIterator[ProviderRecord]:
        """The statement's rows dated in ``[start, end)``."""
        for number, item in enumerate(read_statement(self.statement.lines()), 1):
            if isinstance(item, RowError):
                self.row_errors.append(item)
                continue
            at = day_start(item.day)
            if start <= at < end:
                yield item.reference, item.amount, at
            if number % 1000 == 0:
                await asyncio.sleep(0)  # a long statement is read between other requests, not instead of them


@dataclass
class StripeSource:
    gateway: StripeGateway
    page_size: int = 100
    provider: Provider = Provider.STRIPE
    row_errors: list[RowError] = field(default_factory=list)

    async def records(self, start: datetime, end: datetime) -> AsyncIterator[ProviderRecord]:
        """Balance transactions of payments and refunds in ``[start, end)``: (source id, net, created)."""
        async for txn in self.gateway.balance_transactions(start, end, self.page_size):
            if txn["type"] in STRIPE_TYPES and txn["source"]:
                yield str(txn["source"]), int(txn["net"]), datetime.fromtimestamp(int(txn["created"]), UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


async def run_reconciliation(
    db: Database,
    settings: Settings,
    clock: Clock,
    *,
    provider: Provider,
    period_from: date,
    period_to: date,
    statement: Statement | None,
    scope: str | None = None,
    key: str | None = None,
    operator_id: UUID | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Reconciliation, bool]:
    """Create and execute a run (the HTTP route and ``techx reconcile`` alike). Returns (run, replayed).

    ``key`` under ``scope`` (the caller's, by the exchange's scope rule): the same key and request
    answer with the run they started, however far it has got."""
    if provider is Provider.STRIPE and not configured(settings):
        raise ProviderNotConfigured("reconciling Stripe needs TECHX_STRIPE_API_KEY")
    run, replayed = await reconciliation.start_run(
        db,
        provider=provider,
        period_from=period_from,
        period_to=period_to,
        statement=statement,
        scope=scope,
        key=key,
        operator_id=operator_id,
        now=clock.now,
    )
    if replayed:
        return run, True
    options: dict[str, Any] = {"now": clock.now, "batch": settings.reconcile_batch_size}
    if progress:
        options["progress"] = progress
    start, end = period_bounds(period_from, period_to)

    async def execute(source: RecordSource) -> Reconciliation:
        records = source.records(start, end)
        return await reconciliation.execute_run(db, run, records, row_errors=source.row_errors, **options)

    if provider is Provider.STRIPE:
        async with stripe_gateway(settings) as gateway:
            return await execute(StripeSource(gateway, settings.stripe_page_size)), False
    assert statement is not None
    return await execute(BankStatementSource(statement)), False
