"""Live events: published after commit, delivered to subscribers as Server-Sent Events.

Litestar channels carry them: an in-memory backend for one process (the default), Redis pub/sub
when several API processes must see each other's events (``TECHX_CHANNELS_BACKEND=redis``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Hashable
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
        # One event reaches every subscriber of its channel as the same bytes: decoded and framed
        # once for all of them instead of once per subscriber (200 watchers of a busy auction).
        self._decoded: dict[bytes, Event] = {}
        self.frames: dict[tuple[int, Hashable], tuple[Event, Framed]] = {}

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None:
        self._plugin.publish(msgspec.json.encode(Event(event, data, time.time())), channels=[channel])

    def _decode(self, raw: bytes) -> Event:
        event = self._decoded.get(raw)
        if event is None:
            if len(self._decoded) >= 256:
                self._decoded.clear()
            event = self._decoded[raw] = msgspec.json.decode(raw, type=Event)
        return event

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        async with self._plugin.start_subscription([channel]) as subscriber:

            async def events() -> AsyncIterator[Event]:
                async for raw in subscriber.iter_events():
                    yield self._decode(raw)

            yield events()


class Framed(ServerSentEventMessage):
    """A message already framed as bytes, shared by the subscribers it is the same for."""

    def __init__(self, framed: bytes) -> None:
        super().__init__()
        self.framed = framed

    def encode(self) -> bytes:
        return self.framed


def _frame(shaped: dict[str, Any], name: str) -> Framed:
    return Framed(ServerSentEventMessage(data=msgspec.json.encode(shaped).decode(), event=name).encode())


async def messages(
    events: Events,
    channel: str,
    render: Callable[[Event], dict[str, Any] | None],
    *,
    until: Callable[[Event], bool] = lambda _: False,
    first: list[ServerSentEventMessage] | None = None,
    shared_as: Callable[[Event], Hashable] | None = None,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[ServerSentEventMessage]:
    """The messages of ``sse`` (see there)."""
    for message in first or []:
        yield message
    async with events.subscribe(channel) as incoming:
        iterator = incoming.__aiter__()
        pending: asyncio.Future[Event] | None = None
        try:
            while True:
                # The wait for the next event outlives a keepalive: cancelling it would close the
                # subscription's generator and end the stream at the first quiet period.
                if pending is None:
                    pending = asyncio.ensure_future(iterator.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=keepalive)
                if not done:
                    yield ServerSentEventMessage(comment="keepalive", data=None)  # a comment, not an empty event
                    continue
                arrived, pending = pending, None
                try:
                    event = arrived.result()
                except StopAsyncIteration:
                    return
                key = (id(event), shared_as(event)) if shared_as is not None else None
                cached = events.frames.get(key) if key is not None else None
                if cached is not None and cached[0] is event:
                    yield cached[1]
                else:
                    shaped = render(event)
                    if shaped is not None:
                        framed = _frame(shaped, event.event)
                        if key is not None:
                            if len(events.frames) >= 1024:
                                events.frames.clear()
                            events.frames[key] = (event, framed)  # holds the event: its id is not reused meanwhile
                        yield framed
                if until(event):
                    return
        finally:
            if pending is not None:
                pending.cancel()


def sse(
    events: Events,
    channel: str,
    render: Callable[[Event], dict[str, Any] | None],
    *,
    until: Callable[[Event], bool] = lambda _: False,
    first: list[ServerSentEventMessage] | None = None,
    shared_as: Callable[[Event], Hashable] | None = None,
) -> ServerSentEvent:
    """A Server-Sent Events response for ``channel``.

    ``render`` shapes each event for this subscriber (or drops it with None); ``until`` ends the
    stream after the event it is true for; ``first`` messages go out before live ones. A comment
    line every 15 s keeps proxies from closing an idle stream. ``shared_as(event)``, when given,
    names the rendering: subscribers for whom it is equal (and whose ``render`` is the same
    function of it) share one rendered message, so ``render`` must depend on nothing else.
    """
    return ServerSentEvent(messages(events, channel, render, until=until, first=first, shared_as=shared_as))
