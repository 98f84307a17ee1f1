"""Time as the API writes it: RFC 3339, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """``2027-01-28T08:00:00Z``: the moment in UTC, with the microseconds it has."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
