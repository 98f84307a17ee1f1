"""localstripe delivers its own signed webhook to a real server: the wallet is credited once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest

from exchange.platform.clock import ManualClock
from tests import stripe_local
from tests.conftest import make_settings
from tests.helpers import PASSWORD
from tests.live import LiveServer
from tests.stripe_local import API_KEY, WEBHOOK_SECRET, pay

localstripe_url = stripe_local.localstripe_url
localstripe = stripe_local.localstripe

pytestmark = pytest.mark.e2e


async def test_localstripe_webhook_reaches_the_server_and_credits_once(backend, keys_dir, localstripe):
    from exchange.parties import service as parties
    from exchange.parties.passwords import hash_password
    from exchange.platform.db import Database, create_engine
    from tests.helpers import verified

    settings = make_settings(
        backend, keys_dir, stripe_api_key=API_KEY, stripe_api_base=localstripe, stripe_webhook_secret=WEBHOOK_SECRET
    )
    clock = ManualClock(datetime.now(UTC))
    server = await asyncio.to_thread(LiveServer(settings, clock).start)
    try:
        async with httpx.AsyncClient() as plain:
            hook = await plain.post(
                f"{localstripe}/_config/webhooks/techx",
                data={"url": f"{server.base_url}/api/v1/webhooks/stripe", "secret": WEBHOOK_SECRET},
            )
        assert hook.status_code == 200, hook.text
        db = Database(create_engine(backend.url, pool_size=1))
        email = "ops-e2e@techx.example"
        await db.transaction(
            lambda s: parties.create_operator(
                s, email=email, password_hash=hash_password(PASSWORD), display_name="Ops", now=clock.now()
            )
        )
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            ops = type("Ops", (), {"headers": {"Authorization": f"Bearer {login.json()['access_token']}"}})()
            buyer = await verified(client, ops, db=db)
            await db.dispose()
            created = await client.post(
                "/api/v1/payments", json={"amount": 66_600}, headers={**buyer.headers, "Idempotency-Key": "e2e"}
            )
            assert created.status_code == 201, created.text
            payment = created.json()
            await pay(localstripe, payment["payment_intent_id"])

            # localstripe waits a second before it delivers; poll the payment until it reads paid.
            deadline = time.monotonic() + 20
            state = payment
            while state["status"] != "succeeded" and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                state = (await client.get(f"/api/v1/payments/{payment['id']}", headers=buyer.headers)).json()
            assert state["status"] == "succeeded", state
            wallet = (await client.get("/api/v1/wallet", headers=buyer.headers)).json()
            assert next(b for b in wallet["balances"] if b["unit"] == "CNY")["posted"] == 66_600
            entries = (await client.get("/api/v1/wallet/entries", headers=buyer.headers)).json()["items"]
            assert [e["kind"] for e in entries] == ["card_top_up"]
    finally:
        await asyncio.to_thread(server.stop)
