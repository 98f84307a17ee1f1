"""The ledger's hot path starts SQLAlchemy's transaction on the asyncpg driver itself
(``ledger.store.driver``) through the asyncpg adapter's private ``_start_transaction`` and
``_transaction``: SQLAlchemy has no public call for it. This test fails if those internals change
(the ledger would then fall back to a slower public way and lose a round trip per transaction)."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from exchange.platform.db import create_engine
from ledger.store import driver


async def test_driver_starts_sqlalchemys_transaction_through_the_adapter(pg_backend, monkeypatch):
    started: list[object] = []
    start = AsyncAdapt_asyncpg_connection._start_transaction  # AttributeError: the internal is gone

    async def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        started.append(self)
        await start(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "_start_transaction", counted)
    engine = create_engine(pg_backend.url, pool_size=1)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()  # SQLAlchemy begins lazily: nothing sent yet
            adapted = (await conn.get_raw_connection()).dbapi_connection
            assert adapted._transaction is None
            started.clear()  # the dialect's first-connect queries
            statements.clear()

            connection = await driver(conn)

            assert started == [adapted] and statements == []  # the adapter's own start, not a statement
            assert adapted._transaction is not None and connection.is_in_transaction()
            # The driver's statements and SQLAlchemy's run in one transaction, which SQLAlchemy ends.
            assert await connection.fetchval("SELECT txid_current()") == await conn.scalar(
                text("SELECT txid_current()")
            )
            await connection.execute("CREATE TEMP TABLE driver_probe (x int)")
            await conn.execute(text("INSERT INTO driver_probe VALUES (1)"))
            assert await connection.fetchval("SELECT count(*) FROM driver_probe") == 1
            assert started == [adapted]  # SQLAlchemy's statements did not start another
            await transaction.rollback()
            assert adapted._transaction is None and not connection.is_in_transaction()
            assert await conn.scalar(text("SELECT to_regclass('pg_temp.driver_probe')")) is None
            await conn.rollback()

            # In a transaction SQLAlchemy's statements have started already, the driver joins it.
            started.clear()
            async with conn.begin():
                ours = await conn.scalar(text("SELECT txid_current()"))
                assert started == [adapted]
                assert await (await driver(conn)).fetchval("SELECT txid_current()") == ours
                assert started == [adapted]
    finally:
        await engine.dispose()
