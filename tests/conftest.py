"""Fixtures shared by every test.

Database tests run twice, on SQLite and on PostgreSQL, through the ``database_url`` fixture. Each
backend's schema is built once per session by the Alembic migrations; tables are emptied between
tests. PostgreSQL is reached at 127.0.0.1:5432 (``TECHX_TEST_PG``); with ``CI`` set an unreachable
server fails the run instead of skipping its half.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text

from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.migrate import upgrade
from exchange.platform.settings import Settings
from exchange.server.app import create_app
from listings.models import CalendarChange, CalendarDay, CalendarYear

PG_ADMIN_DSN = os.environ.get("TECHX_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# A Monday in 2026 that is a working day, at 09:00 Beijing time.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

BACKENDS = ["sqlite", "postgresql"]


async def _postgres_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


# The working-day calendar the migrations seed (2004-2026 from the chinese-calendar package) is
# reference data: it stays between tests, and is put back as migrated when a test changed it.
CALENDAR_TABLES = ("calendar_years", "calendar_days", "calendar_changes")


class Backend:
    """One database for the whole session: created, migrated, emptied between tests, dropped."""

    def __init__(self, name: str, url: str, admin_dsn: str | None = None, db_name: str | None = None) -> None:
        self.name = name
        self.url = url
        self.admin_dsn = admin_dsn
        self.db_name = db_name
        self.engine = create_engine(url, pool_size=2)
        self.tables: list[str] = []
        self.calendar: dict[str, list[dict[str, object]]] = {}
        self.calendar_version: tuple[object, ...] = ()

    async def setup(self) -> None:
        if self.admin_dsn:
            conn = await asyncpg.connect(self.admin_dsn)
            await conn.execute(f'CREATE DATABASE "{self.db_name}"')
            await conn.close()
        await upgrade(self.engine)
        async with self.engine.connect() as conn:
            if self.name == "sqlite":
                rows = (
                    await conn.execute(
                        text("SELECT name, sql FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
                    )
                ).all()
                # A virtual table (FTS5) is emptied through itself; its shadow tables are its own business.
                virtual = {name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
                names = [name for name, _ in rows if not any(name.startswith(f"{v}_") for v in virtual)]
            else:
                names = [
                    r[0]
                    for r in await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                ]
            self.tables = sorted(n for n in names if n != "alembic_version" and n not in CALENDAR_TABLES)
            for model in (CalendarYear, CalendarDay, CalendarChange):
                rows = await conn.execute(model.__table__.select())
                self.calendar[model.__tablename__] = [dict(r._mapping) for r in rows]
            self.calendar_version = await self._calendar_version(conn)

    @staticmethod
    async def _calendar_version(conn: object) -> tuple[object, ...]:
        return tuple(
            (
                await conn.execute(
                    text(
                        "SELECT count(*), (SELECT id FROM calendar_changes ORDER BY id DESC LIMIT 1)"
                        " FROM calendar_changes"
                    )
                )
            ).one()  # type: ignore[attr-defined]
        )

    async def empty(self) -> None:
        async with self.engine.begin() as conn:
            if self.name == "postgresql":
                await conn.execute(text(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE"))
            else:
                await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
                for table in self.tables:
                    await conn.execute(text(f'DELETE FROM "{table}"'))
            if await self._calendar_version(conn) != self.calendar_version:
                await self._restore_calendar(conn)

    async def _restore_calendar(self, conn: object) -> None:
        """The calendar as migrated (a test imported or corrected a year)."""
        for table in reversed(CALENDAR_TABLES):
            await conn.execute(text(f"DELETE FROM {table}"))  # type: ignore[attr-defined]
        for model in (CalendarYear, CalendarDay, CalendarChange):
            rows = self.calendar[model.__tablename__]
            if rows:
                await conn.execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]

    async def teardown(self) -> None:
        await self.engine.dispose()
        if self.admin_dsn:
            conn = await asyncpg.connect(self.admin_dsn)
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            await conn.close()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
async def backends(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Backend | str]]:
    """The session's databases by name; a string instead of a Backend says why it is unavailable."""
    available: dict[str, Backend | str] = {}
    sqlite_path = tmp_path_factory.mktemp("sqlite") / "techx-test.db"
    available["sqlite"] = Backend("sqlite", f"sqlite+aiosqlite:///{sqlite_path}")
    problem = await _postgres_reachable()
    if problem:
        available["postgresql"] = f"PostgreSQL at {PG_ADMIN_DSN} is unreachable ({problem})"
    else:
        db_name = f"techx_test_{uuid.uuid4().hex[:12]}"
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        available["postgresql"] = Backend("postgresql", f"{base}/{db_name}", PG_ADMIN_DSN, db_name)
    started: list[Backend] = []
    for backend in available.values():
        if isinstance(backend, Backend):
            await backend.setup()
            started.append(backend)
    yield available
    for backend in started:
        await backend.teardown()


def _backend(backends: dict[str, Backend | str], name: str) -> Backend:
    backend = backends[name]
    if isinstance(backend, str):
        if os.environ.get("CI"):
            pytest.fail(backend)
        pytest.skip(backend)
    return backend


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, backends: dict[str, Backend | str]) -> AsyncIterator[Backend]:
    """Runs the test once per database, on emptied tables."""
    chosen = _backend(backends, request.param)
    await chosen.empty()
    yield chosen


@pytest.fixture
async def pg_backend(backends: dict[str, Backend | str]) -> AsyncIterator[Backend]:
    """PostgreSQL only: for tests of real parallel connections."""
    chosen = _backend(backends, "postgresql")
    await chosen.empty()
    yield chosen


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_settings(backend: Backend, keys_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": backend.url,
        "keys_dir": keys_dir,
        "documents_dir": keys_dir.parent / "documents",  # attachments beside the keys, in the test's folder
        "log_json": False,
        "log_level": "WARNING",
        # Tests sign many parties up from one address within the hour; tests of the limits lower these.
        "registrations_per_hour_per_client": 10_000,
        "registrations_per_hour_per_network": 10_000,
        # Tests written for hour-long access tokens move the clock by minutes between sign-ins; the
        # tests of sessions use the default (docs/api-guide.md) explicitly.
        "token_lifetime_seconds": 3600,
        # Tests read mailed tokens from the outbox; the tests of delivery run the worker themselves.
        "notify_interval_seconds": 0,
    }
    values.update(overrides)
    return Settings.from_env(env={}, **values)


@pytest.fixture
def settings(backend: Backend, keys_dir: Path) -> Settings:
    return make_settings(backend, keys_dir)


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[Database]:
    database = Database(create_engine(backend.url, pool_size=5))
    yield database
    await database.dispose()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> Litestar:
    return create_app(settings, clock=clock, run_background_tasks=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP into the app in this event loop, so tests may also use ``app.state.db`` directly."""
    transport = httpx.ASGITransport(app=app)
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client,
    ):
        yield test_client


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan (channels, shutdown hooks) in a task of its own.

    pytest-asyncio may set a fixture up and tear it down in different tasks, and the lifespan's
    task group must be left by the task that entered it.
    """
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error
    try:
        yield
    finally:
        stop.set()
        await task
