"""The ledger's use cases. Each takes the caller's ``AsyncSession`` and joins its transaction.

Nothing here commits, so a caller can change its own rows and move money in one transaction
(``await db.transaction(lambda s: ...)``). Every write follows the same order: lock the accounts
(sorted by id), replay the idempotency key if it was seen, check every rule in memory, then write
everything at once. A rule that fails raises a ``LedgerError`` before anything is written; if any
ledger call raises, roll the transaction back.

Idempotency: pass ``idempotency_key=`` to any write. The same key with the same request returns the
original result with ``replayed=True``; the same key with a different request raises
``IdempotencyKeyReused``. Keys share one namespace; prefix them with your module
(``"deal:<id>:pay"``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger import store
from ledger.domain import (
    MAX_BATCH,
    AccountState,
    AccountType,
    Book,
    EntrySpec,
    Leg,
    Phase,
    Side,
    canonical_json,
    check_account,
    check_amount,
    check_entry,
    check_text,
    entry_legs,
    entry_status,
    expiry,
    is_expired,
    normal_balance,
    post_legs,
    release_legs,
    reversal_legs,
    timestamp,
)
from ledger.errors import (
    AccountExists,
    AlreadyDecided,
    AlreadyPosted,
    AlreadyReversed,
    AlreadyVoided,
    Conflict,
    ExceedsPendingAmount,
    Expired,
    HasPendingBalance,
    IdempotencyKeyReused,
    InvalidAsOf,
    InvalidCursor,
    InvalidEntry,
    LedgerError,
    MakerCannotApprove,
    NotFound,
    NotPending,
    NotReversible,
)
from ledger.ids import new_id, new_ids
from ledger.models import accounts, adjustments, entries, open_holds, postings
from ledger.views import (
    AdjustmentView,
    BatchItem,
    BatchResult,
    EntryView,
    Page,
    PostingView,
    ProblemView,
    StatementLine,
    TrialBalance,
    TypeTotals,
    UnitTotals,
)

R = TypeVar("R", EntryView, BatchResult, AdjustmentView)
AsOf = datetime | UUID

_encoder = msgspec.json.Encoder()


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("the ledger needs an aware datetime for 'now'")
    return now


def fingerprint(operation: str, request: Any) -> str:
    return hashlib.sha256(canonical_json([operation, request])).hexdigest()


# -- idempotency -------------------------------------------------------------------------------------


async def _replay(conn: AsyncConnection, key: str | None, print_: str, result_type: type[R]) -> R | None:
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


def _record(key: str | None, print_: str, operation: str, result: Any, now: datetime) -> dict[str, Any] | None:
    if key is None:
        return None
    return {
        "key": key,
        "fingerprint": print_,
        "operation": operation,
        "result": _encoder.encode(result).decode(),
        "created_at": now,
    }


async def _commit(conn: AsyncConnection, writes: store.Writes, key: str | None, print_: str, result: R) -> R:
    if await store.write(conn, writes):
        return result
    # The key was taken (by an earlier or a concurrent request): answer as its replay, or refuse.
    replay = await _replay(conn, key, print_, type(result))
    if replay is None:
        raise Conflict("a concurrent request with the same idempotency key did not complete; try again")
    return replay


async def _replay_instead(
    conn: AsyncConnection, key: str | None, print_: str, result_type: type[R], refused: LedgerError
) -> R:
    """A refused request may repeat one that succeeded before (its hold since posted, its money since
    spent): then the answer is the original result. Keys are looked up only here and when the write
    finds its key taken, so a fresh request pays no extra round trip."""
    replay = await _replay(conn, key, print_, result_type)
    if replay is None:
        raise refused
    return replay


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
) -> _Draft:
    check_text(description, "description", 500)
    ids = ids or iter(new_ids(1 + len(legs)))
    entry_id = next(ids)
    meta = dict(metadata) if metadata else {}
    expires_at = expiry(now, timeout_seconds) if phase is Phase.PENDING else None
    timeout = timeout_seconds if phase is Phase.PENDING else None
    rows: list[dict[str, Any]] = []
    views: list[PostingView] = []
    for leg in legs:
        posting_id = next(ids)
        rows.append(
            {
                "id": posting_id,
                "entry_id": entry_id,
                "account_id": leg.account_id,
                "side": leg.side.value,
                "amount": leg.amount,
                "posted_delta": leg.posted_delta,
                "pending_delta": leg.pending_delta,
                "account_seq": 0,
            }
        )
        views.append(PostingView(posting_id, leg.account_id, leg.side, leg.amount, leg.posted_delta, leg.pending_delta))
    row = {
        "id": entry_id,
        "unit": unit,
        "kind": kind,
        "phase": phase.value,
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
    )


def _writes(
    book: Book | None,
    drafts: Sequence[_Draft],
    record: dict[str, Any] | None = None,
    holds_closed: Sequence[UUID] = (),
) -> store.Writes:
    return store.Writes(
        record=record,
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
        except LedgerError as exc:
            raise exc if index is None else exc.at_index(index) from None


async def _write_new(
    conn: AsyncConnection,
    drafts: Sequence[tuple[int | None, _Draft]],
    record: dict[str, Any] | None,
    key: str | None,
    print_: str,
    result: R,
) -> R:
    """Lock the accounts of new entries, check the rules, write — or refuse, or replay."""
    entries_ = [d for _, d in drafts]
    if not store.is_postgres(conn):
        book = await _book(conn, (p.account_id for d in entries_ for p in d.view.postings))
        try:
            _apply_all(book, drafts)
        except LedgerError as refused:
            return await _replay_instead(conn, key, print_, type(result), refused)
        return await _commit(conn, _writes(book, entries_, record), key, print_, result)

    outcome = await store.write_new_entries(
        conn, _writes(None, entries_, record), {d.view.id: d.view.unit for d in entries_}
    )
    if outcome.checked and not outcome.claimed:  # the key was taken: nothing written
        replay = await _replay(conn, key, print_, type(result))
        if replay is None:
            raise Conflict("a concurrent request with the same idempotency key did not complete; try again")
        return replay
    book = Book(outcome.locked.values())  # as locked, before this write
    try:
        _apply_all(book, drafts)
    except LedgerError as refused:
        if outcome.checked:  # written, yet the rules refuse it: never keep that
            raise Conflict(f"the ledger's checks disagree ({refused.detail}); nothing was recorded") from refused
        return await _replay_instead(conn, key, print_, type(result), refused)
    if not outcome.checked:
        # The statement's checks are stricter than the rules (no_overdraft after each posting, not
        # each entry); the rules accept it, the accounts are locked: write it the general way.
        return await _commit(conn, _writes(book, entries_, record), key, print_, result)
    for account, _ in book.changed():
        written = outcome.after.get(account.id)
        if written != (*account.balances(), account.version):
            raise Conflict(f"the ledger's checks disagree on account {account.code}; nothing was recorded")
    return result


async def _book(conn: AsyncConnection, account_ids: Any) -> Book:
    return Book((await store.lock_accounts(conn, account_ids)).values())


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
        "created_at": _aware(now),
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


async def account_by_code(session: AsyncSession, code: str) -> AccountState | None:
    conn = await session.connection()
    row = (await conn.execute(select(*store.ACCOUNT_COLUMNS).where(accounts.c.code == code))).first()
    return store.account_from_row(row) if row else None


async def get_account(session: AsyncSession, account_id: UUID, *, as_of: AsOf | None = None) -> AccountState:
    """The account now, or as it stood after ``as_of`` (an entry id or a time)."""
    conn = await session.connection()
    row = (await conn.execute(select(*store.ACCOUNT_COLUMNS).where(accounts.c.id == account_id))).first()
    if row is None:
        raise NotFound(f"account {account_id} does not exist")
    account = store.account_from_row(row)
    if as_of is None:
        return account
    seq = await _cutoff(conn, account.id, as_of)
    (
        account.debits_posted,
        account.credits_posted,
        account.debits_pending,
        account.credits_pending,
    ) = await _sums(conn, account.id, seq)
    account.version = seq
    return account


async def close_account(session: AsyncSession, account_id: UUID, *, now: datetime) -> AccountState:
    """Close an account: it takes no new postings. Refused while it has pending amounts."""
    conn = await session.connection()
    locked = await store.lock_accounts(conn, [account_id])
    account = locked.get(account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    if account.debits_pending or account.credits_pending:
        raise HasPendingBalance(f"account {account.code} has pending amounts; post or void its holds first")
    if not account.closed:
        await conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(closed=True, closed_at=_aware(now))
        )
        account.closed = True
    return account


async def list_accounts(
    session: AsyncSession,
    *,
    limit: int = 20,
    cursor: str | None = None,
    unit: str | None = None,
    code_prefix: str | None = None,
) -> Page:
    """Accounts in code order."""
    conn = await session.connection()
    query = select(*store.ACCOUNT_COLUMNS).order_by(accounts.c.code).limit(limit + 1)
    if cursor is not None:
        query = query.where(accounts.c.code > decode_cursor(cursor, str))
    if unit is not None:
        query = query.where(accounts.c.unit == unit)
    if code_prefix:
        query = query.where(accounts.c.code.startswith(code_prefix, autoescape=True))
    rows = (await conn.execute(query)).all()
    items = [store.account_from_row(r) for r in rows[:limit]]
    return Page(items, encode_cursor(items[-1].code) if len(rows) > limit else None)


# -- cursors ----------------------------------------------------------------------------------------------


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: type) -> Any:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one this list returned", field="cursor") from exc
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidCursor("the cursor is not one this list returned", field="cursor")
    return value


def parse_as_of(text: str) -> AsOf:
    """``as_of`` as an entry id or an RFC 3339 time (naive times are refused)."""
    try:
        return UUID(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidAsOf(f"{text!r} is neither an entry id nor an RFC 3339 time", field="as_of") from exc
    if moment.tzinfo is None:
        raise InvalidAsOf("as_of needs a time zone, e.g. 2026-03-02T09:00:00+08:00", field="as_of")
    return moment


# -- entries ------------------------------------------------------------------------------------------------


async def post_entry(
    session: AsyncSession, entry: EntrySpec, *, now: datetime, idempotency_key: str | None = None
) -> EntryView:
    """Record an entry: posted, or a hold when ``entry.pending`` (exactly two postings)."""
    _aware(now)
    check_entry(entry)
    draft = _draft_new(entry, now, idempotency_key)
    conn = await session.connection()
    print_ = fingerprint("entry", entry.canonical()) if idempotency_key else ""
    record = _record(idempotency_key, print_, "entry", draft.view, now)
    return await _write_new(conn, [(None, draft)], record, idempotency_key, print_, draft.view)


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
    )
    return await post_entry(session, spec, now=now, idempotency_key=idempotency_key)


async def hold(
    session: AsyncSession,
    debit: UUID,
    credit: UUID,
    amount: int,
    *,
    unit: str,
    kind: str,
    now: datetime,
    timeout_seconds: int | None = None,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    external_ref: str | None = None,
    idempotency_key: str | None = None,
) -> EntryView:
    """Reserve ``amount`` for ``debit → credit`` (a pending entry); it counts against ``no_overdraft`` now."""
    spec = EntrySpec.transfer(
        debit,
        credit,
        amount,
        unit=unit,
        kind=kind,
        description=description,
        metadata=metadata,
        external_ref=external_ref,
        pending=True,
        timeout_seconds=timeout_seconds,
    )
    return await post_entry(session, spec, now=now, idempotency_key=idempotency_key)


def _failed(exc: LedgerError) -> BatchItem:
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
    _aware(now)
    if not 1 <= len(batch) <= MAX_BATCH:
        raise InvalidEntry(f"a batch has 1 to {MAX_BATCH} entries", field="entries")
    items: list[BatchItem | None] = [None] * len(batch)
    valid: list[int] = []
    for index, spec in enumerate(batch):
        try:
            check_entry(spec)
        except LedgerError as exc:
            if atomic:
                raise exc.at_index(index) from None
            items[index] = _failed(exc)
        else:
            valid.append(index)
    ids = iter(new_ids(sum(1 + len(batch[i].postings) for i in valid)))
    drafts = [
        (index, _draft_new(batch[index], now, f"{idempotency_key}#{index}" if idempotency_key else None, ids))
        for index in valid
    ]
    conn = await session.connection()
    print_ = ""
    if idempotency_key:
        print_ = fingerprint("batch", {"atomic": atomic, "entries": [e.canonical() for e in batch]})
    if atomic:
        result = BatchResult([BatchItem(status=201, entry=draft.view) for _, draft in drafts])
        record = _record(idempotency_key, print_, "batch", result, now)
        return await _write_new(conn, drafts, record, idempotency_key, print_, result)
    book = await _book(conn, (p.account_id for i in valid for p in batch[i].postings))
    applied: list[_Draft] = []
    for index, draft in drafts:
        try:
            draft.apply(book)
        except LedgerError as exc:
            items[index] = _failed(exc)
        else:
            applied.append(draft)
            items[index] = BatchItem(status=201, entry=draft.view)
    result = BatchResult([item for item in items if item is not None])
    record = _record(idempotency_key, print_, "batch", result, now)
    return await _commit(conn, _writes(book, applied, record), idempotency_key, print_, result)


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
    _aware(now)
    conn = await session.connection()
    held_entry = (await _fetch(conn, [hold_id], links=False)).get(hold_id)
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
    except LedgerError as refused:
        return await _replay_instead(conn, key, print_, EntryView, refused)
    record = _record(key, print_, phase.value, draft.view, now)
    return await _commit(conn, _writes(book, [draft], record, holds_closed=[hold_id]), key, print_, draft.view)


async def expire_due_holds(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Expire holds whose timeout has come (``expires_at <= now``; never earlier). Returns how many."""
    _aware(now)
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
    holds = await _fetch(conn, due, links=False)
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
    _aware(now)
    conn = await session.connection()
    original = (await _fetch(conn, [entry_id], links=False)).get(entry_id)
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
    except LedgerError as refused:
        return await _replay_instead(conn, idempotency_key, print_, EntryView, refused)
    record = _record(idempotency_key, print_, "reverse", draft.view, now)
    return await _commit(conn, _writes(book, [draft], record), idempotency_key, print_, draft.view)


# -- reading entries ------------------------------------------------------------------------------------------


def _entry_view(row: Any, posting_rows: Sequence[Any]) -> EntryView:
    return EntryView(
        id=row.id,
        unit=row.unit,
        kind=row.kind,
        phase=Phase(row.phase),
        status=entry_status(Phase(row.phase)),
        description=row.description,
        metadata=json.loads(row.metadata_json),
        external_ref=row.external_ref,
        created_at=row.created_at,
        expires_at=row.expires_at,
        timeout_seconds=row.timeout_seconds,
        pending_id=row.resolves_id,
        reverses_id=row.reverses_id,
        postings=[
            PostingView(p.id, p.account_id, Side(p.side), p.amount, p.posted_delta, p.pending_delta)
            for p in posting_rows
        ],
    )


async def _fetch(conn: AsyncConnection, ids: Sequence[UUID], *, links: bool = True) -> dict[UUID, EntryView]:
    """Entries with their postings (in id order) and, with ``links``, their current status."""
    if not ids:
        return {}
    rows = (await conn.execute(select(entries).where(entries.c.id.in_(ids)))).all()
    posting_rows = (
        await conn.execute(select(postings).where(postings.c.entry_id.in_(ids)).order_by(postings.c.id))
    ).all()
    by_entry: dict[UUID, list[Any]] = {}
    for p in posting_rows:
        by_entry.setdefault(p.entry_id, []).append(p)
    views = {row.id: _entry_view(row, by_entry.get(row.id, [])) for row in rows}
    if links and views:
        linked = (
            await conn.execute(
                select(entries.c.id, entries.c.phase, entries.c.resolves_id, entries.c.reverses_id).where(
                    or_(entries.c.resolves_id.in_(ids), entries.c.reverses_id.in_(ids))
                )
            )
        ).all()
        for link in linked:
            if link.resolves_id in views:
                view = views[link.resolves_id]
                view.resolved_by = link.id
                view.status = entry_status(view.phase, resolution=Phase(link.phase))
            if link.reverses_id in views:
                view = views[link.reverses_id]
                view.reversed_by = link.id
                view.status = entry_status(view.phase, reversed_=True)
    return views


async def get_entry(session: AsyncSession, entry_id: UUID) -> EntryView:
    conn = await session.connection()
    view = (await _fetch(conn, [entry_id])).get(entry_id)
    if view is None:
        raise NotFound(f"entry {entry_id} does not exist")
    return view


# -- history --------------------------------------------------------------------------------------------------


async def _cutoff(conn: AsyncConnection, account_id: UUID, as_of: AsOf) -> int:
    """The account's version (posting sequence) right after ``as_of``."""
    if isinstance(as_of, UUID):
        if (await conn.execute(select(entries.c.id).where(entries.c.id == as_of))).first() is None:
            raise InvalidAsOf(f"as_of names entry {as_of}, which does not exist", field="as_of")
        own = select(func.max(postings.c.account_seq)).where(
            postings.c.account_id == account_id, postings.c.entry_id == as_of
        )
        earlier = select(func.max(postings.c.account_seq)).where(
            postings.c.account_id == account_id, postings.c.entry_id < as_of
        )
        seq = (await conn.execute(select(func.coalesce(own.scalar_subquery(), earlier.scalar_subquery(), 0)))).scalar()
    else:
        seq = (
            await conn.execute(
                select(func.coalesce(func.max(postings.c.account_seq), 0))
                .select_from(postings.join(entries, entries.c.id == postings.c.entry_id))
                .where(postings.c.account_id == account_id, entries.c.created_at <= _aware(as_of))
            )
        ).scalar()
    return int(seq or 0)


async def _sums(conn: AsyncConnection, account_id: UUID, max_seq: int) -> tuple[int, int, int, int]:
    """debits_posted, credits_posted, debits_pending, credits_pending over postings up to ``max_seq``."""
    rows = (
        await conn.execute(
            select(postings.c.side, func.sum(postings.c.posted_delta), func.sum(postings.c.pending_delta))
            .where(postings.c.account_id == account_id, postings.c.account_seq <= max_seq)
            .group_by(postings.c.side)
        )
    ).all()
    totals = {side: (int(posted or 0), int(pending or 0)) for side, posted, pending in rows}
    dp, dq = totals.get("debit", (0, 0))
    cp, cq = totals.get("credit", (0, 0))
    return dp, cp, dq, cq


async def statement(
    session: AsyncSession,
    account_id: UUID,
    *,
    limit: int = 20,
    cursor: str | None = None,
    as_of: AsOf | None = None,
) -> Page:
    """The account's postings, newest first, each with the balance it left behind."""
    account = await get_account(session, account_id)
    conn = await session.connection()
    top = account.version if as_of is None else await _cutoff(conn, account_id, as_of)
    if cursor is not None:
        top = min(top, decode_cursor(cursor, int) - 1)
    rows = (
        await conn.execute(
            select(
                postings.c.id,
                postings.c.entry_id,
                postings.c.side,
                postings.c.amount,
                postings.c.posted_delta,
                postings.c.pending_delta,
                postings.c.account_seq,
                entries.c.kind,
                entries.c.phase,
                entries.c.description,
                entries.c.external_ref,
                entries.c.created_at,
            )
            .select_from(postings.join(entries, entries.c.id == postings.c.entry_id))
            .where(postings.c.account_id == account_id, postings.c.account_seq <= top)
            .order_by(postings.c.account_seq.desc())
            .limit(limit + 1)
        )
    ).all()
    page = rows[:limit]
    lines: list[StatementLine] = []
    if page:
        balances = list(await _sums(conn, account_id, page[0].account_seq))
        for row in page:
            dp, cp, dq, cq = balances
            balance = normal_balance(account.type, dp, cp)
            outflow = dq if account.type.normal_side is Side.CREDIT else cq
            lines.append(
                StatementLine(
                    entry_id=row.entry_id,
                    posting_id=row.id,
                    seq=row.account_seq,
                    kind=row.kind,
                    phase=Phase(row.phase),
                    description=row.description,
                    external_ref=row.external_ref,
                    side=Side(row.side),
                    amount=row.amount,
                    posted_delta=row.posted_delta,
                    pending_delta=row.pending_delta,
                    balance=balance,
                    available=balance - outflow,
                    created_at=row.created_at,
                )
            )
            offset = 0 if row.side == "debit" else 1
            balances[offset] -= row.posted_delta
            balances[offset + 2] -= row.pending_delta
    next_cursor = encode_cursor(page[-1].account_seq) if len(rows) > limit else None
    return Page(lines, next_cursor)


async def trial_balance(session: AsyncSession) -> TrialBalance:
    """Per unit: total debits and credits over all accounts (equal in a sound ledger), and per type."""
    conn = await session.connection()
    rows = (
        await conn.execute(
            select(
                accounts.c.unit,
                accounts.c.type,
                func.count(),
                func.sum(accounts.c.debits_posted),
                func.sum(accounts.c.credits_posted),
                func.sum(accounts.c.debits_pending),
                func.sum(accounts.c.credits_pending),
            )
            .group_by(accounts.c.unit, accounts.c.type)
            .order_by(accounts.c.unit, accounts.c.type)
        )
    ).all()
    units: dict[str, UnitTotals] = {}
    for unit, type_, count, dp, cp, dq, cq in rows:
        dp, cp, dq, cq = int(dp or 0), int(cp or 0), int(dq or 0), int(cq or 0)
        totals = units.setdefault(unit, UnitTotals(unit, 0, 0, 0, 0, True))
        totals.debits_posted += dp
        totals.credits_posted += cp
        totals.debits_pending += dq
        totals.credits_pending += cq
        account_type = AccountType(type_)
        totals.types.append(TypeTotals(account_type, int(count), dp, cp, normal_balance(account_type, dp, cp)))
    for totals in units.values():
        totals.balanced = (
            totals.debits_posted == totals.credits_posted and totals.debits_pending == totals.credits_pending
        )
    return TrialBalance(list(units.values()), all(u.balanced for u in units.values()))


# -- adjustments (maker–checker) -------------------------------------------------------------------------------


def _adjustment_view(row: Any) -> AdjustmentView:
    return AdjustmentView(
        id=row.id,
        status=row.status,
        reason=row.reason,
        entry=json.loads(row.entry_json),
        maker_id=row.maker_id,
        checker_id=row.checker_id,
        entry_id=row.entry_id,
        created_at=row.created_at,
        approved_at=row.approved_at,
    )


async def propose_adjustment(
    session: AsyncSession,
    entry: EntrySpec,
    *,
    reason: str,
    maker_id: UUID,
    now: datetime,
    idempotency_key: str | None = None,
) -> AdjustmentView:
    """A manual entry, checked now and posted only when a second operator approves it."""
    _aware(now)
    check_entry(entry)
    check_text(reason, "reason", 2000)
    if entry.pending:
        raise InvalidEntry("an adjustment is a posted entry, not a hold", field="pending")
    conn = await session.connection()
    print_ = fingerprint("adjustment", {"entry": entry.canonical(), "reason": reason, "maker": str(maker_id)})
    if replay := await _replay(conn, idempotency_key, print_, AdjustmentView):
        return replay
    accounts_now = await store.lock_accounts(conn, (p.account_id for p in entry.postings))
    Book(accounts_now.values()).apply(entry.unit, entry_legs(entry))  # the rules hold today
    view = AdjustmentView(
        id=new_id(),
        status="proposed",
        reason=reason,
        entry=entry.canonical(),
        maker_id=maker_id,
        checker_id=None,
        entry_id=None,
        created_at=now,
        approved_at=None,
    )
    record = _record(idempotency_key, print_, "adjustment", view, now)
    if record is not None and not await store.remember(conn, record):
        return await _replay_or_conflict(conn, idempotency_key, print_)
    await conn.execute(
        adjustments.insert().values(
            id=view.id,
            status=view.status,
            reason=reason,
            entry_json=canonical_json(view.entry).decode(),
            maker_id=maker_id,
            created_at=now,
        )
    )
    return view


async def _replay_or_conflict(conn: AsyncConnection, key: str | None, print_: str) -> AdjustmentView:
    replay = await _replay(conn, key, print_, AdjustmentView)
    if replay is None:
        raise Conflict("a concurrent request with the same idempotency key did not complete; try again")
    return replay


async def approve_adjustment(
    session: AsyncSession,
    adjustment_id: UUID,
    *,
    checker_id: UUID,
    now: datetime,
    idempotency_key: str | None = None,
) -> AdjustmentView:
    """The second operator's approval posts the adjustment. The maker cannot approve their own."""
    _aware(now)
    conn = await session.connection()
    row = (await conn.execute(select(adjustments).where(adjustments.c.id == adjustment_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"adjustment {adjustment_id} does not exist")
    print_ = fingerprint("approve", {"adjustment": str(adjustment_id), "checker": str(checker_id)})
    if replay := await _replay(conn, idempotency_key, print_, AdjustmentView):
        return replay
    if row.status != "proposed":
        raise AlreadyDecided(f"adjustment {adjustment_id} was approved at {timestamp(row.approved_at)}")
    if row.maker_id == checker_id:
        raise MakerCannotApprove("the operator who proposed an adjustment cannot approve it")
    spec = EntrySpec.from_canonical(json.loads(row.entry_json))
    metadata = {**spec.metadata, "adjustment_id": str(adjustment_id), "reason": row.reason}
    entry = await post_entry(
        session,
        EntrySpec(
            unit=spec.unit,
            kind=spec.kind,
            postings=spec.postings,
            description=spec.description,
            metadata=metadata,
            external_ref=spec.external_ref,
        ),
        now=now,
    )
    changed = await conn.execute(
        update(adjustments)
        .where(and_(adjustments.c.id == adjustment_id, adjustments.c.status == "proposed"))
        .values(status="approved", checker_id=checker_id, entry_id=entry.id, approved_at=now)
    )
    if changed.rowcount != 1:
        raise Conflict(f"adjustment {adjustment_id} changed while it was being approved; try again")
    view = _adjustment_view(row)
    view.status, view.checker_id, view.entry_id, view.approved_at = "approved", checker_id, entry.id, now
    record = _record(idempotency_key, print_, "approve", view, now)
    if record is not None and not await store.remember(conn, record):
        raise IdempotencyKeyReused("the idempotency key was used for a different request", field="Idempotency-Key")
    return view


async def get_adjustment(session: AsyncSession, adjustment_id: UUID) -> AdjustmentView:
    conn = await session.connection()
    row = (await conn.execute(select(adjustments).where(adjustments.c.id == adjustment_id))).first()
    if row is None:
        raise NotFound(f"adjustment {adjustment_id} does not exist")
    return _adjustment_view(row)
