"""The ledger's background work and commands: sealing blocks, expiring holds, verifying, learning
and adding the shards of hot accounts.

Used by the server's periodic tasks and by ``techx ledger seal`` / ``verify`` / ``shard``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting.verifications import VerificationSource, Verified, record_verification
from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.keys import Keys
from exchange.platform.settings import Settings
from ledger import seal, service
from ledger.views import BlockView


async def seal_pending(db: Database, keys: Keys, settings: Settings, clock: Clock) -> list[BlockView]:
    """Seal every unsealed entry, one block per transaction. Stops early if another sealer takes over."""
    sealed: list[BlockView] = []
    while True:
        block = await db.transaction(
            lambda s: seal.seal_block(
                s,
                signer=keys.signer,
                origin=settings.ledger_origin,
                now=clock.now(),
                max_entries=settings.seal_max_entries,
            )
        )
        if block is None:
            return sealed
        sealed.append(block)


async def expire_holds(db: Database, now: datetime, batch: int = 500) -> int:
    """Expire every hold whose timeout has come."""
    total = 0
    while expired := await db.transaction(lambda s: service.expire_due_holds(s, now=now, limit=batch)):
        total += expired
        if expired < batch:
            break
    return total


class HoldExpirySweep:
    """The sweeper's step for ledger holds whose timeout has come."""

    name = "ledger-hold-expiry"

    async def run(self, db: Database, now: datetime) -> int:
        return await expire_holds(db, now)


async def verify_ledger(db: Database, keys: Keys) -> seal.Report:
    """Verify on one snapshot: on PostgreSQL every query of the check sees the same committed state,
    so entries written meanwhile cannot look like a discrepancy."""
    public_keys = {key_id: signer.public_key_raw for key_id, signer in keys.signing.keys.items()}
    if not db.is_postgres:  # a SQLite read transaction is a snapshot already
        async with db.read() as session:
            return await seal.verify(session, public_keys=public_keys)
    snapshot = db.engine.execution_options(isolation_level="REPEATABLE READ")
    async with AsyncSession(snapshot, expire_on_commit=False) as session, session.begin():
        return await seal.verify(session, public_keys=public_keys)


async def verify_and_record(
    db: Database, keys: Keys, clock: Clock, source: VerificationSource, by_user_id: Any = None
) -> seal.Report:
    """Verify the whole ledger and keep the outcome (``ledger_verifications``): the console shows
    the last one, whoever ran it."""
    started_at = clock.now()
    report = await verify_ledger(db, keys)
    await record_verification(db, Verified(report, started_at, clock.now()), source, by_user_id)
    return report


async def seal_task(state: Any) -> None:
    await seal_pending(state["db"], state["keyring"], state["settings"], state["clock"])


# How often a server process looks for shards added since it started (``techx ledger shard``).
SHARDS_INTERVAL_SECONDS = 60.0


async def shards_task(state: Any) -> None:
    """Learn the hot accounts' shards (at start-up, then every minute), so that writers spread over them."""
    async with state["db"].read() as session:
        await service.load_shards(session)


# -- command line ----------------------------------------------------------------------------------


def _run(settings: Settings, work: Any) -> Any:
    from exchange.platform.clock import SystemClock
    from exchange.platform.keys import load_or_create_keys
    from exchange.platform.migrate import migrated_database

    async def main() -> Any:
        async with migrated_database(settings) as db:
            return await work(db, load_or_create_keys(settings), SystemClock())

    return asyncio.run(main())


def cmd_seal(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database, keys: Keys, clock: Clock) -> list[BlockView]:
        return await seal_pending(db, keys, settings, clock)

    blocks = _run(settings, work)
    for block in blocks:
        print(f"block {block.height}: {block.tree_size} entries, root {block.root_hash.hex()}")
    print(f"sealed {sum(b.tree_size for b in blocks)} entries into {len(blocks)} blocks")
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database, keys: Keys, clock: Clock) -> seal.Report:
        return await verify_and_record(db, keys, clock, VerificationSource.SCHEDULE)

    report = _run(settings, work)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_shard(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database, keys: Keys, clock: Clock) -> Any:
        async def shard(session: AsyncSession) -> Any:
            account = await service.account_by_code(session, args.code)
            if account is None:
                raise service.NotFound(f"no account has the code {args.code!r}", field="code")
            return await service.shard_account(session, account.id, shards=args.shards, now=clock.now())

        return await db.transaction(shard)

    try:
        account = _run(settings, work)
    except service.DomainError as exc:  # a refusal, said in one line as the API would say it
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    print(
        f"{account.code} is in {args.shards} shards; running servers write to them within "
        f"{SHARDS_INTERVAL_SECONDS:.0f} s"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    ledger = commands.add_parser("ledger", help="the double-entry ledger").add_subparsers(
        dest="ledger_command", required=True
    )
    ledger.add_parser("seal", help="seal unsealed entries into signed blocks").set_defaults(handler=cmd_seal)
    ledger.add_parser(
        "verify", help="recompute every hash, signature and balance; exit 1 on the first discrepancy"
    ).set_defaults(handler=cmd_verify)
    shard = ledger.add_parser(
        "shard", help="split a hot account into N shards that concurrent entries write apart (docs/ledger.md)"
    )
    shard.add_argument("code", help="the account's code, e.g. fees:exchange")
    shard.add_argument("shards", type=int, help="how many rows in all (2-64); shards are only ever added")
    shard.set_defaults(handler=cmd_shard)
