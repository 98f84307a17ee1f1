"""Ten deliveries of the same payment at once on PostgreSQL: the wallet is credited once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx

from exchange.payments.gateway import sign
from exchange.platform.clock import ManualClock
from exchange.server.app import create_app
from tests import stripe_local
from tests.conftest import make_settings, running
from tests.helpers import operator, verified
from tests.stripe_local import API_KEY, WEBHOOK_SECRET, events, pay

localstripe_url = stripe_local.localstripe_url
localstripe = stripe_local.localstripe

API = "/api/v1"


async def test_concurrent_deliveries_credit_the_wallet_once(pg_backend, keys_dir, localstripe):
    clock = ManualClock(datetime.now(UTC))
    settings = make_settings(
        pg_backend, keys_dir, stripe_api_key=API_KEY, stripe_api_base=localstripe, stripe_webhook_secret=WEBHOOK_SECRET
    )
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ops = await operator(client, app)
        buyer = await verified(client, ops)
        created = await client.post(
            f"{API}/payments", json={"amount": 12_345}, headers={**buyer.headers, "Idempotency-Key": "c"}
        )
        await pay(localstripe, created.json()["payment_intent_id"])
        event = (await events(localstripe, "payment_intent.succeeded"))[0]

        async def deliver(n: int) -> httpx.Response:
            # Half repeat the event id, half carry the same news under ids of their own.
            payload = json.dumps({**event, "id": event["id"] if n % 2 else f"evt_copy_{n}"}).encode()
            headers = {"Stripe-Signature": sign(payload, WEBHOOK_SECRET, clock.now())}
            return await client.post(f"{API}/webhooks/stripe", content=payload, headers=headers)

        responses = await asyncio.gather(*(deliver(n) for n in range(10)))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        wallet = (await client.get(f"{API}/wallet", headers=buyer.headers)).json()
        assert next(b for b in wallet["balances"] if b["unit"] == "CNY")["posted"] == 12_345
        lines = (await client.get(f"{API}/wallet/entries", headers=buyer.headers)).json()["items"]
        assert len(lines) == 1
