"""Opaque cursors for ``{"items": [...], "next_cursor": ...}`` lists."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from listings.errors import InvalidCursor


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise InvalidCursor("the cursor is not one this list issued", field="cursor") from exc
    if not isinstance(position, dict) or any(k not in position for k in keys):
        raise InvalidCursor("the cursor is not one this list issued", field="cursor")
    return position


def cursor_str(position: dict[str, Any], key: str) -> str:
    value = position.get(key)
    if not isinstance(value, str):
        raise InvalidCursor("the cursor is not one this list issued", field="cursor")
    return value


def cursor_int(position: dict[str, Any], key: str, *, maximum: int = 2**62) -> int:
    value = position.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise InvalidCursor("the cursor is not one this list issued", field="cursor")
    return value


def cursor_uuid(position: dict[str, Any], key: str) -> uuid.UUID:
    try:
        return uuid.UUID(cursor_str(position, key))
    except ValueError as exc:
        raise InvalidCursor("the cursor is not one this list issued", field="cursor") from exc


def cursor_time(position: dict[str, Any], key: str) -> datetime:
    try:
        moment = datetime.fromisoformat(cursor_str(position, key))
    except ValueError as exc:
        raise InvalidCursor("the cursor is not one this list issued", field="cursor") from exc
    if moment.tzinfo is None:
        raise InvalidCursor("the cursor is not one this list issued", field="cursor")
    return moment
