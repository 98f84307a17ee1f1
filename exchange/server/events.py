"""Live events: published after commit, delivered to subscribers as Server-Sent Events.

Litestar channels carry them: an in-memory backend for one process (the default), Redis pub/sub
when several API processes must see each other's events (``TECHX_CHANNELS_BACKEND=redis``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.response import ServerSentEvent, ServerSentEventMessage

from exchange.server.settings import Settings

KEEPALIVE_SECONDS = 15.0


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    if settings.channels_backend == "redis":
        from redis.asyncio import Redis

        backend: Any = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url), key_prefix="techx")
    else:
        backend = MemoryChannelsBackend()
    # A slow subscriber loses its oldest events rather than slowing the publisher down.
    return ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=1000,
        subscriber_backlog_strategy="dropleft",
    )


class Event(msgspec.Struct):
    event: str
    data: dict[str, Any]
    published_at: float  # wall-clock seconds, to measure delivery delay


class Events:
    """Publish only after the transaction that caused the event has committed."""

    def __init__(self, plugin: ChannelsPlugin) -> None:
        self._plugin = plugin

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None:
        self._plugin.publish(msgspec.json.encode(Event(event, data, time.time())), channels=[channel])

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        async with self._plugin.start_subscription([channel]) as subscriber:

            async def events() -> AsyncIterator[Event]:
                async for raw in subscriber.iter_events():
                    yield msgspec.json.decode(raw, type=Event)

            yield events()


def sse(
    events: Events,
    channel: str,
    render: Callable[[Event], dict[str, Any] | None],
    *,
    until: Callable[[Event], bool] = lambda _: False,
    first: list[ServerSentEventMessage] | None = None,
) -> ServerSentEvent:
    """A Server-Sent Events response for ``channel``.

    ``render`` shapes each event for this subscriber (or drops it with None); ``until`` ends the
    stream after the event it is true for; ``first`` messages go out before live ones. A comment
    line every 15 s keeps proxies from closing an idle stream.
    """

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        for message in first or []:
            yield message
        async with events.subscribe(channel) as incoming:
            iterator = incoming.__aiter__()
            while True:
                try:
                    event = await asyncio.wait_for(iterator.__anext__(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keepalive")
                    continue
                except StopAsyncIteration:
                    return
                shaped = render(event)
                if shaped is not None:
                    yield ServerSentEventMessage(data=msgspec.json.encode(shaped).decode(), event=event.event)
                if until(event):
                    return

    return ServerSentEvent(stream())
