"""Live events reach subscribers after publication, in memory and across processes through Redis."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.response import ServerSentEventMessage

from exchange.server.events import Events, channels_plugin, messages
from exchange.server.settings import Settings


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


async def test_a_quiet_stream_sends_keepalives_and_still_delivers_the_next_event():
    plugin = channels_plugin(Settings.from_env(env={}))
    async with Litestar(plugins=[plugin]).lifespan():
        events = Events(plugin)
        got: list = []
        quiet = asyncio.Event()

        async def watch() -> None:
            async for message in messages(events, "auction:quiet", lambda e: dict(e.data), keepalive=0.02):
                got.append(message)
                if message.comment != "keepalive":
                    return
                if sum(isinstance(m, ServerSentEventMessage) and m.comment == "keepalive" for m in got) == 3:
                    quiet.set()  # three quiet periods, each answered with a keepalive comment

        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(quiet.wait(), 5)
        events.publish("auction:quiet", "bid", {"amount": 7})
        await asyncio.wait_for(watcher, 5)
    assert got[0].encode() == b": keepalive\r\n\r\n"  # a comment line, not an event without data
    assert b"event: bid" in got[-1].encode() and b'data: {"amount":7}' in got[-1].encode()
