"""Errors of the ledger. Each carries a stable problem ``type`` slug, an HTTP status and a title.

The refusals every module shares (not found, conflict, insufficient funds, …) are the kernel's,
re-exported here; the composition root turns any of them into RFC 9457 problem details.
"""

from __future__ import annotations

from kernel.errors import (
    Conflict,
    DomainError,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidCursor,
    NotFound,
)


class LedgerError(DomainError):
    problem_type = "ledger-error"
    title = "The ledger refused the request"


def at_index(exc: DomainError, index: int) -> DomainError:
    """The same refusal, said of the ``index``-th entry of a batch."""
    exc.detail = f"entry {index}: {exc.detail}"
    exc.extra = {**exc.extra, "index": index}
    if exc.errors:
        exc.errors = [{**e, "field": f"entries.{index}.{e['field']}"} for e in exc.errors]
    else:
        exc.errors = [{"field": f"entries.{index}", "message": exc.detail}]
    return exc


# 403 --------------------------------------------------------------------------------------------


class MakerCannotApprove(LedgerError):
    problem_type = "maker-cannot-approve"
    status = 403
    title = "An adjustment needs the approval of a second, different operator"


# 409 --------------------------------------------------------------------------------------------


class AccountExists(Conflict):
    problem_type = "account-exists"
    title = "An account with this code exists"


class AlreadyPosted(Conflict):
    problem_type = "already-posted"
    title = "The pending entry has already been posted"


class AlreadyVoided(Conflict):
    problem_type = "already-voided"
    title = "The pending entry has already been voided"


class Expired(Conflict):
    problem_type = "expired"
    title = "The pending entry has expired"


class NotPending(Conflict):
    problem_type = "not-pending"
    title = "Only a pending entry can be posted or voided"


class AlreadyReversed(Conflict):
    problem_type = "already-reversed"
    title = "The entry has already been reversed"


class NotReversible(Conflict):
    problem_type = "not-reversible"
    title = "This entry cannot be reversed"


class NotSealed(Conflict):
    problem_type = "not-sealed"
    title = "The entry is not sealed into a block yet"


class AlreadyDecided(Conflict):
    problem_type = "already-approved"
    title = "The adjustment has already been approved"


class HasPendingBalance(Conflict):
    problem_type = "pending-balance"
    title = "The account has pending amounts"


# 422 --------------------------------------------------------------------------------------------


class InvalidEntry(LedgerError):
    problem_type = "invalid-entry"
    title = "The entry is not well formed"


class UnbalancedEntry(InvalidEntry):
    problem_type = "unbalanced-entry"
    title = "The debits and credits of the entry differ"


class UnknownUnit(LedgerError):
    problem_type = "unknown-unit"
    title = "The ledger has no such unit"


class UnitMismatch(LedgerError):
    problem_type = "unit-mismatch"
    title = "Every account of an entry must be in the entry's unit"


class UnknownAccount(LedgerError):
    problem_type = "unknown-account"
    title = "The entry names an account the ledger does not have"


class AccountClosed(LedgerError):
    problem_type = "account-closed"
    title = "The account is closed"


class BalanceOverflow(LedgerError):
    problem_type = "balance-overflow"
    title = "The entry would overflow an account balance"


class ExceedsPendingAmount(LedgerError):
    problem_type = "exceeds-pending-amount"
    title = "The amount is larger than the pending amount"


class NotShardable(LedgerError):
    problem_type = "not-shardable"
    title = "The account cannot be split into shards"


class InvalidAsOf(LedgerError):
    problem_type = "invalid-as-of"
    title = "as_of must be an RFC 3339 time or an entry id"


__all__ = [
    "AccountClosed",
    "AccountExists",
    "AlreadyDecided",
    "AlreadyPosted",
    "AlreadyReversed",
    "AlreadyVoided",
    "BalanceOverflow",
    "Conflict",
    "DomainError",
    "ExceedsPendingAmount",
    "Expired",
    "HasPendingBalance",
    "IdempotencyKeyRequired",
    "IdempotencyKeyReused",
    "InsufficientFunds",
    "InvalidAsOf",
    "InvalidCursor",
    "InvalidEntry",
    "LedgerError",
    "MakerCannotApprove",
    "NotFound",
    "NotPending",
    "NotReversible",
    "NotSealed",
    "NotShardable",
    "UnbalancedEntry",
    "UnitMismatch",
    "UnknownAccount",
    "UnknownUnit",
    "at_index",
]
