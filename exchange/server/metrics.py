"""What operators must see beyond HTTP: gauges read from the database when ``/metrics`` is scraped.

``refresh_ops_metrics`` runs before the metrics handler (after its guards): one read-only session,
one small query per source, the results kept by ``OPS`` (registered once in the process's default
registry) until the next scrape. Each source is an ``async (session, now, state) -> samples``
function in ``SOURCES``; a module that wants a gauge adds its source there (the calendar's
``techx_calendar_next_year_missing`` belongs there too) and documents it in docs/operations.md.

The sweeper's counter ``techx_sweep_step_failures_total{step}`` is counted where failures happen
(``exchange.platform.sweeper``); the lag of each step is the time since it last finished a pass
in this process (everything due then, apart from rows that failed, was processed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from litestar import Request
from litestar.datastructures import State
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.payments.domain import (
    Provider,
    ReconciliationStatus,
    ResolutionStatus,
    StripeEventStatus,
    WithdrawalStatus,
)
from exchange.payments.models import Reconciliation, ReconciliationLine, Resolution, StripeEvent, Withdrawal
from exchange.platform.live_outbox import LiveEventRow
from exchange.platform.sweeper import SweepFailure
from ledger.seal import unsealed_backlog

log = structlog.get_logger("techx.metrics")

Sample = tuple[str, dict[str, str], float]
Source = Callable[[AsyncSession, datetime, State], Awaitable[Iterable[Sample]]]

GAUGES: dict[str, str] = {
    "techx_sweep_rows_set_aside": "Due rows a sweeper step set aside after repeated failures (retried only on request)",
    "techx_sweep_lag_seconds": "Seconds since the step last finished a pass: the oldest due row waits at most this",
    "techx_ledger_unsealed_entries": "Ledger entries not yet sealed into a signed block",
    "techx_ledger_oldest_unsealed_seconds": "Age of the oldest ledger entry not yet sealed (0: none)",
    "techx_withdrawals_pending": "Withdrawals requested and not yet completed or rejected by an operator",
    "techx_withdrawals_oldest_pending_seconds": "Age of the oldest pending withdrawal (0: none)",
    "techx_reconciliation_open_differences": "Differences of the provider's latest completed run without an "
    "approved resolution",
    "techx_webhook_deliveries_failing": "Stripe webhook events of the last 24 hours about objects the exchange "
    "does not know (unmatched)",
    "techx_read_replica_serving": "1 while public reads may use the read replica (fresh enough), 0 while they use "
    "the primary",
    "techx_read_replica_staleness_seconds": "How old the read replica's data may be (absent while unknown: "
    "unreachable, not a standby, or behind every kept sample)",
    "techx_live_events_waiting": "Live events committed and not yet relayed to JetStream (the outbox's rows)",
    "techx_live_events_oldest_waiting_seconds": "Age of the oldest live event waiting in the outbox (0: none)",
}

UNMATCHED_WINDOW = timedelta(hours=24)


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


async def sweep_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    sweeper = state.sweeper
    set_aside = dict(
        (
            await session.execute(
                select(SweepFailure.step, func.count())
                .where(SweepFailure.set_aside_at.is_not(None))
                .group_by(SweepFailure.step)
            )
        ).all()
    )
    started = state.get("metrics_started_at") or now
    samples: list[Sample] = []
    for step in sorted(set(sweeper.step_names) | set(set_aside)):
        samples.append(("techx_sweep_rows_set_aside", {"step": step}, float(set_aside.get(step, 0))))
    for step in sweeper.step_names:
        samples.append(("techx_sweep_lag_seconds", {"step": step}, _age(now, sweeper.last_pass.get(step, started))))
    return samples


async def ledger_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    count, oldest = await unsealed_backlog(session)
    return [
        ("techx_ledger_unsealed_entries", {}, float(count)),
        ("techx_ledger_oldest_unsealed_seconds", {}, _age(now, oldest)),
    ]


async def withdrawal_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(Withdrawal.created_at)).where(
                Withdrawal.status == WithdrawalStatus.REQUESTED.value
            )
        )
    ).one()
    return [
        ("techx_withdrawals_pending", {}, float(count)),
        ("techx_withdrawals_oldest_pending_seconds", {}, _age(now, oldest)),
    ]


async def reconciliation_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    samples: list[Sample] = []
    for provider in Provider:
        run_id = await session.scalar(
            select(Reconciliation.id)
            .where(
                Reconciliation.provider == provider.value,
                Reconciliation.status == ReconciliationStatus.COMPLETED.value,
            )
            .order_by(Reconciliation.created_at.desc(), Reconciliation.id.desc())
            .limit(1)
        )
        open_lines = 0
        if run_id is not None:
            resolved = exists().where(
                Resolution.reconciliation_id == run_id,
                Resolution.reference == ReconciliationLine.reference,
                Resolution.status == ResolutionStatus.APPROVED.value,
            )
            open_lines = await session.scalar(
                select(func.count()).where(ReconciliationLine.reconciliation_id == run_id, ~resolved)
            )
        samples.append(("techx_reconciliation_open_differences", {"provider": provider.value}, float(open_lines or 0)))
    return samples


async def webhook_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    count = await session.scalar(
        select(func.count()).where(
            StripeEvent.status == StripeEventStatus.UNMATCHED.value, StripeEvent.received_at > now - UNMATCHED_WINDOW
        )
    )
    return [("techx_webhook_deliveries_failing", {}, float(count or 0))]


async def replica_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    replica = state.db.read_replica
    if replica is None:  # no DATABASE_READ_URL: no gauges of a replica
        return []
    samples: list[Sample] = [("techx_read_replica_serving", {}, float(replica.fresh_as_of() is not None))]
    if replica.as_of is not None:
        samples.append(("techx_read_replica_staleness_seconds", {}, _age(now, replica.as_of)))
    return samples


async def live_event_gauges(session: AsyncSession, now: datetime, state: State) -> list[Sample]:
    """The outbox of live events: rows pile up while NATS is unreachable (docs/scaling.md). Their
    ``created_at`` is wall-clock time, like an event's ``published_at``, so their age is too."""
    count, oldest = (await session.execute(select(func.count(), func.min(LiveEventRow.created_at)))).one()
    return [
        ("techx_live_events_waiting", {}, float(count or 0)),
        ("techx_live_events_oldest_waiting_seconds", {}, _age(datetime.now(UTC), oldest)),
    ]


# The gauges read at every scrape. Add a source here (and its name and help to GAUGES) for a new
# gauge: e.g. the calendar's ``techx_calendar_next_year_missing``.
SOURCES: list[Source] = [sweep_gauges, ledger_gauges, withdrawal_gauges, reconciliation_gauges, webhook_gauges]
SOURCES.append(replica_gauges)  # reads from a replica (docs/scaling.md)
SOURCES.append(live_event_gauges)  # live events waiting for the relay (docs/scaling.md)


class OpsCollector(Collector):
    """Hands the samples of the last refresh to the registry, one gauge family per name."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def describe(self) -> Iterable[Any]:
        return []  # nothing to read at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        by_name: dict[str, list[Sample]] = {}
        for sample in self.samples:
            by_name.setdefault(sample[0], []).append(sample)
        for name, samples in by_name.items():
            labels = sorted(samples[0][1])
            family = GaugeMetricFamily(name, GAUGES.get(name, name), labels=labels)
            for _, values, value in samples:
                family.add_metric([values[k] for k in labels], value)
            yield family


OPS = OpsCollector()
REGISTRY.register(OPS)


async def refresh_ops_metrics(request: Request[Any, Any, Any]) -> None:
    """Before ``/metrics`` renders: read every source at the exchange clock's now."""
    state = request.app.state
    now = state.clock.now()
    samples: list[Sample] = []
    try:
        async with state.db.read() as session:
            for source in SOURCES:
                samples.extend(await source(session, now, state))
    except Exception:
        log.exception("operations gauges not read")  # /ready says whether the database answers
    OPS.samples = samples
