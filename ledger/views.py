"""What the ledger's service returns: plain data, encodable by msgspec (idempotent replays store them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain import AccountType, Phase, Side, Status


@dataclass(slots=True)
class PostingView:
    id: UUID
    account_id: UUID
    side: Side
    amount: int
    posted_delta: int
    pending_delta: int


@dataclass(slots=True)
class EntryView:
    id: UUID
    unit: str
    kind: str
    phase: Phase
    status: Status
    description: str
    metadata: dict[str, Any]
    external_ref: str | None
    created_at: datetime
    expires_at: datetime | None
    timeout_seconds: int | None
    pending_id: UUID | None  # the hold this entry posts, voids or expires
    reverses_id: UUID | None
    postings: list[PostingView]
    resolved_by: UUID | None = None
    reversed_by: UUID | None = None
    replayed: bool = False  # True when an idempotent replay returned the original result


@dataclass(slots=True)
class ProblemView:
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class BatchItem:
    status: int
    entry: EntryView | None = None
    problem: ProblemView | None = None


@dataclass(slots=True)
class BatchResult:
    results: list[BatchItem]
    replayed: bool = False


@dataclass(slots=True)
class StatementLine:
    entry_id: UUID
    posting_id: UUID
    seq: int
    kind: str
    phase: Phase
    description: str
    external_ref: str | None
    side: Side
    amount: int
    posted_delta: int
    pending_delta: int
    balance: int  # posted balance on the normal side after this line
    available: int  # balance less pending outflows after this line
    created_at: datetime


@dataclass(slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None


@dataclass(slots=True)
class TypeTotals:
    type: AccountType
    accounts: int
    debits_posted: int
    credits_posted: int
    balance: int


@dataclass(slots=True)
class UnitTotals:
    unit: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balanced: bool
    types: list[TypeTotals] = field(default_factory=list)


@dataclass(slots=True)
class TrialBalance:
    units: list[UnitTotals]
    balanced: bool


@dataclass(slots=True)
class AdjustmentView:
    id: UUID
    status: str
    reason: str
    entry: dict[str, Any]
    maker_id: UUID
    checker_id: UUID | None
    entry_id: UUID | None
    created_at: datetime
    approved_at: datetime | None
    replayed: bool = False


@dataclass(slots=True)
class BlockView:
    height: int
    tree_size: int
    root_hash: bytes
    prev_hash: bytes
    block_hash: bytes
    checkpoint: str
    key_id: str
    created_at: datetime


@dataclass(slots=True)
class InclusionProof:
    entry_id: UUID
    leaf: str  # the canonical JSON that was hashed
    leaf_hash: bytes
    leaf_index: int
    tree_size: int
    audit_path: list[bytes]
    block: BlockView
