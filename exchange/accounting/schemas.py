"""Request and response types of the ledger's HTTP API (SPEC §7.1). Money is integer fen."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from kernel.pagination import Page
from kernel.shapes import shaped
from ledger.domain import (
    CODE_PATTERN,
    KIND_PATTERN,
    MAX_AMOUNT,
    MAX_BATCH,
    MAX_POSTINGS,
    MAX_TIMEOUT_SECONDS,
    AccountType,
    EntrySpec,
    Phase,
    PostingSpec,
    Side,
    Status,
)
from ledger.views import AdjustmentView, BlockView, InclusionProof, PostingView, ProblemView, StatementLine

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=CODE_PATTERN, examples=["ops:test:1"])]
Unit = Annotated[str, msgspec.Meta(min_length=3, max_length=8, pattern=r"^[A-Z]{3,8}$", examples=["CNY"])]
# ge=1 rather than gt=0: the OpenAPI generator drops a bound of 0 on optional fields (as in listings/domain.py).
Amount = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT, description="fen (or VCH units)")]
Kind = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=KIND_PATTERN, examples=["transfer"])]
Description = Annotated[str, msgspec.Meta(max_length=500)]
ExternalRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Timeout = Annotated[int, msgspec.Meta(ge=1, le=MAX_TIMEOUT_SECONDS)]


# -- requests ----------------------------------------------------------------------------------------


class AccountIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    unit: Unit
    type: AccountType
    no_overdraft: bool = False


class PostingIn(msgspec.Struct, forbid_unknown_fields=True):
    account_id: UUID
    side: Side
    amount: Amount


class PendingIn(msgspec.Struct, forbid_unknown_fields=True):
    timeout_seconds: Timeout | None = None


class EntryIn(msgspec.Struct, forbid_unknown_fields=True):
    unit: Unit
    kind: Kind
    postings: Annotated[list[PostingIn], msgspec.Meta(min_length=2, max_length=MAX_POSTINGS)]
    description: Description = ""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    external_ref: ExternalRef | None = None
    pending: PendingIn | None = None

    def spec(self) -> EntrySpec:
        return EntrySpec(
            unit=self.unit,
            kind=self.kind,
            postings=tuple(PostingSpec(p.account_id, p.side, p.amount) for p in self.postings),
            description=self.description,
            metadata=self.metadata,
            external_ref=self.external_ref,
            pending=self.pending is not None,
            timeout_seconds=self.pending.timeout_seconds if self.pending else None,
        )

    @classmethod
    def of(cls, spec: dict[str, Any]) -> EntryIn:
        """From ``EntrySpec.canonical()``."""
        pending = {"timeout_seconds": spec["timeout_seconds"]} if spec["pending"] else None
        data = {k: v for k, v in spec.items() if k not in ("pending", "timeout_seconds")}
        return msgspec.convert({**data, "pending": pending}, cls)


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    entries: Annotated[list[EntryIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]
    atomic: bool = True


class PostIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount | None = None  # omitted: post all of it
    description: Description | None = None


class VoidIn(msgspec.Struct, forbid_unknown_fields=True):
    description: Description | None = None


class ReverseIn(msgspec.Struct, forbid_unknown_fields=True):
    description: Description = ""


class AdjustmentIn(msgspec.Struct, forbid_unknown_fields=True):
    entry: EntryIn
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


# -- responses --------------------------------------------------------------------------------------------


class AccountOut(msgspec.Struct):
    id: UUID
    code: str
    unit: str
    type: AccountType
    no_overdraft: bool
    closed: bool
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balance: int
    available: int
    version: int


AccountPage = Page[AccountOut]


class EntryOut(msgspec.Struct):
    id: UUID
    status: Status
    phase: Phase
    unit: str
    kind: str
    description: str
    metadata: dict[str, Any]
    external_ref: str | None
    postings: list[PostingView]
    created_at: datetime
    expires_at: datetime | None
    timeout_seconds: int | None
    pending_id: UUID | None
    reverses_id: UUID | None
    resolved_by: UUID | None
    reversed_by: UUID | None


class BatchItemOut(msgspec.Struct):
    status: int
    entry: EntryOut | None = None
    problem: ProblemView | None = None


class BatchOut(msgspec.Struct):
    results: list[BatchItemOut]


StatementPage = Page[StatementLine]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CheckpointOut(msgspec.Struct):
    height: int
    tree_size: int
    root_hash: str  # base64, as in the checkpoint text
    prev_hash: str
    block_hash: str
    checkpoint: str  # the signed note: verify it with the key from GET /api/v1/keys
    key_id: str
    created_at: datetime

    @classmethod
    def of(cls, block: BlockView) -> CheckpointOut:
        hashes = {name: b64(getattr(block, name)) for name in ("root_hash", "prev_hash", "block_hash")}
        return shaped(cls, block, **hashes)


class ProofOut(msgspec.Struct):
    entry_id: UUID
    leaf: str  # the canonical JSON of the entry that was hashed
    leaf_hash: str
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    checkpoint: CheckpointOut

    @classmethod
    def of(cls, proof: InclusionProof) -> ProofOut:
        return shaped(
            cls,
            proof,
            leaf_hash=b64(proof.leaf_hash),
            audit_path=[b64(h) for h in proof.audit_path],
            checkpoint=CheckpointOut.of(proof.block),
        )


class AdjustmentOut(msgspec.Struct):
    id: UUID
    status: str
    reason: str
    entry: EntryIn
    maker_id: UUID
    checker_id: UUID | None
    entry_id: UUID | None
    created_at: datetime
    approved_at: datetime | None

    @classmethod
    def of(cls, adjustment: AdjustmentView) -> AdjustmentOut:
        return shaped(cls, adjustment, entry=EntryIn.of(adjustment.entry))
