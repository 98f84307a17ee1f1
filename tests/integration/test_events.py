"""Live events reach subscribers after publication, in memory and across processes through Redis."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar

from exchange.platform.events import Events, Opening, channels_plugin, message, sse
from exchange.platform.settings import Settings


async def receive_two(events: Events, publisher: Events, channel: str) -> list[tuple[str, dict]]:
    received: list[tuple[str, dict]] = []
    async with events.subscribe(channel) as incoming:
        await asyncio.sleep(0.2)  # let the subscription reach the backend before publishing
        publisher.publish(channel, "bid", {"amount": 100})
        publisher.publish("other-channel", "bid", {"amount": 1})
        publisher.publish(channel, "closed", {"winner": "you"})
        async for event in incoming:
            received.append((event.event, event.data))
            if len(received) == 2:
                break
    return received


async def test_memory_backend_delivers_in_order_and_only_the_subscribed_channel():
    plugin = channels_plugin(Settings.from_env(env={}))
    async with Litestar(plugins=[plugin]).lifespan():
        events = Events(plugin)
        got = await asyncio.wait_for(receive_two(events, events, "auction:1"), 5)
    assert got == [("bid", {"amount": 100}), ("closed", {"winner": "you"})]


async def test_redis_backend_carries_events_between_two_app_instances():
    from redis.asyncio import Redis

    try:
        await Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except OSError as exc:
        pytest.skip(f"Redis is not reachable: {exc}")
    settings = Settings.from_env(env={"TECHX_CHANNELS_BACKEND": "redis"})
    subscriber_plugin, publisher_plugin = channels_plugin(settings), channels_plugin(settings)
    async with Litestar(plugins=[subscriber_plugin]).lifespan(), Litestar(plugins=[publisher_plugin]).lifespan():
        got = await asyncio.wait_for(
            receive_two(Events(subscriber_plugin), Events(publisher_plugin), "auction:redis-test"), 10
        )
    assert got == [("bid", {"amount": 100}), ("closed", {"winner": "you"})]


def serve(
    events: Events,
    channel: str,
    sent: list,
    *,
    until=lambda e: e.event == "closed",
    keepalive: float = 15.0,
    send=None,
    **options,
):
    """Serve one event stream over ASGI without a server; it never disconnects by itself."""

    async def collect(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        await asyncio.get_running_loop().create_future()
        return {}

    response = sse(
        events, channel, lambda e: [message(e.event, e.data)], until=until, keepalive=keepalive, **options
    ).to_asgi_response(None, None)
    return asyncio.create_task(response({"type": "http"}, receive, send or collect))


def bodies(sent: list) -> list[bytes]:
    return [m["body"] for m in sent if m["type"] == "http.response.body"]


async def test_a_quiet_stream_sends_keepalives_and_still_delivers_the_next_event():
    plugin = channels_plugin(Settings.from_env(env={}))
    async with Litestar(plugins=[plugin]).lifespan():
        events = Events(plugin)
        sent: list = []
        served = serve(events, "auction:quiet", sent, until=lambda e: True, keepalive=0.02)
        for _ in range(500):
            if bodies(sent).count(b": keepalive\r\n\r\n") >= 3:
                break  # three quiet periods, each answered with a keepalive comment
            await asyncio.sleep(0.01)
        events.publish("auction:quiet", "bid", {"amount": 7})
        await asyncio.wait_for(served, 5)
    assert sent[0]["type"] == "http.response.start"
    assert bodies(sent)[0] == b": keepalive\r\n\r\n"  # a comment line, not an event without data
    assert b"event: bid" in bodies(sent)[-2] and b'data: {"amount":7}' in bodies(sent)[-2]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_stalled_subscriber_holds_up_no_one_and_gets_every_event_in_order(backend):
    if backend == "redis":
        from redis.asyncio import Redis

        try:
            await Redis.from_url("redis://127.0.0.1:6379/0").ping()
        except OSError as exc:
            pytest.skip(f"Redis is not reachable: {exc}")
    plugin = channels_plugin(Settings.from_env(env={"TECHX_CHANNELS_BACKEND": backend}))
    async with Litestar(plugins=[plugin]).lifespan():
        events = Events(plugin)
        fast: list = []
        slow: list = []
        unblocked = asyncio.Event()

        async def stalled_send(message) -> None:
            if message["type"] == "http.response.body":
                await unblocked.wait()  # a client that stopped reading: the socket's buffer is full
            slow.append(message)

        streams = [
            serve(events, f"auction:s-{backend}", fast),
            serve(events, f"auction:s-{backend}", slow, send=stalled_send),
        ]
        for _ in range(500):
            if fast and len(events._fanouts[f"auction:s-{backend}"].streams) == 2:
                break
            await asyncio.sleep(0.01)
        for amount in (1, 2, 3):
            events.publish(f"auction:s-{backend}", "bid", {"amount": amount})
        events.publish(f"auction:s-{backend}", "closed", {})
        await asyncio.wait_for(streams[0], 5)  # the fast one ends while the slow one is stuck
        assert not streams[1].done()
        unblocked.set()
        await asyncio.wait_for(streams[1], 5)
        assert not events._fanouts  # the channel's subscription ended with its last stream
    for sent in (fast, slow):
        got = [b.split(b"data: ")[1].split(b"\r\n")[0] for b in bodies(sent) if b]
        assert got == [b'{"amount":1}', b'{"amount":2}', b'{"amount":3}', b"{}"]


async def test_the_opening_goes_first_and_what_it_covers_is_not_sent_again():
    """A stream's opening is read once its subscription is in place: an event published while it is
    read, and covered by it, goes out once (in the opening); one it does not cover follows it."""
    plugin = channels_plugin(Settings.from_env(env={}))
    async with Litestar(plugins=[plugin]).lifespan():
        events = Events(plugin)
        channel = "auction:opening"

        async def opening() -> Opening:
            # Two bids commit while the opening is read: the read sees the first, not the second.
            events.publish(channel, "bid", {"seq": 1})
            events.publish(channel, "bid", {"seq": 2})
            await asyncio.sleep(0.05)  # both reach the channel's subscription during the read
            return Opening([message("snapshot", {"bid_count": 1}), message("bid", {"seq": 1})], after=1)

        sent: list = []
        served = serve(
            events, channel, sent, opening=opening, position=lambda e: e.data.get("seq") if e.event == "bid" else None
        )
        for _ in range(500):
            if b'"seq":2' in b"".join(bodies(sent)):
                break
            await asyncio.sleep(0.01)
        events.publish(channel, "bid", {"seq": 1})  # late news of a bid the opening covered
        events.publish(channel, "bid", {"seq": 3})
        events.publish(channel, "closed", {"bid_count": 3})
        await asyncio.wait_for(served, 5)
    got = [b.split(b"data: ")[1].split(b"\r\n")[0] for b in bodies(sent) if b]
    assert got == [b'{"bid_count":1}', b'{"seq":1}', b'{"seq":2}', b'{"seq":3}', b'{"bid_count":3}']


async def test_a_final_opening_ends_the_stream_without_live_events():
    plugin = channels_plugin(Settings.from_env(env={}))
    async with Litestar(plugins=[plugin]).lifespan():
        events = Events(plugin)

        async def opening() -> Opening:
            return Opening([message("snapshot", {"status": "closed"}), message("closed", {})], final=True)

        sent: list = []
        await asyncio.wait_for(serve(events, "auction:final", sent, opening=opening), 5)
        assert not events._fanouts  # the subscription ended with the stream
    assert [b.split(b"\r\n")[0] for b in bodies(sent) if b] == [b"event: snapshot", b"event: closed"]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
