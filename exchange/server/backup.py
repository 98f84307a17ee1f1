"""``techx backup FILE`` and ``techx restore FILE`` (docs/operations.md, "Backups and restore").

SQLite: SQLite's online backup API copies the live database file page by page inside one read
transaction, so the copy is the database as one moment left it while servers go on writing (WAL
lets them). The copy is a single self-contained file (rollback journal, no ``-wal`` beside it).

PostgreSQL: ``pg_dump --format=custom`` with the connection of ``DATABASE_URL``, on a snapshot
this command exports, so what it prints (revision, ledger head) describes exactly what was dumped;
``pg_restore`` loads it back in one transaction.

Both write ``FILE.partial`` and rename it when complete: a file named ``FILE`` is a whole backup.
Neither overwrites anything: not an existing ``FILE``, not a database that has tables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.db import Database, create_engine
from exchange.platform.settings import Settings
from exchange.server.errors import CommandError
from ledger import seal
from ledger.errors import NotFound
from ledger.models import entries
from ledger.views import BlockView

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


@dataclass(frozen=True)
class Contents:
    """What a database (or a backup of it) holds, as a restore is checked against it."""

    revision: str | None
    head: BlockView | None
    entries: int

    def lines(self) -> list[str]:
        head = self.head
        return [
            f"database at revision {self.revision or '(none: not migrated)'}",
            f"ledger head: block {head.height} ({head.tree_size} entries), root {head.root_hash.hex()}"
            if head
            else "ledger head: nothing sealed yet",
            f"ledger entries: {self.entries}",
        ]


async def describe(session: AsyncSession) -> Contents:
    from alembic.runtime.migration import MigrationContext

    revision = await session.run_sync(lambda s: MigrationContext.configure(s.connection()).get_current_revision())
    try:
        head: BlockView | None = await seal.latest_block(session)
    except NotFound:
        head = None
    count = await session.scalar(select(func.count()).select_from(entries))
    return Contents(revision=revision, head=head, entries=int(count or 0))


async def _describe_url(url: str) -> Contents:
    db = Database(create_engine(url, pool_size=1))
    try:
        async with db.read() as session:
            return await describe(session)
    finally:
        await db.dispose()


# -- backup ------------------------------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    target = Path(args.file)
    if target.exists():
        raise CommandError(f"{target} exists; a backup never overwrites a file — name a new one")
    if not target.parent.is_dir():
        raise CommandError(f"no folder {target.parent} to write {target.name} into")
    partial = target.with_name(f"{target.name}.partial")
    try:
        if settings.is_sqlite:
            _copy_sqlite(_sqlite_path(settings), partial, backup=True)
            contents = asyncio.run(_describe_url(f"sqlite+aiosqlite:///{partial}"))
            _single_file(partial)
        else:
            contents = asyncio.run(_dump_postgres(settings, partial))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"wrote {target} ({target.stat().st_size:,} bytes)")
    for line in contents.lines():
        print(line)
    return 0


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database.startswith(":"):
        raise CommandError("DATABASE_URL names no SQLite database file")
    return Path(database)


def _copy_sqlite(source: Path, target: Path, *, backup: bool) -> None:
    """Copy with the online backup API: one step, one read transaction on ``source``."""
    try:
        # mode=rw: a missing source is an error, never a new empty database.
        src = sqlite3.connect(f"file:{source}?mode={'rw' if backup else 'ro'}", uri=True)
    except sqlite3.OperationalError:
        raise CommandError(f"no SQLite database at {source}") from None
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            problems = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise CommandError(f"copying {source} failed: {exc}") from None
    finally:
        src.close()
    if problems != "ok":
        raise CommandError(f"the copy of {source} does not check out: {problems}")


def _single_file(path: Path) -> None:
    """A backup is one file: rollback journal mode, nothing beside it (a restore returns it to WAL)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


async def _dump_postgres(settings: Settings, target: Path) -> Contents:
    pg_dump = _client_tool("pg_dump")
    db = Database(create_engine(settings.database_url, pool_size=1))
    try:
        snapshot_engine = db.engine.execution_options(isolation_level="REPEATABLE READ")
        async with AsyncSession(snapshot_engine) as session, session.begin():
            snapshot = (await session.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
            contents = await describe(session)
            # pg_dump reads the snapshot of this transaction, which stays open until it is done.
            await _run(pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", settings=settings)
        return contents
    finally:
        await db.dispose()


# -- restore -----------------------------------------------------------------------------------------


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise CommandError(f"no backup at {source}")
    with source.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if settings.is_sqlite:
        if not header.startswith(SQLITE_HEADER):
            raise CommandError(f"{source} is not an SQLite backup (DATABASE_URL names an SQLite database)")
        target = _sqlite_path(settings)
        _refuse_sqlite_with_data(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(source, target, backup=False)
        contents = asyncio.run(_describe_url(settings.database_url))
        into = str(target)
    else:
        if not header.startswith(PG_DUMP_HEADER):
            raise CommandError(f"{source} is not a pg_dump custom-format backup (DATABASE_URL names PostgreSQL)")
        contents = asyncio.run(_restore_postgres(settings, source))
        into = f'PostgreSQL database "{make_url(settings.database_url).database}"'
    print(f"restored {source} into {into}")
    for line in contents.lines():
        print(line)
    print("next: techx ledger verify (with the keys escrowed with this backup), then see docs/operations.md")
    return 0


def _refuse_sqlite_with_data(target: Path) -> None:
    if not target.exists() or target.stat().st_size == 0:
        return
    try:
        existing = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            tables = existing.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            existing.close()
    except sqlite3.DatabaseError:
        tables = -1  # not a database at all: not ours to replace either
    if tables:
        raise CommandError(
            f"the database at {target} is not empty; a restore never overwrites one — point DATABASE_URL at a new file"
        )


async def _restore_postgres(settings: Settings, source: Path) -> Contents:
    pg_restore = _client_tool("pg_restore")
    url = make_url(settings.database_url)
    db = Database(create_engine(settings.database_url, pool_size=1))
    try:
        async with db.read() as session:
            tables = await session.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
        if tables:
            raise CommandError(
                f'PostgreSQL database "{url.database}" is not empty ({tables} tables); a restore never'
                f" overwrites one — create a new one (createdb) and point DATABASE_URL at it"
            )
        await _run(
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={url.database}",
            str(source),
            settings=settings,
        )
        async with db.read() as session:
            return await describe(session)
    finally:
        await db.dispose()


# -- PostgreSQL client tools -------------------------------------------------------------------------


def _client_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CommandError(
            f"{name} not found on PATH; install PostgreSQL's client tools (of the server's major version"
            f" or newer) or put their bin folder on PATH"
        )
    return found


def _pg_environment(settings: Settings) -> dict[str, str]:
    """The connection of ``DATABASE_URL`` as libpq reads it (a password never shows in ``ps``)."""
    url = make_url(settings.database_url)
    values = {
        "PGHOST": url.host,
        "PGPORT": url.port,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    return {**os.environ, **{key: str(value) for key, value in values.items() if value is not None}}


async def _run(tool: str, *arguments: str, settings: Settings) -> None:
    process = await asyncio.create_subprocess_exec(
        tool,
        *arguments,
        env=_pg_environment(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        said = stderr.decode(errors="replace").strip().splitlines()
        reason = said[0] if said else f"exit status {process.returncode}"
        raise CommandError(f"{Path(tool).name} failed: {reason}")


def register(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser(
        "backup", help="copy the database into FILE while it runs (SQLite: online backup; PostgreSQL: pg_dump)"
    )
    backup.add_argument("file", help="where to write the backup; must not exist")
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser(
        "restore", help="load a backup made by techx backup into the empty database DATABASE_URL names"
    )
    restore.add_argument("file", help="a file written by techx backup")
    restore.set_defaults(handler=cmd_restore)
