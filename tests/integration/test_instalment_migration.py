"""Migration 0009_instalments on both databases, on a database that holds deals: downgraded to
0007 and upgraded again, each deal gets back the schedule it had (one payment of the whole price),
and the deals go on being paid and defaulted as before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from sqlalchemy import select

from exchange.platform.clock import ManualClock
from exchange.platform.db import create_engine
from exchange.platform.migrate import alembic_config, upgrade
from exchange.platform.settings import Settings
from exchange.server.app import create_app
from exchange.trading.models import DealInstalment
from tests.conftest import PG_ADMIN_DSN, START, running
from tests.helpers import operator, relogin, verified
from tests.instalment_helpers import instalment_deal
from tests.trading_helpers import API, announced, assert_ledger_sound, fund, intent, key, past_notice, sweep
from tests.trading_helpers import to_end_of_announcement as announcement_ends

COMPARED = (
    "seq",
    "due_months",
    "amount",
    "seller_fee",
    "buyer_fee",
    "buyer_fee_vouchers",
    "inventor_reward",
    "seller_proceeds",
    "from_deposit",
    "status",
    "due_at",
    "deadline_at",
    "paid_at",
    "settled_at",
)


@asynccontextmanager
async def fresh_database(name: str, backends: dict[str, Any], tmp_path: Path) -> AsyncIterator[str]:
    if isinstance(backends[name], str):
        pytest.skip(backends[name])
    if name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        return
    db_name = f"techx_migration_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{db_name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()


async def migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        if not down:
            await upgrade(engine, revision)
            return

        def run(connection: Any) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


@asynccontextmanager
async def serving(url: str, keys_dir: Path, clock: ManualClock) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    settings = Settings.from_env(env={}, database_url=url, keys_dir=keys_dir, log_json=False, log_level="WARNING")
    app = create_app(settings, clock=clock, run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield app, client


async def schedules(app: Any) -> dict[uuid.UUID, list[tuple[Any, ...]]]:
    found: dict[uuid.UUID, list[tuple[Any, ...]]] = {}
    async with app.state.db.read() as session:
        query = select(DealInstalment).order_by(DealInstalment.deal_id, DealInstalment.seq)
        for row in (await session.scalars(query)).all():
            found.setdefault(row.deal_id, []).append(tuple(getattr(row, name) for name in COMPARED))
    return found


async def deals_of(client: Any, app: Any, ops: Any, seller: Any, count: int) -> list[tuple[Any, dict[str, Any]]]:
    """Listed-mode deals at the listed price, announced together and signed by both parties."""
    buyers, listings = [], []
    for _ in range(count):
        buyer = await verified(client, ops)
        await fund(app, buyer, 100_000_000)
        listing = await announced(client, seller, ops, mode="listed")
        await intent(client, buyer, listing["id"])
        buyers.append(buyer)
        listings.append(listing)
    await announcement_ends(app, client, listings[-1], ops, seller, *buyers)
    deals = []
    for buyer, listing in zip(buyers, listings, strict=True):
        (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
            "items"
        ]
        accept = f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept"
        deals.append((await client.post(accept, headers=buyer.headers)).json())
    await past_notice(app, client, deals[-1]["notice_id"], ops, seller, *buyers)
    signed = []
    for buyer, deal in zip(buyers, deals, strict=True):
        for party in (seller, buyer):
            answer = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
            assert answer.status_code == 200, answer.text
        signed.append((buyer, answer.json()))
    return signed


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
async def test_deals_keep_their_schedule_through_a_downgrade_and_upgrade(name, backends, tmp_path, keys_dir):
    clock = ManualClock(START)
    async with fresh_database(name, backends, tmp_path) as url:
        await migrate(url, "head")
        async with serving(url, keys_dir, clock) as (app, client):
            ops = await operator(client, app)
            seller = await verified(client, ops, "university")
            (paid_buyer, paid), (_, defaulted) = await deals_of(client, app, ops, seller, 2)
            answer = await client.post(f"{API}/deals/{paid['id']}/pay", headers={**paid_buyer.headers, **key()})
            assert answer.status_code == 200 and answer.json()["state"] == "settled", answer.text
            (buyer, unpaid), (_, late) = await deals_of(client, app, ops, seller, 2)  # meanwhile one defaulted
            before = await schedules(app)
        assert len(before) == 4
        assert {rows[0][COMPARED.index("status")] for rows in before.values()} == {"settled", "defaulted", "pending"}

        await migrate(url, "0008_listing_terms", down=True)
        await migrate(url, "head")

        async with serving(url, keys_dir, clock) as (app, client):
            assert await schedules(app) == before  # each deal's one payment of the whole price, as it was
            await relogin(client, ops, seller, buyer)
            answer = await client.post(f"{API}/deals/{unpaid['id']}/pay", headers={**buyer.headers, **key()})
            assert answer.status_code == 200 and answer.json()["state"] == "settled", answer.text
            clock.advance(timedelta(days=30))
            assert (await sweep(app))["payment-deadline"] == 1  # the last one, unpaid, defaults
            await relogin(client, ops)
            for deal, state in ((late, "defaulted"), (defaulted, "defaulted"), (paid, "settled")):
                shown = (await client.get(f"{API}/deals/{deal['id']}", headers=ops.headers)).json()
                assert shown["state"] == shown["payment_schedule"][0]["status"] == state
            await assert_ledger_sound(app)


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
async def test_the_downgrade_refuses_a_deal_paying_instalments(name, backends, tmp_path, keys_dir):
    async with fresh_database(name, backends, tmp_path) as url:
        await migrate(url, "head")
        async with serving(url, keys_dir, ManualClock(START)) as (app, client):
            _, _, buyer, _, deal = await instalment_deal(client, app, 100_000_000)
            answer = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
            assert answer.json()["state"] == "paying_instalments", answer.text
        with pytest.raises(RuntimeError, match="1 deals are paying instalments"):
            await migrate(url, "0008_listing_terms", down=True)
        await migrate(url, "head")  # nothing was undone
