"""`techx sweep` as a real process: one pass over due deadlines, on each database, publishing what it
closes through the configured channels backend."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import pytest
from litestar import Litestar

from exchange.platform.events import Events, channels_plugin
from exchange.platform.settings import Settings
from exchange.trading.context import auction_channel
from tests.helpers import announced_listing, operator, verified
from tests.integration.test_cli import techx
from tests.trading_helpers import API, key, open_auction_with_two_bidders


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_techx_sweep_closes_due_announcements_once(backend, keys_dir, client, app, clock):
    clock.set(datetime(2024, 3, 4, 1, tzinfo=UTC))  # long past for the wall clock the command uses
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}

    swept = techx("sweep", env=env)
    assert swept.returncode == 0, swept.stderr
    assert "notices: 1 processed" in swept.stdout
    shown = await client.get(f"/api/v1/listings/{announced['id']}")
    assert shown.json()["status"] == "unsold"
    again = techx("sweep", env=env)
    assert again.returncode == 0 and "notices: 0 processed" in again.stdout


async def test_techx_sweep_publishes_what_it_closes_through_redis(backend, keys_dir, client, app, clock):
    """A sweep from cron closes an auction: subscribers of the Redis channels (every server's
    streams) receive `closed`, as when a server's sweeper closes it."""
    from redis.asyncio import Redis

    try:
        await Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except OSError as exc:
        pytest.skip(f"Redis is not reachable: {exc}")
    clock.set(datetime(2024, 3, 4, 1, tzinfo=UTC))  # the auction ends long before the command's wall clock
    auction, _, a, _ = await open_auction_with_two_bidders(client, app)
    amount = auction["minimum_next_bid"]
    placed = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": amount}, headers={**a.headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    env = {
        "DATABASE_URL": backend.url,
        "TECHX_KEYS_DIR": str(keys_dir),
        "TECHX_CHANNELS_BACKEND": "redis",
        "TECHX_REDIS_URL": "redis://127.0.0.1:6379/0",
    }

    plugin = channels_plugin(Settings.from_env(env={"TECHX_CHANNELS_BACKEND": "redis"}))
    async with Litestar(plugins=[plugin]).lifespan(), Events(plugin).subscribe(auction_channel(auction["id"])) as got:
        await asyncio.sleep(0.2)  # the subscription reaches Redis
        swept = await asyncio.to_thread(techx, "sweep", env=env)
        assert swept.returncode == 0, swept.stderr
        assert "auction-close: 1 processed" in swept.stdout
        event = await asyncio.wait_for(anext(got), 10)
    assert event.event == "closed"
    assert event.data["winning_amount"] == amount and event.data["winner_org_id"] == a.org_id
    closed = await client.get(f"{API}/auctions/{auction['id']}", headers=a.headers)
    assert closed.json()["status"] == "closed"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # about the channels backend, not the database
async def test_techx_sweep_says_so_when_its_events_cannot_be_published(backend, keys_dir, client, app, clock):
    """An unreachable Redis does not hang a sweep from cron: it exits 1 after closing what was due."""
    clock.set(datetime(2024, 3, 4, 1, tzinfo=UTC))
    await open_auction_with_two_bidders(client, app)
    env = {
        "DATABASE_URL": backend.url,
        "TECHX_KEYS_DIR": str(keys_dir),
        "TECHX_CHANNELS_BACKEND": "redis",
        "TECHX_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    }
    swept = await asyncio.to_thread(techx, "sweep", env=env)
    assert swept.returncode == 1, swept.stdout + swept.stderr
    assert "auction-close: 1 processed" in swept.stdout and "live-events: failed" in swept.stdout
    assert "live events not all published" in swept.stderr
