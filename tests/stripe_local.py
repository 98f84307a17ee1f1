"""A local Stripe-compatible server (localstripe) on a free loopback port, and a payer that uses it.

The server runs in a process of its own for the whole test session; ``flush`` empties it between
tests. Its store is kept in memory only (it would otherwise write a file under /tmp on every call).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from tests.live import free_socket

API_KEY = "sk_test_techx"
WEBHOOK_SECRET = "whsec_techx_test"

LAUNCHER = """
import sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def _start() -> tuple[subprocess.Popen[bytes], str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # localstripe binds it itself; the port stays free meanwhile on loopback
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(port)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/v1/balance", auth=(API_KEY, ""), timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.terminate()
    raise TimeoutError("localstripe did not start within 30 s")


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    process, url = _start()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def localstripe(localstripe_url: str) -> str:
    """The server, emptied."""
    httpx.delete(f"{localstripe_url}/_config/data").raise_for_status()
    return localstripe_url


def server_stripe_settings(url: str) -> dict[str, str]:
    """The environment of a ``techx serve`` that takes card payments through the server at ``url``."""
    return {
        "TECHX_STRIPE_API_KEY": API_KEY,
        "TECHX_STRIPE_API_BASE": url,
        "TECHX_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def stripe_client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": url}, http_client=stripe.HTTPXClient())


async def pay(url: str, intent_id: str, card: str = "4242424242424242") -> Any:
    """What the payer's browser does: a card as payment method, then confirm."""
    client = stripe_client(url)
    method = await client.v1.payment_methods.create_async(
        params={"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    await client.v1.payment_intents.update_async(intent_id, params={"payment_method": method.id})
    try:
        return await client.v1.payment_intents.confirm_async(intent_id)
    except stripe.CardError:
        return None  # declined: Stripe reports it with a payment_failed event


async def events(url: str, type_: str | None = None) -> list[dict[str, Any]]:
    """Events localstripe made, oldest first, as it would deliver them."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/v1/events", params={"limit": 100}, auth=(API_KEY, ""))
    response.raise_for_status()
    found = [e for e in response.json()["data"] if type_ is None or e["type"] == type_]
    return sorted(found, key=lambda e: e["created"])


async def refund(url: str, charge_id: str, amount: int | None = None) -> Any:
    params: dict[str, Any] = {"charge": charge_id}
    if amount is not None:
        params["amount"] = amount
    return await stripe_client(url).v1.refunds.create_async(params=params)
