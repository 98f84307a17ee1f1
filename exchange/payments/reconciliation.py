"""Reconciliation runs: the provider's records for a period against the ledger's, reference by reference.

A run stages the provider's records (a CSV bank statement, or Stripe's balance transactions) in
``reconciliation_records``, then merges two reference-ordered streams — the staged records, read
page by page, and the ledger's movements on the provider's account, streamed by one query — with
``reconcile.areconcile``. Memory holds a page of each side, whatever the number of records; the
differences are written as they are found and the matched ones only counted.

A run changes nothing in the ledger, so running a period again gives the same report until the
ledger or the provider changes. A difference is resolved by an adjustment entry that a second
operator approves; it is booked to the period of the difference, so the re-run comes out clean.
"""

from __future__ import annotations

import hashlib
import heapq
import io
import json
from bisect import bisect_right
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.payments import card
from exchange.payments.domain import (
    RECONCILIATIONS,
    RESOLUTIONS,
    AlreadyResolving,
    InvalidCounterAccount,
    InvalidStatement,
    NothingToResolve,
    Provider,
    ReconciliationAction,
    ReconciliationNotFound,
    ResolutionAction,
    ResolutionStatus,
    StripeEventStatus,
    adjustment_direction,
    check_reference,
    day_start,
    next_reconciliation_state,
    next_resolution_state,
    period_bounds,
)
from exchange.payments.models import (
    Booking,
    ProviderRecord,
    Reconciliation,
    ReconciliationLine,
    Resolution,
    StripeEvent,
)
from exchange.payments.reconcile import (
    Line,
    Outcome,
    Record,
    RowError,
    StatementFormatError,
    Totals,
    areconcile,
    read_statement,
)
from exchange.platform.db import Database
from exchange.platform.keyed import Outcome as KeyedOutcome
from exchange.platform.keyed import idempotent
from exchange.platform.outbox import OPERATORS, Kind, Subject, notify
from exchange.platform.tables import new_id
from kernel.db import among
from kernel.pagination import by_id, id_after, keyset_page
from ledger import EntrySpec, Movement, PostingSpec, Side, adjustments
from ledger import service as ledger
from ledger.errors import NotFound as LedgerNotFound

Progress = Callable[[int, int], None]  # (provider records merged so far, provider records in all)


def _no_progress(done: int, total: int) -> None:
    pass


# -- the provider's side ---------------------------------------------------------------------------------


STAGED_COLUMNS = ("reconciliation_id", "seq", "reference", "amount", "occurred_at")


async def _stage(db: Database, run_id: UUID, records: AsyncIterator[tuple[str, int, datetime]], batch: int) -> int:
    seq = 0
    rows: list[tuple[Any, ...]] = []

    async def flush(chunk: list[tuple[Any, ...]]) -> None:
        async def write(session: AsyncSession) -> None:
            if db.is_postgres:
                # COPY: several times faster than INSERT for the millions of rows of a long period.
                raw = await (await session.connection()).get_raw_connection()
                await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                    ProviderRecord.__tablename__, records=chunk, columns=STAGED_COLUMNS
                )
            else:
                await session.execute(
                    insert(ProviderRecord), [dict(zip(STAGED_COLUMNS, row, strict=True)) for row in chunk]
                )

        await db.transaction(write)

    async for reference, amount, occurred_at in records:
        seq += 1
        rows.append((run_id, seq, reference, amount, occurred_at))
        if len(rows) >= batch:
            await flush(rows)
            rows = []
    if rows:
        await flush(rows)
    return seq


@dataclass(frozen=True)
class Statement:
    """A CSV bank statement that can be read from the start more than once, line by line."""

    lines: Callable[[], Iterable[str]]
    sha256: str

    @classmethod
    def from_text(cls, text: str) -> Statement:
        return cls(lambda: io.StringIO(text), hashlib.sha256(text.encode()).hexdigest())

    @classmethod
    def from_path(cls, path: Path, encoding: str = "utf-8") -> Statement:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)

        def lines() -> Iterator[str]:
            with path.open(encoding=encoding, newline="") as f:
                try:
                    yield from f
                except UnicodeDecodeError as exc:
                    raise InvalidStatement(f"the statement is not {encoding} text ({exc.reason})") from None

        return cls(lines, digest.hexdigest())

    def check(self) -> None:
        """Refuse a statement whose header lacks the columns, before anything is stored."""
        try:
            next(read_statement(self.lines()), None)
        except StatementFormatError as exc:
            raise InvalidStatement(str(exc), field="statement") from None


async def _provider_side(db: Database, run_id: UUID, page: int) -> AsyncIterator[Record]:
    """The staged records summed per reference, in reference order, a page at a time."""
    last: str | None = None
    while True:
        query = (
            select(ProviderRecord.reference, func.sum(ProviderRecord.amount))
            .where(ProviderRecord.reconciliation_id == run_id)
            .group_by(ProviderRecord.reference)
            .order_by(ProviderRecord.reference)
            .limit(page)
        )
        if last is not None:
            query = query.where(ProviderRecord.reference > last)
        async with db.read() as session:
            rows = (await session.execute(query)).all()
        for reference, amount in rows:
            yield Record(reference, int(amount))
        if len(rows) < page:
            return
        last = rows[-1][0]


# -- the ledger's side -------------------------------------------------------------------------------------


async def _unbooked(
    db: Database, account_id: UUID, start: datetime, end: datetime, batch: int
) -> AsyncIterator[Sequence[Movement]]:
    """The account's movements by the entries made in the period that have no booking (they take
    their reference and date from the ledger), in reference order."""
    async with db.read() as session:
        async for movements in ledger.movements(session, account_id, start=start, end=end, batch=batch):
            ids = [entry_id for _, _, entry_id in movements]
            booked = set(
                (await session.scalars(select(Booking.entry_id).where(among(Booking.entry_id, ids, session)))).all()
            )
            yield [m for m in movements if m[2] not in booked] if booked else movements


class _Booked(NamedTuple):
    """A booked entry's movement on the account, under its booking's reference (a ``Movement``)."""

    reference: str
    amount: int
    entry_id: UUID


async def _booked(
    db: Database, account_id: UUID, start: datetime, end: datetime, batch: int
) -> AsyncIterator[Sequence[Movement]]:
    """The account's movements by the booked entries whose value date falls in the period, under
    their booking's reference and date, in reference order."""
    reference = Booking.reference.collate("C") if db.is_postgres else Booking.reference
    query = (
        select(Booking.entry_id, Booking.reference)
        .where(Booking.value_at >= start, Booking.value_at < end)
        .order_by(reference)
        .execution_options(yield_per=batch)
    )
    async with db.read() as session:
        result = await session.stream(query)
        async for rows in result.partitions():
            moved: dict[UUID, int] = {}
            for m in await ledger.movements_of(session, account_id, [row.entry_id for row in rows]):
                moved[m.entry_id] = moved.get(m.entry_id, 0) + m.amount
            yield [_Booked(r.reference, moved[r.entry_id], r.entry_id) for r in rows if moved.get(r.entry_id)]


_by_reference = attrgetter("reference")


async def _merged(streams: list[AsyncIterator[Sequence[Movement]]]) -> AsyncIterator[Sequence[Movement]]:
    """Reference-ordered streams of batches as one reference-ordered stream of batches.

    Each round passes on everything up to the lowest of the buffered batches' last references:
    nothing a stream brings later can come before it.
    """
    buffers: dict[int, Sequence[Movement]] = {}

    async def refill(i: int) -> None:
        async for moves in streams[i]:
            if moves:
                buffers[i] = moves
                return

    for i in range(len(streams)):
        await refill(i)
    while buffers:
        bound = min(moves[-1].reference for moves in buffers.values())
        parts = []
        for i, moves in list(buffers.items()):
            cut = bisect_right(moves, bound, key=_by_reference)
            parts.append(moves if cut == len(moves) else moves[:cut])
            if cut < len(moves):
                buffers[i] = moves[cut:]
            else:
                del buffers[i]
                await refill(i)
        parts = [part for part in parts if part]
        yield parts[0] if len(parts) == 1 else list(heapq.merge(*parts, key=_by_reference))


async def _ledger_side(
    db: Database, account_id: UUID | None, start: datetime, end: datetime, batch: int = 2000
) -> AsyncIterator[Record]:
    """Per reference, what the ledger moved on the provider's account in ``[start, end)``, read
    through the ledger's API (``ledger.movements``, ``ledger.movements_of``).

    An entry's reference and date come from its booking when it has one, else from the entry. A
    reference whose movements cancel out (an entry and its reversal) has nothing to reconcile.
    """
    if account_id is None:
        return
    streams = [_unbooked(db, account_id, start, end, batch), _booked(db, account_id, start, end, batch)]
    reference: str | None = None
    total, first = 0, None
    async for moves in _merged(streams):
        for ref, amount, entry_id in moves:  # unpacked: a row's fields by name cost several times more
            if ref == reference:
                total += amount
                if entry_id < first:
                    first = entry_id
                continue
            if total:
                yield Record(reference, total, first)  # type: ignore[arg-type]
            reference, total, first = ref, amount, entry_id
    if total:
        yield Record(reference, total, first)  # type: ignore[arg-type]


# -- runs --------------------------------------------------------------------------------------------------


def _totals_json(totals: Totals) -> str:
    return json.dumps(
        {
            o.value: {
                "count": totals.counts[o],
                "ledger_amount": totals.ledger_amounts[o],
                "provider_amount": totals.provider_amounts[o],
            }
            for o in Outcome
        }
    )


async def start_run(
    db: Database,
    *,
    provider: Provider,
    period_from: date,
    period_to: date,
    statement: Statement | None,
    scope: str | None = None,
    key: str | None,
    operator_id: UUID | None,
    now: Callable[[], datetime],
) -> tuple[Reconciliation, bool]:
    """Create the run (or find the one made with the same key and request). Returns (run, replayed)."""
    period_bounds(period_from, period_to)
    if provider is Provider.BANK_TRANSFER and statement is None:
        raise InvalidStatement("a bank-transfer reconciliation needs the bank statement (CSV)", field="statement")
    if provider is Provider.STRIPE and statement is not None:
        raise InvalidStatement("Stripe's records are fetched from Stripe; send no statement", field="statement")
    if statement is not None:
        statement.check()
    digest = statement.sha256 if statement is not None else None
    request = {
        "provider": provider.value,
        "from": period_from.isoformat(),
        "to": period_to.isoformat(),
        "statement": digest,
    }

    async def create(session: AsyncSession) -> KeyedOutcome:
        run = Reconciliation(
            id=new_id(),
            provider=provider.value,
            period_from=period_from,
            period_to=period_to,
            status=RECONCILIATIONS.initial.value,
            statement_sha256=digest,
            row_errors="[]",
            totals=_totals_json(Totals()),
            provider_records=0,
            error="",
            created_by=operator_id,
            created_at=now(),
        )
        session.add(run)
        await session.flush()
        return KeyedOutcome(201, {"reconciliation_id": str(run.id)})

    started = await idempotent(
        db, scope=scope or "operator:cli", key=key, request=["reconciliation", request], now=now, work=create
    )
    async with db.read() as session:
        run = await session.get(Reconciliation, UUID(started.body["reconciliation_id"]))
    assert run is not None  # created in the committed transaction above
    return run, started.replayed


async def execute_run(
    db: Database,
    run: Reconciliation,
    records: AsyncIterator[tuple[str, int, datetime]],
    *,
    row_errors: list[RowError] | None = None,
    now: Callable[[], datetime],
    batch: int = 5000,
    progress: Progress = _no_progress,
) -> Reconciliation:
    """Stage the provider's ``records`` (reference, amount, time), merge them with the ledger's, and
    store the differences and totals. ``row_errors`` (filled while ``records`` is read) are kept."""
    provider = Provider(run.provider)
    start, end = period_bounds(run.period_from, run.period_to)
    errors = row_errors if row_errors is not None else []
    try:
        staged = await _stage(db, run.id, records, batch)
        async with db.read() as session:
            account = await chart.find_account(session, chart.clearing(provider))
        totals = Totals()
        pending: list[dict[str, Any]] = []
        seq = merged = 0

        async def write(chunk: list[dict[str, Any]]) -> None:
            async def work(session: AsyncSession) -> None:
                await session.execute(insert(ReconciliationLine), chunk)

            await db.transaction(work)

        async for line in areconcile(
            _ledger_side(db, account.id if account else None, start, end), _provider_side(db, run.id, batch)
        ):
            totals.add(line)
            if line.provider_amount is not None:
                merged += 1
                if merged % batch == 0:
                    progress(merged, staged)
            if line.outcome is not Outcome.MATCHED:
                seq += 1
                pending.append(_line_row(run.id, seq, line))
                if len(pending) >= batch:
                    await write(pending)
                    pending = []
        if pending:
            await write(pending)
        progress(merged, staged)
        reported = [{"line": e.line, "message": e.message} for e in errors]
        result = {"totals": _totals_json(totals), "row_errors": json.dumps(reported), "records": staged}
        differences = {o.value: totals.counts[o] for o in Outcome if o is not Outcome.MATCHED and totals.counts[o]}
    except Exception as exc:
        error = str(getattr(exc, "detail", exc))[:1000]

        async def fail(session: AsyncSession) -> None:
            row = await session.get(Reconciliation, run.id)
            assert row is not None
            row.status = next_reconciliation_state(row.status, ReconciliationAction.FAIL).value
            row.error, row.completed_at = error, now()

        await db.transaction(fail)
        raise

    async def finish(session: AsyncSession) -> Reconciliation:
        row = await session.get(Reconciliation, run.id)
        assert row is not None
        row.status = next_reconciliation_state(row.status, ReconciliationAction.COMPLETE).value
        row.completed_at = now()
        row.totals, row.row_errors, row.provider_records = result["totals"], result["row_errors"], result["records"]
        if differences or errors:
            # Operators have differences to resolve (or statement rows that could not be read).
            data = {
                "reconciliation_id": str(row.id),
                "provider": row.provider,
                "period_from_on": row.period_from.isoformat(),
                "period_to_on": row.period_to.isoformat(),
                "differences": differences,
                "difference_count": sum(differences.values()),
                "row_errors": len(errors),
            }
            subject = Subject("reconciliation", row.id)
            at = row.completed_at
            notify(session, Kind.RECONCILIATION_DIFFERENCES, to=OPERATORS, now=at, subject=subject, data=data)
        return row

    return await db.transaction(finish)


def _line_row(run_id: UUID, seq: int, line: Line) -> dict[str, Any]:
    return {
        "reconciliation_id": run_id,
        "seq": seq,
        "outcome": line.outcome.value,
        "reference": line.reference,
        "ledger_amount": line.ledger_amount,
        "provider_amount": line.provider_amount,
        "entry_id": str(line.entry_id) if line.entry_id else None,
    }


async def list_runs(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[Reconciliation], str | None]:
    """A page of reconciliation runs, newest first."""
    query = select(Reconciliation).order_by(Reconciliation.id.desc()).limit(limit + 1)
    if (after := id_after(cursor)) is not None:
        query = query.where(Reconciliation.id < after)
    return keyset_page((await session.scalars(query)).all(), limit, by_id)


async def get_run(session: AsyncSession, run_id: UUID) -> tuple[Reconciliation, list[ReconciliationLine]]:
    run = await session.get(Reconciliation, run_id)
    if run is None:
        raise ReconciliationNotFound(f"reconciliation {run_id} does not exist")
    lines = (
        await session.scalars(
            select(ReconciliationLine)
            .where(ReconciliationLine.reconciliation_id == run_id)
            .order_by(ReconciliationLine.seq)
        )
    ).all()
    return run, list(lines)


UNMATCHED_SHOWN = 100


async def unmatched_events(session: AsyncSession, run: Reconciliation) -> list[StripeEvent]:
    """A Stripe run's unmatched webhook events: those received in its period about objects the
    exchange does not know, newest first (at most ``UNMATCHED_SHOWN``)."""
    if run.provider != Provider.STRIPE:
        return []
    start, end = period_bounds(run.period_from, run.period_to)
    events, _ = await card.list_events(
        session, status=StripeEventStatus.UNMATCHED, limit=UNMATCHED_SHOWN, received_from=start, received_before=end
    )
    return events


# -- resolving differences ----------------------------------------------------------------------------------


async def propose_resolution(
    session: AsyncSession,
    run_id: UUID,
    *,
    reference: str,
    counter_account: str,
    reason: str,
    maker_id: UUID,
    now: datetime,
) -> Resolution:
    """An adjustment that makes the ledger agree with the provider under ``reference`` (maker's half)."""
    run = await session.get(Reconciliation, run_id)
    if run is None:
        raise ReconciliationNotFound(f"reconciliation {run_id} does not exist")
    line = await session.scalar(
        select(ReconciliationLine).where(
            ReconciliationLine.reconciliation_id == run_id, ReconciliationLine.reference == reference
        )
    )
    if line is None:
        raise NothingToResolve(f"reconciliation {run_id} reports no difference under {reference!r}", field="reference")
    if not reference.startswith("entry:"):
        check_reference(reference)
    # One correction per difference: a second proposal, approved too, would correct it twice.
    open_one = await session.scalar(
        select(Resolution.id)
        .join(Reconciliation, Reconciliation.id == Resolution.reconciliation_id)
        .where(
            Resolution.reference == reference,
            Reconciliation.provider == run.provider,
            (Resolution.status == ResolutionStatus.PROPOSED.value) | (Resolution.reconciliation_id == run_id),
        )
        .limit(1)
    )
    if open_one is not None:
        raise AlreadyResolving(f"resolution {open_one} already corrects {reference!r}", resolution_id=str(open_one))
    delta = adjustment_direction(line.provider_amount, line.ledger_amount)
    provider = Provider(run.provider)
    clearing = await chart.open_account(session, chart.clearing(provider), now)
    counter = await ledger.account_by_code(session, counter_account)
    if counter is None or counter.unit != "CNY":
        raise InvalidCounterAccount(f"no CNY ledger account has the code {counter_account!r}", field="counter_account")
    if counter.id == clearing.id:
        raise InvalidCounterAccount(
            "the counter account must not be the provider's own account", field="counter_account"
        )
    value_at = await _value_date(session, run, line)
    into, out_of = (clearing.id, counter.id) if delta > 0 else (counter.id, clearing.id)
    spec = EntrySpec(
        unit="CNY",
        kind="reconciliation_adjustment",
        postings=(PostingSpec(into, Side.DEBIT, abs(delta)), PostingSpec(out_of, Side.CREDIT, abs(delta))),
        description=f"reconciliation {run_id}: {line.outcome} {reference}"[:500],
        metadata={"reconciliation_id": str(run_id), "reference": reference, "outcome": line.outcome},
        external_ref=reference[:200],
    )
    proposal = await adjustments.propose_adjustment(session, spec, reason=reason, maker_id=maker_id, now=now)
    resolution = Resolution(
        id=new_id(),
        reconciliation_id=run_id,
        reference=reference,
        amount=delta,
        counter_account=counter_account,
        value_at=value_at,
        adjustment_id=proposal.id,
        status=RESOLUTIONS.initial.value,
        maker_id=maker_id,
        created_at=now,
    )
    session.add(resolution)
    await session.flush()
    return resolution


async def _value_date(session: AsyncSession, run: Reconciliation, line: ReconciliationLine) -> datetime:
    """The difference's date, so that its adjustment lands in the run's period."""
    occurred = await session.scalar(
        select(func.min(ProviderRecord.occurred_at)).where(
            ProviderRecord.reconciliation_id == run.id, ProviderRecord.reference == line.reference
        )
    )
    if occurred is not None:
        return occurred
    if line.entry_id:
        entry_id = UUID(line.entry_id)
        booked = await session.scalar(select(Booking.value_at).where(Booking.entry_id == entry_id))
        if booked is not None:
            return booked
        try:
            return (await ledger.get_entry(session, entry_id)).created_at
        except LedgerNotFound:
            pass
    return day_start(run.period_from)


async def approve_resolution(
    session: AsyncSession, run_id: UUID, resolution_id: UUID, *, checker_id: UUID, now: datetime
) -> Resolution:
    """The checker's half: the adjustment is posted and booked to the difference's period."""
    resolution = await session.scalar(
        select(Resolution)
        .where(Resolution.id == resolution_id, Resolution.reconciliation_id == run_id)
        .with_for_update()
    )
    if resolution is None:
        raise ReconciliationNotFound(f"reconciliation {run_id} has no resolution {resolution_id}")
    try:
        approved = await adjustments.approve_adjustment(
            session, resolution.adjustment_id, checker_id=checker_id, now=now
        )
    except LedgerNotFound:
        raise ReconciliationNotFound(f"the adjustment of resolution {resolution_id} is gone") from None
    run = await session.get(Reconciliation, run_id)
    assert run is not None and approved.entry_id is not None
    # The ledger refused a second approval above (409 ``already-approved``); the table agrees.
    resolution.status = next_resolution_state(resolution.status, ResolutionAction.APPROVE).value
    resolution.entry_id = approved.entry_id
    resolution.checker_id, resolution.approved_at = checker_id, now
    session.add(
        Booking(
            entry_id=approved.entry_id,
            provider=run.provider,
            reference=resolution.reference,
            value_at=resolution.value_at,
        )
    )
    await session.flush()
    return resolution


async def list_resolutions(session: AsyncSession, run_id: UUID) -> list[Resolution]:
    return list(
        (
            await session.scalars(
                select(Resolution).where(Resolution.reconciliation_id == run_id).order_by(Resolution.created_at)
            )
        ).all()
    )
