"""`techx backup` and `techx restore`, run as real processes: the restore drill of docs/operations.md.

A busy exchange (the demo, its ledger sealed) is backed up while money keeps moving on another
connection, restored into a fresh database, and checked as a restore must be: `techx ledger verify`
passes, every notice's signature verifies with the exchange's public key, and every account holds
what the source held at the moment the backup caught.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from exchange.accounting.jobs import seal_pending
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.keys import load_or_create_keys
from exchange.platform.migrate import head_revision
from exchange.server.demo import build_demo
from ledger import service as ledger
from ledger.history import get_account
from ledger.models import accounts, blocks, entries
from listings.models import Notice
from tests.conftest import PG_ADMIN_DSN, make_settings
from tests.integration.test_cli import techx
from tests.integration.test_demo import PRESENT
from tests.ledger_helpers import open_accounts


@pytest.fixture
async def fresh_url(backend, tmp_path) -> AsyncIterator[str]:
    """An empty database of the backend's kind to restore into."""
    if backend.name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"techx_restore_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield backend.url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def balances(account) -> tuple[int, int, int, int]:
    return (account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending)


async def test_restore_drill_a_busy_exchange_backed_up_while_written_restores_whole(
    backend, db, clock, keys_dir, tmp_path, fresh_url
):
    settings = make_settings(backend, keys_dir)
    await build_demo(settings, present=PRESENT)
    keys = load_or_create_keys(settings)
    sealed = await seal_pending(db, keys, settings, ManualClock(PRESENT))
    assert sealed, "the demo's entries are sealed into signed blocks"
    bank, wallet = await open_accounts(db, clock.now(), ("bank", "asset", False), ("org", "liability", True))

    # Money keeps moving on another connection for as long as the backup command runs.
    written: list = []

    async def transfer() -> None:
        written.append(
            await db.transaction(
                lambda s: ledger.transfer(s, bank.id, wallet.id, 1, unit="CNY", kind="top_up", now=clock.now())
            )
        )

    for _ in range(5):
        await transfer()
    stop = asyncio.Event()

    async def keep_writing() -> None:
        while not stop.is_set():
            await transfer()

    writer = asyncio.create_task(keep_writing())
    backup_file = tmp_path / "backup" / "techx.backup"
    backup_file.parent.mkdir()
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    before = len(written)
    backed_up = await asyncio.to_thread(techx, "backup", str(backup_file), env=env)
    during = len(written) - before
    stop.set()
    await writer
    assert backed_up.returncode == 0, backed_up.stderr
    assert during > 0, "writes went on while the backup ran"
    assert backup_file.stat().st_size > 0
    assert f"revision {head_revision()}" in backed_up.stdout
    assert "ledger head: block" in backed_up.stdout
    # One self-contained file, nothing half-written or journalled beside it.
    assert [p.name for p in backup_file.parent.iterdir()] == [backup_file.name]
    backup_bytes = backup_file.read_bytes()

    # Restored into a fresh database.
    restore_env = {"DATABASE_URL": fresh_url, "TECHX_KEYS_DIR": str(keys_dir)}
    restored_run = techx("restore", str(backup_file), env=restore_env)
    assert restored_run.returncode == 0, restored_run.stderr
    assert f"revision {head_revision()}" in restored_run.stdout
    head_line = next(line for line in backed_up.stdout.splitlines() if line.startswith("ledger head"))
    assert head_line in restored_run.stdout, "the restore names the ledger head the backup recorded"
    assert backup_file.read_bytes() == backup_bytes, "restoring leaves the backup as it was"
    assert [p.name for p in backup_file.parent.iterdir()] == [backup_file.name]

    # What `techx ledger verify` checks — hashes, signatures, chain, balances — holds on the copy.
    verified = techx("ledger", "verify", env=restore_env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"OK: {len(sealed)} blocks")

    restored = Database(create_engine(fresh_url, pool_size=1))
    try:
        async with restored.read() as copy, db.read() as source:
            # Every notice is there and its signature verifies with the exchange's public key.
            public_key = Ed25519PublicKey.from_public_bytes(keys.signer.public_key_raw)
            notices = (await copy.execute(select(Notice))).scalars().all()
            assert len(notices) == await source.scalar(select(func.count()).select_from(Notice)) > 0
            for notice in notices:
                assert notice.key_id == keys.signer.key_id
                public_key.verify(base64.b64decode(notice.signature), notice.content.encode())

            # The backup caught the writes up to one moment, all of them and nothing after.
            copied = set((await copy.execute(select(entries.c.id))).scalars())
            caught = [entry for entry in written if entry.id in copied]
            assert caught == written[: len(caught)] and len(caught) >= before
            assert await copy.scalar(select(func.count()).select_from(blocks)) == len(sealed)

            # Every account holds exactly what the source held at that moment.
            copy_accounts = (await copy.execute(select(accounts))).all()
            assert len(copy_accounts) == await source.scalar(select(func.count()).select_from(accounts))
            for row in copy_accounts:
                then = await get_account(source, row.id, as_of=caught[-1].id)
                assert balances(row) == balances(then), row.code
    finally:
        await restored.dispose()


async def test_backup_and_restore_refuse_to_overwrite(backend, db, clock, keys_dir, tmp_path):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    await open_accounts(db, clock.now(), ("bank", "asset", False))
    existing = tmp_path / "already-here.backup"
    existing.write_bytes(b"yesterday's backup")
    refused = techx("backup", str(existing), env=env)
    assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "exists" in refused.stderr
    assert existing.read_bytes() == b"yesterday's backup"

    made = tmp_path / "today.backup"
    assert techx("backup", str(made), env=env).returncode == 0
    # The live database has data: restoring over it is refused, and it is left as it was.
    over = techx("restore", str(made), env=env)
    assert over.returncode == 2 and over.stderr.count("\n") == 1
    assert "not empty" in over.stderr
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(accounts)) == 1


def test_restore_of_a_missing_or_foreign_file_says_so(tmp_path, keys_dir):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}", "TECHX_KEYS_DIR": str(keys_dir)}
    missing = techx("restore", str(tmp_path / "nowhere.backup"), env=env)
    assert missing.returncode == 2 and "no backup at" in missing.stderr
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database\n" * 100)
    refused = techx("restore", str(foreign), env=env)
    assert refused.returncode == 2 and "not an SQLite backup" in refused.stderr, refused.stderr
    assert not (tmp_path / "fresh.db").exists() or (tmp_path / "fresh.db").stat().st_size == 0


def test_backup_of_postgresql_without_pg_dump_says_how_to_get_it(tmp_path, keys_dir):
    env = {
        "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/techx",
        "TECHX_KEYS_DIR": str(keys_dir),
        "PATH": str(Path(sys.executable).parent),
    }
    result = techx("backup", str(tmp_path / "x.backup"), env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "pg_dump" in result.stderr and "PATH" in result.stderr
    assert not os.path.exists(tmp_path / "x.backup")


async def test_restore_into_a_postgresql_database_not_yet_created_says_how_to_create_it(pg_backend, tmp_path, keys_dir):
    name = f"techx_absent_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "techx.dump"
    dump.write_bytes(b"PGDMP" + bytes(100))
    env = {"DATABASE_URL": pg_backend.url.rsplit("/", 1)[0] + f"/{name}", "TECHX_KEYS_DIR": str(keys_dir)}
    result = techx("restore", str(dump), env=env)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f'database "{name}" does not exist' in result.stderr and "createdb -h 127.0.0.1" in result.stderr
