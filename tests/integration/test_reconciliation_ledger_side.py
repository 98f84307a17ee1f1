"""Reconciliation's ledger side, read through the ledger's API (``ledger.movements`` and
``ledger.movements_of``) on both databases: per reference, what the provider's account moved in
the period — a booked entry under its booking's reference and date, any other under its own —
merged from both reads in reference order, across batch boundaries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from exchange.accounting import chart
from exchange.payments.domain import Provider, period_bounds
from exchange.payments.models import Booking
from exchange.payments.reconcile import Record
from exchange.payments.reconciliation import _ledger_side
from ledger import service as ledger

MARCH = period_bounds(date(2026, 3, 1), date(2026, 3, 31))
IN_MARCH = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("batch", [1, 2, 2000])
async def test_the_ledger_side_sums_each_reference_once_in_order(db, batch):
    org = uuid.uuid4()

    async def book(session, amount, ref, now, *, into_bank=True, booked=None):
        bank = await chart.open_account(session, chart.BANK_SETTLEMENT, now)
        wallet = await chart.open_account(session, chart.org_cash(org), now)
        debit, credit = (bank.id, wallet.id) if into_bank else (wallet.id, bank.id)
        entry = await ledger.transfer(session, debit, credit, amount, unit="CNY", kind="t", now=now, external_ref=ref)
        if booked is not None:
            reference, value_at = booked
            session.add(
                Booking(entry_id=entry.id, provider=Provider.BANK_TRANSFER, reference=reference, value_at=value_at)
            )
        return entry.id

    async def write(*args, **kw):
        return await db.transaction(lambda s: book(s, *args, **kw))

    await write(10_000, "seed", FEBRUARY)  # the wallet's money, before the period
    a = await write(100, "A", IN_MARCH)
    b1 = await write(200, "B", IN_MARCH)
    b2 = await write(50, "B", IN_MARCH)
    bare = await write(70, None, IN_MARCH)  # no reference: named after the entry
    c = await write(300, "C", IN_MARCH, booked=("C-BANK", IN_MARCH))  # the booking renames it
    await write(400, "D", IN_MARCH, booked=("D", APRIL))  # the booking dates it in April
    e = await write(500, "E", FEBRUARY, booked=("B", IN_MARCH))  # made in February, booked to March under B
    await write(80, "G", IN_MARCH)
    await write(80, "G", IN_MARCH, into_bank=False)  # G moves nothing in the end
    await write(90, "late", APRIL)

    async def hold(session):  # a hold moves nothing posted
        bank = await chart.open_account(session, chart.BANK_SETTLEMENT, IN_MARCH)
        wallet = await chart.open_account(session, chart.org_cash(org), IN_MARCH)
        await ledger.hold(session, wallet.id, bank.id, 60, unit="CNY", kind="t", now=IN_MARCH, external_ref="H")

    await db.transaction(hold)
    async with db.read() as session:
        account = await chart.find_account(session, chart.BANK_SETTLEMENT)
    assert account is not None

    found = [r async for r in _ledger_side(db, account.id, *MARCH, batch)]
    bare_reference = f"entry:{bare}" if db.is_postgres else f"entry:{bare.hex}"
    assert found == [
        Record("A", 100, a),
        Record("B", 200 + 50 + 500, min(b1, b2, e)),
        Record("C-BANK", 300, c),
        Record(bare_reference, 70, bare),
    ]
    assert [r async for r in _ledger_side(db, None, *MARCH, batch)] == []
