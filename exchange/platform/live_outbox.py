"""Live events through an outbox and NATS JetStream (``TECHX_CHANNELS_BACKEND=jetstream``).

A transaction's live events are INSERTed into ``live_event_outbox`` inside that transaction
(``OutboxEvents.record``): a rollback drops them, a commit keeps them even if the process dies the
next instant. A relay in every API process (``Relay``) moves committed rows to a JetStream stream —
woken right after a commit that recorded events, and every ``TECHX_OUTBOX_RELAY_SECONDS`` for rows
a process that died left behind. Each message carries the row's ``event_id`` as ``Nats-Msg-Id``,
so the broker drops a second publication of a row (a relay that died between the broker's
acknowledgement and its own commit). Every API process consumes the stream from where it started
(``Consumer``) and hands each message to its in-memory channels, whose fan-out serves the SSE
streams (``events.sse``) exactly as with the memory backend.

Order: the rows of one auction are inserted after the statement that locks the auction, so their
ids follow the auction's bids; only one relay publishes at a time (a transaction-scoped advisory
lock on PostgreSQL, the write transaction itself on SQLite) and it publishes rows in id order, one
acknowledged message after another, so the stream holds each auction's events in bid order.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from sqlalchemy import JSON, BigInteger, Integer, String, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.events import Event, Events, LiveEvent
from exchange.platform.tables import Base
from kernel.columns import new_id

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin
    from nats.aio.client import Client as NATS
    from nats.js.client import JetStreamContext

    from exchange.platform.db import Database
    from exchange.platform.settings import Settings

log = structlog.get_logger("techx.live_events")

BATCH = 500  # rows one relay transaction publishes
BUSY_RETRY_SECONDS = 0.05  # after a kick that found another relay at work: its last read may predate our commit
PUBLISH_TIMEOUT_SECONDS = 2.0  # a broker that does not acknowledge in time: the rows stay for the next pass
DUPLICATE_WINDOW_SECONDS = 120.0  # the broker drops a message whose Nats-Msg-Id it saw within this window
MAX_AGE_SECONDS = 24 * 3600.0  # live events are for streams open now; a day of them is plenty
HEARTBEAT_SECONDS = 1.0  # two missed heartbeats: the consumer is recreated after the last message it delivered
RECENT_IDS = 10_000  # message ids each consumer remembers beyond the broker's duplicate window
CHANNEL_HEADER = "TechX-Channel"  # the channel as written (a subject token cannot hold every character)
# The relay's PostgreSQL advisory lock key: any fixed 64-bit number the exchange uses for nothing else.
RELAY_LOCK_KEY = 0x7EC4_0E0E


class LiveEventRow(Base):
    """A live event committed and not yet in the JetStream stream; ``id`` gives the relay's order."""

    __tablename__ = "live_event_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )  # SQLite numbers only an INTEGER PRIMARY KEY by itself
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)  # the message's Nats-Msg-Id
    channel: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


async def record_events(session: AsyncSession, events: Sequence[LiveEvent]) -> None:
    """Write ``events`` into the outbox in ``session``'s transaction, in their order."""
    now = datetime.fromtimestamp(time.time(), UTC)  # wall clock, like a published event's published_at
    await session.execute(
        insert(LiveEventRow),
        [
            {"event_id": new_id(), "channel": channel, "event": name, "data": data, "created_at": now}
            for channel, name, data in events
        ],
    )


def stream_subjects(settings: Settings) -> str:
    return f"{settings.nats_stream.lower()}.>"


def subject(settings: Settings, channel: str) -> str:
    """``auction:<uuid>`` → ``<stream>.auction.<uuid>``: a token of its own for each part of the channel."""
    tokens = [t or "_" for t in channel.replace(".", "_").replace(" ", "_").replace("*", "_").split(":")]
    return f"{settings.nats_stream.lower()}.{'.'.join(tokens)}"


async def connect(settings: Settings, reconnected: Callable[[], Awaitable[None]] | None = None) -> NATS:
    """A connection that reconnects by itself, for as long as the process lives."""
    import nats

    async def quiet(exc: Exception) -> None:  # reconnects are logged once by the relay and the consumer
        log.debug("nats", error=repr(exc))

    options: dict[str, Any] = {"reconnected_cb": reconnected} if reconnected is not None else {}
    return await nats.connect(
        settings.nats_url,
        connect_timeout=2,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=quiet,
        **options,
    )


async def ensure_stream(js: JetStreamContext, settings: Settings) -> None:
    """The stream, created if missing: on disk, with the duplicate window the relay relies on."""
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(settings.nats_stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=settings.nats_stream,
                subjects=[stream_subjects(settings)],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
                max_age=MAX_AGE_SECONDS,
            )
        )


class Relay:
    """Moves committed outbox rows to the stream, in id order, one relay of all processes at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.js: JetStreamContext | None = None
        self._kicked = asyncio.Event()
        self._stream_known = False
        self._failing = False

    def kick(self) -> None:
        """A transaction that recorded events has committed: relay now rather than at the next tick."""
        self._kicked.set()

    async def relay_once(self, db: Database) -> int | None:
        """One transaction: the lock, up to ``BATCH`` rows published and deleted. The number of rows
        relayed, or None when another relay holds the lock. Raises when the broker fails (nothing
        is deleted then)."""
        js = self.js
        if js is None:
            raise ConnectionError("not connected to NATS")
        if not self._stream_known:
            await ensure_stream(js, self.settings)
            self._stream_known = True

        async def work(session: AsyncSession) -> int | None:
            if db.is_postgres:
                locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY})
                if not locked:
                    return None
            rows = (
                await session.execute(
                    select(
                        LiveEventRow.id,
                        LiveEventRow.event_id,
                        LiveEventRow.channel,
                        LiveEventRow.event,
                        LiveEventRow.data,
                        LiveEventRow.created_at,
                    )
                    .order_by(LiveEventRow.id)
                    .limit(BATCH)
                )
            ).all()
            for row in rows:
                # One acknowledged message after another: a failure leaves no later row published before it.
                await js.publish(
                    subject(self.settings, row.channel),
                    msgspec.json.encode(Event(row.event, row.data, row.created_at.timestamp())),
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                    stream=self.settings.nats_stream,
                    headers={"Nats-Msg-Id": str(row.event_id), CHANNEL_HEADER: row.channel},
                )
            if rows:
                # By id, not ``id <= last``: a row of a lower id may have committed since the read.
                await session.execute(delete(LiveEventRow).where(LiveEventRow.id.in_([r.id for r in rows])))
            return len(rows)

        try:
            return await db.transaction(work)
        except Exception:
            self._stream_known = False  # a broker that lost its state gets the stream again
            raise

    async def drain(self, db: Database) -> None:
        """Relay until the outbox is empty (as this relay saw it) or the broker fails (raised)."""
        while True:
            relayed = await self.relay_once(db)
            if relayed is None:
                await asyncio.sleep(BUSY_RETRY_SECONDS)  # the other relay may have read before our commit
                continue
            if self._failing:
                self._failing = False
                log.info("live events relayed again")
            if relayed < BATCH:
                return

    async def run(self, db: Database) -> None:
        """The relay's loop: after each kick, and every ``outbox_relay_seconds``."""
        while True:
            with_kick = False
            try:
                await asyncio.wait_for(self._kicked.wait(), self.settings.outbox_relay_seconds)
                with_kick = True
            except TimeoutError:
                pass
            self._kicked.clear()
            try:
                await self.drain(db)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._failing:  # once per outage: the rows wait in the outbox
                    self._failing = True
                    log.warning("live events wait in the outbox: NATS is not taking them", error=repr(exc))
                if with_kick:
                    await asyncio.sleep(min(1.0, self.settings.outbox_relay_seconds))  # not a busy loop on kicks


class Consumer:
    """This process's subscription to the stream: each message, once and in the stream's order, to
    the local channels (whose fan-out serves the SSE streams).

    An ordered push consumer starting after the stream's last message at start-up: the client
    recreates it from the message after the last one it delivered when it sees a gap or misses two
    heartbeats (a NATS restart); a message at or before that one is never handed on twice.
    """

    def __init__(self, settings: Settings, channels: ChannelsPlugin) -> None:
        self.settings, self.channels = settings, channels
        self.last = 0  # the stream sequence of the last message handed on
        self.subscription: Any = None
        # The ids of the last messages handed on: a row published again after the broker's duplicate
        # window (a relay that died before its commit and was not followed for minutes) is dropped here.
        self.recent: deque[str] = deque()
        self.recent_ids: set[str] = set()

    async def start(self, js: JetStreamContext) -> None:
        self.last = (await js.stream_info(self.settings.nats_stream)).state.last_seq
        await self._subscribe(js)

    async def _subscribe(self, js: JetStreamContext) -> None:
        from nats.js.api import ConsumerConfig, DeliverPolicy

        self.subscription = await js.subscribe(
            stream_subjects(self.settings),
            stream=self.settings.nats_stream,
            cb=self.deliver,
            ordered_consumer=True,
            idle_heartbeat=HEARTBEAT_SECONDS,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.last + 1),
        )

    async def reconnected(self, js: JetStreamContext) -> None:
        """After a reconnect: a stream that came back shorter than what was delivered (a broker whose
        disk lost its last writes, or a new one) numbers new messages from below ``last``; they would
        be taken for ones delivered already, so the consumer follows the stream from its end."""
        from nats.js.errors import NotFoundError

        try:
            last = (await js.stream_info(self.settings.nats_stream)).state.last_seq
        except NotFoundError:
            await ensure_stream(js, self.settings)
            last = 0
        if last >= self.last:
            return  # the client's own ordered consumer picks up after the last message delivered
        log.warning("the live event stream came back shorter: following it from its end", had=self.last, has=last)
        if self.subscription is not None:
            await self.subscription.unsubscribe()
        self.last = last
        await self._subscribe(js)

    async def deliver(self, msg: Any) -> None:
        sequence = msg.metadata.sequence.stream
        if sequence <= self.last:
            return  # delivered already (a consumer recreated from further back)
        self.last = sequence
        headers = msg.headers or {}
        event_id = headers.get("Nats-Msg-Id", "")
        if event_id in self.recent_ids:
            return
        self.recent.append(event_id)
        self.recent_ids.add(event_id)
        if len(self.recent) > RECENT_IDS:
            self.recent_ids.discard(self.recent.popleft())
        channel = headers.get(CHANNEL_HEADER)
        if channel:
            self.channels.publish(msg.data, channels=[channel])


class OutboxLink:
    """An API process's part: the connection, the stream, the consumer and the relay, in one task."""

    def __init__(self, settings: Settings, channels: ChannelsPlugin) -> None:
        self.settings = settings
        self.relay = Relay(settings)
        self.consumer = Consumer(settings, channels)
        self.nc: NATS | None = None
        self.subscribed = asyncio.Event()  # tests and readiness: live events flow in from here

    async def run(self, db: Database) -> None:
        warned = False
        while self.nc is None:
            nc = None
            try:
                nc = await connect(self.settings, reconnected=self._reconnected)
                js = nc.jetstream(timeout=PUBLISH_TIMEOUT_SECONDS)
                await ensure_stream(js, self.settings)
                await self.consumer.start(js)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if nc is not None:
                    await nc.close()  # connected, but the stream or the consumer failed: from the start again
                if not warned:
                    warned = True
                    log.warning("NATS unreachable: live events wait in the outbox", error=repr(exc))
                await asyncio.sleep(self.settings.outbox_relay_seconds)
                continue
            self.nc, self.relay.js = nc, js
        self.subscribed.set()
        self.relay.kick()  # what waited while NATS was unreachable
        await self.relay.run(db)

    async def _reconnected(self) -> None:
        if self.relay.js is None:
            return
        try:
            await self.consumer.reconnected(self.relay.js)
        except Exception as exc:  # the client's ordered consumer still recovers on its own
            log.warning("live event stream not checked after a reconnect", error=repr(exc))

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()


async def relay_pass(settings: Settings, db: Database) -> None:
    """One relay pass outside a server (``techx sweep``): the outbox, as it stands, into the stream."""
    relay = Relay(settings)
    nc = await connect(settings)
    try:
        relay.js = nc.jetstream(timeout=PUBLISH_TIMEOUT_SECONDS)
        await relay.drain(db)
    finally:
        await nc.close()


class OutboxEvents(Events):
    """Live events written to the outbox in their transaction; the relay publishes them after commit."""

    records = True

    def __init__(self, plugin: ChannelsPlugin, settings: Settings) -> None:
        super().__init__(plugin)
        self.settings = settings
        self.link = OutboxLink(settings, plugin)

    async def record(self, session: AsyncSession, events: Sequence[LiveEvent]) -> None:
        if events:
            await record_events(session, events)

    def committed(self, events: Sequence[LiveEvent]) -> None:
        if events:
            self.link.relay.kick()  # they reach this process's streams too through the stream

    async def flush(self, db: Database) -> None:
        await relay_pass(self.settings, db)

    def background(self, db: Database) -> Coroutine[Any, Any, None]:
        return self.link.run(db)

    async def close(self) -> None:
        await self.link.close()
