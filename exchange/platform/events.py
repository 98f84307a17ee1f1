"""Live events: published after commit, delivered to subscribers as Server-Sent Events.

Litestar channels carry them: an in-memory backend for one process (the default), Redis pub/sub
when several API processes (or a ``techx sweep`` beside them) must see each other's events
(``TECHX_CHANNELS_BACKEND=redis``). With ``jetstream`` the events are written to an outbox in
their transaction and reach every process through NATS JetStream, which feeds each process's
in-memory channels (``exchange.platform.live_outbox``).

A stream may open with what it reads once subscribed (``Opening``: a snapshot, the events a
reconnecting client missed); live events that the opening covered already are dropped by their
position, so none is lost between the read and the subscription and none is sent twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.response.base import ASGIResponse
from litestar.types import Message, Receive, Scope, Send

from exchange.platform.logging import RAW_SEND
from exchange.platform.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from exchange.platform.db import Database

KEEPALIVE_SECONDS = 15.0


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    # jetstream: the stream's consumer publishes into this process's memory backend.
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


class NotPublished(RuntimeError):
    """Live events published in a ``live_events`` block did not all reach the channels backend."""


class Event(msgspec.Struct):
    event: str
    data: dict[str, Any]
    published_at: float | None  # wall-clock seconds, to measure delivery delay (None: read, not published)


LiveEvent = tuple[str, str, dict[str, Any]]  # (channel, event, data)


class Events:
    """Publish only after the transaction that caused the event has committed.

    A transaction's events pass two calls: ``record(session, events)`` inside it (only where
    ``records`` is true: the JetStream outbox) and ``committed(events)`` after its commit (here:
    published to the channels).
    """

    records = False  # nothing to write in the transaction: the events are published after commit

    def __init__(self, plugin: ChannelsPlugin) -> None:
        self._plugin = plugin
        # One subscription per channel in this process, however many streams watch it.
        self._fanouts: dict[str, _Fanout] = {}

    async def record(self, session: AsyncSession, events: Sequence[LiveEvent]) -> None:
        """Write ``events`` in ``session``'s transaction (nothing here; see ``records``)."""

    def committed(self, events: Sequence[LiveEvent]) -> None:
        """The transaction that collected ``events`` has committed: they go out, in order."""
        for channel, name, data in events:
            self.publish(channel, name, data)

    async def flush(self, db: Database) -> None:
        """Before a command outside a server exits: what it recorded is published (nothing here)."""

    def background(self, db: Database) -> Coroutine[Any, Any, None] | None:
        """The work a server runs beside its requests for these events, if any."""
        return None

    async def close(self) -> None:
        """At the server's shutdown."""

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None:
        self._plugin.publish(msgspec.json.encode(Event(event, data, time.time())), channels=[channel])

    @staticmethod
    def _decode(raw: bytes) -> Event:
        return msgspec.json.decode(raw, type=Event)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        async with self._plugin.start_subscription([channel]) as subscriber:

            async def events() -> AsyncIterator[Event]:
                async for raw in subscriber.iter_events():
                    yield self._decode(raw)

            yield events()

    def _join(self, channel: str, keepalive: float) -> _Fanout:
        fanout = self._fanouts.get(channel)
        if fanout is None:
            fanout = self._fanouts[channel] = _Fanout(self, channel, keepalive)
        return fanout


class _Resume:
    """Awaits the rest of a coroutine that has already been stepped once and suspended."""

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: Any, yielded: Any) -> None:
        self.coro, self.yielded = coro, yielded

    def __await__(self) -> Any:
        coro, value = self.coro, self.yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # handed to the coroutine, as `await` would
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


Render = Callable[["Event"], Sequence[ServerSentEventMessage]]


class _Stream:
    """One open event stream: written to by its channel's fan-out, not by a task of its own."""

    __slots__ = ("after", "backlog", "done", "held", "position", "render", "send", "shared_as", "until", "writer")

    def __init__(
        self,
        send: Send,
        render: Render,
        until: Callable[[Event], bool],
        shared_as: Callable[[Event], Hashable] | None,
        position: Callable[[Event], Any] | None,
    ) -> None:
        self.send, self.render, self.until, self.shared_as = send, render, until, shared_as
        self.position = position
        self.after: Any = None  # events at or before this position went out in the opening: dropped
        self.held: list[Event] | None = None  # events that arrive while the opening is read
        self.backlog: deque[bytes | None] | None = None  # frames behind a write that had to wait
        self.writer: asyncio.Task[None] | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def write(self, body: bytes | None) -> None:
        """Write a frame without waiting (None: the stream ends once the frames before it are out);
        a write the socket cannot take now finishes in a task of this stream's own, and later
        frames queue behind it."""
        if self.done.done():
            return
        if self.backlog is not None:
            if len(self.backlog) >= BACKLOG:
                self.backlog.popleft()  # a slow subscriber loses its oldest events
            self.backlog.append(body)
            return
        if body is None:
            self.finish()
            return
        coro = self.send(_body(body))
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
        except Exception:  # the connection is gone
            self.finish()
            return
        self.backlog = deque()
        self.writer = asyncio.ensure_future(self._drain(_Resume(coro, yielded), False))

    async def _drain(self, first: _Resume | None, last: bool) -> None:
        try:
            if first is not None:
                await first
            while not last and self.backlog:
                body = self.backlog.popleft()
                if body is None:
                    last = True
                else:
                    await self.send(_body(body))
        except Exception:  # the connection is gone
            last = True
        self.backlog = None
        if last:
            self.finish()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _body(body: bytes) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": True}


class _Fanout:
    """This process's one subscription to a channel, writing each event to every open stream of it.

    Each event is decoded once and framed once per distinct view (``shared_as``), then written to
    the streams directly: no queue or task wake-up per subscriber and event, and no pass through
    the middleware of each stream's request (its headers went through it).
    """

    def __init__(self, events: Events, channel: str, keepalive: float) -> None:
        self.events, self.channel, self.keepalive = events, channel, keepalive
        self.streams: set[_Stream] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._run())
        self.quiet = True
        self.timer = asyncio.get_running_loop().call_later(keepalive, self._tick)

    def _tick(self) -> None:
        if self.quiet:
            for stream in list(self.streams):
                stream.write(KEEPALIVE_FRAME)  # a comment line: proxies keep an idle stream open
        self.quiet = True
        self.timer = asyncio.get_running_loop().call_later(self.keepalive, self._tick)

    async def _run(self) -> None:
        try:
            async with self.events._plugin.start_subscription([self.channel]) as subscriber:
                self.ready.set_result(None)
                async for raw in subscriber.iter_events():
                    self.deliver(self.events._decode(raw))
        except BaseException as exc:
            if not self.ready.done():
                self.ready.set_exception(exc)
            for stream in list(self.streams):
                stream.finish()
            raise
        finally:
            self.timer.cancel()

    def deliver(self, event: Event) -> None:
        self.quiet = False
        frames: dict[Hashable, bytes] = {}
        positioned: Any = None  # the position function whose value for this event ``at`` holds
        at: Any = None
        for stream in list(self.streams):
            if stream.held is not None:
                stream.held.append(event)  # its opening is being read: sorted out once it is
                continue
            if stream.after is not None:
                if stream.position is not positioned:
                    positioned = stream.position
                    at = positioned(event)
                if at is not None and at <= stream.after:
                    continue  # in the stream's opening already
            view = stream.shared_as(event) if stream.shared_as is not None else stream
            if view in frames:
                frame = frames[view]
            else:
                frame = frames[view] = _encode(stream.render(event))
            if frame:
                stream.write(frame)
            if stream.until(event):
                stream.write(None)
                self.streams.discard(stream)

    def release(self, stream: _Stream, after: Any) -> None:
        """The stream's opening is out: the events it held go to it now, those in the opening dropped."""
        if stream.position is None:
            after = None  # nothing has a position to compare with it
        held, stream.held, stream.after = stream.held or [], None, after
        for event in held:
            at = stream.position(event) if stream.position is not None and after is not None else None
            if at is not None and at <= after:
                continue
            frame = _encode(stream.render(event))
            if frame:
                stream.write(frame)
            if stream.until(event):
                stream.write(None)
                self.streams.discard(stream)
                return

    def leave(self, stream: _Stream) -> None:
        self.streams.discard(stream)
        if stream.writer is not None:
            stream.writer.cancel()
        if not self.streams and self.events._fanouts.get(self.channel) is self:
            del self.events._fanouts[self.channel]
            self.timer.cancel()
            self.task.cancel()  # ends the subscription


class Framed(ServerSentEventMessage):
    """A message already framed as bytes."""

    def __init__(self, framed: bytes) -> None:
        super().__init__()
        self.framed = framed

    def encode(self) -> bytes:
        return self.framed


def message(name: str, data: Any, id: str | None = None) -> ServerSentEventMessage:
    """An event named ``name`` whose data is ``data`` as JSON, with an id when given."""
    return Framed(ServerSentEventMessage(data=msgspec.json.encode(data).decode(), event=name, id=id).encode())


def _encode(messages: Sequence[ServerSentEventMessage]) -> bytes:
    """The frame of one event for one view: its messages, one after another (b"": nothing to send)."""
    if len(messages) == 1:
        return messages[0].encode()
    return b"".join(m.encode() for m in messages)


KEEPALIVE_FRAME = ServerSentEventMessage(comment="keepalive", data=None).encode()
BACKLOG = 1000
END: Message = {"type": "http.response.body", "body": b"", "more_body": False}


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@dataclass(frozen=True, slots=True)
class Opening:
    """What a stream sends before live events, read once its channel's subscription is in place:
    whatever commits after the read reaches the stream live, and whatever committed before it is
    in ``messages``.

    ``after``: the position (see ``sse``'s ``position``) up to which ``messages`` cover the channel;
    live events at or before it are dropped, so an event both read and received is sent once.
    ``final``: the stream ends after ``messages`` (nothing live can follow).
    """

    messages: Sequence[ServerSentEventMessage] = ()
    after: Any = None
    final: bool = False


class _Live:
    """The ASGI side of one event stream: headers and the opening through the request's
    middleware, then a place among its channel's streams until ``until`` or a disconnect."""

    def __init__(
        self,
        inner: ASGIResponse,
        stream: Callable[[Send], _Stream],
        events: Events,
        channel: str,
        opening: Callable[[], Awaitable[Opening]] | None,
        keepalive: float,
    ) -> None:
        self.inner, self.stream, self.events, self.channel = inner, stream, events, channel
        self.opening, self.keepalive = opening, keepalive

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fanout = self.events._join(self.channel, self.keepalive)
        stream = self.stream(scope.get(RAW_SEND, send))
        stream.backlog = deque()  # events that arrive before the headers are out wait for them
        if self.opening is not None:
            stream.held = []  # and those that arrive while the opening is read, until it is
        fanout.streams.add(stream)
        listener: asyncio.Future[None] | None = None
        try:
            await asyncio.shield(fanout.ready)
            # Subscribed: from here on nothing published is missed, so the opening is read now.
            opening = await self.opening() if self.opening is not None else Opening()
            if opening.final:
                fanout.leave(stream)
            else:
                fanout.release(stream, opening.after)  # into the backlog, behind the opening
            await self.inner.start_response(send)
            for message in opening.messages:
                await send(_body(message.encode()))
            if opening.final:
                await send(END)
            else:
                stream.writer = asyncio.ensure_future(stream._drain(None, False))
                listener = asyncio.ensure_future(_disconnected(receive))
                await asyncio.wait({listener, stream.done}, return_when=asyncio.FIRST_COMPLETED)
                if not listener.done():
                    await send(END)  # through the middleware, which times the whole stream
        finally:
            if listener is not None:
                listener.cancel()
            fanout.leave(stream)
        await self.inner.after_response()


class LiveEvents(ServerSentEvent):
    """A Server-Sent Events response served by its channel's fan-out (see ``sse``)."""

    def __init__(self, make: Callable[[ASGIResponse], _Live]) -> None:
        super().__init__([])
        self._make = make

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        return self._make(super().to_asgi_response(*args, **kwargs))  # type: ignore[return-value]


def sse(
    events: Events,
    channel: str,
    render: Render,
    *,
    until: Callable[[Event], bool] = lambda _: False,
    opening: Callable[[], Awaitable[Opening]] | None = None,
    position: Callable[[Event], Any] | None = None,
    shared_as: Callable[[Event], Hashable] | None = None,
    keepalive: float = KEEPALIVE_SECONDS,
) -> ServerSentEvent:
    """A Server-Sent Events response for ``channel``.

    ``render`` shapes each event for this subscriber as the messages to send (none: it is dropped;
    ``message`` makes one); ``until`` ends the stream after the event it is true for. ``opening()``
    is awaited once the channel's subscription is in place, before the response starts: its
    messages go out first (a snapshot, what a reconnecting client missed), and live events whose
    ``position(event)`` is at or before its ``after`` are dropped (None: an event without a
    position, never dropped). A comment line every 15 s keeps proxies from closing an idle stream.
    ``shared_as(event)``, when given, names the rendering: subscribers for whom it is equal share
    one rendered frame, so ``render`` must be the same function of it for all of them.
    """

    def stream(send: Send) -> _Stream:
        return _Stream(send, render, until, shared_as, position)

    return LiveEvents(lambda inner: _Live(inner, stream, events, channel, opening, keepalive))
