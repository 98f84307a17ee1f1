"""``ledger.movements`` and ``ledger.movements_of`` on both databases: an account's posted movements
by the entries made in a period, signed on the debit side, in reference order, batch by batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger import service as ledger
from tests.ledger_helpers import open_accounts

DAY = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


async def test_movements_are_signed_ordered_by_reference_and_batched(db):
    bank, wallet = await open_accounts(db, DAY, ("bank", "asset", False), ("wallet", "liability", True))

    async def write(session):
        made = {}
        for ref, amount, when in (("b", 300, DAY), ("a", 100, DAY), ("c", 50, DAY - timedelta(days=20))):
            made[ref] = await ledger.transfer(
                session, bank.id, wallet.id, amount, unit="CNY", kind="t", now=when, external_ref=ref
            )
        made["out"] = await ledger.transfer(
            session, wallet.id, bank.id, 40, unit="CNY", kind="t", now=DAY, external_ref="a-out"
        )
        made["bare"] = await ledger.transfer(session, bank.id, wallet.id, 7, unit="CNY", kind="t", now=DAY)
        await ledger.hold(session, wallet.id, bank.id, 5, unit="CNY", kind="t", now=DAY, external_ref="held")
        return made

    made = await db.transaction(write)
    bare = f"entry:{made['bare'].id}" if db.is_postgres else f"entry:{made['bare'].id.hex}"
    start, end = DAY - timedelta(days=1), DAY + timedelta(days=1)
    async with db.read() as session:
        batches = [
            [tuple(m) for m in batch]
            async for batch in ledger.movements(session, bank.id, start=start, end=end, batch=2)
        ]
        assert [len(batch) for batch in batches] == [2, 2]
        assert [m for batch in batches for m in batch] == [
            ("a", 100, made["a"].id),
            ("a-out", -40, made["out"].id),
            ("b", 300, made["b"].id),
            (bare, 7, made["bare"].id),
        ]
        on_wallet = [
            tuple(m) async for batch in ledger.movements(session, wallet.id, start=start, end=end) for m in batch
        ]
        assert ("a", -100, made["a"].id) in on_wallet and len(on_wallet) == 4
        some = await ledger.movements_of(session, bank.id, [made["c"].id, made["b"].id, wallet.id])
        assert sorted((m.reference, m.amount, m.entry_id) for m in some) == [
            ("b", 300, made["b"].id),
            ("c", 50, made["c"].id),
        ]
        assert await ledger.movements_of(session, bank.id, []) == []
