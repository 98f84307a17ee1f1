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
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import String as SqlString
from sqlalchemy import and_, case, cast, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.payments.domain import (
    AlreadyResolving,
    InvalidCounterAccount,
    InvalidStatement,
    NothingToResolve,
    Provider,
    ReconciliationNotFound,
    adjustment_direction,
    check_reference,
    day_start,
    period_bounds,
)
from exchange.payments.models import Booking, ProviderRecord, Reconciliation, ReconciliationLine, Resolution
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
from exchange.platform.keyed import IdempotencyKeyReused, fingerprint
from exchange.platform.tables import new_id
from ledger import EntrySpec, PostingSpec, Side, adjustments
from ledger import service as ledger
from ledger.errors import NotFound as LedgerNotFound
from ledger.models import entries, postings

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


def ledger_movements(account_id: UUID, start: datetime, end: datetime, postgres: bool) -> Any:
    """Per reference, what the ledger moved on the provider's account in ``[start, end)``.

    An entry's reference and date come from its booking when it has one, else from the entry. A
    reference whose movements cancel out (an entry and its reversal) has nothing to reconcile.
    """
    bookings = Booking.__table__
    value_at = func.coalesce(bookings.c.value_at, entries.c.created_at)
    entry_text = cast(entries.c.id, SqlString)
    reference = func.coalesce(bookings.c.reference, entries.c.external_ref, literal("entry:") + entry_text)
    if postgres:
        reference = reference.collate("C")
    signed = case((postings.c.side == "debit", postings.c.posted_delta), else_=-postings.c.posted_delta)
    moves = (
        select(reference.label("reference"), signed.label("amount"), entry_text.label("entry_id"))
        .select_from(
            postings.join(entries, entries.c.id == postings.c.entry_id).outerjoin(
                bookings, bookings.c.entry_id == entries.c.id
            )
        )
        .where(
            and_(postings.c.account_id == account_id, postings.c.posted_delta != 0, value_at >= start, value_at < end)
        )
        .subquery()
    )
    total = func.sum(moves.c.amount)
    return (
        select(moves.c.reference, total, func.min(moves.c.entry_id))
        .group_by(moves.c.reference)
        .having(total != 0)
        .order_by(moves.c.reference)
    )


def _entry_id(text: str | None) -> str | None:
    if not text or len(text) == 36:
        return text or None
    try:
        return str(UUID(text))  # SQLite keeps UUIDs as 32 hex digits
    except ValueError:
        return text


async def _ledger_side(db: Database, account_id: UUID | None, start: datetime, end: datetime) -> AsyncIterator[Record]:
    if account_id is None:
        return
    query = ledger_movements(account_id, start, end, db.is_postgres)
    async with db.read() as session:
        connection = await session.connection()
        result = await connection.stream(query.execution_options(yield_per=2000))
        async for partition in result.partitions():  # a page per await, not a row per await
            for reference, amount, entry_id in partition:
                yield Record(reference, int(amount), _entry_id(entry_id))


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
    key: str | None,
    operator_id: UUID | None,
    now: Callable[[], datetime],
) -> tuple[Reconciliation, bool]:
    """Create the run (or find the one made with the same key). Returns (run, replayed)."""
    period_bounds(period_from, period_to)
    if provider is Provider.BANK_TRANSFER and statement is None:
        raise InvalidStatement("a bank-transfer reconciliation needs the bank statement (CSV)", field="statement")
    if provider is Provider.STRIPE and statement is not None:
        raise InvalidStatement("Stripe's records are fetched from Stripe; send no statement", field="statement")
    if statement is not None:
        statement.check()
    digest = statement.sha256 if statement is not None else None
    print_ = fingerprint(
        {"provider": provider.value, "from": period_from.isoformat(), "to": period_to.isoformat(), "statement": digest}
    )

    async def create(session: AsyncSession) -> tuple[Reconciliation, bool]:
        if key is not None:
            existing = await session.scalar(select(Reconciliation).where(Reconciliation.request_key == key))
            if existing is not None:
                if existing.fingerprint != print_:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used for a different reconciliation", field="Idempotency-Key"
                    )
                return existing, True
        run = Reconciliation(
            id=new_id(),
            provider=provider.value,
            period_from=period_from,
            period_to=period_to,
            status="running",
            request_key=key,
            fingerprint=print_,
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
        return run, False

    return await db.transaction(create)


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
        status, error = "completed", ""
    except Exception as exc:
        result, status, error = {}, "failed", str(getattr(exc, "detail", exc))[:1000]

        async def fail(session: AsyncSession) -> None:
            row = await session.get(Reconciliation, run.id)
            assert row is not None
            row.status, row.error, row.completed_at = status, error, now()

        await db.transaction(fail)
        raise

    async def finish(session: AsyncSession) -> Reconciliation:
        row = await session.get(Reconciliation, run.id)
        assert row is not None
        row.status, row.completed_at = status, now()
        row.totals, row.row_errors, row.provider_records = result["totals"], result["row_errors"], result["records"]
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
        "entry_id": line.entry_id,
    }


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
            (Resolution.status == "proposed") | (Resolution.reconciliation_id == run_id),
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
        status="proposed",
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
        created = await session.scalar(select(entries.c.created_at).where(entries.c.id == entry_id))
        if created is not None:
            return created
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
    resolution.status, resolution.entry_id = "approved", approved.entry_id
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
