"""Seals, inclusion proofs and verification, on both databases."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text

from exchange.platform.db import Database, create_engine
from exchange.platform.keys import Signer
from ledger import merkle, seal
from ledger import service as ledger
from ledger.errors import NotFound, NotSealed
from ledger.models import leaves
from tests.ledger_helpers import open_accounts

ORIGIN = "techx/ledger"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


async def some_entries(db, clock, n=5):
    bank, wallet, escrow = await open_accounts(
        db, clock.now(), ("bank", "asset", False), ("org", "liability", True), ("deal", "liability", False)
    )
    made = []
    for i in range(n):
        made.append(
            await db.transaction(
                lambda s, i=i: ledger.transfer(
                    s,
                    bank.id,
                    wallet.id,
                    100 + i,
                    unit="CNY",
                    kind="top_up",
                    now=clock.now(),
                    metadata={"第": i, "ratio": 0.5},
                )
            )
        )
    hold = await db.transaction(
        lambda s: ledger.hold(
            s, wallet.id, escrow.id, 50, unit="CNY", kind="deposit_hold", now=clock.now(), timeout_seconds=600
        )
    )
    made.append(hold)
    made.append(await db.transaction(lambda s: ledger.post_hold(s, hold.id, amount=20, now=clock.now())))
    return made, (bank, wallet, escrow)


async def seal_all(db, signer, clock, max_entries=1000):
    blocks = []
    while block := await db.transaction(
        lambda s: seal.seal_block(s, signer=signer, origin=ORIGIN, now=clock.now(), max_entries=max_entries)
    ):
        blocks.append(block)
    return blocks


async def check_report(db, *signers):
    """``techx ledger verify`` holding the exchange's signing keys ``signers``."""
    async with db.read() as session:
        return await seal.verify(session, public_keys={s.key_id: s.public_key_raw for s in signers})


async def tamper(db, backend_name, statement, **params):
    """Change rows behind the ledger's back, as someone with database access could."""

    if backend_name == "sqlite":  # SQLite keeps UUIDs as 32 hex digits
        params = {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in params.items()}

    async def work(session):
        if backend_name == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))  # bypass the trigger
        await session.execute(text(statement), params)

    await db.transaction(work)


def verify_offline(proof, public_key_raw: bytes) -> dict:
    """What an auditor does with a proof and the exchange's public key, and nothing else."""
    text_ = merkle.open_note(proof.block.checkpoint, public_key_raw)
    checkpoint = merkle.Checkpoint.parse(text_)
    leaf_hash = merkle.leaf_hash(proof.leaf.encode())
    assert merkle.verify_inclusion(
        proof.leaf_index, checkpoint.tree_size, leaf_hash, proof.audit_path, checkpoint.root_hash
    )
    return json.loads(proof.leaf)


async def test_sealed_entries_prove_their_inclusion_with_the_public_key_alone(db, clock, signer):
    made, _ = await some_entries(db, clock)
    (block,) = await seal_all(db, signer, clock)
    assert (block.height, block.tree_size, block.prev_hash) == (1, len(made), merkle.GENESIS)
    async with db.read() as session:
        for entry in made:
            proof = await seal.inclusion_proof(session, entry.id)
            leaf = verify_offline(proof, signer.public_key_raw)
            assert leaf["id"] == str(entry.id)
            assert [p["amount"] for p in leaf["postings"]] == [p.amount for p in entry.postings]
        latest = await seal.latest_block(session)
    assert latest.block_hash == block.block_hash
    assert (await check_report(db, signer)).summary() == (
        f"OK: 1 blocks, {len(made)} sealed entries (0 not yet sealed), {2 * len(made)} postings, 3 accounts"
    )


async def test_blocks_chain_and_seal_each_entry_once(db, clock, signer):
    first, _ = await some_entries(db, clock, n=3)
    blocks = await seal_all(db, signer, clock, max_entries=2)
    assert [b.tree_size for b in blocks] == [2, 2, 1]
    second, _ = await some_entries(db, clock, n=1)
    blocks += await seal_all(db, signer, clock)
    assert [b.height for b in blocks] == [1, 2, 3, 4]
    for previous, block in itertools.pairwise(blocks):
        assert block.prev_hash == previous.block_hash
    async with db.read() as session:
        sealed = await session.scalar(select(func.count()).select_from(leaves))
    assert sealed == len(first) + len(second)
    assert (await check_report(db, signer)).ok


async def test_an_unsealed_entry_has_no_proof_yet(db, clock, signer):
    made, _ = await some_entries(db, clock, n=1)
    async with db.read() as session:
        with pytest.raises(NotSealed):
            await seal.inclusion_proof(session, made[0].id)
        with pytest.raises(NotFound):
            await seal.inclusion_proof(session, uuid.uuid4())
        with pytest.raises(NotFound):
            await seal.latest_block(session)


async def test_verify_names_a_changed_posting_amount(db, backend, clock, signer):
    made, _ = await some_entries(db, clock)
    await seal_all(db, signer, clock)
    target = made[1]
    await tamper(
        db, backend.name, "UPDATE ledger_postings SET amount = amount + 1 WHERE id = :id", id=target.postings[0].id
    )
    report = await check_report(db, signer)
    assert not report.ok
    assert f"entry {target.id}" in report.discrepancy and "sealed hash" in report.discrepancy


async def test_verify_names_a_changed_account_balance(db, backend, clock, signer):
    _, (_, wallet, _) = await some_entries(db, clock)
    await tamper(db, backend.name, "UPDATE ledger_accounts SET credits_posted = 999999 WHERE id = :id", id=wallet.id)
    report = await check_report(db, signer)
    assert not report.ok
    assert (
        report.discrepancy == f"account {wallet.code} ({wallet.id}): credits_posted is 999999, its postings sum to 510"
    )


async def test_verify_finds_unbalanced_unsealed_entries_and_forged_blocks(db, backend, clock, signer):
    made, _ = await some_entries(db, clock, n=2)
    await seal_all(db, signer, clock)
    await tamper(db, backend.name, "UPDATE ledger_blocks SET root_hash = :root", root="00" * 32)
    assert "Merkle root" in (await check_report(db, signer)).discrepancy
    other = Signer(Ed25519PrivateKey.generate())
    assert "checkpoint does not verify" in (await check_report(db, other)).discrepancy

    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM ledger_blocks"))).scalar() == 1
    await tamper(db, backend.name, "DELETE FROM ledger_leaves")
    await tamper(db, backend.name, "DELETE FROM ledger_blocks")
    await tamper(db, backend.name, "UPDATE ledger_postings SET amount = 1 WHERE id = :id", id=made[0].postings[0].id)
    report = await check_report(db, signer)
    assert report.discrepancy.startswith(f"entry {made[0].id}: debits 1 and credits 100 differ")


async def test_blocks_sealed_before_a_signing_key_rotation_still_verify(db, clock, signer):
    await some_entries(db, clock, n=4)
    first = await db.transaction(
        lambda s: seal.seal_block(s, signer=signer, origin=ORIGIN, now=clock.now(), max_entries=3)
    )
    successor = Signer(Ed25519PrivateKey.generate())
    later = await seal_all(db, successor, clock)
    assert first.key_id == signer.key_id and {b.key_id for b in later} == {successor.key_id}
    assert (await check_report(db, signer, successor)).ok
    report = await check_report(db, successor)
    assert report.discrepancy == (
        f"block 1: checkpoint does not verify (signed by key {signer.key_id}, which is not among the exchange's keys)"
    )


async def test_a_proof_reveals_a_changed_entry(db, backend, clock, signer):
    made, _ = await some_entries(db, clock, n=2)
    await seal_all(db, signer, clock)
    await tamper(db, backend.name, "UPDATE ledger_entries SET description = 'rewritten' WHERE id = :id", id=made[0].id)
    async with db.read() as session:
        proof = await seal.inclusion_proof(session, made[0].id)
    with pytest.raises(AssertionError):
        verify_offline(proof, signer.public_key_raw)


@pytest.mark.postgres_only
async def test_concurrent_sealers_seal_every_entry_exactly_once(pg_backend, clock, signer):
    """Four sealers on separate connections race for the same heights; one wins each, the others yield."""
    engines = [create_engine(pg_backend.url, pool_size=2) for _ in range(4)]
    dbs = [Database(engine) for engine in engines]
    try:
        made, _ = await some_entries(dbs[0], clock, n=40)
        blocks = await asyncio.gather(*(seal_all(db, signer, clock, max_entries=7) for db in dbs))
        heights = sorted(b.height for sealer in blocks for b in sealer)
        assert heights == list(range(1, len(heights) + 1))
        assert sum(b.tree_size for sealer in blocks for b in sealer) == len(made)
        report = await check_report(dbs[0], signer)
        assert report.ok and report.sealed_entries == len(made)
    finally:
        for db in dbs:
            await db.dispose()


def test_proof_hashes_are_base64_in_the_checkpoint():
    root = bytes(range(32))
    checkpoint = merkle.Checkpoint(ORIGIN, 1, root, 1, merkle.GENESIS, "t")
    assert checkpoint.text().split("\n")[2] == base64.b64encode(root).decode()
