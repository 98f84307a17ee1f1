"""The ledger's rules, free of any database or web framework.

An account keeps four balances: ``debits_posted``, ``credits_posted``, ``debits_pending`` and
``credits_pending``. Every posting carries its effect on them as two signed numbers,
``posted_delta`` and ``pending_delta`` on the posting's side, so that every balance is exactly the
sum of its postings' deltas. The entry's phase decides the deltas:

==================  =====================  ============================
phase               posted_delta           pending_delta
==================  =====================  ============================
``posted``          ``+amount``            0
``pending``         0                      ``+amount``   (a hold)
``post_pending``    ``+amount`` (≤ held)   ``-held``     (resolves a hold)
``void_pending``    0                      ``-held``     (resolves a hold)
``expire_pending``  0                      ``-held``     (resolves a hold)
==================  =====================  ============================

``Book`` applies legs to account states in memory: it checks units, closed accounts, overflow and
``no_overdraft`` and changes nothing when a check fails, so callers can try entry after entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID

from kernel.canonical import canonical_json
from ledger.errors import (
    AccountClosed,
    BalanceOverflow,
    InsufficientFunds,
    InvalidEntry,
    NotShardable,
    UnbalancedEntry,
    UnitMismatch,
    UnknownAccount,
    UnknownUnit,
)

# The largest integer JSON carries exactly (RFC 8785, I-JSON): amounts are hashed in canonical JSON and
# read by clients in any language. No amount or balance may exceed it (90 trillion yuan in fen).
MAX_AMOUNT = 2**53 - 1
MAX_POSTINGS = 100  # postings per entry
MAX_BATCH = 1000  # entries per batch
MAX_TIMEOUT_SECONDS = 10 * 366 * 24 * 3600

# The units the ledger keeps, in their smallest denomination. Adding one is adding a line here.
UNITS: Mapping[str, str] = {
    "CNY": "Chinese yuan, in fen",
    "VCH": "innovation vouchers, in fen of face value",
}

CODE_PATTERN = r"^[a-z][a-z0-9_]*(:[A-Za-z0-9_.\-]+)*$"
KIND_PATTERN = r"^[a-z][a-z0-9_.\-]*$"
_CODE = re.compile(CODE_PATTERN)
_KIND = re.compile(KIND_PATTERN)


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def normal_side(self) -> Side:
        return Side.DEBIT if self in (AccountType.ASSET, AccountType.EXPENSE) else Side.CREDIT


class Phase(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"
    EXPIRE_PENDING = "expire_pending"

    @property
    def resolves_hold(self) -> bool:
        return self in (Phase.POST_PENDING, Phase.VOID_PENDING, Phase.EXPIRE_PENDING)

    @property
    def reversible(self) -> bool:
        return self in (Phase.POSTED, Phase.POST_PENDING)


class Status(StrEnum):
    """What an entry reads as now: derived from its phase and the entries that resolve or reverse it."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"
    REVERSED = "reversed"


RESOLUTION_STATUS = {
    Phase.POST_PENDING: Status.POSTED,
    Phase.VOID_PENDING: Status.VOIDED,
    Phase.EXPIRE_PENDING: Status.EXPIRED,
}


def entry_status(phase: Phase, *, resolution: Phase | None = None, reversed_: bool = False) -> Status:
    if phase is Phase.PENDING:
        return RESOLUTION_STATUS[resolution] if resolution else Status.PENDING
    if phase is Phase.VOID_PENDING:
        return Status.VOIDED
    if phase is Phase.EXPIRE_PENDING:
        return Status.EXPIRED
    return Status.REVERSED if reversed_ else Status.POSTED


def aware(moment: datetime) -> datetime:
    """``moment`` itself, if it carries a time zone: the ledger never guesses one."""
    if moment.tzinfo is None:
        raise ValueError("the ledger needs aware datetimes (with a time zone)")
    return moment


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    """A hold expires at its timeout, never before: at ``expires_at`` exactly it has expired."""
    return expires_at is not None and now >= expires_at


def expiry(now: datetime, timeout_seconds: int | None) -> datetime | None:
    return None if timeout_seconds is None else now + timedelta(seconds=timeout_seconds)


def normal_balance(account_type: AccountType, debits: int, credits: int) -> int:
    return debits - credits if account_type.normal_side is Side.DEBIT else credits - debits


# -- accounts ------------------------------------------------------------------------------------


@dataclass(slots=True)
class AccountState:
    """An account as the ledger keeps it; ``version`` counts the postings applied to it."""

    id: UUID
    code: str
    unit: str
    type: AccountType
    no_overdraft: bool = False
    closed: bool = False
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0
    version: int = 0

    @property
    def balance(self) -> int:
        """The posted balance on the account's normal side."""
        return normal_balance(self.type, self.debits_posted, self.credits_posted)

    @property
    def pending_outflow(self) -> int:
        return self.debits_pending if self.type.normal_side is Side.CREDIT else self.credits_pending

    @property
    def available(self) -> int:
        return self.balance - self.pending_outflow

    def balances(self) -> tuple[int, int, int, int]:
        return self.debits_posted, self.credits_posted, self.debits_pending, self.credits_pending


def check_account(code: str, unit: str) -> None:
    if not (0 < len(code) <= 200) or not _CODE.match(code):
        raise InvalidEntry(f"account code {code!r} must look like 'org:<id>:cash'", field="code")
    if unit not in UNITS:
        raise UnknownUnit(f"unit {unit!r} is not one of {', '.join(UNITS)}", field="unit")


# -- shards of hot accounts -----------------------------------------------------------------------

MAX_SHARDS = 64


def shard_code(code: str, n: int) -> str:
    """The code of a logical account's ``n``-th shard (n ≥ 1; shard 0 is the account's own row).
    ``#`` is outside ``CODE_PATTERN``, so no account created by code can take a shard's code."""
    return f"{code}#{n}"


def check_shardable(account: AccountState, *, is_shard: bool, shards: int, existing: int) -> None:
    """Whether ``account`` (with ``existing`` rows now, itself included) may be split into ``shards`` rows.

    A ``no_overdraft`` account is refused: its limit would have to hold for the sum of its shards,
    yet each writer locks only the shard it writes, so each shard would need its own funds.
    """
    if isinstance(shards, bool) or not isinstance(shards, int) or not 2 <= shards <= MAX_SHARDS:
        raise InvalidEntry(f"shards must be an integer from 2 to {MAX_SHARDS}", field="shards")
    if is_shard:
        raise NotShardable(f"account {account.code} is a shard itself; shard its logical account", field="account_id")
    if account.no_overdraft:
        raise NotShardable(
            f"account {account.code} is no_overdraft: a limit spread over shards would need each shard funded "
            "separately, so such accounts are not sharded",
            field="account_id",
        )
    if account.closed:
        raise AccountClosed(f"account {account.code} is closed", field="account_id")
    if shards < existing:
        raise NotShardable(f"account {account.code} has {existing} shards; shards are only ever added", field="shards")


def shard_for(entry_id: UUID, rows: Sequence[UUID]) -> UUID:
    """The row of a sharded account that an entry writes: chosen by the entry's id, whose low bits
    are random (UUIDv7), so concurrent writers spread over the rows."""
    return rows[entry_id.int % len(rows)]


# -- entries -------------------------------------------------------------------------------------


class PostingSpec(NamedTuple):
    account_id: UUID
    side: Side
    amount: int


@dataclass(frozen=True, slots=True)
class EntrySpec:
    """What a caller asks the ledger to record. ``pending=True`` makes it a hold."""

    unit: str
    kind: str
    postings: tuple[PostingSpec, ...]
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    external_ref: str | None = None
    pending: bool = False
    timeout_seconds: int | None = None

    @classmethod
    def transfer(
        cls,
        debit: UUID,
        credit: UUID,
        amount: int,
        *,
        unit: str,
        kind: str,
        description: str = "",
        metadata: Mapping[str, Any] | None = None,
        external_ref: str | None = None,
        pending: bool = False,
        timeout_seconds: int | None = None,
    ) -> EntrySpec:
        """``debit → credit``: the two-posting entry that moves ``amount`` from one account to another."""
        return cls(
            unit=unit,
            kind=kind,
            postings=(PostingSpec(debit, Side.DEBIT, amount), PostingSpec(credit, Side.CREDIT, amount)),
            description=description,
            metadata=dict(metadata or {}),
            external_ref=external_ref,
            pending=pending,
            timeout_seconds=timeout_seconds,
        )

    def canonical(self) -> dict[str, Any]:
        """The request as plain JSON data (idempotency fingerprints, stored adjustments)."""
        return {
            "unit": self.unit,
            "kind": self.kind,
            "description": self.description,
            "metadata": dict(self.metadata),
            "external_ref": self.external_ref,
            "pending": self.pending,
            "timeout_seconds": self.timeout_seconds,
            "postings": [
                {"account_id": str(p.account_id), "side": str(p.side), "amount": p.amount} for p in self.postings
            ],
        }

    @classmethod
    def from_canonical(cls, data: Mapping[str, Any]) -> EntrySpec:
        return cls(
            unit=data["unit"],
            kind=data["kind"],
            description=data["description"],
            metadata=dict(data["metadata"]),
            external_ref=data["external_ref"],
            pending=data["pending"],
            timeout_seconds=data["timeout_seconds"],
            postings=tuple(PostingSpec(UUID(p["account_id"]), Side(p["side"]), p["amount"]) for p in data["postings"]),
        )


def check_amount(amount: int, field_name: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidEntry(f"{field_name} must be an integer", field=field_name)
    if amount <= 0:
        raise InvalidEntry(f"{field_name} must be greater than zero", field=field_name)
    if amount > MAX_AMOUNT:
        raise InvalidEntry(f"{field_name} must not exceed {MAX_AMOUNT}", field=field_name)


def check_text(value: str | None, field_name: str, limit: int) -> None:
    """Free text the databases can store: bounded, and without NUL characters (PostgreSQL refuses them)."""
    if value is None:
        return
    if len(value) > limit:
        raise InvalidEntry(f"{field_name} is longer than {limit} characters", field=field_name)
    if "\x00" in value:
        raise InvalidEntry(f"{field_name} contains a NUL character", field=field_name)


def check_entry(spec: EntrySpec) -> None:
    """The rules an entry must meet before any account is looked at."""
    if spec.unit not in UNITS:
        raise UnknownUnit(f"unit {spec.unit!r} is not one of {', '.join(UNITS)}", field="unit")
    if not (0 < len(spec.kind) <= 64) or not _KIND.match(spec.kind):
        raise InvalidEntry("kind must be a lower-case word such as 'transfer' or 'deposit_hold'", field="kind")
    check_text(spec.description, "description", 500)
    check_text(spec.external_ref, "external_ref", 200)
    try:
        canonical_json(dict(spec.metadata))
    except ValueError as exc:  # a number JSON cannot carry exactly, a NaN, a key that is not text
        raise InvalidEntry(f"metadata has no canonical JSON form: {exc}", field="metadata") from None
    if spec.external_ref is not None and not spec.external_ref:
        raise InvalidEntry("external_ref must not be empty", field="external_ref")
    postings = spec.postings
    if len(postings) < 2:
        raise InvalidEntry("an entry needs at least two postings", field="postings")
    if len(postings) > MAX_POSTINGS:
        raise InvalidEntry(f"an entry has at most {MAX_POSTINGS} postings", field="postings")
    debits = credits = 0
    for index, posting in enumerate(postings):
        check_amount(posting.amount, f"postings.{index}.amount")
        if posting.side is Side.DEBIT:
            debits += posting.amount
        else:
            credits += posting.amount
    if debits == 0 or credits == 0:
        raise InvalidEntry("an entry needs at least one debit and one credit", field="postings")
    if debits != credits:
        raise UnbalancedEntry(f"debits {debits} and credits {credits} differ", field="postings")
    if spec.pending:
        sides = {p.side for p in postings}
        if len(postings) != 2 or len(sides) != 2:
            raise InvalidEntry("a pending entry has exactly two postings: one debit, one credit", field="postings")
        if postings[0].account_id == postings[1].account_id:
            raise InvalidEntry("a pending entry moves money between two different accounts", field="postings")
        if spec.timeout_seconds is not None and not (0 < spec.timeout_seconds <= MAX_TIMEOUT_SECONDS):
            raise InvalidEntry("timeout_seconds must be between 1 and ten years", field="pending.timeout_seconds")
    elif spec.timeout_seconds is not None:
        raise InvalidEntry("only a pending entry has a timeout", field="pending.timeout_seconds")


# -- legs: what a posting does to its account -----------------------------------------------------


class Leg(NamedTuple):
    """What one posting does to its account (a tuple: batches make thousands of them)."""

    account_id: UUID
    side: Side
    amount: int
    posted_delta: int
    pending_delta: int


def entry_legs(spec: EntrySpec) -> list[Leg]:
    if spec.pending:
        return [Leg(p.account_id, p.side, p.amount, 0, p.amount) for p in spec.postings]
    return [Leg(p.account_id, p.side, p.amount, p.amount, 0) for p in spec.postings]


def post_legs(hold: Sequence[Leg], amount: int) -> list[Leg]:
    """Posting ``amount`` of a hold: that much becomes posted, the whole held amount is released."""
    return [Leg(h.account_id, h.side, amount, amount, -h.amount) for h in hold]


def release_legs(hold: Sequence[Leg]) -> list[Leg]:
    """Voiding or expiring a hold: the held amount is released, nothing is posted."""
    return [Leg(h.account_id, h.side, h.amount, 0, -h.amount) for h in hold]


def reversal_legs(original: Sequence[Leg]) -> list[Leg]:
    """The mirror of what an entry posted: each posted amount on the other side."""
    return [Leg(o.account_id, o.side.opposite, o.posted_delta, o.posted_delta, 0) for o in original if o.posted_delta]


def phase_deltas_are_consistent(phase: Phase, legs: Sequence[Leg], held: int | None = None) -> bool:
    """Whether stored postings carry the deltas their entry's phase implies (used by verification)."""
    for leg in legs:
        expected: tuple[int, int]
        if phase is Phase.POSTED:
            expected = (leg.amount, 0)
        elif phase is Phase.PENDING:
            expected = (0, leg.amount)
        elif phase is Phase.POST_PENDING:
            expected = (leg.amount, -(held if held is not None else leg.amount))
        else:
            expected = (0, -(held if held is not None else leg.amount))
        if (leg.posted_delta, leg.pending_delta) != expected:
            return False
    return True


# -- the book: applying legs to account states ----------------------------------------------------


@dataclass(slots=True)
class Applied:
    """Where each leg landed: its account's version after it (the posting's sequence number)."""

    sequences: list[int]


class Book:
    """Account states in memory. ``apply`` checks every rule first and changes nothing on failure."""

    def __init__(self, accounts: Iterable[AccountState]) -> None:
        self.accounts: dict[UUID, AccountState] = {a.id: a for a in accounts}
        self.touched: dict[UUID, int] = {}  # account id -> version before the first change

    def apply(self, unit: str, legs: Sequence[Leg], *, allow_closed: bool = False) -> Applied:
        changes: dict[UUID, list[int]] = {}
        for index, leg in enumerate(legs):
            account = self.accounts.get(leg.account_id)
            if account is None:
                raise UnknownAccount(f"account {leg.account_id} does not exist", field=f"postings.{index}.account_id")
            if account.unit != unit:
                raise UnitMismatch(
                    f"account {account.code} is in {account.unit}, the entry in {unit}",
                    field=f"postings.{index}.account_id",
                )
            if account.closed and not allow_closed:
                raise AccountClosed(f"account {account.code} is closed", field=f"postings.{index}.account_id")
            balances = changes.setdefault(leg.account_id, list(account.balances()))
            offset = 0 if leg.side is Side.DEBIT else 1
            balances[offset] += leg.posted_delta
            balances[offset + 2] += leg.pending_delta
        for account_id, (dp, cp, dq, cq) in changes.items():
            account = self.accounts[account_id]
            if min(dp, cp, dq, cq) < 0:
                raise InvalidEntry(f"account {account.code} would hold a negative total; the ledger is inconsistent")
            if max(dp, cp, dq, cq) > MAX_AMOUNT:
                raise BalanceOverflow(f"account {account.code} would exceed the largest balance {MAX_AMOUNT}")
            if account.no_overdraft:
                after = normal_balance(account.type, dp, cp) - (dq if account.type.normal_side is Side.CREDIT else cq)
                if after < 0 and after < account.available:
                    raise InsufficientFunds(
                        f"account {account.code} has {account.available} available and the entry needs "
                        f"{account.available - after}",
                        account=account.code,
                        unit=account.unit,
                        available=account.available,
                        needed=account.available - after,
                    )
        sequences: list[int] = []
        for account_id, (dp, cp, dq, cq) in changes.items():
            account = self.accounts[account_id]
            self.touched.setdefault(account_id, account.version)
            account.debits_posted, account.credits_posted = dp, cp
            account.debits_pending, account.credits_pending = dq, cq
        for leg in legs:
            account = self.accounts[leg.account_id]
            account.version += 1
            sequences.append(account.version)
        return Applied(sequences)

    def changed(self) -> list[tuple[AccountState, int]]:
        """The accounts changed so far with the version each had before, in id order."""
        return [(self.accounts[i], self.touched[i]) for i in sorted(self.touched)]


# -- hashed forms -------------------------------------------------------------------------------


def timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with microseconds, the same on every database."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
