"""Live auction events over a real HTTP server: two bidders' Server-Sent Event streams show the
bids (each bidder as "you" or an anonymous label), the anti-sniping extension and the close."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import httpx

from exchange.parties import service as parties
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from ledger import service as ledger
from tests.conftest import START, make_settings
from tests.helpers import _PASSWORD_HASH, PASSWORD, Party, announced_listing, relogin, verified
from tests.live import LiveServer

API = "/api/v1"


async def read_events(client: httpx.AsyncClient, party: Party, auction_id: str, out: list, ready: asyncio.Event):
    async with client.stream("GET", f"{API}/auctions/{auction_id}/events", headers=party.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        ready.set()
        name = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                out.append((name, json.loads(line.split(":", 1)[1])))
                if name == "closed":
                    return


async def wait_for(predicate, seconds: float = 20.0) -> None:
    """Poll the real server (its sweeper runs every 0.2 s)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "the server's sweeper did not act in time"
        await asyncio.sleep(0.1)


async def test_bidders_see_bids_extension_and_close_live(backend, keys_dir):
    settings = make_settings(backend, keys_dir, sweep_interval_seconds=0.2)
    clock = ManualClock(START)
    server = LiveServer(settings, clock).start()
    db = Database(create_engine(backend.url, pool_size=2))
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            email = f"ops-{uuid.uuid4().hex[:8]}@techx.example"
            await db.transaction(
                lambda s: parties.create_operator(
                    s, email=email, password_hash=_PASSWORD_HASH, display_name="Operator", now=clock.now()
                )
            )
            login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
            ops = Party(login.json()["access_token"], "", "", email)
            seller = await verified(client, ops, "enterprise")
            a, b = await verified(client, ops), await verified(client, ops)

            async def fund(session):
                bank = await ledger.get_or_create_account(session, "bank:settlement", "CNY", "asset", now=clock.now())
                for party in (a, b):
                    cash = await ledger.get_or_create_account(
                        session, f"org:{party.org_id}:cash", "CNY", "liability", True, now=clock.now()
                    )
                    await ledger.transfer(
                        session, bank.id, cash.id, 100_000_000, unit="CNY", kind="top_up", now=clock.now()
                    )

            await db.transaction(fund)
            listing = await announced_listing(client, seller, ops, mode="auction")
            for party in (a, b):
                assert (
                    await client.post(f"{API}/listings/{listing['id']}/intents", headers=party.headers)
                ).status_code == 201
            closes = listing["announcement"]["closes_at"].replace("Z", "+00:00")
            from datetime import datetime

            clock.set(datetime.fromisoformat(closes) + timedelta(minutes=1))
            await relogin(client, ops, seller, a, b)

            async def auctioning() -> bool:
                return (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "auctioning"

            await wait_for(auctioning)
            # The auction opens at the set time of the next working day, as the listing shows.
            shown = (await client.get(f"{API}/listings/{listing['id']}")).json()
            clock.set(datetime.fromisoformat(shown["announcement"]["auction_opens_at"].replace("Z", "+00:00")))
            await relogin(client, ops, seller, a, b)
            auction_id = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=a.headers)).json()["id"]

            seen_a: list = []
            seen_b: list = []
            ready_a, ready_b = asyncio.Event(), asyncio.Event()
            readers = [
                asyncio.create_task(read_events(client, a, auction_id, seen_a, ready_a)),
                asyncio.create_task(read_events(client, b, auction_id, seen_b, ready_b)),
            ]
            await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), 10)
            await asyncio.sleep(0.3)  # the subscriptions reach the channel backend

            def bid(party, amount):
                return client.post(
                    f"{API}/auctions/{auction_id}/bids",
                    json={"amount": amount},
                    headers={**party.headers, "Idempotency-Key": uuid.uuid4().hex},
                )

            assert (await bid(a, 50_000_000)).status_code == 201
            clock.advance(timedelta(minutes=28))
            assert (await bid(b, 50_500_000)).status_code == 201
            clock.advance(timedelta(minutes=6))
            await asyncio.wait_for(asyncio.gather(*readers), 20)

        def shape(seen):
            return [(name, data.get("amount"), data.get("bidder") or data.get("winner")) for name, data in seen]

        assert shape(seen_a) == [
            ("bid", 50_000_000, "you"),
            ("bid", 50_500_000, "bidder 2"),
            ("extended", None, None),
            ("closed", None, "bidder 2"),
        ]
        assert shape(seen_b) == [
            ("bid", 50_000_000, "bidder 1"),
            ("bid", 50_500_000, "you"),
            ("extended", None, None),
            ("closed", None, "you"),
        ]
        assert seen_a[3][1]["winning_amount"] == 50_500_000
        assert all("org_id" not in data and "winner_org_id" not in data for _, data in seen_a + seen_b)
    finally:
        server.stop()
        await db.dispose()
