"""Errors of the listings module. Each carries a stable problem ``type`` slug and an HTTP status.

The exchange's error mapping turns any exception with ``problem_type``, ``status`` and ``title``
into RFC 9457 problem details; ``errors`` names the fields at fault.
"""

from __future__ import annotations

from typing import Any


class ListingError(Exception):
    problem_type = "listing-error"
    status = 422
    title = "The request breaks a rule of the exchange"

    def __init__(
        self, detail: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if errors is None and field is not None:
            errors = [{"field": field, "message": detail}]
        self.errors = errors
        self.extra = extra


class InvalidListing(ListingError):
    problem_type = "invalid-listing"
    title = "The listing breaks a listing rule"


class InvalidRequest(ListingError):
    problem_type = "invalid-request"
    title = "The request cannot be carried out as given"


class InvalidCursor(ListingError):
    problem_type = "invalid-cursor"
    title = "The cursor is not one this endpoint issued"


class Forbidden(ListingError):
    problem_type = "forbidden"
    status = 403
    title = "Not allowed"


class OrgNotVerified(Forbidden):
    problem_type = "org-not-verified"
    title = "The organisation is not verified by the exchange"


class OrgSuspended(Forbidden):
    problem_type = "org-suspended"
    title = "The organisation is suspended"


class NdaRequired(Forbidden):
    problem_type = "nda-required"
    title = "Accept the listing's non-disclosure agreement first"


class NotFound(ListingError):
    problem_type = "not-found"
    status = 404
    title = "Not found"


class Conflict(ListingError):
    problem_type = "conflict"
    status = 409
    title = "Conflicts with the current state"


class InvalidState(Conflict):
    problem_type = "invalid-state"
    title = "Not allowed in the current state"

    def __init__(self, detail: str, *, state: str, **extra: Any) -> None:
        super().__init__(detail, state=state, **extra)
        self.state = state


class ObjectionPending(Conflict):
    problem_type = "objection-pending"
    title = "You already have a pending objection to this notice"
