"""Refusals. Each carries a stable problem ``type`` slug, an HTTP status and a title; the
exchange's one problem mapping turns any of them into RFC 9457 problem details.

Modules subclass ``DomainError`` (or one of the shared refusals below) for their own rules.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

T = TypeVar("T")

_MSGSPEC_PATH = re.compile(r"at `\$(?P<path>[^`]*)`")


class DomainError(Exception):
    problem_type = "domain-error"
    status = 422
    title = "The request breaks a rule of the exchange"

    def __init__(
        self, detail: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if errors is None and field is not None:
            errors = [{"field": field, "message": detail}]
        self.errors: list[dict[str, Any]] | None = errors
        self.extra: dict[str, Any] = extra


class BadRequest(DomainError):
    problem_type = "bad-request"
    status = 400
    title = "The request is malformed"


class IdempotencyKeyRequired(BadRequest):
    problem_type = "idempotency-key-required"
    title = "This request needs an Idempotency-Key header"


class Unauthorized(DomainError):
    problem_type = "unauthorized"
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    problem_type = "forbidden"
    status = 403
    title = "Not allowed"


class OrgNotVerified(Forbidden):
    problem_type = "org-not-verified"
    title = "The organisation is not verified by the exchange"


class OrgSuspended(Forbidden):
    problem_type = "org-suspended"
    title = "The organisation is suspended"


class NotFound(DomainError):
    problem_type = "not-found"
    status = 404
    title = "Not found"


class Conflict(DomainError):
    problem_type = "conflict"
    status = 409
    title = "Conflicts with the current state"


class InvalidState(Conflict):
    """An action the subject's current state does not allow; the problem names that state."""

    problem_type = "invalid-state"
    title = "Not allowed in the current state"

    def __init__(self, detail: str, *, state: str | None = None, **extra: Any) -> None:
        if state is not None:
            extra["state"] = state
        super().__init__(detail, **extra)
        self.state = state


class IdempotencyKeyReused(Conflict):
    problem_type = "idempotency-key-reused"
    title = "This Idempotency-Key was used for a different request"


class InsufficientFunds(Conflict):
    """An account's available balance is below what a movement needs (SPEC §10: 409 on every route).

    The body names the account (its code), the unit, what is available and what is needed, in
    the unit's smallest amount (fen or VCH). The ledger raises it for any ``no_overdraft`` account;
    a module that checks a balance of its own before it reaches the ledger raises the same, with
    ``field`` naming the request field that asked for too much.
    """

    problem_type = "insufficient-funds"
    title = "The available balance is too low"

    def __init__(
        self, detail: str, *, account: str, unit: str, available: int, needed: int, field: str | None = None
    ) -> None:
        super().__init__(detail, field=field, account=account, unit=unit, available=available, needed=needed)


class InvalidCursor(DomainError):
    problem_type = "invalid-cursor"
    title = "The cursor is not one this list issued"

    def __init__(self, detail: str = "the cursor is not one this list issued", *, field: str = "cursor") -> None:
        super().__init__(detail, field=field)


class RateLimited(DomainError):
    problem_type = "rate-limited"
    status = 429
    title = "Too many requests"


def msgspec_field(message: str) -> str | None:
    """msgspec reports where decoding failed as ``at `$.terms.scope```; turn that into ``terms.scope``."""
    match = _MSGSPEC_PATH.search(message)
    if not match:
        return None
    return match.group("path").lstrip(".").replace("[", ".").replace("]", "") or None


def found(value: T | None, refusal: DomainError) -> T:
    """``value``, or ``refusal`` raised when there is none (a row looked up by id, typically)."""
    if value is None:
        raise refusal
    return value


def check_trader(org_id: object, *, active: bool, verified: bool) -> None:
    """An organisation may trade (list, register intent, bid, order, receive vouchers, be paid) when
    it is active and an operator has verified it."""
    if not active:
        raise OrgSuspended(f"organisation {org_id} is suspended")
    if not verified:
        raise OrgNotVerified(f"organisation {org_id} has not been verified by an operator")


def check_operator(is_operator: bool) -> None:
    if not is_operator:
        raise Forbidden("only exchange operators may do this")
