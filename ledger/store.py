"""The ledger's hot path into the database: locking accounts and writing what the rules decided.

Accounts are always locked in one global order (``… ORDER BY id FOR UPDATE``), so concurrent
entries cannot deadlock. Two ways to write:

* ``write_new_entries`` (PostgreSQL, new entries): one statement locks the accounts, checks them,
  claims the idempotency key and writes entries, postings and balances — or writes nothing and
  returns the locked rows for ``domain.Book`` to decide;
* ``lock_accounts`` then ``write`` (every other write, and everything on SQLite, whose writers are
  serialised by ``BEGIN IMMEDIATE``): ``Book`` decides with the locked rows, then one statement
  (a data-modifying CTE; a few plain statements on SQLite) writes it all. Account rows get the
  balances computed in memory, guarded by their version, so an update that raced past the lock
  would be detected rather than lost.

PostgreSQL statements go to asyncpg directly (``driver``), inside SQLAlchemy's transaction: on the
hot path SQLAlchemy's per-statement work costs more than the statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.db import is_postgres
from ledger.domain import MAX_AMOUNT, AccountState, AccountType
from ledger.errors import Conflict
from ledger.models import accounts, entries, idempotency, open_holds, postings

ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.code,
    accounts.c.unit,
    accounts.c.type,
    accounts.c.no_overdraft,
    accounts.c.closed,
    accounts.c.debits_posted,
    accounts.c.credits_posted,
    accounts.c.debits_pending,
    accounts.c.credits_pending,
    accounts.c.version,
)

ENTRY_FIELDS = (
    "id",
    "unit",
    "kind",
    "phase",
    "description",
    "metadata_json",
    "external_ref",
    "idempotency_key",
    "timeout_seconds",
    "expires_at",
    "resolves_id",
    "reverses_id",
    "created_at",
)
POSTING_FIELDS = ("id", "entry_id", "account_id", "side", "amount", "posted_delta", "pending_delta", "account_seq")


def account_from_row(row: Sequence[Any]) -> AccountState:
    """An account from a row of ``ACCOUNT_COLUMNS`` (SQLAlchemy row or asyncpg record: by position)."""
    return AccountState(
        id=row[0],
        code=row[1],
        unit=row[2],
        type=AccountType(row[3]),
        no_overdraft=row[4],
        closed=row[5],
        debits_posted=row[6],
        credits_posted=row[7],
        debits_pending=row[8],
        credits_pending=row[9],
        version=row[10],
    )


def upsert(conn: AsyncConnection, table: Any) -> Any:
    """``INSERT … ON CONFLICT`` for the connection's database."""
    return (postgresql.insert if is_postgres(conn) else sqlite.insert)(table)


_LOCK = (
    select(*ACCOUNT_COLUMNS)
    .where(accounts.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(accounts.c.id)
    .with_for_update()
)
_PG_LOCK = (
    "SELECT id, code, unit, type, no_overdraft, closed, debits_posted, credits_posted, debits_pending, "
    "credits_pending, version FROM ledger_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
)


async def driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, inside the session's transaction.

    The hot statements go to asyncpg directly: SQLAlchemy's per-statement work costs more than the
    statements themselves. The transaction stays SQLAlchemy's (it commits or rolls back); if it has
    not started yet on the driver, it is started the way SQLAlchemy would (``_begin``).
    """
    sync = conn.sync_connection
    raw = sync.connection if sync is not None else await conn.get_raw_connection()  # no greenlet hop when open
    connection = raw.driver_connection
    if not connection.is_in_transaction():
        await _begin(conn, raw.dbapi_connection)
        if not connection.is_in_transaction():
            raise RuntimeError("ledger writes need a database transaction, not autocommit")
    return connection


async def _begin(conn: AsyncConnection, adapted: Any) -> None:
    """Start SQLAlchemy's transaction on the driver now, as its asyncpg adapter does before its
    first statement: a BEGIN, and the adapter holds the transaction, so SQLAlchemy's commit or
    rollback ends it.

    SQLAlchemy (2.1) has no public call for this; the adapter starts its transaction lazily in the
    private ``_start_transaction`` and keeps it in ``_transaction``. This is the only place that
    relies on them, and tests/integration/test_ledger_driver.py fails if they change. Should they
    go, the public way below still works, one round trip slower: a statement through SQLAlchemy,
    which starts the transaction itself.
    """
    if getattr(adapted, "_transaction", True) is None and hasattr(adapted, "_start_transaction"):
        await adapted._start_transaction()
    else:
        await conn.exec_driver_sql("SELECT 1")


async def _driver_call(conn: AsyncConnection, method: str, sql: str, *args: Any) -> Any:
    connection = await driver(conn)
    try:
        return await getattr(connection, method)(sql, *args)
    except asyncpg.PostgresError as exc:
        raise _as_sqlalchemy_error(sql, exc) from exc


def _as_sqlalchemy_error(sql: str, exc: asyncpg.PostgresError) -> DBAPIError:
    """Raised as SQLAlchemy raises them, so that callers' retry logic sees the SQLSTATE."""
    error = IntegrityError if str(getattr(exc, "sqlstate", "")).startswith("23") else DBAPIError
    return error(sql, None, exc)  # type: ignore[arg-type]


async def lock_accounts(conn: AsyncConnection, ids: Iterable[UUID]) -> dict[UUID, AccountState]:
    """The accounts with these ids, locked in id order until the transaction ends (missing ones omitted)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if is_postgres(conn):
        rows = await _driver_call(conn, "fetch", _PG_LOCK, wanted)
    else:
        rows = (await conn.execute(_LOCK, {"ids": wanted})).all()
    return {row[0]: account_from_row(row) for row in rows}


@dataclass
class Writes:
    """Everything one ledger operation writes, decided before anything is written."""

    record: dict[str, Any] | None = None  # the idempotency record, when the caller gave a key
    entries: list[dict[str, Any]] = field(default_factory=list)
    postings: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[tuple[AccountState, int]] = field(default_factory=list)  # new state, version before
    holds_opened: list[dict[str, Any]] = field(default_factory=list)
    holds_closed: list[UUID] = field(default_factory=list)


async def write(conn: AsyncConnection, writes: Writes) -> bool:
    """Write it all; False (and nothing written) when the idempotency key was claimed meanwhile."""
    if is_postgres(conn):
        return await _write_postgres(conn, writes)
    return await _write_generic(conn, writes)


# Shared by both write statements: $1 is the entries document, $3 the holds opened; both are
# written only when the ``claim`` CTE has a row (the key was free and, for new entries, the checks passed).
_INSERT_ENTRIES = """e AS (
    INSERT INTO ledger_entries (id, unit, kind, phase, description, metadata_json, external_ref, idempotency_key,
                                timeout_seconds, expires_at, resolves_id, reverses_id, created_at)
    SELECT * FROM json_to_recordset($1::json) AS x(
        id uuid, unit text, kind text, phase text, description text, metadata_json text, external_ref text,
        idempotency_key text, timeout_seconds bigint, expires_at timestamptz, resolves_id uuid, reverses_id uuid,
        created_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM claim)
),"""
_INSERT_HOLDS = """ho AS (
    INSERT INTO ledger_open_holds (entry_id, expires_at)
    SELECT * FROM json_to_recordset($3::json) AS x(entry_id uuid, expires_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM claim)
),"""
_CLAIM_KEY = """claim AS (
    INSERT INTO ledger_idempotency (key, fingerprint, operation, result, created_at)
    VALUES ($7, $8, $9, $10, $11) ON CONFLICT (key) DO NOTHING RETURNING 1 AS ok
)"""
_NO_KEY = "claim AS (SELECT 1 AS ok)"
# Rows travel as JSON documents (one parameter per table): cheaper to encode than a column array each.
# Account ids also travel as an array, so that the planner looks them up by index.
_WRITE = """
WITH {claim},
{insert_entries}
p AS (
    INSERT INTO ledger_postings (id, entry_id, account_id, side, amount, posted_delta, pending_delta, account_seq)
    SELECT * FROM json_to_recordset($2::json) AS x(
        id uuid, entry_id uuid, account_id uuid, side text, amount bigint, posted_delta bigint, pending_delta bigint,
        account_seq bigint)
    WHERE EXISTS (SELECT 1 FROM claim)
),
{insert_holds}
hc AS (
    DELETE FROM ledger_open_holds
    WHERE entry_id = ANY($4::uuid[]) AND EXISTS (SELECT 1 FROM claim)
    RETURNING entry_id
),
a AS (
    UPDATE ledger_accounts AS t
    SET debits_posted = u.dp, credits_posted = u.cp, debits_pending = u.dq, credits_pending = u.cq, version = u.v
    FROM json_to_recordset($5::json) AS u(id uuid, dp bigint, cp bigint, dq bigint, cq bigint, v bigint, old bigint)
    WHERE t.id = ANY($6::uuid[]) AND t.id = u.id AND t.version = u.old AND EXISTS (SELECT 1 FROM claim)
    RETURNING t.id
)
SELECT (SELECT count(*) FROM claim) AS claimed, (SELECT count(*) FROM a) AS updated,
       (SELECT count(*) FROM hc) AS closed
"""
_WRITE_WITH_KEY = _WRITE.format(claim=_CLAIM_KEY, insert_entries=_INSERT_ENTRIES, insert_holds=_INSERT_HOLDS)
_WRITE_WITHOUT_KEY = _WRITE.format(claim=_NO_KEY, insert_entries=_INSERT_ENTRIES, insert_holds=_INSERT_HOLDS)
_json = msgspec.json.Encoder()


def _check_counts(writes: Writes, updated: int, closed: int) -> None:
    if updated != len(writes.accounts) or closed != len(writes.holds_closed):
        raise Conflict("the accounts or holds changed while the entry was being written; try again")


async def _write_postgres(conn: AsyncConnection, writes: Writes) -> bool:
    changed = _json.encode(
        [
            {
                "id": a.id,
                "dp": a.debits_posted,
                "cp": a.credits_posted,
                "dq": a.debits_pending,
                "cq": a.credits_pending,
                "v": a.version,
                "old": old,
            }
            for a, old in writes.accounts
        ]
    ).decode()
    args = [
        _json.encode(writes.entries).decode(),
        _json.encode(writes.postings).decode(),
        _json.encode(writes.holds_opened).decode(),
        list(writes.holds_closed),
        changed,
        sorted(a.id for a, _ in writes.accounts),
    ]
    record = writes.record
    if record is not None:
        args += [record["key"], record["fingerprint"], record["operation"], record["result"], record["created_at"]]
    sql = _WRITE_WITH_KEY if record is not None else _WRITE_WITHOUT_KEY
    claimed, updated, closed = await _driver_call(conn, "fetchrow", sql, *args)
    if not claimed:
        return False
    _check_counts(writes, updated, closed)
    return True


# -- one statement for new entries on PostgreSQL ---------------------------------------------------------

# New entries only add to balances, so one statement can lock their accounts (in id order), check them,
# and write everything. Its checks are ``domain.Book``'s (the bound on balances is the domain's
# MAX_AMOUNT) or stricter: no_overdraft holds after every posting, not only after every entry, and an
# account already below zero takes nothing more. When it declines, nothing is written and ``Book``
# decides: with the rows it returns while the accounts stay locked (in a transaction), or anew (alone).
# tests/integration/test_ledger_properties.py runs this statement and ``Book`` on the same random
# histories: whatever the statement writes, the rules accept with the same balances.
_FAST = """
WITH legs_in AS (
    SELECT * FROM json_to_recordset($2::json) AS x(
        id uuid, entry_id uuid, account_id uuid, side text, amount bigint, posted_delta bigint,
        pending_delta bigint, ord integer, unit text)
),
locked AS (
    SELECT id, code, unit, type, no_overdraft, closed, debits_posted, credits_posted, debits_pending,
           credits_pending, version
    FROM ledger_accounts WHERE id = ANY($4::uuid[]){gate} ORDER BY id FOR UPDATE
),
legs AS (
    SELECT g.*, a.version + row_number() OVER (PARTITION BY g.account_id ORDER BY g.ord) AS seq,
           a.no_overdraft, a.closed, a.unit AS account_unit,
           CASE WHEN a.type IN ('asset', 'expense')
                THEN a.debits_posted - a.credits_posted - a.credits_pending
                ELSE a.credits_posted - a.debits_posted - a.debits_pending END AS available_before,
           CASE WHEN (a.type IN ('asset', 'expense')) = (g.side = 'debit')
                THEN g.posted_delta
                ELSE -g.posted_delta - g.pending_delta END AS available_delta
    FROM legs_in g JOIN locked a ON a.id = g.account_id
),
totals AS (
    SELECT account_id, count(*) AS n,
           coalesce(sum(posted_delta) FILTER (WHERE side = 'debit'), 0) AS dp,
           coalesce(sum(posted_delta) FILTER (WHERE side = 'credit'), 0) AS cp,
           coalesce(sum(pending_delta) FILTER (WHERE side = 'debit'), 0) AS dq,
           coalesce(sum(pending_delta) FILTER (WHERE side = 'credit'), 0) AS cq
    FROM legs GROUP BY account_id
),
verdict AS (
    SELECT (SELECT count(*) FROM locked) = cardinality($4::uuid[])
       AND NOT EXISTS (SELECT 1 FROM legs WHERE closed OR account_unit <> unit)
       AND NOT EXISTS (
           SELECT 1 FROM (
               SELECT no_overdraft,
                      available_before + sum(available_delta) OVER (PARTITION BY account_id ORDER BY ord) AS available
               FROM legs) AS running
           WHERE no_overdraft AND available < 0)
       AND NOT EXISTS (
           SELECT 1 FROM totals t JOIN locked a ON a.id = t.account_id
           WHERE a.debits_posted::numeric + t.dp > {max_amount}
              OR a.credits_posted::numeric + t.cp > {max_amount}
              OR a.debits_pending::numeric + t.dq > {max_amount}
              OR a.credits_pending::numeric + t.cq > {max_amount}) AS ok
),
{claim},
{insert_entries}
p AS (
    INSERT INTO ledger_postings (id, entry_id, account_id, side, amount, posted_delta, pending_delta, account_seq)
    SELECT id, entry_id, account_id, side, amount, posted_delta, pending_delta, seq FROM legs
    WHERE EXISTS (SELECT 1 FROM claim)
),
{insert_holds}
a AS (
    UPDATE ledger_accounts AS t
    SET debits_posted = t.debits_posted + s.dp, credits_posted = t.credits_posted + s.cp,
        debits_pending = t.debits_pending + s.dq, credits_pending = t.credits_pending + s.cq,
        version = t.version + s.n
    FROM totals s WHERE t.id = ANY($4::uuid[]) AND t.id = s.account_id AND EXISTS (SELECT 1 FROM claim)
    RETURNING t.id, t.debits_posted, t.credits_posted, t.debits_pending, t.credits_pending, t.version
)
SELECT (SELECT ok FROM verdict), (SELECT count(*) FROM claim){answer}
"""
# In a transaction, the statement also answers with the accounts as locked (for ``Book`` to decide
# when it declines) and as written (for ``Book`` to check); written alone, its verdict is the answer.
_LOCKED_AND_WRITTEN = """,
       (SELECT json_agg(json_build_array(id, code, unit, type, no_overdraft, closed, debits_posted, credits_posted,
                                         debits_pending, credits_pending, version)) FROM locked),
       (SELECT json_agg(json_build_array(id, debits_posted, credits_posted, debits_pending, credits_pending,
                                         version)) FROM a)"""
_CLAIM_IF_CHECKED = """claim AS (
    INSERT INTO ledger_idempotency (key, fingerprint, operation, result, created_at)
    SELECT $5, $6, $7, $8, $9 WHERE (SELECT ok FROM verdict)
    ON CONFLICT (key) DO NOTHING RETURNING 1 AS ok
)"""
_CHECKED = "claim AS (SELECT 1 AS ok WHERE (SELECT ok FROM verdict))"


# Writes alone that lock many accounts queue on one advisory lock before they lock any account.
# Without it, overlapping batches form a convoy: each holds the accounts it has locked so far while it
# waits for the next, and the next batch waits behind all of them; with it, they take turns, each
# locking all its accounts at once (bench/ledger.py: batches of 100 ×3.8). Entries with few accounts
# do not queue (they hold few locks, briefly). Only writes alone queue: they hold no lock before the
# turn and release it at their commit, so no transaction can hold an account and wait for the turn
# while the turn's holder waits for that account.
GATED_ACCOUNTS = 16
_GATE = " AND (SELECT count(*) FROM (SELECT pg_advisory_xact_lock({key})) AS turn) = 1"
_GATE_KEY = 0x7EC4_1ED6  # the ledger's turn for large writes (advisory lock keys are per database)


def _fast(claim: str, answer: str, gated: bool) -> str:
    return _FAST.format(
        max_amount=MAX_AMOUNT,
        insert_entries=_INSERT_ENTRIES,
        insert_holds=_INSERT_HOLDS,
        claim=claim,
        answer=answer,
        gate=_GATE.format(key=_GATE_KEY) if gated else "",
    )


# (with an idempotency key?, written alone?, many accounts?) → the statement
_FAST_STATEMENTS = {
    (keyed, alone, gated): _fast(_CLAIM_IF_CHECKED if keyed else _CHECKED, "" if alone else _LOCKED_AND_WRITTEN, gated)
    for keyed in (True, False)
    for alone in (True, False)
    for gated in (True, False)
}


def _rows(value: Any) -> list[list[Any]]:
    """A json_agg result: decoded already by the connection's JSON codec, or text."""
    if value is None:
        return []
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


@dataclass
class FastOutcome:
    checked: bool  # the statement's own checks passed
    claimed: bool  # ... and the idempotency key was free: everything is written
    locked: dict[UUID, AccountState]  # the accounts as they were when locked (before any change)
    after: dict[UUID, tuple[int, int, int, int, int]]  # written balances and versions


def _fast_arguments(writes: Writes, units: dict[UUID, str], *, alone: bool) -> tuple[str, tuple[Any, ...]]:
    """The one statement for new entries and its arguments. ``units``: entry id → unit."""
    counters: dict[UUID, int] = {}
    legs = []
    for ord_, posting in enumerate(writes.postings):
        counters[posting["account_id"]] = counters.get(posting["account_id"], 0) + 1
        legs.append({**posting, "ord": ord_, "unit": units[posting["entry_id"]]})
    documents = (
        _json.encode(writes.entries).decode(),
        _json.encode(legs).decode(),
        _json.encode(writes.holds_opened).decode(),
        sorted(counters),
    )
    record = writes.record
    sql = _FAST_STATEMENTS[record is not None, alone, alone and len(counters) > GATED_ACCOUNTS]
    if record is None:
        return sql, documents
    key = (record["key"], record["fingerprint"], record["operation"], record["result"], record["created_at"])
    return sql, (*documents, *key)


def _fast_outcome(row: Sequence[Any]) -> FastOutcome:
    if len(row) == 2:  # written alone: the verdict only
        return FastOutcome(bool(row[0]), bool(row[1]), {}, {})
    checked, claimed, locked_json, after_json = row
    locked = {}
    for values in _rows(locked_json):
        account = account_from_row(values)
        account.id = UUID(values[0])
        locked[account.id] = account
    after = {UUID(v[0]): tuple(v[1:]) for v in _rows(after_json)}
    return FastOutcome(bool(checked), bool(claimed), locked, after)  # type: ignore[arg-type]


async def write_new_entries(conn: AsyncConnection, writes: Writes, units: dict[UUID, str]) -> FastOutcome:
    """Lock, check and write new entries in one statement, inside the caller's transaction (PostgreSQL)."""
    sql, args = _fast_arguments(writes, units, alone=False)
    return _fast_outcome(await _driver_call(conn, "fetchrow", sql, *args))


async def write_new_entries_alone(connection: Any, writes: Writes, units: dict[UUID, str]) -> FastOutcome:
    """The same statement as a transaction of its own, on an asyncpg connection outside any
    transaction: one round trip, and the accounts' locks last only while PostgreSQL runs it and
    commits. When its checks decline, nothing is written and nothing stays locked."""
    if connection.is_in_transaction():
        raise RuntimeError("an entry written alone needs a connection outside any transaction")
    sql, args = _fast_arguments(writes, units, alone=True)
    try:
        row = await connection.fetchrow(sql, *args)
    except asyncpg.PostgresError as exc:
        raise _as_sqlalchemy_error(sql, exc) from exc
    return _fast_outcome(row)


_UPDATE_ACCOUNT = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"), accounts.c.version == bindparam("b_old"))
    .values(
        debits_posted=bindparam("b_dp"),
        credits_posted=bindparam("b_cp"),
        debits_pending=bindparam("b_dq"),
        credits_pending=bindparam("b_cq"),
        version=bindparam("b_v"),
    )
)


async def _write_generic(conn: AsyncConnection, writes: Writes) -> bool:
    if writes.record is not None and not await remember(conn, writes.record):
        return False
    if writes.entries:
        await conn.execute(insert(entries), writes.entries)
    if writes.postings:
        await conn.execute(insert(postings), writes.postings)
    if writes.holds_opened:
        await conn.execute(insert(open_holds), writes.holds_opened)
    closed = 0
    if writes.holds_closed:
        result = await conn.execute(delete(open_holds).where(open_holds.c.entry_id.in_(writes.holds_closed)))
        closed = result.rowcount
    updated = 0
    for account, old in writes.accounts:
        result = await conn.execute(
            _UPDATE_ACCOUNT,
            {
                "b_id": account.id,
                "b_old": old,
                "b_dp": account.debits_posted,
                "b_cp": account.credits_posted,
                "b_dq": account.debits_pending,
                "b_cq": account.credits_pending,
                "b_v": account.version,
            },
        )
        updated += result.rowcount
    _check_counts(writes, updated, closed)
    return True


# -- idempotency records ---------------------------------------------------------------------------


_PG_RECALL = "SELECT fingerprint, operation, result FROM ledger_idempotency WHERE key = $1"
_RECALL = select(idempotency.c.fingerprint, idempotency.c.operation, idempotency.c.result).where(
    idempotency.c.key == bindparam("key")
)


async def recall(conn: AsyncConnection, key: str) -> tuple[str, str, str] | None:
    """(fingerprint, operation, result) of a key seen before, or None."""
    if is_postgres(conn):
        row = await _driver_call(conn, "fetchrow", _PG_RECALL, key)
    else:
        row = (await conn.execute(_RECALL, {"key": key})).first()
    return (row[0], row[1], row[2]) if row else None


async def remember(conn: AsyncConnection, record: dict[str, Any]) -> bool:
    """Store an idempotency record unless the key is taken; True when this call stored it."""
    claim = upsert(conn, idempotency).values(record).on_conflict_do_nothing(index_elements=["key"])
    return (await conn.execute(claim)).rowcount == 1
