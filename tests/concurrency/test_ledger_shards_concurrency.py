"""A sharded hot account under real parallel writers (PostgreSQL): every payment and refund counts
exactly once in the logical balance, writers land on several rows, and ``verify`` passes."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from exchange.accounting.jobs import verify_ledger
from exchange.platform.db import Database, create_engine
from ledger import service as ledger
from ledger.models import accounts, postings
from tests.concurrency.test_ledger_concurrency import KEYS, WORKERS, make_wallets
from tests.ledger_helpers import open_accounts


async def test_concurrent_writers_to_a_sharded_account(pg_backend, clock):
    pool = Database(create_engine(pg_backend.url, pool_size=WORKERS + 2), retry_attempts=20)
    try:
        _, payers = await make_wallets(pool, clock, WORKERS, 10_000)
        (fees,) = await open_accounts(pool, clock.now(), ("exchange", "revenue", False))
        await pool.transaction(lambda s: ledger.shard_account(s, fees.id, shards=4, now=clock.now()))
        async with pool.read() as session:
            await ledger.load_shards(session)

        async def pay(payer):
            refunded = 0
            for n in range(12):
                await pool.transaction(
                    lambda s: ledger.transfer(s, payer.id, fees.id, 7, unit="CNY", kind="fee", now=clock.now())
                )
                if n % 4 == 3:  # a refund held on the fees, then posted (part) or voided
                    hold = await pool.transaction(
                        lambda s: ledger.hold(s, fees.id, payer.id, 5, unit="CNY", kind="refund", now=clock.now())
                    )
                    if n % 8 == 3:
                        await pool.transaction(lambda s, h=hold: ledger.post_hold(s, h.id, amount=3, now=clock.now()))
                        refunded += 3
                    else:
                        await pool.transaction(lambda s, h=hold: ledger.void_hold(s, h.id, now=clock.now()))
            return refunded

        refunds = sum(await asyncio.gather(*(pay(p) for p in payers)))
        async with pool.read() as session:
            now = await ledger.get_account(session, fees.id)
            rows = dict(
                (
                    await session.execute(
                        select(postings.c.account_id, func.count())
                        .join(accounts, accounts.c.id == postings.c.account_id)
                        .where((accounts.c.id == fees.id) | (accounts.c.shard_of == fees.id))
                        .group_by(postings.c.account_id)
                    )
                ).all()
            )
        assert now.balances() == (refunds, WORKERS * 12 * 7, 0, 0) and now.balance == WORKERS * 84 - refunds
        assert len(rows) > 1 and sum(rows.values()) == now.version
        report = await verify_ledger(pool, KEYS)
        assert report.ok, report.discrepancy
    finally:
        await pool.dispose()
