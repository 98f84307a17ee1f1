"""Live events through the outbox and NATS JetStream (``TECHX_CHANNELS_BACKEND=jetstream``).

The outbox rows are written and rolled back with their transaction (no NATS needed); with
PostgreSQL and NATS: a bid placed through one app instance reaches an event stream of another, in
order; a row a dead process left is published by the periodic relay; a re-publication of an event
is dropped by the broker; and NATS killed and restarted mid-auction loses no bid and repeats none.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from exchange.platform import live_outbox
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.events import channels_plugin
from exchange.platform.live_backends import events_of
from exchange.platform.live_outbox import LiveEventRow
from exchange.server.app import create_app
from exchange.server.modules import trading_rules
from exchange.trading.context import TradingContext, auction_channel
from tests.api.test_auction_stream import parse
from tests.conftest import START, Backend, _backend, make_settings, running
from tests.helpers import Party
from tests.trading_helpers import API, advance, bid, open_auction_with_two_bidders

NATS_URL = "nats://127.0.0.1:4222"
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
HAS_NATS_SERVER = os.path.exists(NATS_SERVER)
ASKING, STEP = 50_000_000, 500_000


async def _nats_reachable(url: str) -> bool:
    host, port = url.removeprefix("nats://").split(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def until(predicate: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    """Poll ``predicate`` until it holds (the relay and the consumer work in the background)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def outbox_rows(app: Litestar) -> int:
    async with app.state.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(LiveEventRow)) or 0)


def jetstream_settings(backend: Backend, keys_dir: Path, stream: str, url: str = NATS_URL) -> Any:
    return make_settings(
        backend, keys_dir, channels_backend="jetstream", nats_url=url, nats_stream=stream, outbox_relay_seconds=0.2
    )


@asynccontextmanager
async def serving(*apps: Litestar) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Each app's lifespan (its relay and consumer) and an in-process HTTP client for it."""
    async with AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(running(app))
            await asyncio.wait_for(app.state.events.link.subscribed.wait(), 10)
            transport = httpx.ASGITransport(app=app)
            clients.append(await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t")))
        yield clients


async def drop_stream(settings: Any) -> None:
    from nats.js.errors import NotFoundError

    nc = await live_outbox.connect(settings)
    try:
        await nc.jetstream().delete_stream(settings.nats_stream)
    except NotFoundError:
        pass  # the test failed before anything was relayed
    finally:
        await nc.close()


def open_stream(client: httpx.AsyncClient, party: Party, auction_id: str) -> asyncio.Task[httpx.Response]:
    """The auction's event stream: the in-process transport answers once it has ended (``closed``)."""
    return asyncio.create_task(client.get(f"{API}/auctions/{auction_id}/events", headers=party.headers))


async def streaming(app: Litestar, auction_id: str) -> bool:
    """The app has a stream of the auction past its opening: what comes next reaches it live."""
    fanout = app.state.events._fanouts.get(auction_channel(auction_id))
    return fanout is not None and any(stream.held is None for stream in fanout.streams)


def bids_seen(response: httpx.Response) -> list[tuple[str | None, int, bool]]:
    """(id, amount, came live) of each bid in a finished stream; ``closed`` must end it."""
    assert response.status_code == 200, response.text
    events = parse(response.content)
    assert events[-1][1] == "closed"
    return [(i, data["amount"], "published_at" in data) for i, name, data in events if name == "bid"]


async def test_outbox_rows_are_written_and_rolled_back_with_their_transaction(backends, keys_dir):
    backend = _backend(backends, "sqlite")  # the same statements on PostgreSQL are in the tests below
    await backend.empty()
    settings = make_settings(backend, keys_dir, channels_backend="jetstream")  # no NATS: nothing is relayed
    events = events_of(settings, channels_plugin(settings))
    trading = TradingContext(rules=trading_rules(settings), listings=None, live=events)  # type: ignore[arg-type]
    db = Database(create_engine(backend.url, pool_size=1))

    async def committed(session: Any, events: list) -> None:
        events.append(("auction:a", "bid", {"seq": 1, "amount": 100}))
        events.append(("auction:a", "closed", {"bid_count": 1}))

    async def refused(session: Any, events: list) -> None:
        events.append(("auction:b", "bid", {"seq": 1, "amount": 200}))
        raise RuntimeError("the work failed after collecting its event")

    try:
        await trading.run(db, committed)
        with pytest.raises(RuntimeError):
            await trading.run(db, refused)
        async with db.read() as session:
            rows = (await session.scalars(select(LiveEventRow).order_by(LiveEventRow.id))).all()
    finally:
        await db.dispose()
    assert [(r.channel, r.event, r.data) for r in rows] == [
        ("auction:a", "bid", {"seq": 1, "amount": 100}),
        ("auction:a", "closed", {"bid_count": 1}),
    ]
    assert rows[0].id < rows[1].id and rows[0].event_id != rows[1].event_id


async def test_bids_through_one_instance_reach_the_streams_of_another_in_order(pg_backend, keys_dir):
    if not await _nats_reachable(NATS_URL):
        pytest.skip(f"NATS is not reachable at {NATS_URL}")
    settings = jetstream_settings(pg_backend, keys_dir, f"TECHX_T_{uuid.uuid4().hex[:10]}")
    clock = ManualClock(START)  # one clock: a token app 1 issued is valid at app 2
    app1 = create_app(settings, clock=clock, run_background_tasks=False)
    app2 = create_app(settings, clock=clock, run_background_tasks=False)
    try:
        async with serving(app1, app2) as (client1, client2):
            auction, seller, a, b = await open_auction_with_two_bidders(client1, app1)
            auction_id = auction["id"]
            reading = open_stream(client2, b, auction_id)
            await until(lambda: streaming(app2, auction_id))
            amounts = [ASKING + n * STEP for n in range(4)]
            for n, amount in enumerate(amounts):
                await bid(client1, (a, b)[n % 2], auction_id, amount)
            await advance(app1, client1, timedelta(minutes=31), seller, a, b)  # closed by app 1's sweep
            seen = bids_seen(await asyncio.wait_for(reading, 15))
            assert seen == [(str(n + 1), amount, True) for n, amount in enumerate(amounts)]  # live, once, in order

            # A row a process left behind when it died after its commit (no kick): the periodic relay takes it.
            received: list = []
            async with app2.state.events.subscribe("auction:left-behind") as incoming:

                async def take() -> None:
                    async for event in incoming:
                        received.append((event.event, event.data))
                        return

                taking = asyncio.create_task(take())
                await app1.state.db.transaction(
                    lambda s: live_outbox.record_events(s, [("auction:left-behind", "bid", {"seq": 9})])
                )
                await asyncio.wait_for(taking, 10)
            assert received == [("bid", {"seq": 9})]
            await until(lambda: _empty(app1))

            # The same event published twice (a relay that died between the broker's ack and its
            # own commit): the broker keeps it once.
            row = {"event_id": uuid.uuid4(), "channel": "auction:twice", "event": "bid", "data": {"seq": 1}}
            nc = await live_outbox.connect(settings)
            try:
                js = nc.jetstream()
                before = (await js.stream_info(settings.nats_stream)).state.messages
                for _ in range(2):
                    await app1.state.db.transaction(lambda s: _insert(s, row))
                    await until(lambda: _empty(app1))
                after = (await js.stream_info(settings.nats_stream)).state.messages
            finally:
                await nc.close()
            assert after == before + 1
    finally:
        await drop_stream(settings)


async def _empty(app: Litestar) -> bool:
    return await outbox_rows(app) == 0


async def _insert(session: Any, row: dict[str, Any]) -> None:
    session.add(LiveEventRow(**row, created_at=START))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NatsServer:
    """A nats-server of the test's own, with JetStream on disk, that the test kills and restarts."""

    def __init__(self, store: Path) -> None:
        self.port, self.store = _free_port(), store
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            NATS_SERVER,
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await until(lambda: _nats_reachable(self.url), 10)

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what the broker acknowledged must be on its disk already."""
        if self.process is not None and self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)
            await self.process.wait()


async def test_nats_killed_and_restarted_mid_auction_loses_and_repeats_no_bid(pg_backend, keys_dir, tmp_path):
    if not HAS_NATS_SERVER:
        pytest.skip("nats-server is not installed")
    nats = NatsServer(tmp_path / "jetstream")
    await nats.start()
    settings = jetstream_settings(pg_backend, keys_dir, "TECHX_EVENTS", nats.url)
    app = create_app(settings, clock=ManualClock(START), run_background_tasks=False)
    try:
        async with serving(app) as (client,):
            auction, seller, a, b = await open_auction_with_two_bidders(client, app)
            auction_id = auction["id"]
            reading = open_stream(client, b, auction_id)
            await until(lambda: streaming(app, auction_id))
            amounts = [ASKING + n * STEP for n in range(6)]
            for amount in amounts[:2]:
                await bid(client, a, auction_id, amount)
            await until(lambda: _empty(app))  # in the stream
            await nats.kill()
            for amount in amounts[2:4]:  # accepted while NATS is down: they wait in the outbox
                await bid(client, b, auction_id, amount)
            assert await outbox_rows(app) == 2
            await nats.start()
            for amount in amounts[4:]:
                await bid(client, a, auction_id, amount)
            await until(lambda: _empty(app), 20)
            await advance(app, client, timedelta(minutes=31), seller, a, b)
            seen = bids_seen(await asyncio.wait_for(reading, 20))
    finally:
        await nats.kill()
    assert seen == [(str(n + 1), amount, True) for n, amount in enumerate(amounts)]


async def test_techx_sweep_relays_the_outbox_before_it_exits(backends, keys_dir):
    """What a sweep closes goes into the outbox like a server's; the command relays it (and what a
    dead process left there) to the stream before it exits."""
    from exchange.server.cli import sweep_once

    if not await _nats_reachable(NATS_URL):
        pytest.skip(f"NATS is not reachable at {NATS_URL}")
    backend = _backend(backends, "sqlite")
    await backend.empty()
    settings = jetstream_settings(backend, keys_dir, f"TECHX_T_{uuid.uuid4().hex[:10]}")
    db = Database(create_engine(backend.url, pool_size=1))
    try:
        await db.transaction(lambda s: live_outbox.record_events(s, [("auction:left", "closed", {"bid_count": 0})]))
        counts = await sweep_once(settings)
        assert counts.get("live-events") != -1
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(LiveEventRow)) == 0
        nc = await live_outbox.connect(settings)
        try:
            message = await nc.jetstream().get_last_msg(
                settings.nats_stream, live_outbox.subject(settings, "auction:left")
            )
        finally:
            await nc.close()
        assert message.headers is not None and message.headers[live_outbox.CHANNEL_HEADER] == "auction:left"
    finally:
        await db.dispose()
        await drop_stream(settings)
