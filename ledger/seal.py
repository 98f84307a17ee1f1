"""Seals, proofs and verification of the ledger.

The sealer takes entries not yet sealed, in id order, hashes each one's canonical JSON (the entry
and its postings in id order), builds an RFC 6962 Merkle tree over them and signs a checkpoint that
names the tree size, the root and the previous block's hash. Blocks are numbered by height; the
height is the block's primary key, so of two sealers racing for the same height one inserts and the
other gets nothing and yields. ``verify`` recomputes every hash, root, chain link and signature,
every account balance from its postings and every balance invariant, and names the first thing
that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from kernel.canonical import canonical_json
from ledger import merkle, store
from ledger.domain import timestamp
from ledger.errors import NotFound, NotSealed
from ledger.models import accounts, blocks, entries, leaves, open_holds, postings
from ledger.views import BlockView, InclusionProof

SEAL_MAX_ENTRIES = 5000
_CHUNK = 1000


def entry_leaf(entry: Any, entry_postings: Sequence[Any]) -> bytes:
    """The canonical JSON of an entry and its postings (in id order): what its leaf hash covers."""
    return canonical_json(
        {
            "id": str(entry.id),
            "unit": entry.unit,
            "kind": entry.kind,
            "phase": entry.phase,
            "description": entry.description,
            "metadata": json.loads(entry.metadata_json),
            "external_ref": entry.external_ref,
            "timeout_seconds": entry.timeout_seconds,
            "expires_at": timestamp(entry.expires_at),
            "pending_id": str(entry.resolves_id) if entry.resolves_id else None,
            "reverses_id": str(entry.reverses_id) if entry.reverses_id else None,
            "created_at": timestamp(entry.created_at),
            "postings": [
                {
                    "id": str(p.id),
                    "account_id": str(p.account_id),
                    "side": p.side,
                    "amount": p.amount,
                    "posted_delta": p.posted_delta,
                    "pending_delta": p.pending_delta,
                }
                for p in sorted(entry_postings, key=lambda p: p.id)
            ],
        }
    )


async def _leaves_of(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, bytes]:
    """Canonical leaves of these entries, read in chunks."""
    result: dict[UUID, bytes] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows = (await conn.execute(select(entries).where(entries.c.id.in_(chunk)))).all()
        by_entry: dict[UUID, list[Any]] = {}
        for p in (await conn.execute(select(postings).where(postings.c.entry_id.in_(chunk)))).all():
            by_entry.setdefault(p.entry_id, []).append(p)
        for row in rows:
            result[row.id] = entry_leaf(row, by_entry.get(row.id, []))
    return result


def _block_view(row: Any) -> BlockView:
    return BlockView(
        height=row.height,
        tree_size=row.tree_size,
        root_hash=bytes.fromhex(row.root_hash),
        prev_hash=bytes.fromhex(row.prev_hash),
        block_hash=bytes.fromhex(row.block_hash),
        checkpoint=row.checkpoint,
        key_id=row.key_id,
        created_at=row.created_at,
    )


async def unsealed_backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many entries wait to be sealed, and when the oldest of them was written.

    Cheap enough for every metrics scrape: the sealer takes entries in id order, so only entries
    from the latest block's first one on are looked at (all of them before the first block).
    """
    conn = await session.connection()
    tip = select(func.max(blocks.c.height)).scalar_subquery()
    floor = (
        await conn.execute(select(leaves.c.entry_id).where(leaves.c.height == tip, leaves.c.leaf_index == 0))
    ).scalar()
    query = select(func.count(), func.min(entries.c.created_at)).where(
        ~exists().where(leaves.c.entry_id == entries.c.id)
    )
    if floor is not None:
        query = query.where(entries.c.id >= floor)
    count, oldest = (await conn.execute(query)).one()
    return int(count), oldest


async def seal_block(
    session: AsyncSession,
    *,
    signer: Any,
    origin: str,
    now: datetime,
    max_entries: int = SEAL_MAX_ENTRIES,
) -> BlockView | None:
    """Seal up to ``max_entries`` unsealed entries into the next block.

    ``signer`` has ``sign(bytes) -> bytes``, ``public_key_raw`` and ``key_id``. Returns None when
    nothing is left to seal, or when a concurrent sealer took the same height (it seals instead).
    """
    conn = await session.connection()
    tip = (
        await conn.execute(select(blocks.c.height, blocks.c.block_hash).order_by(blocks.c.height.desc()).limit(1))
    ).first()
    unsealed = ~exists().where(leaves.c.entry_id == entries.c.id)
    ids = (
        (await conn.execute(select(entries.c.id).where(unsealed).order_by(entries.c.id).limit(max_entries)))
        .scalars()
        .all()
    )
    if not ids:
        return None
    leaf_bytes = await _leaves_of(conn, ids)
    hashes = [merkle.leaf_hash(leaf_bytes[i]) for i in ids]
    checkpoint = merkle.Checkpoint(
        origin=origin,
        tree_size=len(ids),
        root_hash=merkle.root(hashes),
        height=tip.height + 1 if tip else 1,
        prev_hash=bytes.fromhex(tip.block_hash) if tip else merkle.GENESIS,
        time=timestamp(now) or "",
    )
    row = {
        "height": checkpoint.height,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "prev_hash": checkpoint.prev_hash.hex(),
        "block_hash": checkpoint.block_hash().hex(),
        "checkpoint": checkpoint.sign(signer),
        "key_id": signer.key_id,
        "created_at": now,
    }
    claim = store.upsert(conn, blocks).values(row).on_conflict_do_nothing(index_elements=["height"])
    if (await conn.execute(claim)).rowcount != 1:
        return None
    await conn.execute(
        insert(leaves),
        [
            {"entry_id": entry_id, "height": checkpoint.height, "leaf_index": index, "leaf_hash": leaf.hex()}
            for index, (entry_id, leaf) in enumerate(zip(ids, hashes, strict=True))
        ],
    )
    return BlockView(
        height=checkpoint.height,
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        prev_hash=checkpoint.prev_hash,
        block_hash=checkpoint.block_hash(),
        checkpoint=row["checkpoint"],
        key_id=signer.key_id,
        created_at=now,
    )


async def latest_block(session: AsyncSession) -> BlockView:
    conn = await session.connection()
    row = (await conn.execute(select(blocks).order_by(blocks.c.height.desc()).limit(1))).first()
    if row is None:
        raise NotFound("nothing has been sealed yet")
    return _block_view(row)


async def inclusion_proof(session: AsyncSession, entry_id: UUID) -> InclusionProof:
    """The audit path from an entry's leaf to its block's root, with the signed checkpoint."""
    conn = await session.connection()
    leaf = (await conn.execute(select(leaves).where(leaves.c.entry_id == entry_id))).first()
    if leaf is None:
        if (await conn.execute(select(entries.c.id).where(entries.c.id == entry_id))).first() is None:
            raise NotFound(f"entry {entry_id} does not exist")
        raise NotSealed(f"entry {entry_id} is not sealed yet; blocks are sealed periodically")
    block = (await conn.execute(select(blocks).where(blocks.c.height == leaf.height))).one()
    hashes = [
        bytes.fromhex(h)
        for h in (
            await conn.execute(
                select(leaves.c.leaf_hash).where(leaves.c.height == leaf.height).order_by(leaves.c.leaf_index)
            )
        ).scalars()
    ]
    canonical = (await _leaves_of(conn, [entry_id]))[entry_id]
    return InclusionProof(
        entry_id=entry_id,
        leaf=canonical.decode(),
        leaf_hash=merkle.leaf_hash(canonical),
        leaf_index=leaf.leaf_index,
        tree_size=block.tree_size,
        audit_path=merkle.audit_path(leaf.leaf_index, hashes),
        block=_block_view(block),
    )


# -- verification ------------------------------------------------------------------------------------


@dataclass
class Report:
    ok: bool
    discrepancy: str | None
    blocks: int = 0
    sealed_entries: int = 0
    entries: int = 0
    postings: int = 0
    accounts: int = 0

    def summary(self) -> str:
        if not self.ok:
            return f"DISCREPANCY: {self.discrepancy}"
        return (
            f"OK: {self.blocks} blocks, {self.sealed_entries} sealed entries "
            f"({self.entries - self.sealed_entries} not yet sealed), {self.postings} postings, "
            f"{self.accounts} accounts"
        )


class _Discrepancy(Exception):
    pass


async def verify(session: AsyncSession, *, public_keys: Mapping[str, bytes]) -> Report:
    """Recompute everything the ledger asserts and report the first thing that does not match.

    ``public_keys`` are the exchange's raw Ed25519 public keys by key id: each block's checkpoint
    is checked with the key its ``key_id`` names (blocks sealed before a rotation name the old key)."""
    conn = await session.connection()
    report = Report(ok=True, discrepancy=None)
    try:
        await _verify_blocks(conn, public_keys, report)
        await _verify_entries(conn, report)
        await _verify_accounts(conn, report)
        await _verify_holds(conn)
    except _Discrepancy as problem:
        report.ok, report.discrepancy = False, str(problem)
    return report


async def _verify_blocks(conn: AsyncConnection, public_keys: Mapping[str, bytes], report: Report) -> None:
    previous = merkle.GENESIS
    expected_height = 1
    for block in (await conn.execute(select(blocks).order_by(blocks.c.height))).all():
        where = f"block {block.height}"
        if block.height != expected_height:
            raise _Discrepancy(f"{where}: expected block {expected_height}; the chain has a gap")
        public_key_raw = public_keys.get(block.key_id)
        if public_key_raw is None:
            raise _Discrepancy(
                f"{where}: checkpoint does not verify "
                f"(signed by key {block.key_id}, which is not among the exchange's keys)"
            )
        try:
            text = merkle.open_note(block.checkpoint, public_key_raw)
            checkpoint = merkle.Checkpoint.parse(text)
        except (ValueError, KeyError) as exc:
            raise _Discrepancy(f"{where}: checkpoint does not verify ({exc})") from None
        if checkpoint.height != block.height or checkpoint.prev_hash != previous:
            raise _Discrepancy(f"{where}: checkpoint is not chained to block {block.height - 1}")
        block_hash = hashlib.sha256(text.encode()).digest()
        if block.block_hash != block_hash.hex() or block.prev_hash != previous.hex():
            raise _Discrepancy(f"{where}: stored block hashes differ from its signed checkpoint")
        rows = (
            await conn.execute(
                select(leaves.c.entry_id, leaves.c.leaf_index, leaves.c.leaf_hash)
                .where(leaves.c.height == block.height)
                .order_by(leaves.c.leaf_index)
            )
        ).all()
        if [r.leaf_index for r in rows] != list(range(checkpoint.tree_size)) or block.tree_size != len(rows):
            raise _Discrepancy(f"{where}: has {len(rows)} leaves, its checkpoint says {checkpoint.tree_size}")
        recomputed = await _leaves_of(conn, [r.entry_id for r in rows])
        hashes: list[bytes] = []
        for r in rows:
            if r.entry_id not in recomputed:
                raise _Discrepancy(f"{where}: sealed entry {r.entry_id} is missing")
            digest = merkle.leaf_hash(recomputed[r.entry_id])
            if digest.hex() != r.leaf_hash:
                raise _Discrepancy(
                    f"entry {r.entry_id} (block {block.height}, leaf {r.leaf_index}) no longer matches its sealed hash"
                )
            hashes.append(digest)
        root = merkle.root(hashes)
        if root != checkpoint.root_hash or block.root_hash != root.hex():
            raise _Discrepancy(f"{where}: Merkle root differs from the signed checkpoint")
        previous = block_hash
        expected_height += 1
        report.blocks += 1
        report.sealed_entries += len(rows)


async def _first(conn: AsyncConnection, query: Any) -> Any:
    return (await conn.execute(query.limit(1))).first()


async def _verify_entries(conn: AsyncConnection, report: Report) -> None:
    debit = func.sum(case((postings.c.side == "debit", postings.c.amount), else_=0))
    credit = func.sum(case((postings.c.side == "credit", postings.c.amount), else_=0))
    counts = (await conn.execute(select(func.count()).select_from(entries))).scalar() or 0
    report.entries = int(counts)
    report.postings = int((await conn.execute(select(func.count()).select_from(postings))).scalar() or 0)
    orphan = await _first(
        conn,
        select(postings.c.id, postings.c.entry_id, postings.c.account_id)
        .where(
            ~exists().where(entries.c.id == postings.c.entry_id)
            | ~exists().where(accounts.c.id == postings.c.account_id)
        )
        .order_by(postings.c.id),
    )
    if orphan:
        raise _Discrepancy(
            f"posting {orphan.id}: its entry {orphan.entry_id} or account {orphan.account_id} is missing"
        )
    unbalanced = await _first(
        conn,
        select(entries.c.id, debit.label("debits"), credit.label("credits"))
        .select_from(entries.outerjoin(postings, postings.c.entry_id == entries.c.id))
        .group_by(entries.c.id)
        .having((debit != credit) | (func.count(postings.c.id) < 2))
        .order_by(entries.c.id),
    )
    if unbalanced:
        raise _Discrepancy(
            f"entry {unbalanced.id}: debits {unbalanced.debits or 0} and credits {unbalanced.credits or 0} "
            "differ or it has fewer than two postings"
        )
    wrong_unit = await _first(
        conn,
        select(entries.c.id, accounts.c.code)
        .select_from(
            postings.join(entries, entries.c.id == postings.c.entry_id).join(
                accounts, accounts.c.id == postings.c.account_id
            )
        )
        .where(accounts.c.unit != entries.c.unit)
        .order_by(entries.c.id),
    )
    if wrong_unit:
        raise _Discrepancy(f"entry {wrong_unit.id}: account {wrong_unit.code} is in another unit")
    p, held, resolving = postings.c, aliased(postings), aliased(entries)
    posted_moves_posted = (p.posted_delta == p.amount) & (p.pending_delta == 0)
    pending_moves_pending = (p.posted_delta == 0) & (p.pending_delta == p.amount)
    plain = await _first(
        conn,
        select(p.id, p.entry_id)
        .select_from(postings.join(entries, entries.c.id == p.entry_id))
        .where(
            ((entries.c.phase == "posted") & ~posted_moves_posted)
            | ((entries.c.phase == "pending") & ~pending_moves_pending)
        )
        .order_by(p.entry_id),
    )
    if plain:
        raise _Discrepancy(f"entry {plain.entry_id}: posting {plain.id} does not move what its phase says")
    # A resolution releases exactly the held amount; a post posts at most that, a void or expiry nothing.
    releases_hold = held.c.id.is_not(None) & (p.pending_delta == -held.c.amount)
    posts_part = (p.posted_delta == p.amount) & (p.amount <= held.c.amount)
    posts_nothing = (p.posted_delta == 0) & (p.amount == held.c.amount)
    is_post = resolving.c.phase == "post_pending"
    resolution = await _first(
        conn,
        select(p.id, p.entry_id)
        .select_from(
            postings.join(resolving, resolving.c.id == p.entry_id).outerjoin(
                held,
                and_(
                    held.c.entry_id == resolving.c.resolves_id,
                    held.c.account_id == p.account_id,
                    held.c.side == p.side,
                ),
            )
        )
        .where(resolving.c.phase.in_(("post_pending", "void_pending", "expire_pending")))
        .where(~(releases_hold & ((is_post & posts_part) | (~is_post & posts_nothing))))
        .order_by(p.entry_id),
    )
    if resolution:
        raise _Discrepancy(f"entry {resolution.entry_id}: posting {resolution.id} does not match the hold it resolves")


async def _verify_accounts(conn: AsyncConnection, report: Report) -> None:
    sums = (
        await conn.execute(
            select(
                postings.c.account_id,
                postings.c.side,
                func.sum(postings.c.posted_delta),
                func.sum(postings.c.pending_delta),
                func.count(),
                func.max(postings.c.account_seq),
            ).group_by(postings.c.account_id, postings.c.side)
        )
    ).all()
    totals: dict[UUID, list[int]] = {}
    for account_id, side, posted, pending, count, top in sums:
        t = totals.setdefault(account_id, [0, 0, 0, 0, 0, 0])
        offset = 0 if side == "debit" else 1
        t[offset] += int(posted)
        t[offset + 2] += int(pending)
        t[4] += int(count)
        t[5] = max(t[5], int(top))
    per_unit: dict[str, list[int]] = {}
    for row in (await conn.execute(select(*store.ACCOUNT_COLUMNS).order_by(accounts.c.id))).all():
        report.accounts += 1
        dp, cp, dq, cq, count, top = totals.get(row.id, [0, 0, 0, 0, 0, 0])
        stored = (row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending)
        for name, have, want in zip(
            ("debits_posted", "credits_posted", "debits_pending", "credits_pending"),
            stored,
            (dp, cp, dq, cq),
            strict=True,
        ):
            if have != want:
                raise _Discrepancy(f"account {row.code} ({row.id}): {name} is {have}, its postings sum to {want}")
        if not (row.version == count == top):
            raise _Discrepancy(
                f"account {row.code} ({row.id}): version {row.version}, but {count} postings numbered up to {top}"
            )
        unit = per_unit.setdefault(row.unit, [0, 0, 0, 0])
        for i, value in enumerate(stored):
            unit[i] += value
    for unit, (dp, cp, dq, cq) in sorted(per_unit.items()):
        if dp != cp or dq != cq:
            raise _Discrepancy(f"trial balance of {unit}: debits {dp}/{dq} and credits {cp}/{cq} differ")


async def _verify_holds(conn: AsyncConnection) -> None:
    resolver = aliased(entries)
    resolved = exists().where(resolver.c.resolves_id == entries.c.id)
    is_open = exists().where(open_holds.c.entry_id == entries.c.id)
    missing = await _first(
        conn,
        select(entries.c.id).where(entries.c.phase == "pending", ~resolved, ~is_open).order_by(entries.c.id),
    )
    if missing:
        raise _Discrepancy(f"entry {missing.id}: an unresolved hold is missing from the open holds")
    stale = await _first(
        conn,
        select(entries.c.id).where(is_open, resolved | (entries.c.phase != literal("pending"))).order_by(entries.c.id),
    )
    if stale:
        raise _Discrepancy(f"entry {stale.id}: listed as an open hold but it is not an unresolved hold")
