"""Errors of the exchange module. Each carries a stable problem ``type`` slug and an HTTP status.

``ledger`` and ``listings`` define their own error classes with the same three attributes
(``problem_type``, ``status``, ``title``); ``exchange.server.errors`` turns any of them into RFC 9457
problem details.
"""

from __future__ import annotations

from typing import Any


class ExchangeError(Exception):
    problem_type = "exchange-error"
    status = 422
    title = "The request breaks a rule of the exchange"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = [{"field": field, "message": detail}] if field else None
        self.extra = extra


class Unauthorized(ExchangeError):
    problem_type = "unauthorized"
    status = 401
    title = "Authentication required"


class Forbidden(ExchangeError):
    problem_type = "forbidden"
    status = 403
    title = "Not allowed"


class OrgNotVerified(Forbidden):
    problem_type = "org-not-verified"
    title = "The organisation is not verified by the exchange"


class OrgSuspended(Forbidden):
    problem_type = "org-suspended"
    title = "The organisation is suspended"


class NotFound(ExchangeError):
    problem_type = "not-found"
    status = 404
    title = "Not found"


class Conflict(ExchangeError):
    problem_type = "conflict"
    status = 409
    title = "Conflicts with the current state"


class InvalidState(Conflict):
    problem_type = "invalid-state"
    title = "Not allowed in the current state"


class RateLimited(ExchangeError):
    problem_type = "rate-limited"
    status = 429
    title = "Too many requests"


class IdempotencyKeyRequired(ExchangeError):
    problem_type = "idempotency-key-required"
    status = 400
    title = "This request needs an Idempotency-Key header"
