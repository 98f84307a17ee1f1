"""Alembic environment for both databases.

``techx db upgrade`` and the test fixtures pass an open connection in ``config.attributes``; the
``alembic`` command opens its own from ``DATABASE_URL``. SQLite runs in batch mode so that
ALTER TABLE works there too.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from exchange.platform.settings import Settings
from exchange.server.tables import target_metadata

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    from exchange.platform.db import create_engine

    engine = create_engine(Settings.from_env().database_url, pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
        await connection.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_online())
