"""Reading the ledger: accounts now or as they stood, entries and their status, statements, an
account's movements for reconciliation, trial balance.

A sharded (hot) account is read as one: its balances are the sums of its rows, its statement and
movements merge theirs, and entries name it rather than the shard a posting moved (``ledger.shards``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import BigInteger, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kernel.db import among
from kernel.pagination import cursor_int, cursor_str, cursor_uuid, decode_cursor, keyset_page
from kernel.shapes import shaped
from ledger import store
from ledger.domain import AccountState, AccountType, Phase, Side, aware, entry_status, normal_balance
from ledger.errors import InvalidAsOf, NotFound
from ledger.models import accounts, entries, postings
from ledger.views import (
    EntryView,
    Page,
    StatementLine,
    TrialBalance,
    TypeTotals,
    UnitTotals,
)

AsOf = datetime | UUID

# -- a logical account: its own row plus its shards ---------------------------------------------------

_BALANCES = ("debits_posted", "credits_posted", "debits_pending", "credits_pending", "version")
_shard_totals = (
    select(
        accounts.c.shard_of,
        *(cast(func.sum(accounts.c[name]), BigInteger).label(name) for name in _BALANCES),
    )
    .where(accounts.c.shard_of.is_not(None))
    .group_by(accounts.c.shard_of)
    .subquery("shard_totals")
)
# ``store.ACCOUNT_COLUMNS`` with each balance (and the version: postings applied) summed over the shards.
_FOLDED = select(
    *(
        (column + func.coalesce(_shard_totals.c[column.name], 0)).label(column.name)
        if column.name in _BALANCES
        else column
        for column in store.ACCOUNT_COLUMNS
    )
).select_from(accounts.outerjoin(_shard_totals, _shard_totals.c.shard_of == accounts.c.id))


def _rows_of(account_id: UUID) -> Any:
    """The ids of an account's rows: its own and its shards'."""
    return select(accounts.c.id).where(or_(accounts.c.id == account_id, accounts.c.shard_of == account_id))


async def shard_ids(conn: AsyncConnection, account_id: UUID) -> list[UUID]:
    """The ids of an account's shards (none unless it is sharded), in no particular order."""
    return list((await conn.execute(select(accounts.c.id).where(accounts.c.shard_of == account_id))).scalars())


async def account_by_code(session: AsyncSession, code: str) -> AccountState | None:
    conn = await session.connection()
    row = (await conn.execute(_FOLDED.where(accounts.c.code == code))).first()
    return store.account_from_row(row) if row else None


async def account_codes(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, str]:
    """The code of each existing account among ``ids`` (unknown ids are left out)."""
    if not ids:
        return {}
    conn = await session.connection()
    rows = await conn.execute(select(accounts.c.id, accounts.c.code).where(among(accounts.c.id, list(ids), conn)))
    return {row.id: row.code for row in rows}


async def get_account(session: AsyncSession, account_id: UUID, *, as_of: AsOf | None = None) -> AccountState:
    """The account now, or as it stood after ``as_of`` (an entry id or a time)."""
    conn = await session.connection()
    row = (await conn.execute(_FOLDED.where(accounts.c.id == account_id))).first()
    if row is None:
        raise NotFound(f"account {account_id} does not exist")
    account = store.account_from_row(row)
    if as_of is None:
        return account
    totals = [0, 0, 0, 0]
    account.version = 0
    for row_id in [account.id, *await shard_ids(conn, account.id)]:  # each row by its own postings' order
        seq = await cutoff(conn, row_id, as_of)
        totals = [t + s for t, s in zip(totals, await sums(conn, row_id, seq), strict=True)]
        account.version += seq
    account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending = totals
    return account


async def list_accounts(
    session: AsyncSession,
    *,
    limit: int = 20,
    cursor: str | None = None,
    unit: str | None = None,
    code_prefix: str | None = None,
) -> Page:
    """Accounts in code order (a sharded account once, its shards summed into it)."""
    conn = await session.connection()
    query = _FOLDED.where(accounts.c.shard_of.is_(None)).order_by(accounts.c.code).limit(limit + 1)
    if (position := decode_cursor(cursor, "code")) is not None:
        query = query.where(accounts.c.code > cursor_str(position, "code"))
    if unit is not None:
        query = query.where(accounts.c.unit == unit)
    if code_prefix:
        query = query.where(accounts.c.code.startswith(code_prefix, autoescape=True))
    rows, next_cursor = keyset_page((await conn.execute(query)).all(), limit, lambda row: {"code": row.code})
    return Page([store.account_from_row(r) for r in rows], next_cursor)


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


def entry_view(row: Any, posting_rows: Sequence[Any]) -> EntryView:
    return shaped(
        EntryView,
        row,
        status=entry_status(Phase(row.phase)),
        metadata=json.loads(row.metadata_json),
        pending_id=row.resolves_id,
        postings=list(posting_rows),
    )


async def fetch_entries(
    conn: AsyncConnection, ids: Sequence[UUID], *, links: bool = True, as_stored: bool = False
) -> dict[UUID, EntryView]:
    """Entries with their postings (in id order) and, with ``links``, their current status.

    A posting on a shard names its logical account, unless ``as_stored`` (the writes that resolve
    or reverse an entry: they move the very rows it moved)."""
    if not ids:
        return {}
    rows = (await conn.execute(select(entries).where(entries.c.id.in_(ids)))).all()
    if as_stored:
        query = select(postings)
    else:
        logical = func.coalesce(accounts.c.shard_of, postings.c.account_id).label("account_id")
        columns = [logical if c.name == "account_id" else c for c in postings.c]
        query = select(*columns).select_from(postings.outerjoin(accounts, accounts.c.id == postings.c.account_id))
    posting_rows = (await conn.execute(query.where(postings.c.entry_id.in_(ids)).order_by(postings.c.id))).all()
    by_entry: dict[UUID, list[Any]] = {}
    for p in posting_rows:
        by_entry.setdefault(p.entry_id, []).append(p)
    views = {row.id: entry_view(row, by_entry.get(row.id, [])) for row in rows}
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
    view = (await fetch_entries(conn, [entry_id])).get(entry_id)
    if view is None:
        raise NotFound(f"entry {entry_id} does not exist")
    return view


async def cutoff(conn: AsyncConnection, account_id: UUID, as_of: AsOf) -> int:
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
                .where(postings.c.account_id == account_id, entries.c.created_at <= aware(as_of))
            )
        ).scalar()
    return int(seq or 0)


async def sums(conn: AsyncConnection, account_id: UUID, max_seq: int) -> tuple[int, int, int, int]:
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
    if shards := await shard_ids(conn, account_id):
        return await _merged_statement(conn, account, [account_id, *shards], limit, cursor, as_of)
    top = account.version if as_of is None else await cutoff(conn, account_id, as_of)
    if (position := decode_cursor(cursor, "seq")) is not None:
        top = min(top, cursor_int(position, "seq") - 1)
    rows = (
        await conn.execute(
            _STATEMENT.where(postings.c.account_id == account_id, postings.c.account_seq <= top)
            .order_by(postings.c.account_seq.desc())
            .limit(limit + 1)
        )
    ).all()
    page, next_cursor = keyset_page(rows, limit, lambda row: {"seq": row.account_seq})
    if not page:
        return Page([], next_cursor)
    balances = list(await sums(conn, account_id, page[0].account_seq))
    return Page(_lines(account, page, balances, [row.account_seq for row in page]), next_cursor)


_STATEMENT = select(
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
).select_from(postings.join(entries, entries.c.id == postings.c.entry_id))


def _lines(account: AccountState, page: Sequence[Any], balances: list[int], seqs: Sequence[int]) -> list[StatementLine]:
    """Statement lines, newest first, from the balances after the first (newest) of them."""
    lines: list[StatementLine] = []
    for row, seq in zip(page, seqs, strict=True):
        dp, cp, dq, cq = balances
        balance = normal_balance(account.type, dp, cp)
        outflow = dq if account.type.normal_side is Side.CREDIT else cq
        lines.append(
            shaped(StatementLine, row, posting_id=row.id, seq=seq, balance=balance, available=balance - outflow)
        )
        offset = 0 if row.side == "debit" else 1
        balances[offset] -= row.posted_delta
        balances[offset + 2] -= row.pending_delta
    return lines


async def _merged_statement(
    conn: AsyncConnection,
    account: AccountState,
    rows: Sequence[UUID],
    limit: int,
    cursor: str | None,
    as_of: AsOf | None,
) -> Page:
    """A sharded account's statement: its rows' postings merged in posting id (drafting time) order,
    each line with the logical account's balance and its count of postings (``seq``) after it.

    Concurrent writers may commit postings out of id order: a statement read while entries are
    written may later show a line before lines it already showed (a single row's account_seq has no
    such gap, but rows are not ordered against each other)."""
    if as_of is None:
        scope = postings.c.account_id.in_(rows)
    else:
        tops = [(row_id, await cutoff(conn, row_id, as_of)) for row_id in rows]
        scope = or_(*(and_(postings.c.account_id == r, postings.c.account_seq <= top) for r, top in tops))
    query = _STATEMENT.where(scope)
    if (position := decode_cursor(cursor, "posting")) is not None:
        query = query.where(postings.c.id < cursor_uuid(position, "posting"))
    found = (await conn.execute(query.order_by(postings.c.id.desc()).limit(limit + 1))).all()
    page, next_cursor = keyset_page(found, limit, lambda row: {"posting": str(row.id)})
    if not page:
        return Page([], next_cursor)
    totals = (
        await conn.execute(
            select(postings.c.side, func.sum(postings.c.posted_delta), func.sum(postings.c.pending_delta), func.count())
            .where(scope, postings.c.id <= page[0].id)
            .group_by(postings.c.side)
        )
    ).all()
    by_side = {side: (int(posted or 0), int(pending or 0)) for side, posted, pending, _ in totals}
    (dp, dq), (cp, cq) = by_side.get("debit", (0, 0)), by_side.get("credit", (0, 0))
    count = sum(int(n) for *_, n in totals)
    return Page(_lines(account, page, [dp, cp, dq, cq], range(count, count - len(page), -1)), next_cursor)


class Movement(Protocol):
    """What one posting of an entry moved on its account, for matching against another system's
    records: a named tuple ``(reference, amount, entry_id)``. The reads below return the database
    rows themselves, not a copy of each: a reconciliation reads millions of them, and unpacking a
    row costs a fraction of reading its fields by name."""

    @property
    def reference(self) -> str:
        """The entry's external reference, or ``entry:<id>`` when it has none."""

    @property
    def amount(self) -> int:
        """The posted change, signed on the debit side: + debit, − credit."""

    @property
    def entry_id(self) -> UUID: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __getitem__(self, index: int) -> Any: ...


def _movements(conn: AsyncConnection, account_id: UUID) -> Any:
    reference: Any = func.coalesce(entries.c.external_ref, literal("entry:") + cast(entries.c.id, String))
    if store.is_postgres(conn):
        reference = reference.collate("C")  # byte order, as Python compares the references
    signed = case((postings.c.side == Side.DEBIT.value, postings.c.posted_delta), else_=-postings.c.posted_delta)
    query = (
        select(reference.label("reference"), signed.label("amount"), postings.c.entry_id)
        .select_from(postings.join(entries, entries.c.id == postings.c.entry_id))
        .where(postings.c.account_id.in_(_rows_of(account_id)), postings.c.posted_delta != 0)
    )
    return query, reference


async def movements(
    session: AsyncSession, account_id: UUID, *, start: datetime, end: datetime, batch: int = 2000
) -> AsyncIterator[Sequence[Movement]]:
    """The posted movements on an account by the entries made in ``[start, end)``, in reference
    order (byte order, which is how Python compares strings), ``batch`` at a time.

    Holds move nothing posted and are left out; an entry that posts a hold moves what it posts.
    The rows come through a server-side cursor on the session's connection, which the read holds
    until it is iterated to the end (or closed): memory holds one batch, whatever the period.
    """
    conn = await session.connection()
    query, reference = _movements(conn, account_id)
    query = query.where(entries.c.created_at >= aware(start), entries.c.created_at < aware(end)).order_by(reference)
    result = await conn.stream(query.execution_options(yield_per=batch))
    async for rows in result.partitions():  # a batch per await, not a row per await
        yield rows


async def movements_of(session: AsyncSession, account_id: UUID, entry_ids: Sequence[UUID]) -> Sequence[Movement]:
    """The posted movements on an account by the given entries (those of them that moved it)."""
    if not entry_ids:
        return []
    conn = await session.connection()
    query, _ = _movements(conn, account_id)
    return list((await conn.execute(query.where(among(postings.c.entry_id, entry_ids, conn)))).all())


async def trial_balance(session: AsyncSession) -> TrialBalance:
    """Per unit: total debits and credits over all accounts (equal in a sound ledger), and per type."""
    conn = await session.connection()
    rows = (
        await conn.execute(
            select(
                accounts.c.unit,
                accounts.c.type,
                func.count() - func.count(accounts.c.shard_of),  # a sharded account counts once
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
