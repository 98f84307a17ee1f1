"""PostgreSQL, real parallel connections: two sweepers (and a buyer paying at the same moment)
collect each due instalment once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from exchange.platform.db import Database, create_engine
from exchange.server.app import create_app
from tests.conftest import make_settings, running
from tests.helpers import relogin
from tests.instalment_helpers import AMOUNTS, SHARES, at, instalment_deal, show
from tests.trading_helpers import API, assert_ledger_sound, key, wallet

DEALS = 4
FUNDS = 100_000_000


@pytest.fixture
async def pg_app(pg_backend, keys_dir, clock):
    return create_app(make_settings(pg_backend, keys_dir, db_pool_size=10), clock=clock, run_background_tasks=False)


@pytest.fixture
async def pg_client(pg_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=pg_app)
    async with running(pg_app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


async def test_two_sweepers_and_the_buyer_collect_each_due_instalment_once(pg_client, pg_app):
    client, app = pg_client, pg_app
    ops = seller = None
    deals = []
    for n in range(DEALS):
        ops, seller, buyer, _, deal = await instalment_deal(
            client, app, FUNDS, ops=ops, seller=seller, buyer_name=f"华新材料{n}"
        )
        paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
        assert paid.status_code == 200, paid.text
        deals.append((buyer, deal))
    due = max(at(deal["payment_schedule"][1]["due_at"]) for _, deal in deals)
    app.state.clock.set(due)
    now = app.state.clock.now()
    await relogin(client, ops, seller, *(b for b, _ in deals))
    # The buyer pays the deal due last: at its due date it is payable, not past its deadline (the
    # earlier deals may be; the sweeper collects what is due before it looks at deadlines).
    first_buyer, first_deal = max(deals, key=lambda d: at(d[1]["payment_schedule"][1]["due_at"]))
    other = Database(create_engine(app.state.settings.database_url, pool_size=4))
    try:
        one, two, answer = await asyncio.gather(
            app.state.sweeper.run_once(app.state.db, now),
            app.state.sweeper.run_once(other, now),
            client.post(f"{API}/deals/{first_deal['id']}/pay", headers={**first_buyer.headers, **key()}),
        )
    finally:
        await other.dispose()
    # Whoever came first collected it; the others found it settled (the buyer: the next one is not due).
    assert answer.status_code in (200, 409), answer.text
    if answer.status_code == 409:
        assert answer.json()["type"] == "instalment-not-due", answer.text
    collected = one["instalment-collection"] + two["instalment-collection"]
    assert collected + (answer.status_code == 200) == DEALS, (one, two, answer.status_code)
    spent = sum(AMOUNTS[:2]) + SHARES[0].buyer_fee + SHARES[1].buyer_fee
    for buyer, deal in deals:
        shown = await show(client, buyer, deal["id"])
        assert [p["status"] for p in shown["payment_schedule"]] == ["settled", "settled", "pending"]
        assert len(shown["payment_schedule"][1]["payment_entry_ids"]) == 1
        assert (await wallet(client, buyer))["posted"] == FUNDS - spent
    assert (await wallet(client, seller))["posted"] == DEALS * (SHARES[0].seller_proceeds + SHARES[1].seller_proceeds)
    await assert_ledger_sound(app)
