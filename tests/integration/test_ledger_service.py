"""The ledger's service on both databases: accounts, entries, reversals, batches, idempotency, history."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger import service as ledger
from ledger.domain import MAX_AMOUNT, EntrySpec, PostingSpec, Side
from ledger.errors import (
    AccountClosed,
    AccountExists,
    AlreadyReversed,
    HasPendingBalance,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAsOf,
    InvalidCursor,
    InvalidEntry,
    NotFound,
    NotReversible,
    UnbalancedEntry,
    UnitMismatch,
    UnknownAccount,
    UnknownUnit,
)
from ledger.models import entries, idempotency, postings
from tests.ledger_helpers import available, balances, code, open_accounts


async def fund(db, clock, source, target, amount, **kw):
    return await db.transaction(
        lambda s: ledger.transfer(s, source.id, target.id, amount, unit="CNY", kind="top_up", now=clock.now(), **kw)
    )


async def count(db, table) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(table))


# -- accounts --------------------------------------------------------------------------------------------


async def test_an_account_code_is_unique(db, clock):
    (first,) = await open_accounts(db, clock.now(), ("org", "liability", True))
    with pytest.raises(AccountExists):
        await db.transaction(
            lambda s: ledger.create_account(s, code=first.code, unit="CNY", type="liability", now=clock.now())
        )


async def test_get_or_create_returns_the_same_account_and_refuses_a_different_one(db, clock):
    cash = code("org")

    def get(unit="CNY", type_="liability"):
        return db.transaction(lambda s: ledger.get_or_create_account(s, cash, unit, type_, True, now=clock.now()))

    first, again = await get(), await get()
    assert first.id == again.id and again.no_overdraft
    with pytest.raises(AccountExists):
        await get(unit="VCH")


async def test_concurrent_creators_of_one_account_get_one_account(db, clock):
    fees = code("exchange")
    created = await asyncio.gather(
        *(
            db.transaction(lambda s: ledger.get_or_create_account(s, fees, "CNY", "revenue", now=clock.now()))
            for _ in range(8)
        )
    )
    assert len({a.id for a in created}) == 1
    async with db.read() as session:
        listed = await ledger.list_accounts(session, code_prefix=fees)
    assert [a.code for a in listed.items] == [fees]


async def test_accounts_need_a_known_unit_and_a_code_shaped_like_one(db, clock):
    with pytest.raises(UnknownUnit):
        await db.transaction(lambda s: ledger.create_account(s, code=code(), unit="USD", type="asset", now=clock.now()))
    with pytest.raises(InvalidEntry):
        await db.transaction(
            lambda s: ledger.create_account(s, code="Not a Code", unit="CNY", type="asset", now=clock.now())
        )


async def test_accounts_are_listed_in_code_order_page_by_page(db, clock):
    prefix = code("page")
    for name in ("c", "a", "b"):
        await db.transaction(
            lambda s, name=name: ledger.create_account(
                s, code=f"{prefix}:{name}", unit="CNY", type="asset", now=clock.now()
            )
        )
    async with db.read() as session:
        first = await ledger.list_accounts(session, limit=2, code_prefix=prefix)
        second = await ledger.list_accounts(session, limit=2, code_prefix=prefix, cursor=first.next_cursor)
        with pytest.raises(InvalidCursor):
            await ledger.list_accounts(session, cursor="not-a-cursor")
    assert [a.code for a in first.items + second.items] == [f"{prefix}:a", f"{prefix}:b", f"{prefix}:c"]
    assert second.next_cursor is None


# -- entries ------------------------------------------------------------------------------------------------


async def test_a_transfer_debits_one_account_and_credits_the_other(db, clock):
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
    entry = await fund(db, clock, bank, wallet, 10_000)
    assert entry.status == "posted" and entry.phase == "posted"
    assert await balances(db, bank, wallet) == [(10_000, 0, 0, 0), (0, 10_000, 0, 0)]
    async with db.read() as session:
        account = await ledger.get_account(session, wallet.id)
        stored = await ledger.get_entry(session, entry.id)
    assert (account.balance, account.available, account.version) == (10_000, 10_000, 1)
    assert [(p.side, p.amount) for p in stored.postings] == [(Side.DEBIT, 10_000), (Side.CREDIT, 10_000)]


async def test_one_entry_may_credit_several_accounts(db, clock):
    escrow, seller, fees = await open_accounts(
        db, clock.now(), ("deal", "liability", False), ("org", "liability", True), ("exchange", "revenue", False)
    )
    bank, _ = await open_accounts(db, clock.now(), ("bank", "asset", False), ("x", "asset", False))
    await fund(db, clock, bank, escrow, 1_000_000)
    settlement = EntrySpec(
        unit="CNY",
        kind="settlement",
        postings=(
            PostingSpec(escrow.id, Side.DEBIT, 1_000_000),
            PostingSpec(seller.id, Side.CREDIT, 990_000),
            PostingSpec(fees.id, Side.CREDIT, 10_000),
        ),
        metadata={"deal": "D-1", "备注": "成交结算"},
        external_ref="deal:D-1",
    )
    entry = await db.transaction(lambda s: ledger.post_entry(s, settlement, now=clock.now()))
    assert entry.metadata == {"deal": "D-1", "备注": "成交结算"}
    assert await balances(db, escrow, seller, fees) == [
        (1_000_000, 1_000_000, 0, 0),
        (0, 990_000, 0, 0),
        (0, 10_000, 0, 0),
    ]


async def test_money_may_pass_through_an_empty_wallet_within_one_entry(db, clock):
    """No_overdraft is judged per entry: out and back in within one entry leaves the wallet as it was."""
    bank, wallet, shop = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("shop", "liability", False)
    )
    through = EntrySpec(
        "CNY",
        "pass_through",
        (
            PostingSpec(wallet.id, Side.DEBIT, 100),
            PostingSpec(shop.id, Side.CREDIT, 100),
            PostingSpec(bank.id, Side.DEBIT, 100),
            PostingSpec(wallet.id, Side.CREDIT, 100),
        ),
    )
    await db.transaction(lambda s: ledger.post_entry(s, through, now=clock.now()))
    assert await balances(db, wallet, shop) == [(100, 100, 0, 0), (0, 100, 0, 0)]
    async with db.read() as session:
        lines = (await ledger.statement(session, wallet.id)).items
    assert [(line.seq, line.balance) for line in lines] == [(2, 0), (1, -100)]


async def test_bad_entries_are_refused_and_write_nothing(db, clock):
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
    (vouchers,) = await open_accounts(db, clock.now(), ("org", "liability", True), unit="VCH")
    closed, other = await open_accounts(db, clock.now(), ("closed", "liability", False), ("o", "liability", False))
    await db.transaction(lambda s: ledger.close_account(s, closed.id, now=clock.now()))
    await fund(db, clock, bank, wallet, 500)
    before = await balances(db, bank, wallet, vouchers, closed)
    entries_before = await count(db, entries)

    def spec(*legs, unit="CNY"):
        return EntrySpec(unit, "transfer", tuple(PostingSpec(a, Side(s), n) for a, s, n in legs))

    bad = [
        (spec((wallet.id, "debit", 100), (bank.id, "credit", 90)), UnbalancedEntry),
        (spec((wallet.id, "debit", 0), (bank.id, "credit", 0)), InvalidEntry),
        (spec((wallet.id, "debit", -1), (bank.id, "credit", -1)), InvalidEntry),
        (spec((bank.id, "debit", MAX_AMOUNT + 1), (wallet.id, "credit", MAX_AMOUNT + 1)), InvalidEntry),
        (spec((bank.id, "debit", 10), (vouchers.id, "credit", 10)), UnitMismatch),
        (spec((bank.id, "debit", 10), (uuid.uuid4(), "credit", 10)), UnknownAccount),
        (spec((bank.id, "debit", 10), (closed.id, "credit", 10)), AccountClosed),
        (spec((wallet.id, "debit", 501), (other.id, "credit", 501)), InsufficientFunds),
        (spec((bank.id, "debit", 10), (wallet.id, "credit", 10), unit="USD"), UnknownUnit),
    ]
    for entry, error in bad:
        with pytest.raises(error):
            await db.transaction(lambda s, entry=entry: ledger.post_entry(s, entry, now=clock.now()))
    assert await balances(db, bank, wallet, vouchers, closed) == before
    assert await count(db, entries) == entries_before


async def test_a_closed_account_takes_no_postings_and_cannot_close_with_holds(db, clock):
    bank, wallet, escrow = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("deal", "liability", False)
    )
    await fund(db, clock, bank, wallet, 100)
    hold = await db.transaction(
        lambda s: ledger.hold(s, wallet.id, escrow.id, 40, unit="CNY", kind="deposit_hold", now=clock.now())
    )
    with pytest.raises(HasPendingBalance):
        await db.transaction(lambda s: ledger.close_account(s, wallet.id, now=clock.now()))
    await db.transaction(lambda s: ledger.void_hold(s, hold.id, now=clock.now()))
    closed = await db.transaction(lambda s: ledger.close_account(s, wallet.id, now=clock.now()))
    assert closed.closed
    with pytest.raises(AccountClosed):
        await fund(db, clock, bank, wallet, 1)


async def test_the_ledger_joins_the_callers_transaction(db, clock):
    """A module that moves money and then fails rolls the money back with its own changes."""
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))

    async def pay_then_fail(session):
        await ledger.transfer(session, bank.id, wallet.id, 700, unit="CNY", kind="top_up", now=clock.now())
        await ledger.transfer(session, bank.id, wallet.id, 300, unit="CNY", kind="top_up", now=clock.now())
        raise RuntimeError("the deal could not be saved")

    with pytest.raises(RuntimeError):
        await db.transaction(pay_then_fail)
    assert await balances(db, bank, wallet) == [(0, 0, 0, 0), (0, 0, 0, 0)]

    async def pay_twice(session):
        await ledger.transfer(session, bank.id, wallet.id, 700, unit="CNY", kind="top_up", now=clock.now())
        return await ledger.transfer(session, wallet.id, bank.id, 650, unit="CNY", kind="withdrawal", now=clock.now())

    await db.transaction(pay_twice)  # the second transfer sees the first one's money
    assert await available(db, wallet) == 50


# -- reversals ------------------------------------------------------------------------------------------------


async def test_an_entry_is_reversed_at_most_once(db, clock):
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
    entry = await fund(db, clock, bank, wallet, 300)
    reversal = await db.transaction(lambda s: ledger.reverse(s, entry.id, description="wrong payer", now=clock.now()))
    assert reversal.reverses_id == entry.id
    assert [(p.account_id, p.side, p.amount) for p in reversal.postings] == [
        (bank.id, Side.CREDIT, 300),
        (wallet.id, Side.DEBIT, 300),
    ]
    assert await balances(db, bank, wallet) == [(300, 300, 0, 0), (300, 300, 0, 0)]
    async with db.read() as session:
        original = await ledger.get_entry(session, entry.id)
    assert original.status == "reversed" and original.reversed_by == reversal.id
    with pytest.raises(AlreadyReversed):
        await db.transaction(lambda s: ledger.reverse(s, entry.id, now=clock.now()))
    with pytest.raises(NotReversible):
        await db.transaction(lambda s: ledger.reverse(s, reversal.id, now=clock.now()))


async def test_a_reversal_may_not_overdraw_and_a_hold_is_voided_not_reversed(db, clock):
    bank, wallet, shop = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("org", "liability", True)
    )
    top_up = await fund(db, clock, bank, wallet, 100)
    await db.transaction(
        lambda s: ledger.transfer(s, wallet.id, shop.id, 80, unit="CNY", kind="purchase", now=clock.now())
    )
    with pytest.raises(InsufficientFunds):  # the money was spent: reversing the top-up would overdraw
        await db.transaction(lambda s: ledger.reverse(s, top_up.id, now=clock.now()))
    hold = await db.transaction(
        lambda s: ledger.hold(s, wallet.id, shop.id, 10, unit="CNY", kind="deposit_hold", now=clock.now())
    )
    with pytest.raises(NotReversible):
        await db.transaction(lambda s: ledger.reverse(s, hold.id, now=clock.now()))


# -- batches ----------------------------------------------------------------------------------------------


async def test_an_atomic_batch_writes_all_or_nothing(db, clock):
    bank, a, b = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("org", "liability", True)
    )
    batch = [
        EntrySpec.transfer(bank.id, a.id, 100, unit="CNY", kind="top_up"),
        EntrySpec.transfer(a.id, b.id, 60, unit="CNY", kind="payment"),  # spends what the first brought
        EntrySpec.transfer(a.id, b.id, 60, unit="CNY", kind="payment"),  # 40 left: refused
    ]
    with pytest.raises(InsufficientFunds) as refused:
        await db.transaction(lambda s: ledger.post_batch(s, batch, atomic=True, now=clock.now()))
    assert refused.value.extra["index"] == 2 and refused.value.errors[0]["field"].startswith("entries.2")
    assert await balances(db, bank, a, b) == [(0, 0, 0, 0)] * 3
    result = await db.transaction(lambda s: ledger.post_batch(s, batch[:2], atomic=True, now=clock.now()))
    assert [item.status for item in result.results] == [201, 201]
    assert await balances(db, a, b) == [(60, 100, 0, 0), (0, 60, 0, 0)]


async def test_a_non_atomic_batch_answers_for_each_entry(db, clock):
    bank, a, b = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("org", "liability", True)
    )
    batch = [
        EntrySpec.transfer(bank.id, a.id, 100, unit="CNY", kind="top_up"),
        EntrySpec.transfer(a.id, b.id, 500, unit="CNY", kind="payment"),
        EntrySpec("CNY", "broken", (PostingSpec(a.id, Side.DEBIT, 5), PostingSpec(b.id, Side.CREDIT, 4))),
        EntrySpec.transfer(a.id, b.id, 30, unit="CNY", kind="payment", pending=True),
    ]
    result = await db.transaction(lambda s: ledger.post_batch(s, batch, atomic=False, now=clock.now()))
    assert [item.status for item in result.results] == [201, 409, 422, 201]
    assert [item.problem.type for item in result.results if item.problem] == ["insufficient-funds", "unbalanced-entry"]
    assert result.results[3].entry.status == "pending"
    assert await balances(db, a, b) == [(0, 100, 30, 0), (0, 0, 0, 30)]


async def test_a_batch_has_one_to_a_thousand_entries(db, clock):
    bank, a = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
    one = EntrySpec.transfer(bank.id, a.id, 1, unit="CNY", kind="top_up")
    for size in (0, 1001):
        with pytest.raises(InvalidEntry):
            await db.transaction(lambda s, size=size: ledger.post_batch(s, [one] * size, now=clock.now()))
    result = await db.transaction(lambda s: ledger.post_batch(s, [one] * 1000, now=clock.now()))
    assert len(result.results) == 1000
    assert await balances(db, a) == [(0, 1000, 0, 0)]


# -- idempotency -------------------------------------------------------------------------------------------


async def test_the_same_key_and_request_returns_the_original_entry(db, clock):
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
    first = await fund(db, clock, bank, wallet, 250, idempotency_key="payment:42")
    clock.advance(timedelta(minutes=5))
    again = await fund(db, clock, bank, wallet, 250, idempotency_key="payment:42")
    assert again.replayed and not first.replayed
    assert (again.id, again.created_at, again.postings) == (first.id, first.created_at, first.postings)
    assert await balances(db, wallet) == [(0, 250, 0, 0)]
    with pytest.raises(IdempotencyKeyReused):
        await fund(db, clock, bank, wallet, 251, idempotency_key="payment:42")
    assert await balances(db, wallet) == [(0, 250, 0, 0)]


async def test_a_refused_request_stores_nothing_so_its_key_can_be_retried(db, clock):
    bank, wallet, shop = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("org", "liability", True)
    )

    def buy():
        return db.transaction(
            lambda s: ledger.transfer(
                s, wallet.id, shop.id, 90, unit="CNY", kind="purchase", now=clock.now(), idempotency_key="order:7"
            )
        )

    with pytest.raises(InsufficientFunds):
        await buy()
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(idempotency)) == 0
    await fund(db, clock, bank, wallet, 100)
    bought = await buy()
    assert not bought.replayed and await available(db, wallet) == 10


async def test_holds_posts_voids_reversals_and_batches_replay_too(db, clock):
    bank, wallet, escrow = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("deal", "liability", False)
    )
    await fund(db, clock, bank, wallet, 1000)

    async def twice(make):
        first = await db.transaction(make)
        second = await db.transaction(make)
        assert second.replayed and not first.replayed
        return first, second

    hold, hold_again = await twice(
        lambda s: ledger.hold(
            s, wallet.id, escrow.id, 300, unit="CNY", kind="deposit_hold", now=clock.now(), idempotency_key="h"
        )
    )
    assert hold_again.id == hold.id
    posted, posted_again = await twice(
        lambda s: ledger.post_hold(s, hold.id, amount=200, now=clock.now(), idempotency_key="p")
    )
    assert posted_again.id == posted.id
    await twice(lambda s: ledger.reverse(s, posted.id, now=clock.now(), idempotency_key="r"))
    batch = [EntrySpec.transfer(wallet.id, escrow.id, 10, unit="CNY", kind="fee")] * 3
    first, second = await twice(
        lambda s: ledger.post_batch(s, batch, atomic=False, now=clock.now(), idempotency_key="b")
    )
    assert [i.entry.id for i in first.results] == [i.entry.id for i in second.results]
    # 1000 in, 200 posted of the hold and reversed, 3 × 10 out: once each, however often asked.
    assert await balances(db, wallet) == [(230, 1200, 0, 0)]


# -- history ------------------------------------------------------------------------------------------------


async def test_balances_as_of_an_entry_or_a_time(db, clock):
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
    start = clock.now()
    first = await fund(db, clock, bank, wallet, 100)
    clock.advance(timedelta(hours=1))
    second = await fund(db, clock, bank, wallet, 50)
    clock.advance(timedelta(hours=1))
    hold = await db.transaction(
        lambda s: ledger.hold(s, wallet.id, bank.id, 30, unit="CNY", kind="withdrawal", now=clock.now())
    )
    async with db.read() as session:
        at = {
            "first": await ledger.get_account(session, wallet.id, as_of=first.id),
            "second": await ledger.get_account(session, wallet.id, as_of=second.id),
            "hold": await ledger.get_account(session, wallet.id, as_of=hold.id),
            "before": await ledger.get_account(session, wallet.id, as_of=start - timedelta(seconds=1)),
            "between": await ledger.get_account(session, wallet.id, as_of=start + timedelta(minutes=30)),
        }
        with pytest.raises(InvalidAsOf):
            await ledger.get_account(session, wallet.id, as_of=uuid.uuid4())
    assert {k: (a.balance, a.available) for k, a in at.items()} == {
        "first": (100, 100),
        "second": (150, 150),
        "hold": (150, 120),
        "before": (0, 0),
        "between": (100, 100),
    }
    assert ledger.parse_as_of(str(first.id)) == first.id
    assert ledger.parse_as_of("2026-03-02T09:00:00+08:00") == start
    for bad in ("yesterday", "2026-03-02T09:00:00"):
        with pytest.raises(InvalidAsOf):
            ledger.parse_as_of(bad)


async def test_a_statement_lists_postings_newest_first_with_running_balances(db, clock):
    bank, wallet, escrow = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("deal", "liability", False)
    )
    await fund(db, clock, bank, wallet, 1000)
    hold = await db.transaction(
        lambda s: ledger.hold(s, wallet.id, escrow.id, 400, unit="CNY", kind="deposit_hold", now=clock.now())
    )
    await db.transaction(lambda s: ledger.post_hold(s, hold.id, amount=300, now=clock.now()))
    await fund(db, clock, bank, wallet, 5)
    async with db.read() as session:
        page = await ledger.statement(session, wallet.id, limit=3)
        rest = await ledger.statement(session, wallet.id, limit=3, cursor=page.next_cursor)
        as_of_hold = await ledger.statement(session, wallet.id, as_of=hold.id)
    lines = page.items + rest.items
    assert [(line.seq, line.phase, line.balance, line.available) for line in lines] == [
        (4, "posted", 705, 705),
        (3, "post_pending", 700, 700),
        (2, "pending", 1000, 600),
        (1, "posted", 1000, 1000),
    ]
    assert rest.next_cursor is None
    assert [line.seq for line in as_of_hold.items] == [2, 1]


async def test_trial_balance_sums_to_zero_per_unit(db, clock):
    bank, wallet, fees = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("exchange", "revenue", False)
    )
    await fund(db, clock, bank, wallet, 1000)
    await db.transaction(lambda s: ledger.transfer(s, wallet.id, fees.id, 10, unit="CNY", kind="fee", now=clock.now()))
    async with db.read() as session:
        trial = await ledger.trial_balance(session)
    (cny,) = [u for u in trial.units if u.unit == "CNY"]
    assert trial.balanced and cny.balanced and cny.debits_posted == cny.credits_posted == 1010
    by_type = {t.type: t.balance for t in cny.types}
    assert by_type == {"asset": 1000, "liability": 990, "revenue": 10}


async def test_an_unknown_entry_or_account_is_not_found(db):
    async with db.read() as session:
        with pytest.raises(NotFound):
            await ledger.get_entry(session, uuid.uuid4())
        with pytest.raises(NotFound):
            await ledger.get_account(session, uuid.uuid4())


# -- immutability --------------------------------------------------------------------------------------------


@pytest.mark.postgres_only
async def test_postgres_refuses_to_change_or_delete_entries_and_postings(pg_backend, clock):
    from exchange.platform.db import Database, create_engine

    db = Database(create_engine(pg_backend.url, pool_size=2))
    try:
        bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))
        entry = await fund(db, clock, bank, wallet, 100)
        for statement in (
            "UPDATE ledger_postings SET amount = 1 WHERE entry_id = :id",
            "DELETE FROM ledger_postings WHERE entry_id = :id",
            "UPDATE ledger_entries SET description = 'x' WHERE id = :id",
            "DELETE FROM ledger_entries WHERE id = :id",
        ):
            with pytest.raises(DBAPIError) as refused:
                await db.transaction(lambda s, statement=statement: s.execute(text(statement), {"id": entry.id}))
            assert "immutable" in str(refused.value)
        async with db.read() as session:
            assert (
                await session.scalar(select(func.sum(postings.c.amount)).where(postings.c.entry_id == entry.id)) == 200
            )
    finally:
        await db.dispose()
