"""Concurrent voucher spending on PostgreSQL: one enterprise places and confirms 50 orders at once
against vouchers that cover only some of them. Never overspent; the rest refused 409."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from exchange.server.app import create_app
from tests.conftest import make_settings, running
from tests.voucher_helpers import (
    API,
    act,
    balance,
    cast,
    check_invariants,
    create_program,
    grant,
    key,
    order,
    service,
    top_up,
)

ORDERS = 50
VOUCHERS_EACH = 1_000_000
GRANTED = 12 * VOUCHERS_EACH


@pytest.fixture
async def pg_client(pg_backend, keys_dir, clock):
    app = create_app(make_settings(pg_backend, keys_dir, db_pool_size=20), clock=clock, run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client, app


async def test_parallel_orders_never_overspend_vouchers(pg_client):
    client, app = pg_client
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await grant(client, c.gov, program["id"], c.ent.org_id, GRANTED)
    await top_up(app, c.ent.org_id, ORDERS * VOUCHERS_EACH)
    testing = await service(client, c.prov, "testing", 2 * VOUCHERS_EACH)

    async def place_and_confirm() -> str:
        placed = await order(client, c.ent, testing["id"], VOUCHERS_EACH)
        if placed.status_code != 201:
            return f"{placed.status_code} {placed.json()['type']} (order)"
        confirmed = await act(client, c.prov, placed.json()["id"], "confirm")
        if confirmed.status_code != 200:
            return f"{confirmed.status_code} {confirmed.json()['type']} (confirm)"
        return "confirmed"

    outcomes = await asyncio.gather(*(place_and_confirm() for _ in range(ORDERS)))
    kinds = Counter(o.split(" (")[0] for o in outcomes)
    assert kinds == {"confirmed": GRANTED // VOUCHERS_EACH, "409 insufficient-funds": ORDERS - 12}, outcomes
    # Exactly the granted vouchers are held, and as much cash; nothing is available beyond it.
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (GRANTED, GRANTED)
    assert await balance(app, f"org:{c.ent.org_id}:cash") == (ORDERS * VOUCHERS_EACH, GRANTED)
    report = await check_invariants(client, c.gov, program["id"], [])
    assert report["enterprises"][0]["held"] == GRANTED and report["enterprises"][0]["available"] == 0
    confirmed = [
        o
        for o in (await client.get(f"{API}/service-orders", params={"limit": 100}, headers=c.ent.headers)).json()[
            "items"
        ]
        if o["state"] == "confirmed"
    ]
    assert len(confirmed) == 12 and {o["voucher_hold_id"] is not None for o in confirmed} == {True}


async def test_parallel_grants_stay_within_the_cap(pg_client):
    client, app = pg_client
    c = await cast(client, app)
    program = await create_program(client, app, c.gov, per_org_cap=10_000_000)
    url = f"{API}/voucher-programs/{program['id']}/grants"

    async def attempt() -> int:
        answer = await client.post(
            url, json={"org_id": c.ent.org_id, "amount": 1_000_000}, headers={**c.gov.headers, **key()}
        )
        return answer.status_code

    statuses = Counter(await asyncio.gather(*(attempt() for _ in range(25))))
    assert statuses == {201: 10, 422: 15}
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (10_000_000, 0)
    await check_invariants(client, c.gov, program["id"], [])


async def test_parallel_claims_of_one_order_redeem_it_once(pg_client):
    client, app = pg_client
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await grant(client, c.gov, program["id"], c.ent.org_id, 2_000_000)
    await top_up(app, c.ent.org_id, 2_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    placed = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    assert (await act(client, c.prov, placed["id"], "confirm")).status_code == 200
    assert (await act(client, c.prov, placed["id"], "deliver", {"results_summary": "报告"})).status_code == 200
    assert (await act(client, c.ent, placed["id"], "accept")).status_code == 200

    async def claim() -> int:
        answer = await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)
        return answer.status_code

    assert Counter(await asyncio.gather(*(claim() for _ in range(10)))) == {201: 1, 409: 9}


async def test_a_revocation_racing_confirmations_leaves_no_voucher_held(pg_client):
    client, app = pg_client
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await grant(client, c.gov, program["id"], c.ent.org_id, 20 * VOUCHERS_EACH)
    await top_up(app, c.ent.org_id, 20 * VOUCHERS_EACH)
    testing = await service(client, c.prov, "testing", 2 * VOUCHERS_EACH)
    placed = [(await order(client, c.ent, testing["id"], VOUCHERS_EACH)).json()["id"] for _ in range(20)]

    async def revoke() -> int:
        await asyncio.sleep(0.1)  # let some confirmations in first
        answer = await client.post(
            f"{API}/voucher-programs/{program['id']}/revoke-provider",
            json={"provider_org_id": c.prov.org_id, "reason": "虚假服务"},
            headers=c.gov.headers,
        )
        return answer.status_code

    async def confirm(order_id: str, delay: float) -> int:
        await asyncio.sleep(delay)  # spread the confirmations around the revocation
        answer = await act(client, c.prov, order_id, "confirm")
        return answer.status_code if answer.status_code == 200 else answer.json()["type"]

    confirms = [confirm(o, i * 0.02) for i, o in enumerate(placed)]
    outcomes = await asyncio.gather(*confirms[:10], revoke(), *confirms[10:])
    assert outcomes[10] == 201
    # Confirmed before the revocation, or refused after it: the order was cancelled, or the provider is revoked.
    assert set(outcomes[:10] + outcomes[11:]) <= {200, "invalid-state", "provider-revoked"}, outcomes
    states = Counter(
        o["state"]
        for o in (await client.get(f"{API}/service-orders", params={"limit": 100}, headers=c.ent.headers)).json()[
            "items"
        ]
    )
    assert states == {"cancelled": 20}  # the revocation cancelled every open order, confirmed or not
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (20 * VOUCHERS_EACH, 0)
    assert await balance(app, f"org:{c.ent.org_id}:cash") == (20 * VOUCHERS_EACH, 0)
    report = await check_invariants(client, c.gov, program["id"], [])
    assert report["enterprises"][0]["held"] == 0
