"""Errors of the ledger. Each carries a stable problem ``type`` slug, an HTTP status and a title.

The composition root turns any exception with ``problem_type`` and ``status`` into RFC 9457
problem details; the ledger needs nothing of the web layer for that.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    problem_type = "ledger-error"
    status = 422
    title = "The ledger refused the request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[dict[str, Any]] | None = [{"field": field, "message": detail}] if field else None
        self.extra: dict[str, Any] = extra

    def at_index(self, index: int) -> LedgerError:
        """The same error, said of the ``index``-th entry of a batch."""
        self.detail = f"entry {index}: {self.detail}"
        self.extra = {**self.extra, "index": index}
        if self.errors:
            self.errors = [{**e, "field": f"entries.{index}.{e['field']}"} for e in self.errors]
        else:
            self.errors = [{"field": f"entries.{index}", "message": self.detail}]
        return self


# 400 --------------------------------------------------------------------------------------------


class IdempotencyKeyRequired(LedgerError):
    problem_type = "idempotency-key-required"
    status = 400
    title = "This request needs an Idempotency-Key header"


# 403 --------------------------------------------------------------------------------------------


class MakerCannotApprove(LedgerError):
    problem_type = "maker-cannot-approve"
    status = 403
    title = "An adjustment needs the approval of a second, different operator"


# 404 --------------------------------------------------------------------------------------------


class NotFound(LedgerError):
    problem_type = "not-found"
    status = 404
    title = "Not found"


# 409 --------------------------------------------------------------------------------------------


class Conflict(LedgerError):
    problem_type = "conflict"
    status = 409
    title = "Conflicts with the current state of the ledger"


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


class IdempotencyKeyReused(Conflict):
    problem_type = "idempotency-key-reused"
    title = "The Idempotency-Key was used for a different request"


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


class InsufficientFunds(LedgerError):
    problem_type = "insufficient-funds"
    title = "The account's available balance is too low"


class BalanceOverflow(LedgerError):
    problem_type = "balance-overflow"
    title = "The entry would overflow an account balance"


class ExceedsPendingAmount(LedgerError):
    problem_type = "exceeds-pending-amount"
    title = "The amount is larger than the pending amount"


class InvalidAsOf(LedgerError):
    problem_type = "invalid-as-of"
    title = "as_of must be an RFC 3339 time or an entry id"


class InvalidCursor(LedgerError):
    problem_type = "invalid-cursor"
    title = "The cursor is not one this list returned"
