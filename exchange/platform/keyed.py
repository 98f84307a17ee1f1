"""Idempotent HTTP writes: the same ``Idempotency-Key`` and request give the original answer.

The answer is stored in the same transaction as the effect, so either both exist or neither
does: a request refused by validation or a funds check stores nothing and its key may be used
again. Keys are scoped to the calling organisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import String, Text, UniqueConstraint, bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.db import Database
from exchange.platform.tables import Base, IdMixin
from kernel.errors import Conflict, DomainError, IdempotencyKeyRequired

MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(Conflict):
    problem_type = "idempotency-key-reused"
    title = "This Idempotency-Key was used for a different request"


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),)

    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any  # the JSON-ready answer (a msgspec Struct or plain data)
    replayed: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def required_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise IdempotencyKeyRequired("send an Idempotency-Key header (1-255 characters) with this request")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyRequired(
            "the Idempotency-Key header is longer than 255 characters", field="Idempotency-Key"
        )
    return key


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(msgspec.json.encode(parts, order="sorted")).hexdigest()


_records = IdempotencyRecord.__table__
# True when an answer is stored under (:scope, :key): a column for a caller's own statement, so that
# a request checked before its transaction learns in the same round trip whether it may be a replay.
KEY_TAKEN = (
    exists().where(_records.c.scope == bindparam("scope"), _records.c.key == bindparam("key")).label("key_taken")
)
_KEY_TAKEN = select(KEY_TAKEN)
_ANSWER = select(_records.c.fingerprint, _records.c.status_code, _records.c.body).where(
    _records.c.scope == bindparam("scope"), _records.c.key == bindparam("key")
)


async def key_is_taken(db: Database, scope: str, key: str) -> bool:
    """Whether an answer is stored under (scope, key), outside a transaction."""
    row = await db.first_row(_KEY_TAKEN, {"scope": scope, "key": key})
    return bool(row and row[0])


def _answer(row: Sequence[Any] | None, print_: str) -> Outcome | None:
    if row is None:
        return None
    stored_print, status_code, body = row
    if stored_print != print_:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request", field="Idempotency-Key"
        )
    return Outcome(status_code, msgspec.json.decode(body), replayed=True)


async def _recall(session: AsyncSession, scope: str, key: str, print_: str) -> Outcome | None:
    return _answer((await session.execute(_ANSWER, {"scope": scope, "key": key})).first(), print_)


async def stored_answer(db: Database, *, scope: str, key: str, request: Any) -> Outcome | None:
    """The answer stored under (scope, key) for ``request`` (409 for another request), outside a transaction."""
    return _answer(await db.first_row(_ANSWER, {"scope": scope, "key": key}), fingerprint(request))


async def idempotent(
    db: Database,
    *,
    scope: str,
    key: str | None,
    request: Any,
    now: Callable[[], datetime],
    work: Callable[[AsyncSession], Awaitable[Outcome]],
    key_seen_free: bool = False,
) -> Outcome:
    """Run ``work`` once per (scope, key); later calls with the same request replay its answer.

    Without a key ``work`` simply runs. Concurrent requests with one key run one after another:
    on PostgreSQL each first takes a transaction-scoped advisory lock on the key, so a later one
    finds the stored answer instead of racing the work itself (whose own unique rules, such as a
    credit code taken, would otherwise answer it with a refusal). SQLite serialises writers
    already (``BEGIN IMMEDIATE``). The unique index remains the last word.

    ``key_seen_free``: the caller has just seen no answer stored under the key (``KEY_TAKEN``), so
    ``work`` runs first, without the lock, and the key is looked up only when ``work`` refuses (a
    concurrent request with the key may have committed meanwhile) or when storing the answer finds
    the key taken. The hot path (bids) saves the lock's round trip this way.
    """
    if key is None:
        return await db.transaction(work)
    print_ = fingerprint(request)
    recall_first = not key_seen_free

    async def attempt(session: AsyncSession) -> Outcome:
        nonlocal recall_first
        if recall_first:
            if db.is_postgres:
                lock_key = func.hashtextextended(f"{scope}\n{key}", 0)
                await session.execute(select(func.pg_advisory_xact_lock(lock_key)))
            stored = await _recall(session, scope, key, print_)
            if stored is not None:
                return stored
        try:
            outcome = await work(session)
        except DomainError:
            stored = None if recall_first else await _recall(session, scope, key, print_)
            if stored is not None:
                return stored
            raise
        recall_first = True  # should storing the answer find the key taken, the next attempt replays
        session.add(
            IdempotencyRecord(
                scope=scope,
                key=key,
                fingerprint=print_,
                status_code=outcome.status_code,
                body=msgspec.json.encode(outcome.body).decode(),
                created_at=now(),
            )
        )
        await session.flush()
        return outcome

    for _ in range(3):
        try:
            return await db.transaction(attempt)
        except IntegrityError:
            continue  # a concurrent request with this key committed first; read its answer
    raise Conflict("a concurrent request with the same Idempotency-Key is in progress; try again")
