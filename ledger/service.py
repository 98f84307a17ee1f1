"""The ledger's writes. Each takes the caller's ``AsyncSession`` and joins its transaction.

Nothing here commits, so a caller can change its own rows and move money in one transaction
(``await db.transaction(lambda s: ...)``). A write is first described in memory (ids, postings,
the result to return), then its accounts are locked in id order and checked against the rules of
``domain.Book``, then everything is written in one statement. A rule that fails raises a refusal
(a ``kernel.errors.DomainError``) and nothing is written; if any ledger call raises, roll the
transaction back.

Idempotency: pass ``idempotency_key=`` to any write. The same key with the same request returns the
original result with ``replayed=True``; the same key with a different request raises
``IdempotencyKeyReused``. Keys share one namespace; prefix them with your module
(``"deal:<id>:pay"``). A key is looked up only when a write finds it taken or a request is
refused, so fresh requests pay nothing for it.

The reads live in ``ledger.history`` and are re-exported here: ``ledger.service`` is the whole API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kernel.canonical import canonical_json
from kernel.db import is_postgres
from ledger import shards, store
from ledger.domain import (
    MAX_BATCH,
    AccountState,
    AccountType,
    Book,
    EntrySpec,
    Leg,
    Phase,
    aware,
    check_account,
    check_amount,
    check_entry,
    check_shardable,
    check_text,
    entry_legs,
    entry_status,
    expiry,
    is_expired,
    post_legs,
    release_legs,
    reversal_legs,
    shard_code,
    timestamp,
)
from ledger.errors import (
    AccountExists,
    AlreadyPosted,
    AlreadyReversed,
    AlreadyVoided,
    Conflict,
    DomainError,
    ExceedsPendingAmount,
    Expired,
    HasPendingBalance,
    InvalidEntry,
    NotFound,
    NotPending,
    NotReversible,
    at_index,
)
from ledger.history import (
    AsOf,
    account_by_code,
    account_codes,
    fetch_entries,
    get_account,
    get_entry,
    list_accounts,
    movements,
    movements_of,
    parse_as_of,
    shard_ids,
    statement,
    trial_balance,
)
from ledger.idempotency import R, fingerprint, record, replay, replay_instead
from ledger.ids import new_id, new_ids
from ledger.models import accounts, entries, open_holds
from ledger.views import (
    BatchItem,
    BatchResult,
    EntryView,
    PostingView,
    ProblemView,
)

# The ledger's service API: writes here, reads from ``ledger.history``, under one name.
__all__ = [
    "AsOf",
    "account_by_code",
    "account_codes",
    "close_account",
    "create_account",
    "expire_due_holds",
    "get_account",
    "get_entry",
    "get_or_create_account",
    "hold",
    "list_accounts",
    "load_shards",
    "movements",
    "movements_of",
    "parse_as_of",
    "post_batch",
    "post_batch_alone",
    "post_entry",
    "post_entry_alone",
    "post_hold",
    "reverse",
    "shard_account",
    "statement",
    "transfer",
    "trial_balance",
    "void_hold",
]


async def _commit(conn: AsyncConnection, writes: store.Writes, key: str | None, print_: str, result: R) -> R:
    if await store.write(conn, writes):
        return result
    # The key was taken (by an earlier or a concurrent request): answer as its replay, or refuse.
    original = await replay(conn, key, print_, type(result))
    if original is None:
        raise Conflict("a concurrent request with the same idempotency key did not complete; try again")
    return original


# -- drafting entries ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """An entry described before its accounts are locked; ``apply`` then checks it and numbers its postings."""

    row: dict[str, Any]
    postings: list[dict[str, Any]]
    view: EntryView
    legs: Sequence[Leg]

    def apply(self, book: Book, *, allow_closed: bool = False) -> _Draft:
        applied = book.apply(self.view.unit, self.legs, allow_closed=allow_closed)
        for row, seq in zip(self.postings, applied.sequences, strict=True):
            row["account_seq"] = seq
        return self


def _draft(
    *,
    unit: str,
    kind: str,
    phase: Phase,
    legs: Sequence[Leg],
    now: datetime,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    external_ref: str | None = None,
    key: str | None = None,
    timeout_seconds: int | None = None,
    resolves_id: UUID | None = None,
    reverses_id: UUID | None = None,
    ids: Iterator[UUID] | None = None,
    route: bool = False,
) -> _Draft:
    """``route``: a new entry, whose legs on a sharded account go to the shard its id picks.
    Postings record the row they move; the view names the logical account (callers never see shards)."""
    if description:
        check_text(description, "description", 500)
    ids = ids or iter(new_ids(1 + len(legs)))
    entry_id = next(ids)
    if route:
        legs = shards.routed(legs, entry_id)
    meta = dict(metadata) if metadata else {}
    pending = phase is Phase.PENDING
    expires_at = expiry(now, timeout_seconds) if pending else None
    timeout = timeout_seconds if pending else None
    rows: list[dict[str, Any]] = []
    views: list[PostingView] = []
    for account_id, side, amount, posted_delta, pending_delta in legs:
        posting_id = next(ids)
        rows.append(
            {
                "id": posting_id,
                "entry_id": entry_id,
                "account_id": account_id,
                "side": side,
                "amount": amount,
                "posted_delta": posted_delta,
                "pending_delta": pending_delta,
                "account_seq": 0,
            }
        )
        views.append(PostingView(posting_id, shards.logical(account_id), side, amount, posted_delta, pending_delta))
    row = {
        "id": entry_id,
        "unit": unit,
        "kind": kind,
        "phase": phase,
        "description": description,
        "metadata_json": canonical_json(meta).decode() if meta else "{}",
        "external_ref": external_ref,
        "idempotency_key": key,
        "timeout_seconds": timeout,
        "expires_at": expires_at,
        "resolves_id": resolves_id,
        "reverses_id": reverses_id,
        "created_at": now,
    }
    view = EntryView(
        id=entry_id,
        unit=unit,
        kind=kind,
        phase=phase,
        status=entry_status(phase),
        description=description,
        metadata=meta,
        external_ref=external_ref,
        created_at=now,
        expires_at=expires_at,
        timeout_seconds=timeout,
        pending_id=resolves_id,
        reverses_id=reverses_id,
        postings=views,
    )
    return _Draft(row, rows, view, legs)


def _draft_new(spec: EntrySpec, now: datetime, key: str | None, ids: Iterator[UUID] | None = None) -> _Draft:
    return _draft(
        unit=spec.unit,
        kind=spec.kind,
        phase=Phase.PENDING if spec.pending else Phase.POSTED,
        legs=entry_legs(spec),
        now=now,
        description=spec.description,
        metadata=spec.metadata,
        external_ref=spec.external_ref,
        key=key,
        timeout_seconds=spec.timeout_seconds,
        ids=ids,
        route=True,
    )


def _writes(
    book: Book | None,
    drafts: Sequence[_Draft],
    stored: dict[str, Any] | None = None,
    holds_closed: Sequence[UUID] = (),
) -> store.Writes:
    return store.Writes(
        record=stored,
        entries=[d.row for d in drafts],
        postings=[p for d in drafts for p in d.postings],
        accounts=book.changed() if book else [],
        holds_opened=[
            {"entry_id": d.view.id, "expires_at": d.view.expires_at} for d in drafts if d.view.phase is Phase.PENDING
        ],
        holds_closed=list(holds_closed),
    )


def _apply_all(book: Book, drafts: Sequence[tuple[int | None, _Draft]]) -> None:
    for index, draft in drafts:
        try:
            draft.apply(book)
        except DomainError as exc:
            raise exc if index is None else at_index(exc, index) from None


async def _write_new(
    conn: AsyncConnection,
    drafts: Sequence[tuple[int | None, _Draft]],
    stored: dict[str, Any] | None,
    key: str | None,
    print_: str,
    result: R,
) -> R:
    """Lock the accounts of new entries, check the rules, write — or refuse, or replay."""
    entries_ = [d for _, d in drafts]
    if not is_postgres(conn):
        book = await _book(conn, (p.account_id for d in entries_ for p in d.view.postings))
        try:
            _apply_all(book, drafts)
        except DomainError as refused:
            return await replay_instead(conn, key, print_, type(result), refused)
        return await _commit(conn, _writes(book, entries_, stored), key, print_, result)

    outcome = await store.write_new_entries(
        conn, _writes(None, entries_, stored), {d.view.id: d.view.unit for d in entries_}
    )
    if outcome.checked and not outcome.claimed:  # the key was taken: nothing written
        original = await replay(conn, key, print_, type(result))
        if original is None:
            raise Conflict("a concurrent request with the same idempotency key did not complete; try again")
        return original
    book = Book(outcome.locked.values())  # as locked, before this write
    try:
        _apply_all(book, drafts)
    except DomainError as refused:
        if outcome.checked:  # written, yet the rules refuse it: never keep that
            raise Conflict(f"the ledger's checks disagree ({refused.detail}); nothing was recorded") from refused
        return await replay_instead(conn, key, print_, type(result), refused)
    if not outcome.checked:
        # The statement's checks are stricter than the rules (no_overdraft after each posting, not
        # each entry); the rules accept it, the accounts are locked: write it the general way.
        return await _commit(conn, _writes(book, entries_, stored), key, print_, result)
    for account, _ in book.changed():
        written = outcome.after.get(account.id)
        if written != (*account.balances(), account.version):
            raise Conflict(f"the ledger's checks disagree on account {account.code}; nothing was recorded")
    return result


async def _book(conn: AsyncConnection, account_ids: Any) -> Book:
    # A new entry's legs may be on the shards of the accounts it names: those are locked too.
    return Book((await store.lock_accounts(conn, shards.with_shards(account_ids))).values())


# -- accounts -----------------------------------------------------------------------------------------


def _account_row(code: str, unit: str, type_: AccountType, no_overdraft: bool, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "code": code,
        "unit": unit,
        "type": AccountType(type_).value,
        "no_overdraft": no_overdraft,
        "closed": False,
        "debits_posted": 0,
        "credits_posted": 0,
        "debits_pending": 0,
        "credits_pending": 0,
        "version": 0,
        "created_at": aware(now),
    }


def _state(row: dict[str, Any]) -> AccountState:
    return AccountState(
        id=row["id"],
        code=row["code"],
        unit=row["unit"],
        type=AccountType(row["type"]),
        no_overdraft=row["no_overdraft"],
    )


async def _insert_account(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    statement = store.upsert(conn, accounts).values(row).on_conflict_do_nothing(index_elements=["code"])
    return (await conn.execute(statement)).rowcount == 1


async def create_account(
    session: AsyncSession,
    *,
    code: str,
    unit: str,
    type: AccountType | str,
    no_overdraft: bool = False,
    now: datetime,
) -> AccountState:
    """A new account; ``AccountExists`` if the code is taken."""
    check_account(code, unit)
    conn = await session.connection()
    row = _account_row(code, unit, AccountType(type), no_overdraft, now)
    if not await _insert_account(conn, row):
        raise AccountExists(f"an account with code {code!r} exists", field="code")
    return _state(row)


async def get_or_create_account(
    session: AsyncSession,
    code: str,
    unit: str,
    type: AccountType | str,
    no_overdraft: bool = False,
    *,
    now: datetime,
) -> AccountState:
    """The account with this code, created if missing. Safe when several callers create it at once."""
    conn = await session.connection()
    existing = await account_by_code(session, code)
    if existing is None:
        check_account(code, unit)
        row = _account_row(code, unit, AccountType(type), no_overdraft, now)
        if await _insert_account(conn, row):
            return _state(row)
        existing = await account_by_code(session, code)  # a concurrent caller created it
        if existing is None:
            raise Conflict(f"account {code!r} could not be created; try again")
    wanted = (unit, AccountType(type), no_overdraft)
    if (existing.unit, existing.type, existing.no_overdraft) != wanted:
        raise AccountExists(
            f"account {code!r} exists as {existing.type} in {existing.unit} (no_overdraft={existing.no_overdraft})",
            field="code",
        )
    return existing


async def close_account(session: AsyncSession, account_id: UUID, *, now: datetime) -> AccountState:
    """Close an account (and its shards): it takes no new postings. Refused while it has pending amounts."""
    conn = await session.connection()
    rows = await shard_ids(conn, account_id)
    locked = await store.lock_accounts(conn, [account_id, *rows])
    account = locked.get(account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    if any(a.debits_pending or a.credits_pending for a in locked.values()):
        raise HasPendingBalance(f"account {account.code} has pending amounts; post or void its holds first")
    if not account.closed:
        await conn.execute(
            update(accounts)
            .where(or_(accounts.c.id == account_id, accounts.c.shard_of == account_id))
            .values(closed=True, closed_at=aware(now))
        )
        account.closed = True
    return await get_account(session, account_id)


# -- shards of hot accounts -------------------------------------------------------------------------


async def shard_account(session: AsyncSession, account_id: UUID, *, shards: int, now: datetime) -> AccountState:
    """Split a hot account into ``shards`` rows (its own and ``shards - 1`` shard rows), adding the
    missing ones: idempotent, and shards are only ever added. Refused for ``no_overdraft`` accounts,
    for shards and for closed accounts.

    Writers route to the new shards once their process has learnt of them: call ``load_shards``
    after the transaction commits (servers load them at start-up and every minute).
    """
    aware(now)
    conn = await session.connection()
    account = (await store.lock_accounts(conn, [account_id])).get(account_id)  # against a concurrent close
    if account is None:
        raise NotFound(f"account {account_id} does not exist", field="account_id")
    is_shard = (await conn.execute(select(accounts.c.shard_of).where(accounts.c.id == account_id))).scalar()
    existing = 1 + len(await shard_ids(conn, account_id))
    check_shardable(account, is_shard=is_shard is not None, shards=shards, existing=existing)
    for n in range(existing, shards):
        row = _account_row(shard_code(account.code, n), account.unit, account.type, False, now)
        await _insert_account(conn, {**row, "shard_of": account.id})  # a concurrent call may have added it
    return await get_account(session, account_id)


async def load_shards(session: AsyncSession) -> int:
    """Learn the database's sharded accounts, so that this process's writers spread over their shards.
    Returns how many accounts are sharded."""
    return await shards.load(await session.connection())


# -- entries ------------------------------------------------------------------------------------------------


async def post_entry(
    session: AsyncSession, entry: EntrySpec, *, now: datetime, idempotency_key: str | None = None
) -> EntryView:
    """Record an entry: posted, or a hold when ``entry.pending`` (exactly two postings)."""
    draft, print_, stored = _entry_to_write(entry, now, idempotency_key)
    conn = await session.connection()
    return await _write_new(conn, [(None, draft)], stored, idempotency_key, print_, draft.view)


def _entry_to_write(entry: EntrySpec, now: datetime, key: str | None) -> tuple[_Draft, str, dict[str, Any] | None]:
    """A checked entry's draft, the request's fingerprint and the idempotency record to store."""
    aware(now)
    check_entry(entry)
    draft = _draft_new(entry, now, key)
    print_ = fingerprint("entry", entry.canonical()) if key else ""
    return draft, print_, record(key, print_, "entry", draft.view, now)


class Transactions(Protocol):
    """What the writes that are a transaction of their own need of the caller's database
    (``exchange.platform.db.Database`` is one)."""

    @property
    def is_postgres(self) -> bool: ...

    def transaction(self, work: Callable[[AsyncSession], Awaitable[R]]) -> Awaitable[R]: ...

    def driver(self) -> AbstractAsyncContextManager[Any]: ...


async def post_entry_alone(
    db: Transactions, entry: EntrySpec, *, now: datetime, idempotency_key: str | None = None
) -> EntryView:
    """``post_entry`` for an entry that is the whole transaction: the same answers and refusals.

    On PostgreSQL it is one statement in one round trip, outside any transaction (PostgreSQL's own
    for that statement): the accounts are locked in id order, checked, and the entry, its postings,
    the balances and the idempotency record are written, and the locks last only while PostgreSQL
    runs and commits it. When that statement declines — a rule refuses, the key was seen before, or
    the entry is of a shape its checks are stricter about — nothing is written and the entry goes
    the general way (``post_entry`` in a transaction), where ``domain.Book`` decides. The statement's
    checks and the rules agree: tests/integration/test_ledger_properties.py runs both on the same
    random histories.
    """
    if db.is_postgres:
        draft, _, stored = _entry_to_write(entry, now, idempotency_key)
        if await _written_alone(db, [draft], stored):
            return draft.view
    return await db.transaction(lambda s: post_entry(s, entry, now=now, idempotency_key=idempotency_key))


async def _written_alone(db: Transactions, drafts: Sequence[_Draft], stored: dict[str, Any] | None) -> bool:
    """Write new entries in one statement outside any transaction (PostgreSQL); False when the
    statement declined and nothing was written."""
    units = {d.view.id: d.view.unit for d in drafts}
    async with db.driver() as connection:
        outcome = await store.write_new_entries_alone(connection, _writes(None, drafts, stored), units)
    return outcome.claimed


async def transfer(
    session: AsyncSession,
    debit: UUID,
    credit: UUID,
    amount: int,
    *,
    unit: str,
    kind: str,
    now: datetime,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    external_ref: str | None = None,
    idempotency_key: str | None = None,
    pending: bool = False,
    timeout_seconds: int | None = None,
) -> EntryView:
    """``debit → credit``: move ``amount`` by debiting one account and crediting the other."""
    spec = EntrySpec.transfer(
        debit,
        credit,
        amount,
        unit=unit,
        kind=kind,
        description=description,
        metadata=metadata,
        external_ref=external_ref,
        pending=pending,
        timeout_seconds=timeout_seconds,
    )
    return await post_entry(session, spec, now=now, idempotency_key=idempotency_key)


async def hold(
    session: AsyncSession, debit: UUID, credit: UUID, amount: int, *, timeout_seconds: int | None = None, **details: Any
) -> EntryView:
    """Reserve ``amount`` for ``debit → credit`` (a pending entry, counted against ``no_overdraft``
    now), expiring after ``timeout_seconds`` if given. ``details`` as for ``transfer``: ``unit``,
    ``kind``, ``now``, ``description``, ``metadata``, ``external_ref``, ``idempotency_key``."""
    return await transfer(session, debit, credit, amount, pending=True, timeout_seconds=timeout_seconds, **details)


def _failed(exc: DomainError) -> BatchItem:
    return BatchItem(
        status=exc.status,
        problem=ProblemView(
            type=exc.problem_type, title=exc.title, status=exc.status, detail=exc.detail, errors=exc.errors
        ),
    )


async def post_batch(
    session: AsyncSession,
    batch: Sequence[EntrySpec],
    *,
    atomic: bool = True,
    now: datetime,
    idempotency_key: str | None = None,
) -> BatchResult:
    """Up to 1,000 entries at once, in order (later entries may spend what earlier ones brought).

    ``atomic=True``: all are written or none (the first failure raises, naming its index).
    ``atomic=False``: each entry succeeds or fails alone; the result says which.
    """
    items, drafts, print_ = await _batch_to_write(batch, atomic, now, idempotency_key)
    conn = await session.connection()
    if atomic:
        result = BatchResult([BatchItem(status=201, entry=draft.view) for _, draft in drafts])
        stored = record(idempotency_key, print_, "batch", result, now)
        return await _write_new(conn, drafts, stored, idempotency_key, print_, result)
    book = await _book(conn, (p.account_id for _, d in drafts for p in d.view.postings))
    applied: list[_Draft] = []
    for index, draft in drafts:
        try:
            draft.apply(book)
        except DomainError as exc:
            items[index] = _failed(exc)
        else:
            applied.append(draft)
            items[index] = BatchItem(status=201, entry=draft.view)
    result = BatchResult([item for item in items if item is not None])
    stored = record(idempotency_key, print_, "batch", result, now)
    return await _commit(conn, _writes(book, applied, stored), idempotency_key, print_, result)


async def _batch_to_write(
    batch: Sequence[EntrySpec], atomic: bool, now: datetime, key: str | None
) -> tuple[list[BatchItem | None], list[tuple[int | None, _Draft]], str]:
    """A batch's checked drafts (with their indexes), the refusals of a non-atomic batch in their
    places, and the request's fingerprint. An atomic batch with a bad entry raises, naming its index."""
    aware(now)
    if not 1 <= len(batch) <= MAX_BATCH:
        raise InvalidEntry(f"a batch has 1 to {MAX_BATCH} entries", field="entries")
    items: list[BatchItem | None] = [None] * len(batch)
    valid: list[int] = []
    for index, spec in enumerate(batch):
        try:
            check_entry(spec)
        except DomainError as exc:
            if atomic:
                raise at_index(exc, index) from None
            items[index] = _failed(exc)
        else:
            valid.append(index)
    ids = iter(new_ids(sum(1 + len(batch[i].postings) for i in valid)))
    drafts: list[tuple[int | None, _Draft]] = []
    for count, index in enumerate(valid, 1):
        drafts.append((index, _draft_new(batch[index], now, f"{key}#{index}" if key else None, ids)))
        if count % 100 == 0:
            # Let other tasks run: one of them may hold locks and be waiting only to commit.
            await asyncio.sleep(0)
    print_ = fingerprint("batch", {"atomic": atomic, "entries": [e.canonical() for e in batch]}) if key else ""
    return items, drafts, print_


async def post_batch_alone(
    db: Transactions, batch: Sequence[EntrySpec], *, now: datetime, idempotency_key: str | None = None
) -> BatchResult:
    """An atomic ``post_batch`` that is the whole transaction, as ``post_entry_alone`` is for one
    entry: on PostgreSQL one statement locks every account of the batch once, in id order, checks and
    writes it all; when it declines, the batch goes the general way, where the rules decide."""
    if db.is_postgres:
        _, drafts, print_ = await _batch_to_write(batch, True, now, idempotency_key)
        result = BatchResult([BatchItem(status=201, entry=draft.view) for _, draft in drafts])
        stored = record(idempotency_key, print_, "batch", result, now)
        if await _written_alone(db, [d for _, d in drafts], stored):
            return result
    return await db.transaction(lambda s: post_batch(s, batch, atomic=True, now=now, idempotency_key=idempotency_key))


# -- holds ----------------------------------------------------------------------------------------------------

_ALREADY = {Phase.POST_PENDING: AlreadyPosted, Phase.VOID_PENDING: AlreadyVoided, Phase.EXPIRE_PENDING: Expired}
_ALREADY_WORD = {Phase.POST_PENDING: "posted", Phase.VOID_PENDING: "voided", Phase.EXPIRE_PENDING: "expired"}


def _legs(entry: EntryView) -> list[Leg]:
    return [Leg(p.account_id, p.side, p.amount, p.posted_delta, p.pending_delta) for p in entry.postings]


async def post_hold(
    session: AsyncSession,
    hold_id: UUID,
    *,
    now: datetime,
    amount: int | None = None,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> EntryView:
    """Post a hold: ``amount`` (default: all of it, never more) is posted, the rest is released."""
    if amount is not None:
        check_amount(amount)
    return await _resolve(session, hold_id, Phase.POST_PENDING, now, amount, description, idempotency_key)


async def void_hold(
    session: AsyncSession,
    hold_id: UUID,
    *,
    now: datetime,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> EntryView:
    """Void a hold: its whole amount is released."""
    return await _resolve(session, hold_id, Phase.VOID_PENDING, now, None, description, idempotency_key)


async def _resolve(
    session: AsyncSession,
    hold_id: UUID,
    phase: Phase,
    now: datetime,
    amount: int | None,
    description: str | None,
    key: str | None,
) -> EntryView:
    aware(now)
    conn = await session.connection()
    held_entry = (await fetch_entries(conn, [hold_id], links=False, as_stored=True)).get(hold_id)
    if held_entry is None:
        raise NotFound(f"entry {hold_id} does not exist")
    if held_entry.phase is not Phase.PENDING:
        raise NotPending(f"entry {hold_id} is a {held_entry.phase} entry, not a pending one")
    print_ = fingerprint(phase.value, {"hold": str(hold_id), "amount": amount, "description": description})
    held = _legs(held_entry)
    pending_amount = held[0].amount
    if phase is Phase.POST_PENDING:
        legs = post_legs(held, pending_amount if amount is None else min(amount, pending_amount))
    else:
        legs = release_legs(held)
    word = "post" if phase is Phase.POST_PENDING else "void"
    draft = _draft(
        unit=held_entry.unit,
        kind=held_entry.kind,
        phase=phase,
        legs=legs,
        now=now,
        description=description if description is not None else f"{word} of {hold_id}",
        metadata=held_entry.metadata,
        external_ref=held_entry.external_ref,
        key=key,
        resolves_id=hold_id,
    )
    book = await _book(conn, (p.account_id for p in held_entry.postings))
    try:
        # Checked with the accounts locked: whoever resolved the hold meanwhile has committed.
        done = (await conn.execute(select(entries.c.phase).where(entries.c.resolves_id == hold_id))).scalar()
        if done is not None:
            resolution = Phase(done)
            raise _ALREADY[resolution](f"entry {hold_id} has already been {_ALREADY_WORD[resolution]}")
        if is_expired(held_entry.expires_at, now):
            raise Expired(f"entry {hold_id} expired at {timestamp(held_entry.expires_at)}")
        if amount is not None and amount > pending_amount:
            raise ExceedsPendingAmount(
                f"{amount} is more than the {pending_amount} pending on entry {hold_id}", field="amount"
            )
        draft.apply(book, allow_closed=phase is not Phase.POST_PENDING)
    except DomainError as refused:
        return await replay_instead(conn, key, print_, EntryView, refused)
    stored = record(key, print_, phase.value, draft.view, now)
    return await _commit(conn, _writes(book, [draft], stored, holds_closed=[hold_id]), key, print_, draft.view)


async def expire_due_holds(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Expire holds whose timeout has come (``expires_at <= now``; never earlier). Returns how many."""
    aware(now)
    conn = await session.connection()
    due = (
        (
            await conn.execute(
                select(open_holds.c.entry_id)
                .where(open_holds.c.expires_at <= now)
                .order_by(open_holds.c.expires_at, open_holds.c.entry_id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    if not due:
        return 0
    holds = await fetch_entries(conn, due, links=False, as_stored=True)
    book = await _book(conn, (p.account_id for h in holds.values() for p in h.postings))
    # Locked now: holds posted or voided by others while we waited are no longer open.
    still_open = set(
        (await conn.execute(select(open_holds.c.entry_id).where(open_holds.c.entry_id.in_(due)))).scalars()
    )
    drafts = [
        _draft(
            unit=holds[hold_id].unit,
            kind=holds[hold_id].kind,
            phase=Phase.EXPIRE_PENDING,
            legs=release_legs(_legs(holds[hold_id])),
            now=now,
            description=f"expired at {timestamp(holds[hold_id].expires_at)}",
            metadata=holds[hold_id].metadata,
            external_ref=holds[hold_id].external_ref,
            resolves_id=hold_id,
        ).apply(book, allow_closed=True)
        for hold_id in due
        if hold_id in still_open
    ]
    if drafts:
        await store.write(conn, _writes(book, drafts, holds_closed=[d.row["resolves_id"] for d in drafts]))
    return len(drafts)


# -- reversals ----------------------------------------------------------------------------------------------------


async def reverse(
    session: AsyncSession,
    entry_id: UUID,
    *,
    now: datetime,
    description: str = "",
    kind: str = "reversal",
    idempotency_key: str | None = None,
) -> EntryView:
    """Undo what a posted entry posted with a new entry on the opposite sides (at most once per entry)."""
    aware(now)
    conn = await session.connection()
    original = (await fetch_entries(conn, [entry_id], links=False, as_stored=True)).get(entry_id)
    if original is None:
        raise NotFound(f"entry {entry_id} does not exist")
    if not original.phase.reversible or original.reverses_id is not None:
        what = "a reversal" if original.reverses_id else f"a {original.phase} entry"
        raise NotReversible(f"entry {entry_id} is {what}; only posted entries can be reversed")
    print_ = fingerprint("reverse", {"entry": str(entry_id), "description": description, "kind": kind})
    draft = _draft(
        unit=original.unit,
        kind=kind,
        phase=Phase.POSTED,
        legs=reversal_legs(_legs(original)),
        now=now,
        description=description or f"reversal of {entry_id}",
        metadata={"reverses": str(entry_id)},
        external_ref=original.external_ref,
        key=idempotency_key,
        reverses_id=entry_id,
    )
    book = await _book(conn, (p.account_id for p in original.postings))
    try:
        if (await conn.execute(select(entries.c.id).where(entries.c.reverses_id == entry_id))).first():
            raise AlreadyReversed(f"entry {entry_id} has already been reversed")
        draft.apply(book)
    except DomainError as refused:
        return await replay_instead(conn, idempotency_key, print_, EntryView, refused)
    stored = record(idempotency_key, print_, "reverse", draft.view, now)
    return await _commit(conn, _writes(book, [draft], stored), idempotency_key, print_, draft.view)
