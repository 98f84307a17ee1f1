"""Idempotent writes: a key remembers its request's fingerprint and its original result.

The same key with the same request returns the original result (``replayed=True``); the same key
with a different request is refused; a refused request stores nothing, so its key can be used again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.canonical import canonical_json
from ledger import store
from ledger.errors import DomainError, IdempotencyKeyReused
from ledger.views import AdjustmentView, BatchResult, EntryView

R = TypeVar("R", EntryView, BatchResult, AdjustmentView)
_encoder = msgspec.json.Encoder()


def fingerprint(operation: str, request: Any) -> str:
    return hashlib.sha256(canonical_json([operation, request])).hexdigest()


async def replay(conn: AsyncConnection, key: str | None, print_: str, result_type: type[R]) -> R | None:
    if key is None:
        return None
    record = await store.recall(conn, key)
    if record is None:
        return None
    stored_print, operation, stored_result = record
    if stored_print != print_:
        raise IdempotencyKeyReused(f"this key was used for a different {operation} request", field="Idempotency-Key")
    result = msgspec.json.decode(stored_result, type=result_type)
    result.replayed = True
    return result


def record(key: str | None, print_: str, operation: str, result: Any, now: datetime) -> dict[str, Any] | None:
    if key is None:
        return None
    return {
        "key": key,
        "fingerprint": print_,
        "operation": operation,
        "result": _encoder.encode(result).decode(),
        "created_at": now,
    }


async def replay_instead(
    conn: AsyncConnection, key: str | None, print_: str, result_type: type[R], refused: DomainError
) -> R:
    """A refused request may repeat one that succeeded before (its hold since posted, its money since
    spent): then the answer is the original result. Keys are looked up only here and when a write
    finds its key taken, so a fresh request pays no extra round trip."""
    original = await replay(conn, key, print_, result_type)
    if original is None:
        raise refused
    return original
