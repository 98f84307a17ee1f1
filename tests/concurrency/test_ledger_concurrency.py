"""The ledger under real parallel connections.

The bank test (as Jepsen's): workers move money between accounts while readers read every balance
in one snapshot; every read sums to the same total, no balance goes negative, and at the end every
balance is exactly what the successful transfers make it (no lost update). Then a hot account, one
hold resolved by many at once, one idempotency key sent by many at once, and opposite transfers
that would deadlock without a global lock order. PostgreSQL is the point; SQLite (whose writers
queue) must give the same answers.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.accounting.jobs import verify_ledger
from exchange.platform.db import Database, create_engine
from exchange.platform.keys import Keys, Signer
from ledger import seal
from ledger import service as ledger
from ledger.domain import EntrySpec
from ledger.errors import AlreadyPosted, AlreadyVoided, InsufficientFunds
from ledger.store import GATED_ACCOUNTS
from tests.ledger_helpers import balances, code, open_accounts

WORKERS = 8
KEYS = Keys.single(Signer(Ed25519PrivateKey.generate()), jwt_secret="unused", data_key=bytes(32))


@pytest.fixture
async def pool(backend):
    """A database with a connection per worker."""
    database = Database(create_engine(backend.url, pool_size=WORKERS + 2), retry_attempts=20)
    yield database
    await database.dispose()


async def make_wallets(db, clock, n, each):
    bank, *wallets = await open_accounts(db, clock.now(), ("bank", "asset", False), *[("org", "liability", True)] * n)
    await db.transaction(
        lambda s: ledger.post_batch(
            s, [EntrySpec.transfer(bank.id, w.id, each, unit="CNY", kind="top_up") for w in wallets], now=clock.now()
        )
    )
    return bank, wallets


async def test_bank_transfers_conserve_money_in_every_snapshot(pool, clock):
    n, each = 6, 1_000
    _, wallets = await make_wallets(pool, clock, n, each)
    prefix = wallets[0].code.split(":")[0]
    moved: list[tuple[int, int, int]] = []
    reads: list[list[int]] = []
    done = asyncio.Event()

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(30):
            i, j = rng.sample(range(n), 2)
            amount = rng.randint(1, 400)
            kind = rng.choice(["transfer", "transfer", "hold"])
            try:
                if kind == "transfer":
                    await pool.transaction(
                        lambda s, i=i, j=j, amount=amount: ledger.transfer(
                            s, wallets[i].id, wallets[j].id, amount, unit="CNY", kind="t", now=clock.now()
                        )
                    )
                    moved.append((i, j, amount))
                else:
                    hold = await pool.transaction(
                        lambda s, i=i, j=j, amount=amount: ledger.hold(
                            s, wallets[i].id, wallets[j].id, amount, unit="CNY", kind="h", now=clock.now()
                        )
                    )
                    if rng.random() < 0.5:
                        posted = rng.randint(1, amount)
                        await pool.transaction(
                            lambda s, h=hold, p=posted: ledger.post_hold(s, h.id, amount=p, now=clock.now())
                        )
                        moved.append((i, j, posted))
                    else:
                        await pool.transaction(lambda s, h=hold: ledger.void_hold(s, h.id, now=clock.now()))
            except InsufficientFunds:
                pass

    async def reader() -> None:
        while not done.is_set():
            async with pool.read() as session:
                page = await ledger.list_accounts(session, code_prefix=f"{prefix}:", limit=100)
            mine = [a for a in page.items if a.id in {w.id for w in wallets}]
            reads.append([a.balance for a in mine] + [min(a.available for a in mine)])
            await asyncio.sleep(0)

    async def verifier() -> None:
        # The whole ledger checked while money moves: one snapshot, so nothing looks out of balance.
        while not done.is_set():
            report = await verify_ledger(pool, KEYS)
            assert report.ok, report.discrepancy
            verified.append(report)

    verified: list[seal.Report] = []
    readers = [asyncio.create_task(reader()) for _ in range(2)] + [asyncio.create_task(verifier())]
    await asyncio.gather(*(worker(seed) for seed in range(WORKERS)))
    done.set()
    await asyncio.gather(*readers)
    assert verified

    assert len(reads) > 5 and moved
    for read in reads:
        *balances_, lowest_available = read
        assert sum(balances_) == n * each  # conservation in every snapshot
        assert lowest_available >= 0  # no overdraft, ever
    expected = [each] * n
    for i, j, amount in moved:
        expected[i] -= amount
        expected[j] += amount
    final = await balances(pool, *wallets)
    assert [cp - dp for dp, cp, _, _ in final] == expected  # no lost update
    assert all(dq == cq == 0 for _, _, dq, cq in final)
    report = await verify_ledger(pool, KEYS)
    assert report.ok, report.discrepancy


async def test_a_hot_account_receives_every_payment(pool, clock):
    _, payers = await make_wallets(pool, clock, WORKERS, 10_000)
    (fees,) = await open_accounts(pool, clock.now(), ("exchange", "revenue", False))

    async def pay(payer):
        for _ in range(10):
            await pool.transaction(
                lambda s: ledger.transfer(s, payer.id, fees.id, 7, unit="CNY", kind="fee", now=clock.now())
            )

    await asyncio.gather(*(pay(p) for p in payers))
    assert await balances(pool, fees) == [(0, WORKERS * 10 * 7, 0, 0)]
    assert [cp - dp for dp, cp, _, _ in await balances(pool, *payers)] == [10_000 - 70] * WORKERS


async def test_a_hot_wallet_is_never_overdrawn_by_concurrent_spending(pool, clock):
    _, (wallet,) = await make_wallets(pool, clock, 1, 1_000)
    shops = await open_accounts(pool, clock.now(), *[("shop", "liability", False)] * 4)

    async def spend(index):
        try:
            await pool.transaction(
                lambda s: ledger.transfer(
                    s, wallet.id, shops[index % 4].id, 100, unit="CNY", kind="buy", now=clock.now()
                )
            )
            return True
        except InsufficientFunds:
            return False

    outcomes = await asyncio.gather(*(spend(i) for i in range(30)))
    assert outcomes.count(True) == 10
    assert await balances(pool, wallet) == [(1_000, 1_000, 0, 0)]


async def test_a_hold_resolved_by_many_at_once_resolves_once(pool, clock):
    _, (wallet, escrow) = await make_wallets(pool, clock, 2, 1_000)
    hold = await pool.transaction(
        lambda s: ledger.hold(s, wallet.id, escrow.id, 600, unit="CNY", kind="deposit_hold", now=clock.now())
    )

    async def resolve(index):
        try:
            if index % 2:
                await pool.transaction(lambda s: ledger.post_hold(s, hold.id, amount=400, now=clock.now()))
                return "posted"
            await pool.transaction(lambda s: ledger.void_hold(s, hold.id, now=clock.now()))
            return "voided"
        except (AlreadyPosted, AlreadyVoided) as refused:
            return refused.problem_type

    outcomes = Counter(await asyncio.gather(*(resolve(i) for i in range(12))))
    winner = "posted" if outcomes["posted"] else "voided"
    assert outcomes[winner] == 1 and outcomes[f"already-{winner}"] == 11
    expected = (400, 1_000, 0, 0) if winner == "posted" else (0, 1_000, 0, 0)
    assert (await balances(pool, wallet))[0] == expected


async def test_one_idempotency_key_sent_many_times_at_once_moves_money_once(pool, clock):
    _, (wallet, shop) = await make_wallets(pool, clock, 2, 1_000)
    key = code("order")

    async def send():
        return await pool.transaction(
            lambda s: ledger.transfer(
                s, wallet.id, shop.id, 250, unit="CNY", kind="buy", now=clock.now(), idempotency_key=key
            )
        )

    results = await asyncio.gather(*(send() for _ in range(10)))
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await balances(pool, wallet, shop) == [(250, 1_000, 0, 0), (0, 1_250, 0, 0)]


async def test_opposite_transfers_between_the_same_accounts_all_complete(pool, clock):
    """A→B and B→A at once lock A and B in the same (id) order, so neither waits for the other forever."""
    _, (a, b) = await make_wallets(pool, clock, 2, 100_000)

    async def shuttle(forward: bool):
        source, target = (a, b) if forward else (b, a)
        for _ in range(15):
            await pool.transaction(
                lambda s: ledger.transfer(s, source.id, target.id, 3, unit="CNY", kind="t", now=clock.now())
            )

    await asyncio.gather(*(shuttle(i % 2 == 0) for i in range(WORKERS)))
    assert [cp - dp for dp, cp, _, _ in await balances(pool, a, b)] == [100_000, 100_000]


async def test_entries_written_alone_at_once_keep_every_limit_and_key(pool, clock):
    """The one-round-trip writes (``post_entry_alone``, ``post_batch_alone``) under the same races:
    a wallet spent by many at once is never overdrawn, one key sent many times moves money once,
    and batches over the same accounts all complete, those of many accounts taking turns."""
    _, (wallet, shop) = await make_wallets(pool, clock, 2, 1_000)
    key = code("order")

    async def spend(index):
        spec = EntrySpec.transfer(wallet.id, shop.id, 100, unit="CNY", kind="buy")
        try:
            return await ledger.post_entry_alone(pool, spec, now=clock.now(), idempotency_key=f"{key}:{index % 12}")
        except InsufficientFunds:
            return None

    results = [r for r in await asyncio.gather(*(spend(i) for i in range(36))) if r is not None]
    assert len({r.id for r in results}) == 10 and sum(not r.replayed for r in results) == 10
    assert await balances(pool, wallet, shop) == [(1_000, 1_000, 0, 0), (0, 2_000, 0, 0)]

    shops = await open_accounts(pool, clock.now(), *[("shop", "liability", False)] * (GATED_ACCOUNTS + 4))

    async def batch(offset):
        # A ring over 5 accounts (no turn) or over all of them (more than GATED_ACCOUNTS: a turn).
        ring = 5 if offset % 2 else len(shops)
        specs = [
            EntrySpec.transfer(
                shops[(offset + i) % ring].id, shops[(offset + i + 1) % ring].id, 3, unit="CNY", kind="t"
            )
            for i in range(ring)
        ]
        return await ledger.post_batch_alone(pool, specs, now=clock.now())

    done = await asyncio.gather(*(batch(i) for i in range(2 * WORKERS)))
    assert [len(result.results) for result in done] == [5 if i % 2 else len(shops) for i in range(2 * WORKERS)]
    assert [cp - dp for dp, cp, _, _ in await balances(pool, *shops)] == [0] * len(shops)
