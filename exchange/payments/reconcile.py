"""Reconciliation as a streaming merge of two reference-ordered record streams.

Both sides arrive sorted by external reference; one pass pairs them, so time grows linearly with
the number of records and memory holds only the current pair and the running totals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import UUID


class Outcome(StrEnum):
    MATCHED = "matched"
    MISSING_IN_LEDGER = "missing_in_ledger"
    MISSING_AT_PROVIDER = "missing_at_provider"
    AMOUNT_MISMATCH = "amount_mismatch"


@dataclass(frozen=True)
class Record:
    reference: str
    amount: int  # fen; money into the exchange is positive, out of it negative
    entry_id: UUID | None = None  # the ledger entry, on the ledger side


@dataclass(frozen=True)
class Line:
    outcome: Outcome
    reference: str
    ledger_amount: int | None
    provider_amount: int | None
    entry_id: UUID | None = None


@dataclass
class Totals:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    ledger_amounts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    provider_amounts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def add(self, line: Line) -> None:
        self.counts[line.outcome] += 1
        self.ledger_amounts[line.outcome] += line.ledger_amount or 0
        self.provider_amounts[line.outcome] += line.provider_amount or 0

    @property
    def clean(self) -> bool:
        return all(n == 0 for outcome, n in self.counts.items() if outcome is not Outcome.MATCHED)


def _sorted_check(records: Iterable[Record], side: str) -> Iterator[Record]:
    previous: str | None = None
    for record in records:
        if previous is not None and record.reference < previous:
            raise ValueError(f"{side} records are not ordered by reference at {record.reference!r}")
        previous = record.reference
        yield record


def pair(ours: Record | None, theirs: Record | None) -> tuple[Line, bool, bool]:
    """One step of the merge: the line for the smaller head, and which side(s) it consumed."""
    if theirs is None or (ours is not None and ours.reference < theirs.reference):
        assert ours is not None
        return Line(Outcome.MISSING_AT_PROVIDER, ours.reference, ours.amount, None, ours.entry_id), True, False
    if ours is None or theirs.reference < ours.reference:
        return Line(Outcome.MISSING_IN_LEDGER, theirs.reference, None, theirs.amount), False, True
    outcome = Outcome.MATCHED if ours.amount == theirs.amount else Outcome.AMOUNT_MISMATCH
    return Line(outcome, ours.reference, ours.amount, theirs.amount, ours.entry_id), True, True


def reconcile(ledger: Iterable[Record], provider: Iterable[Record]) -> Iterator[Line]:
    """Pair ledger and provider records by reference; equal references pair off in order."""
    left = _sorted_check(ledger, "ledger")
    right = _sorted_check(provider, "provider")
    ours = next(left, None)
    theirs = next(right, None)
    while ours is not None or theirs is not None:
        line, took_ours, took_theirs = pair(ours, theirs)
        yield line
        if took_ours:
            ours = next(left, None)
        if took_theirs:
            theirs = next(right, None)


async def _asorted_check(records: AsyncIterator[Record], side: str) -> AsyncIterator[Record]:
    previous: str | None = None
    async for record in records:
        if previous is not None and record.reference < previous:
            raise ValueError(f"{side} records are not ordered by reference at {record.reference!r}")
        previous = record.reference
        yield record


async def areconcile(ledger: AsyncIterator[Record], provider: AsyncIterator[Record]) -> AsyncIterator[Line]:
    """``reconcile`` over asynchronous streams (rows read from a database page by page)."""
    left = _asorted_check(ledger, "ledger")
    right = _asorted_check(provider, "provider")
    ours = await anext(left, None)
    theirs = await anext(right, None)
    while ours is not None or theirs is not None:
        line, took_ours, took_theirs = pair(ours, theirs)
        yield line
        if took_ours:
            ours = await anext(left, None)
        if took_theirs:
            theirs = await anext(right, None)


# --- bank statements ------------------------------------------------------------------------

STATEMENT_COLUMNS = ("date", "amount", "reference")


@dataclass(frozen=True)
class StatementRow:
    line: int
    day: date
    amount: int
    reference: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class StatementFormatError(ValueError):
    """The statement cannot be read at all (wrong or missing columns)."""


def yuan_to_fen(text: str) -> int:
    """``"1,234.56"`` → 123456; at most two decimals, never a float."""
    cleaned = text.strip().replace(",", "").replace("¥", "")
    try:
        value = Decimal(cleaned)
        exact = value.is_finite() and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:  # not a number, or too many digits to quantize
        raise ValueError(f"{text!r} is not an amount") from None
    if not exact:
        raise ValueError(f"{text!r} is not a yuan amount with at most two decimals")
    return int(value * 100)


MAX_REFERENCE = 200


def parse_statement(text: str) -> tuple[list[StatementRow], list[RowError]]:
    """Read a whole CSV bank statement: its rows and its row errors (see ``read_statement``)."""
    rows: list[StatementRow] = []
    errors: list[RowError] = []
    for item in read_statement(io.StringIO(text)):
        (rows if isinstance(item, StatementRow) else errors).append(item)  # type: ignore[arg-type]
    return rows, errors


def read_statement(lines: Iterable[str]) -> Iterator[StatementRow | RowError]:
    """Read a CSV bank statement with a header naming ``date, amount, reference`` (amount in yuan).

    Rows come one at a time, so a statement of any length is read in constant memory. A malformed
    row is reported as a ``RowError`` with its line number and skipped; the rest are read. A header
    without those columns raises ``StatementFormatError`` when the first item is asked for.
    """
    reader = csv.reader(_without_bom(lines))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise StatementFormatError(f"the header cannot be read: {exc}") from None
    if header is None:
        raise StatementFormatError("the statement is empty")
    names = [h.strip().lower() for h in header]
    missing = [c for c in STATEMENT_COLUMNS if c not in names]
    if missing:
        raise StatementFormatError(
            f"the header must name the columns {', '.join(STATEMENT_COLUMNS)}; missing: {', '.join(missing)}"
        )
    index = {c: names.index(c) for c in STATEMENT_COLUMNS}
    while True:
        number = reader.line_num + 1  # where the next record starts; a quoted field may span lines
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            yield RowError(number, f"the row cannot be read: {exc}")
            if reader.line_num < number:  # nothing was consumed: the rest cannot be read either
                return
            continue
        if cells is None:
            return
        if not any(c.strip() for c in cells):
            continue
        yield _row(number, cells, index, len(names))


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        yield line.removeprefix("\ufeff") if first else line  # spreadsheets often save a BOM
        first = False


def _row(number: int, cells: list[str], index: dict[str, int], width: int) -> StatementRow | RowError:
    if len(cells) < width:
        return RowError(number, f"expected {width} columns, found {len(cells)}")
    try:
        day = date.fromisoformat(cells[index["date"]].strip())
    except ValueError:
        return RowError(number, f"date {cells[index['date']]!r} is not YYYY-MM-DD")
    try:
        amount = yuan_to_fen(cells[index["amount"]])
    except ValueError:
        return RowError(number, f"amount {cells[index['amount']]!r} is not a yuan amount with ≤ 2 decimals")
    if amount == 0:
        return RowError(number, "the amount is zero")
    reference = cells[index["reference"]].strip()
    if not reference:
        return RowError(number, "the reference is empty")
    if len(reference) > MAX_REFERENCE:
        return RowError(number, f"the reference is longer than {MAX_REFERENCE} characters")
    return StatementRow(number, day, amount, reference)
