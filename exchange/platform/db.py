"""Engines, sessions and the retrying unit of work for SQLite and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE``: a deferred BEGIN that later writes fails with "database is locked" no matter
how long the busy timeout is. Reads use a plain deferred BEGIN so they do not queue behind writers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import asyncpg
import structlog
from sqlalchemy import BigInteger, cast, event, literal_column, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import Select

from exchange.platform.staleness import WalSample, data_as_of, kept_samples, replica_serves

T = TypeVar("T")
log = structlog.get_logger("techx.db")

# PostgreSQL SQLSTATEs that mean "run the whole transaction again".
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
READ_ONLY_OPTION = "techx_read_only"


def create_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, connect_timeout: float | None = None
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=60)
        _configure_sqlite(engine)
        return engine
    if connect_timeout is not None:  # a read replica: a connection that fails is noticed now, not in a minute
        return create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,  # a standby restarted under a pooled connection: the read falls back, no 500
            pool_recycle=1800,
            connect_args={"timeout": connect_timeout},
        )
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, pool_recycle=1800
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def is_retryable(exc: BaseException) -> bool:
    """True for failures that a fresh attempt of the same transaction may not meet again."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
        if sqlstate in RETRYABLE_SQLSTATES:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc):
            return True
    return False


def missing_database(exc: BaseException, url: str) -> str | None:
    """What to tell a user whose PostgreSQL database does not exist (SQLSTATE 3D000), naming it and
    the command that creates it; None for any other failure. ``exc`` may be asyncpg's error or
    SQLAlchemy's wrapping of it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            break
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__
    else:
        return None
    target = make_url(url)
    host, port = target.host or "localhost", target.port or 5432
    user = f" -U {target.username}" if target.username else ""
    return (
        f'PostgreSQL database "{target.database}" does not exist on {host}:{port}'
        f" — create it with: createdb -h {host} -p {port}{user} {target.database}"
    )


async def retry(
    attempt: Callable[[], Awaitable[T]],
    *,
    attempts: int = 8,
    base_delay: float = 0.005,
    max_delay: float = 0.5,
) -> T:
    """Run ``attempt`` again after a serialization failure or deadlock, with full jitter."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except Exception as exc:
            if number == attempts or not is_retryable(exc):
                raise
            delay = random.uniform(0, min(max_delay, base_delay * 2**number))
            log.info("transaction retried", attempt=number, delay=round(delay, 4), error=type(exc).__name__)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------------------------
# Reads from a replica (docs/scaling.md, "Reads from a replica")

REPLICA_PROBE_SECONDS = 1.0  # how often the server measures how far the replica is behind
REPLICA_CONNECT_SECONDS = 2.0  # an unreachable replica costs a read at most this before the primary answers
# The primary's WAL position in bytes, and the standby's replayed one (NULL on a server replaying
# no WAL: it is no standby, and its staleness is unknown). Numbers, not pg_lsn: the driver reads them.
_PRIMARY_LSN = select(cast(literal_column("pg_current_wal_lsn() - '0/0'::pg_lsn"), BigInteger))
_REPLAYED_LSN = select(
    cast(
        literal_column("CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() - '0/0'::pg_lsn END"),
        BigInteger,
    )
)


class _Now(Protocol):
    def now(self) -> datetime: ...


@dataclass
class ReplicaUse:
    """What one request read from the replica: ``as_of`` (the oldest data it was served) and the
    bound it was served under; None while everything came from the primary."""

    as_of: datetime | None = None
    max_lag: float = 0.0


# Set by the middleware of the public reads (exchange/web/replica.py) for an anonymous reader of a
# public route: ``Database.replica()`` uses the replica only inside such a request, so a signed-in
# reader (who may have just written) and every decision of money or state read the primary.
_REPLICA_USE: ContextVar[ReplicaUse | None] = ContextVar("techx_replica_use", default=None)


@contextmanager
def replica_reads() -> Iterator[ReplicaUse]:
    """Within this block ``Database.replica()`` may answer from the replica; the ``ReplicaUse``
    says afterwards whether it did."""
    use = ReplicaUse()
    token = _REPLICA_USE.set(use)
    try:
        yield use
    finally:
        _REPLICA_USE.reset(token)


def replica_use() -> ReplicaUse | None:
    """The current request's record of replica reads (None outside a public read)."""
    return _REPLICA_USE.get()


class ReadReplica:
    """A PostgreSQL streaming replica (``DATABASE_READ_URL``) and what is known of its staleness.

    ``probe`` (every second, a periodic task of the server) samples the primary's WAL position and
    the replica's replayed one; ``exchange.platform.staleness`` turns the samples into the time the
    replica's data is complete as of. A probe that fails forgets it: reads go to the primary until
    a probe succeeds again.
    """

    def __init__(self, engine: AsyncEngine, *, max_lag: float, clock: _Now) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self.clock = clock
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.samples: tuple[WalSample, ...] = ()
        self.as_of: datetime | None = None
        self._lost = False  # logged once per outage, not every second

    def fresh_as_of(self) -> datetime | None:
        """The replica's ``as_of`` when a public read may use it now, else None."""
        return self.as_of if replica_serves(self.as_of, self.clock.now(), self.max_lag) else None

    def record(self, sample: WalSample, replayed_lsn: int | None) -> None:
        """One probe's result: the primary at ``sample``, then the replica's replayed position."""
        self._keep(sample)
        self.as_of = data_as_of(self.samples, replayed_lsn)
        if replayed_lsn is None and not self._lost:
            log.warning("read replica replays no WAL (not a standby): public reads use the primary")
        self._lost = replayed_lsn is None

    def _keep(self, sample: WalSample) -> None:
        # Samples older than twice the bound can only say "too far behind": keep a short history.
        window = max(2 * self.max_lag, 10 * REPLICA_PROBE_SECONDS)
        self.samples = kept_samples((*self.samples, sample), sample.at, window)

    def lost(self, exc: BaseException) -> None:
        """The replica could not be reached: reads use the primary until a probe succeeds."""
        self.as_of = None
        if not self._lost:
            log.warning("read replica unreachable: public reads use the primary", error=f"{type(exc).__name__}: {exc}")
        self._lost = True

    async def probe(self, primary: Database) -> None:
        row = await primary.first_row(_PRIMARY_LSN, {})
        sample = WalSample(self.clock.now(), int(row[0]) if row else 0)
        try:
            async with self.engine.connect() as connection:
                replayed = (await connection.execute(_REPLAYED_LSN)).scalar()
        except Exception as exc:  # any failure of the replica is a reason to read the primary
            self._keep(sample)
            self.lost(exc)
            return
        self.record(sample, None if replayed is None else int(replayed))


class Database:
    """The unit of work: ``transaction(work)`` runs ``work(session)`` in one database transaction.

    The transaction commits when ``work`` returns and rolls back when it raises; serialization
    failures and deadlocks run ``work`` again from the start, so ``work`` must not have effects
    outside the database (publish events after ``transaction`` returns).
    """

    def __init__(self, engine: AsyncEngine, *, retry_attempts: int = 8, replica: ReadReplica | None = None) -> None:
        self.engine = engine
        self.read_replica = replica
        self.retry_attempts = retry_attempts
        self.dialect = engine.dialect.name
        self._write_sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._idle: list[AsyncSession] = []
        self._idle_limit = 64
        self._read_sessions = async_sessionmaker(
            engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False, autoflush=False
        )
        self._driver_sql: dict[Select[Any], tuple[str, tuple[str, ...], dict[str, Any]]] = {}

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def attempt() -> T:
            session = self._idle.pop() if self._idle else self._write_sessions()
            try:
                async with session.begin():
                    result = await work(session)
            except BaseException:
                await session.close()  # a session that failed is not used again
                raise
            # Closing and making a session costs more than the typical transaction's statements:
            # an emptied session (no objects, no info, no connection) serves the next transaction.
            session.expunge_all()
            session.info.clear()
            if len(self._idle) < self._idle_limit:
                self._idle.append(session)
            else:
                await session.close()
            return result

        return await retry(attempt, attempts=self.retry_attempts)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing it does is committed. (One-statement reads on every
        request: ``first_row``.)"""
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def replica(self) -> AsyncIterator[AsyncSession]:
        """A session for the public pages, search and open data: on the read replica when one is
        configured, the request is a public read (``replica_reads``) and the replica's data is at
        most ``TECHX_READ_MAX_LAG_SECONDS`` old; otherwise exactly ``read()``. Never for a read that
        decides money or state: those read the primary through ``read()`` or ``transaction()``."""
        use = _REPLICA_USE.get()
        source = self.read_replica
        as_of = source.fresh_as_of() if source is not None and use is not None else None
        session = None
        if source is not None and as_of is not None:
            session = source.sessions()
            try:
                await session.connection()  # connect now: an unreachable replica is met here, not mid-read
            except Exception as exc:
                await session.close()
                source.lost(exc)
                session = None
        if session is None:
            async with self.read() as primary:
                yield primary
            return
        try:
            yield session  # nothing is committed: the session's transaction ends with close()
        finally:
            await session.close()
        assert use is not None and as_of is not None
        use.as_of = as_of if use.as_of is None else min(use.as_of, as_of)
        use.max_lag = source.max_lag  # type: ignore[union-attr]

    async def probe_replica(self) -> None:
        """Measure how far the read replica is behind (the server's periodic task)."""
        if self.read_replica is not None:
            await self.read_replica.probe(self)

    async def first_row(self, statement: Select[Any], params: Mapping[str, Any]) -> Sequence[Any] | None:
        """The first row of one read, outside any transaction: for the reads every request makes.

        On PostgreSQL the statement is compiled once and run on the driver's own connection:
        SQLAlchemy's execution layer costs three times the driver's round trip, and a refused bid
        is nothing but two such reads. Rows come back as the driver decodes them, so ``statement``
        (a module-level constant, the cache's key) selects plain columns: numbers, text, booleans,
        UUIDs and aware datetimes read the same through the driver as through a session.
        """
        if not self.is_postgres:
            async with self.read() as session:
                return (await session.execute(statement, params)).first()
        sql, names, literals = self._driver_sql.get(statement) or self._compile_for_driver(statement)
        values = [params[name] if name in params else literals[name] for name in names]
        async with self.driver() as connection:
            return await connection.fetchrow(sql, *values)

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[asyncpg.Connection]:
        """The driver's own connection from the pool, outside any transaction (PostgreSQL): each
        statement on it is a transaction of its own, in one round trip. For the few paths where
        SQLAlchemy's work costs more than the statement (``first_row``, the ledger's entries
        written alone)."""
        if not self.is_postgres:
            raise RuntimeError("the driver's own connection is PostgreSQL's")
        connection = await self.engine.raw_connection()
        try:
            yield connection.driver_connection  # type: ignore[misc]
        except BaseException as exc:
            refused = isinstance(exc, asyncpg.PostgresError) or isinstance(
                getattr(exc, "orig", None), asyncpg.PostgresError
            )
            if not refused:  # a refusal by the server leaves the connection sound; anything else may not
                connection.invalidate()  # a broken or cancelled call may leave it mid-protocol
            raise
        finally:
            connection.close()

    def _compile_for_driver(self, statement: Select[Any]) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        compiled = statement.compile(dialect=self.engine.dialect)
        literals = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        entry = (str(compiled), tuple(compiled.positiontup or ()), literals)
        self._driver_sql[statement] = entry
        return entry

    async def dispose(self) -> None:
        while self._idle:
            await self._idle.pop().close()
        await self.engine.dispose()
        if self.read_replica is not None:
            await self.read_replica.engine.dispose()
