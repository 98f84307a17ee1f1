"""Which accounts are split into shards, as this process knows it.

A hot account (the exchange's fees, a grant program's account) is written by almost every entry,
and every writer waits for the one before it to commit. Splitting it into N rows — the account's
own row (shard 0) and N−1 shard rows (``ledger_accounts.shard_of`` = its id) — lets N writers
proceed at once: each new entry writes the row its id picks (``domain.shard_for``). Reads sum the
rows (``ledger.history``), so the logical account is what callers see.

Writers draft entries without a database round trip, so they route with the map below, kept in
memory: loaded once per process (``load``, at start-up) and extended by ``service.shard_account``.
Shards are only ever added, so a process that does not yet know of some shards writes to the
account's own row: still correct, only contended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.domain import Leg, shard_for
from ledger.models import accounts

_rows: dict[UUID, tuple[UUID, ...]] = {}  # logical account id -> its rows, its own first, then shards 1..N-1
_logical: dict[UUID, UUID] = {}  # shard id -> logical account id


def learn(logical_id: UUID, shard_ids: Sequence[UUID]) -> None:
    """Remember a logical account's shards (1..N−1, in order); a shorter list than known is ignored."""
    if len(shard_ids) + 1 > len(_rows.get(logical_id, (logical_id,))):
        _rows[logical_id] = (logical_id, *shard_ids)
    for shard_id in shard_ids:
        _logical[shard_id] = logical_id


async def load(conn: AsyncConnection) -> int:
    """Learn every sharded account of the database (one indexed query); returns how many there are."""
    rows = (
        await conn.execute(
            select(accounts.c.shard_of, accounts.c.id, accounts.c.code).where(accounts.c.shard_of.is_not(None))
        )
    ).all()
    found: dict[UUID, list[tuple[int, UUID]]] = {}
    for logical_id, shard_id, code in rows:
        found.setdefault(logical_id, []).append((int(code.rsplit("#", 1)[1]), shard_id))
    for logical_id, shards in found.items():
        learn(logical_id, [shard_id for _, shard_id in sorted(shards)])
    return len(found)


def routed(legs: Sequence[Leg], entry_id: UUID) -> Sequence[Leg]:
    """The legs of a new entry, those on a sharded account moved to the shard the entry's id picks."""
    if not _rows:
        return legs
    return [
        leg._replace(account_id=shard_for(entry_id, rows)) if (rows := _rows.get(leg.account_id)) else leg
        for leg in legs
    ]


def logical(account_id: UUID) -> UUID:
    """The logical account a row belongs to (the row itself unless it is a known shard)."""
    return _logical.get(account_id, account_id)


def with_shards(account_ids: Iterable[UUID]) -> set[UUID]:
    """The ids and the known shards of those that are sharded: what entries drafted for them may write."""
    wanted = set(account_ids)
    if _rows:
        for account_id in list(wanted):
            wanted.update(_rows.get(account_id, ()))
    return wanted
