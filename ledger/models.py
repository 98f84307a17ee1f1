"""The ledger's tables. The schema itself is created by ``migrations/versions/0002_ledger.py``.

Entries, postings, blocks and leaves are written once and never changed (PostgreSQL enforces it
with a trigger). What changes is kept apart: account balances, the set of open holds, idempotency
records and adjustment proposals.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.columns import NAMING, UTCDateTime


def _not_null(column: str) -> dict[str, Any]:
    """A partial index over the rows where ``column`` has a value, on both databases."""
    return {"postgresql_where": text(f"{column} IS NOT NULL"), "sqlite_where": text(f"{column} IS NOT NULL")}


class LedgerBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, int: BigInteger}


class Account(LedgerBase):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("type IN ('asset','liability','equity','revenue','expense')", name="type"),
        CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
            name="balances",
        ),
        Index("ix_ledger_accounts_shard_of", "shard_of", **_not_null("shard_of")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    no_overdraft: Mapped[bool]
    closed: Mapped[bool]
    debits_posted: Mapped[int]
    credits_posted: Mapped[int]
    debits_pending: Mapped[int]
    credits_pending: Mapped[int]
    version: Mapped[int]  # postings applied so far; each posting records the version it produced
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # A shard of a hot account: the logical account's id (see ``ledger.shards``); null otherwise.
    shard_of: Mapped[uuid.UUID | None]


class Entry(LedgerBase):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("phase IN ('posted','pending','post_pending','void_pending','expire_pending')", name="phase"),
        # A hold is resolved at most once and an entry reversed at most once. The indexes are partial:
        # most entries resolve and reverse nothing, and need not pay for an index entry.
        Index("uq_ledger_entries_resolves_id", "resolves_id", unique=True, **_not_null("resolves_id")),
        Index("uq_ledger_entries_reverses_id", "reverses_id", unique=True, **_not_null("reverses_id")),
        Index("ix_ledger_entries_external_ref", "external_ref", **_not_null("external_ref")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500))
    metadata_json: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    external_ref: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(300))
    timeout_seconds: Mapped[int | None]
    expires_at: Mapped[datetime | None]
    resolves_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]


class Posting(LedgerBase):
    """A line of an entry. No foreign keys: the hot path writes an entry, its postings and its accounts'
    balances in one statement with the accounts locked, and ``verify`` checks that every posting has
    its entry and its account — checking each posting's references per row would double the cost of
    a batch."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("side IN ('debit','credit')", name="side"),
        CheckConstraint("amount > 0", name="amount"),
        UniqueConstraint("account_id", "account_seq", name="uq_ledger_postings_account_seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(index=True)
    account_id: Mapped[uuid.UUID]
    side: Mapped[str] = mapped_column(String(6))
    amount: Mapped[int]
    posted_delta: Mapped[int]
    pending_delta: Mapped[int]
    account_seq: Mapped[int]  # the account's version after this posting: statements are in this order


class OpenHold(LedgerBase):
    """Holds not yet posted, voided or expired; the expiry sweep reads only this small table."""

    __tablename__ = "ledger_open_holds"

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class IdempotencyRecord(LedgerBase):
    __tablename__ = "ledger_idempotency"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(Text)  # the original result, replayed as it was
    created_at: Mapped[datetime]


class Block(LedgerBase):
    __tablename__ = "ledger_blocks"

    height: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))  # hex
    prev_hash: Mapped[str] = mapped_column(String(64))  # hex of the previous block's hash
    block_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the checkpoint text
    checkpoint: Mapped[str] = mapped_column(Text)  # the signed note: text, blank line, signature line
    key_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Leaf(LedgerBase):
    __tablename__ = "ledger_leaves"
    __table_args__ = (UniqueConstraint("height", "leaf_index", name="uq_ledger_leaves_height_leaf_index"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    height: Mapped[int] = mapped_column(ForeignKey("ledger_blocks.height"))
    leaf_index: Mapped[int] = mapped_column(Integer)
    leaf_hash: Mapped[str] = mapped_column(String(64))


class Adjustment(LedgerBase):
    """A manual entry proposed by one operator; it is posted when a second operator approves it."""

    __tablename__ = "ledger_adjustments"
    __table_args__ = (CheckConstraint("status IN ('proposed','approved')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(2000))
    entry_json: Mapped[str] = mapped_column(Text)
    maker_id: Mapped[uuid.UUID]
    checker_id: Mapped[uuid.UUID | None]
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]


accounts = Account.__table__
entries = Entry.__table__
postings = Posting.__table__
open_holds = OpenHold.__table__
idempotency = IdempotencyRecord.__table__
blocks = Block.__table__
leaves = Leaf.__table__
adjustments = Adjustment.__table__
