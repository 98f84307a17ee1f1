"""Twenty withdrawals at once on PostgreSQL: together they never hold more than the wallet has."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from exchange.platform.clock import ManualClock
from exchange.server.app import create_app
from tests.conftest import START, make_settings, running
from tests.helpers import operator, verified

API = "/api/v1"


async def test_twenty_parallel_withdrawals_cannot_exceed_the_available_balance(pg_backend, keys_dir):
    app = create_app(
        make_settings(pg_backend, keys_dir, db_pool_size=20), clock=ManualClock(START), run_background_tasks=False
    )
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t.local") as client:
        ops = await operator(client, app)
        buyer = await verified(client, ops)
        funded = await client.post(
            f"{API}/bank-transfers",
            json={"org_id": buyer.org_id, "amount": 100_000, "reference": "FUND-1"},
            headers=ops.headers,
        )
        assert funded.status_code == 201, funded.text

        async def withdraw(n: int) -> httpx.Response:
            return await client.post(
                f"{API}/withdrawals",
                json={"amount": 15_000, "payee": "acct"},
                headers={**buyer.headers, "Idempotency-Key": f"par-{n}"},
            )

        responses = await asyncio.gather(*(withdraw(n) for n in range(20)))
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {201: 6, 409: 14}, [r.text for r in responses if r.status_code not in (201, 409)]
        assert all(r.json()["type"] == "insufficient-funds" for r in responses if r.status_code == 409)
        wallet = (await client.get(f"{API}/wallet", headers=buyer.headers)).json()
        cny = next(b for b in wallet["balances"] if b["unit"] == "CNY")
        assert (cny["posted"], cny["held"], cny["available"]) == (100_000, 90_000, 10_000)
