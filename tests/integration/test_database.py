"""The database layer on both backends: migrations, write transactions, retries."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from exchange.parties.models import Org
from exchange.platform.db import Database, create_engine, is_retryable, retry
from exchange.platform.migrate import current_revision, head_revision


async def test_the_schema_is_at_the_latest_migration(backend):
    engine = create_engine(backend.url, pool_size=1)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
    assert {"orgs", "users", "org_events"} <= set(backend.tables)


async def test_a_failed_transaction_writes_nothing(db):
    async def work(session):
        await session.execute(
            text(
                "INSERT INTO orgs (id, name, credit_code, kind, verified, status, created_at) "
                "VALUES ('01900000000070008000000000000001', 'x', '91310000MA1FL0000N', 'enterprise', false, 'active', "
                "'2026-01-01 00:00:00')"
            )
            if db.dialect == "sqlite"
            else text(
                "INSERT INTO orgs (id, name, credit_code, kind, verified, status, created_at) "
                "VALUES ('01900000-0000-7000-8000-000000000001', 'x', '91310000MA1FL0000N', 'enterprise', false, "
                "'active', now())"
            )
        )
        raise RuntimeError("the use case failed after writing")

    with pytest.raises(RuntimeError):
        await db.transaction(work)
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM orgs")) == 0


async def test_concurrent_read_modify_write_transactions_lose_no_update(db):
    """Fifty writers increment one counter; write transactions serialise instead of failing."""
    await db.transaction(
        lambda s: s.execute(
            text("CREATE TABLE IF NOT EXISTS test_counter (id integer primary key, value integer not null)")
        )
    )
    await db.transaction(lambda s: s.execute(text("DELETE FROM test_counter")))
    await db.transaction(lambda s: s.execute(text("INSERT INTO test_counter VALUES (1, 0)")))
    lock = " FOR UPDATE" if db.is_postgres else ""  # SQLite's BEGIN IMMEDIATE already serialises writers

    async def increment(session):
        value = await session.scalar(text(f"SELECT value FROM test_counter WHERE id = 1{lock}"))
        await asyncio.sleep(0)
        await session.execute(text("UPDATE test_counter SET value = :v WHERE id = 1"), {"v": value + 1})

    try:
        await asyncio.gather(*(db.transaction(increment) for _ in range(50)))
        async with db.read() as session:
            assert await session.scalar(text("SELECT value FROM test_counter WHERE id = 1")) == 50
    finally:
        await db.transaction(lambda s: s.execute(text("DROP TABLE test_counter")))


@pytest.mark.postgres_only
async def test_serialization_failures_are_retried_until_they_succeed(pg_backend):
    """Two SERIALIZABLE transactions that each read what the other writes: one fails with 40001 and
    the retry helper runs it again, so both increments land."""
    engine = create_engine(pg_backend.url, pool_size=4)
    db = Database(engine.execution_options(isolation_level="SERIALIZABLE"))
    await db.transaction(lambda s: s.execute(text("CREATE TABLE ser_test (k text primary key, v int)")))
    await db.transaction(lambda s: s.execute(text("INSERT INTO ser_test VALUES ('a', 0), ('b', 0)")))
    both_read = asyncio.Barrier(2)
    attempts = {"a": 0, "b": 0}

    def writer(mine: str, other: str):
        async def work(session):
            attempts[mine] += 1
            total = await session.scalar(text("SELECT sum(v) FROM ser_test"))
            if attempts[mine] == 1:
                await both_read.wait()
            await session.execute(text("UPDATE ser_test SET v = :v WHERE k = :k"), {"v": total + 1, "k": mine})

        return work

    try:
        await asyncio.gather(db.transaction(writer("a", "b")), db.transaction(writer("b", "a")))
        async with db.read() as session:
            values = dict((await session.execute(text("SELECT k, v FROM ser_test"))).all())
        assert sorted(values.values()) == [1, 2]  # the retried one saw the other's write
        assert attempts["a"] + attempts["b"] == 3
    finally:
        await db.transaction(lambda s: s.execute(text("DROP TABLE ser_test")))
        await engine.dispose()


async def test_retry_gives_up_after_the_bounded_number_of_attempts():
    calls = 0

    class Locked(OperationalError):
        def __init__(self):
            super().__init__("UPDATE x", {}, Exception("database is locked"))

    async def always_locked():
        nonlocal calls
        calls += 1
        raise Locked()

    with pytest.raises(OperationalError):
        await retry(always_locked, attempts=3, base_delay=0.0001)
    assert calls == 3


async def test_other_errors_are_not_retried():
    calls = 0

    async def broken():
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not contention")

    with pytest.raises(ValueError):
        await retry(broken, attempts=5)
    assert calls == 1
    assert not is_retryable(DBAPIError("SELECT 1", {}, Exception("syntax error")))


async def test_each_transaction_starts_with_a_clean_session(db):
    """Sessions are reused between transactions: nothing of an earlier one may show in a later one."""
    sessions = []

    async def remember(session):
        sessions.append(session)
        session.info["scratch"] = "earlier"
        await session.execute(text("SELECT 1"))
        session.add(
            Org(
                name="x",
                credit_code="91310000MA1FL0000N",
                kind="enterprise",
                created_at=datetime(2026, 3, 2, tzinfo=UTC),
            )
        )
        await session.flush()

    async def look(session):
        sessions.append(session)
        return dict(session.info), len(session.identity_map)

    await db.transaction(remember)
    assert await db.transaction(look) == ({}, 0)

    async def fail(session):
        sessions.append(session)
        raise RuntimeError("fails")

    with pytest.raises(RuntimeError):
        await db.transaction(fail)
    await db.transaction(look)
    assert sessions[-1] is not sessions[-2]  # the failed session was closed, not kept


async def _an_org(db: Database) -> Org:
    org = Org(
        name="机构",
        credit_code="91310000MA1FL0000N",
        kind="university",
        verified=True,
        created_at=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
    )

    async def add(session):
        session.add(org)
        await session.flush()

    await db.transaction(add)
    return org


_ORG_ROW = select(Org.id, Org.name, Org.kind, Org.verified, Org.created_at).where(Org.id == bindparam("org_id"))


async def test_first_row_reads_what_a_session_reads(db):
    """The one-read path (the driver's own connection on PostgreSQL) decodes every column type it is
    used for as a session does: UUIDs, text, booleans and aware UTC datetimes."""
    org = await _an_org(db)
    row = await db.first_row(_ORG_ROW, {"org_id": org.id})
    async with db.read() as session:
        expected = (await session.execute(_ORG_ROW, {"org_id": org.id})).one()
    created = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert tuple(row) == tuple(expected) == (org.id, "机构", "university", True, created)
    assert row[4].utcoffset() == timedelta(0)
    assert await db.first_row(_ORG_ROW, {"org_id": uuid.uuid4()}) is None


async def test_a_refused_or_cancelled_first_row_leaves_the_pool_sound(pg_backend):
    """A statement the server refuses keeps its connection; one cancelled mid-fetch drops it, so the
    next read never meets a connection left mid-protocol."""
    database = Database(create_engine(pg_backend.url, pool_size=1))
    try:
        org = await _an_org(database)
        with pytest.raises(asyncpg.PostgresError):
            await database.first_row(select(text("1 / 0")), {})
        slow = select(func.pg_sleep(5))
        fetch = asyncio.ensure_future(database.first_row(slow, {}))
        await asyncio.sleep(0.2)  # the statement is running on the server
        fetch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await fetch
        row = await database.first_row(_ORG_ROW, {"org_id": org.id})
        assert row[1] == "机构"
    finally:
        await database.dispose()
