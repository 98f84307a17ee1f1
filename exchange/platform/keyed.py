"""Idempotent writes (SPEC §7): the same ``Idempotency-Key`` with the same request gives the original
answer, with the header ``Idempotent-Replayed: true``; the same key with another request is 409
``idempotency-key-reused``.

One idiom for every keyed route: the handler takes ``idempotency_key: IdempotencyKey = None``
(declared with ``operation_class=KeyedWrite`` where the key is required, so that the OpenAPI
document says so) and returns ``await keyed(...)``. A service that owns more of the request than
one transaction (the bid: screening, turns per auction, events) calls ``idempotent`` itself and
its route answers with ``answer(outcome)``.

The answer is stored in the same transaction as the effect, so either both exist or neither
does: a request refused by validation or a funds check stores nothing and its key may be used
again.

Scope rule: a key belongs to the organisation the caller acts for (``org:<id>``), because
everything a member does — list, bid, pay, order, withdraw — is the organisation's act: two
employees retrying one request with one key get one effect, and organisations never see each
other's keys. An exchange operator's keys belong to the operator in person (``operator:<user>``):
operators act on the exchange's own books, where maker–checker needs two different people, so one
operator's answer is never replayed to another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

import msgspec
from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.spec import OpenAPIHeader, OpenAPIType, Operation, Parameter, Schema
from litestar.params import HeaderParameter
from sqlalchemy import String, Text, UniqueConstraint, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.tables import Base, IdMixin, new_id
from kernel.db import is_postgres
from kernel.errors import DomainError, IdempotencyKeyRequired, IdempotencyKeyReused

MAX_KEY_LENGTH = 255
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=KEY_HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="The same key with the same request returns the original answer "
        "(required where the operation says so).",
    ),
]
REPLAY_DOC = [ResponseHeader(name=REPLAYED_HEADER, documentation_only=True, description="'true' on a replay")]


@dataclass
class KeyedWrite(Operation):
    """The OpenAPI operation of a write whose Idempotency-Key header is required.

    The handler takes the key as optional so that a missing key gets the exchange's own problem
    (``idempotency-key-required``) rather than a generic validation error.
    """

    def __post_init__(self) -> None:
        for parameter in self.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name.lower() == KEY_HEADER.lower():
                parameter.required = True
                parameter.schema = Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY_LENGTH)
        for response in (self.responses or {}).values():
            for name, header in (getattr(response, "headers", None) or {}).items():
                if name == REPLAYED_HEADER and isinstance(header, OpenAPIHeader):
                    header.schema = Schema(type=OpenAPIType.STRING, enum=["true"])


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


class KeyOwner(Protocol):
    """The caller as the scope rule sees it (a ``parties`` Principal)."""

    @property
    def user_id(self) -> UUID: ...

    @property
    def org_id(self) -> UUID: ...

    @property
    def is_operator(self) -> bool: ...


def key_scope(caller: KeyOwner) -> str:
    """The one scope rule (see the module's docstring)."""
    return f"operator:{caller.user_id}" if caller.is_operator else f"org:{caller.org_id}"


def required_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise IdempotencyKeyRequired(
            f"send an {KEY_HEADER} header (1-{MAX_KEY_LENGTH} characters) with this request", field=KEY_HEADER
        )
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyRequired(
            f"the {KEY_HEADER} header is longer than {MAX_KEY_LENGTH} characters", field=KEY_HEADER
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
        raise IdempotencyKeyReused(f"this {KEY_HEADER} was already used for a different request", field=KEY_HEADER)
    return Outcome(status_code, msgspec.json.decode(body), replayed=True)


async def _recall(session: AsyncSession, scope: str, key: str, print_: str) -> Outcome | None:
    return _answer((await session.execute(_ANSWER, {"scope": scope, "key": key})).first(), print_)


async def stored_answer(db: Database, *, scope: str, key: str, request: Any) -> Outcome | None:
    """The answer stored under (scope, key) for ``request`` (409 for another request), outside a transaction."""
    return _answer(await db.first_row(_ANSWER, {"scope": scope, "key": key}), fingerprint(request))


# Built once per dialect: a Core statement with its values as parameters is cached compiled, where
# an ORM insert with inline values went through the ORM's bulk path and a fresh cache key each time.
_STORE = {
    dialect: insert(_records).on_conflict_do_nothing(index_elements=["scope", "key"]).returning(_records.c.id)
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


async def _store(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the answer unless the key holds one already (committed by a concurrent request).

    ``ON CONFLICT DO NOTHING`` on the key's own unique index: a clash of keys is told apart from the
    work's own integrity errors, which are never taken for one.
    """
    statement = _STORE["postgresql" if is_postgres(session) else "sqlite"]
    return (await session.execute(statement, values)).first() is not None


class _KeyTaken(Exception):
    """A concurrent request with the key committed its answer first: undo this work and replay that."""


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
    already (``BEGIN IMMEDIATE``). The key's unique index remains the last word.

    ``key_seen_free``: the caller has just seen no answer stored under the key (``KEY_TAKEN``), or
    expects none (replays are rare) and its work may run again harmlessly, so ``work`` runs first,
    without the lock, and the key is looked up only when ``work`` refuses (a concurrent request
    with the key may have committed meanwhile, or the request is a replay) or when storing the
    answer finds the key taken (the work is then rolled back and the stored answer replayed). The
    hot paths (bids, ledger writes) save the lock's and the look-up's round trips this way. The
    work must refuse with a ``DomainError`` (looked up) and write nothing outside the transaction;
    a work that its own replay would refuse otherwise (an integrity error, say) cannot use it.
    """
    if key is None:
        return await db.transaction(work)
    print_ = fingerprint(request)
    recall_first = not key_seen_free

    async def attempt(session: AsyncSession) -> Outcome:
        if recall_first:
            if db.is_postgres:
                lock_key = func.hashtextextended(f"{scope}\n{key}", 0)
                await session.execute(select(func.pg_advisory_xact_lock(lock_key)))
            stored = await _recall(session, scope, key, print_)
            if stored is not None:
                return stored
        try:
            outcome = await work(session)
            await session.flush()  # the work's own integrity errors surface here, as themselves
        except DomainError:
            stored = None if recall_first else await _recall(session, scope, key, print_)
            if stored is not None:
                return stored
            raise
        record = {
            "id": new_id(),
            "scope": scope,
            "key": key,
            "fingerprint": print_,
            "status_code": outcome.status_code,
            "body": msgspec.json.encode(outcome.body).decode(),
            "created_at": now(),
        }
        if not await _store(session, record):
            raise _KeyTaken
        return outcome

    try:
        return await db.transaction(attempt)
    except _KeyTaken:
        recall_first = True
        return await db.transaction(attempt)


def answer(outcome: Outcome) -> Response[Any]:
    """The HTTP answer of an outcome, marked when it replays an earlier one."""
    return Response(outcome.body, status_code=outcome.status_code, headers=outcome.headers)


async def keyed(
    db: Database,
    clock: Clock,
    caller: KeyOwner,
    key: str | None,
    *,
    action: str,
    request: Any,
    work: Callable[[AsyncSession], Awaitable[Any]],
    status: int = 201,
    required: bool = False,
    optimistic: bool = False,
) -> Response[Any]:
    """A keyed write in one transaction: ``work(session)`` returns the answer's body.

    ``action`` names the operation (a key reused for another action is a different request);
    ``request`` is what the answer depends on (the body and the path's ids); ``required`` refuses
    a request without a key (SPEC §7: bids, payments, withdrawals, grants, ledger writes);
    ``optimistic`` runs the work before looking the key up (``idempotent``'s ``key_seen_free``).
    """
    if required or key is not None:
        key = required_key(key)

    async def run(session: AsyncSession) -> Outcome:
        return Outcome(status, await work(session))

    outcome = await idempotent(
        db,
        scope=key_scope(caller),
        key=key,
        request=[action, request],
        now=clock.now,
        work=run,
        key_seen_free=optimistic,
    )
    return answer(outcome)
