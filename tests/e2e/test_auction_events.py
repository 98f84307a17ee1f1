"""Live auction events over a real HTTP server: two bidders' Server-Sent Event streams open with a
snapshot and show the bids (each bidder as "you" or an anonymous label), the anti-sniping extension
and the close; a bidder that drops its stream and reconnects with ``Last-Event-ID`` gets the bid it
missed, once."""

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


async def read_events(
    client: httpx.AsyncClient,
    party: Party,
    auction_id: str,
    out: list,
    ready: asyncio.Event,
    *,
    last_event_id: str | None = None,
    stop_after: str = "closed",
):
    """Read the stream into ``out`` as (id, event, data) until the event named ``stop_after``."""
    headers = {**party.headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    async with client.stream("GET", f"{API}/auctions/{auction_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        ready.set()
        event_id = name = None
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                event_id = line.split(":", 1)[1].strip()
            elif line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                out.append((event_id, name, json.loads(line.split(":", 1)[1])))
                event_id = None
                if name == stop_after:
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
            seller = await verified(client, ops, "enterprise", db=db)
            a, b = await verified(client, ops, db=db), await verified(client, ops, db=db)

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
            # a drops its stream after its own bid; b reads to the end.
            first_a = asyncio.create_task(read_events(client, a, auction_id, seen_a, ready_a, stop_after="bid"))
            reader_b = asyncio.create_task(read_events(client, b, auction_id, seen_b, ready_b))
            await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), 10)

            def bid(party, amount):
                return client.post(
                    f"{API}/auctions/{auction_id}/bids",
                    json={"amount": amount},
                    headers={**party.headers, "Idempotency-Key": uuid.uuid4().hex},
                )

            assert (await bid(a, 50_000_000)).status_code == 201
            await asyncio.wait_for(first_a, 10)
            clock.advance(timedelta(minutes=28))
            assert (await bid(b, 50_500_000)).status_code == 201  # while a is away; it extends the end
            resumed_a: list = []
            ready_a = asyncio.Event()
            reader_a = asyncio.create_task(
                read_events(client, a, auction_id, resumed_a, ready_a, last_event_id=seen_a[-1][0])
            )
            await asyncio.wait_for(ready_a.wait(), 10)
            await asyncio.sleep(0.3)  # the stream's opening is read (it holds what arrives meanwhile)
            clock.advance(timedelta(minutes=6))
            await asyncio.wait_for(asyncio.gather(reader_a, reader_b), 20)

        def shape(seen):
            def who(data):
                return data.get("bidder") or data.get("winner") or data.get("high_bidder")

            return [(event_id, name, data.get("amount"), who(data)) for event_id, name, data in seen]

        assert shape(seen_a) == [("0.1", "snapshot", None, None), ("1", "bid", 50_000_000, "you")]
        assert shape(resumed_a) == [
            (None, "snapshot", None, "bidder 2"),
            ("2", "bid", 50_500_000, "bidder 2"),  # the one it missed, from the database
            ("2.1", "extended", None, None),
            ("2.2", "closed", None, "bidder 2"),
        ]
        assert shape(seen_b) == [
            ("0.1", "snapshot", None, None),
            ("1", "bid", 50_000_000, "bidder 1"),
            ("2", "bid", 50_500_000, "you"),
            ("2.1", "extended", None, None),
            ("2.2", "closed", None, "you"),
        ]
        assert seen_b[0][2]["status"] == "open" and seen_b[0][2]["minimum_next_bid"] == 50_000_000
        assert resumed_a[0][2]["bid_count"] == 2 and resumed_a[0][2]["high_amount"] == 50_500_000
        assert resumed_a[-1][2]["winning_amount"] == 50_500_000
        assert seen_b[3][2]["ends_at"] == seen_b[4][2]["ends_at"] == resumed_a[2][2]["ends_at"]
        everything = seen_a + resumed_a + seen_b
        assert all("org_id" not in data and "winner_org_id" not in data for _, _, data in everything)
    finally:
        server.stop()
        await db.dispose()
