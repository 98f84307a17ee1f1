"""Applying the Alembic migrations in ``migrations/`` — the only way the schema is created."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.platform.db import Database, create_engine
from exchange.platform.settings import PROJECT_ROOT, Settings

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _apply(connection: Any, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_apply, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _ensure_sqlite_folder(settings: Settings) -> None:
    """The embedded database lives in a file under var/; make sure its folder exists."""
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        if path and not path.startswith(":"):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


async def upgrade_database(settings: Settings) -> str | None:
    """Migrate the configured database to the head revision; returns the revision it is at."""
    await asyncio.to_thread(_ensure_sqlite_folder, settings)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        await upgrade(engine)
        return await current_revision(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def migrated_database(settings: Settings, *, pool_size: int = 2) -> AsyncIterator[Database]:
    """The configured database, migrated first: for commands that run outside the server."""
    await upgrade_database(settings)
    db = Database(create_engine(settings.database_url, pool_size=pool_size), retry_attempts=settings.db_retry_attempts)
    try:
        yield db
    finally:
        await db.dispose()
