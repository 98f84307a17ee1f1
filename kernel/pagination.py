"""Lists as ``{"items": [...], "next_cursor": ...}`` (SPEC §7): the limit and cursor parameters,
opaque cursors, and keyset pages.

A list reads ``limit + 1`` rows past the cursor's position in a stable order; the extra row only
says that another page exists, so a cursor is never handed out for an empty page. A cursor is the
base64url text of the last item's position (a small JSON object); clients treat it as opaque.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import Parameter

from kernel.errors import InvalidCursor

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="items per page (1–100, default 20)")]
Cursor = Annotated[str | None, Parameter(min_length=1, max_length=500, description="next_cursor of the previous page")]


def keyset_page(rows: Sequence[T], limit: int, position: Callable[[T], dict[str, Any]]) -> tuple[list[T], str | None]:
    """The page of ``rows`` (read with ``LIMIT limit + 1``) and the cursor of the next, if any."""
    items = list(rows[:limit])
    return items, (encode_cursor(position(items[-1])) if len(rows) > limit else None)


def by_id(row: Any) -> dict[str, Any]:
    """The position of a row in lists ordered by its (time-ordered UUIDv7) id."""
    return {"id": str(row.id)}


def id_after(cursor: str | None) -> uuid.UUID | None:
    """The id of a ``by_id`` cursor, or None for the first page."""
    position = decode_cursor(cursor, "id")
    return None if position is None else cursor_uuid(position, "id")


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    """The position a cursor names (with every one of ``keys``), or None for no cursor."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(position, dict) or any(k not in position for k in keys):
        raise InvalidCursor()
    return position


def cursor_str(position: dict[str, Any], key: str) -> str:
    value = position.get(key)
    if not isinstance(value, str):
        raise InvalidCursor()
    return value


def cursor_int(position: dict[str, Any], key: str, *, maximum: int = 2**62) -> int:
    value = position.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise InvalidCursor()
    return value


def cursor_uuid(position: dict[str, Any], key: str) -> uuid.UUID:
    try:
        return uuid.UUID(cursor_str(position, key))
    except ValueError as exc:
        raise InvalidCursor() from exc


def cursor_time(position: dict[str, Any], key: str) -> datetime:
    try:
        moment = datetime.fromisoformat(cursor_str(position, key))
    except ValueError as exc:
        raise InvalidCursor() from exc
    if moment.tzinfo is None:
        raise InvalidCursor()
    return moment


class Page(msgspec.Struct, Generic[T]):
    """A page of a list: its items and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None = None
