"""The ledger's hot path into the database: locking accounts and writing what the rules decided.

Every operation reads and locks its accounts (``SELECT … ORDER BY id FOR UPDATE``: one global lock
order, so concurrent entries cannot deadlock), decides everything in memory (``domain.Book``), and
then writes it in one go:

* on PostgreSQL one statement — a data-modifying CTE that claims the idempotency key, inserts the
  entries, postings and open holds, and sets the new balances, all or nothing;
* on SQLite (whose writers are serialised by ``BEGIN IMMEDIATE``) a few plain statements.

Account rows are updated with the absolute balances computed in memory and guarded by their
version, so an update that raced past the lock would be detected rather than lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.domain import AccountState, AccountType
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


def is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


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
    not started yet on the driver, it is started the way SQLAlchemy would.
    """
    raw = await conn.get_raw_connection()
    connection = raw.driver_connection
    if not connection.is_in_transaction():
        adapted = raw.dbapi_connection
        if getattr(adapted, "_transaction", True) is None and hasattr(adapted, "_start_transaction"):
            await adapted._start_transaction()
        else:
            await conn.exec_driver_sql("SELECT 1")
        if not connection.is_in_transaction():
            raise RuntimeError("ledger writes need a database transaction, not autocommit")
    return connection


async def _driver_call(conn: AsyncConnection, method: str, sql: str, *args: Any) -> Any:
    connection = await driver(conn)
    try:
        return await getattr(connection, method)(sql, *args)
    except asyncpg.PostgresError as exc:
        # Raised as SQLAlchemy raises them, so that callers' retry logic sees the SQLSTATE.
        error = IntegrityError if str(getattr(exc, "sqlstate", "")).startswith("23") else DBAPIError
        raise error(sql, None, exc) from exc  # type: ignore[arg-type]


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


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


_CLAIM_KEY = """claim AS (
    INSERT INTO ledger_idempotency (key, fingerprint, operation, result, created_at)
    VALUES (:k_key, :k_fingerprint, :k_operation, :k_result, :k_created_at)
    ON CONFLICT (key) DO NOTHING RETURNING 1 AS ok
)"""
_NO_KEY = "claim AS (SELECT 1 AS ok)"
_WRITE = """
WITH {claim},
e AS (
    INSERT INTO ledger_entries (id, unit, kind, phase, description, metadata_json, external_ref, idempotency_key,
                                timeout_seconds, expires_at, resolves_id, reverses_id, created_at)
    SELECT * FROM unnest(CAST(:e_id AS uuid[]), CAST(:e_unit AS text[]), CAST(:e_kind AS text[]),
                         CAST(:e_phase AS text[]), CAST(:e_description AS text[]), CAST(:e_metadata_json AS text[]),
                         CAST(:e_external_ref AS text[]), CAST(:e_idempotency_key AS text[]),
                         CAST(:e_timeout_seconds AS bigint[]), CAST(:e_expires_at AS timestamptz[]),
                         CAST(:e_resolves_id AS uuid[]), CAST(:e_reverses_id AS uuid[]),
                         CAST(:e_created_at AS timestamptz[]))
    WHERE EXISTS (SELECT 1 FROM claim)
),
p AS (
    INSERT INTO ledger_postings (id, entry_id, account_id, side, amount, posted_delta, pending_delta, account_seq)
    SELECT * FROM unnest(CAST(:p_id AS uuid[]), CAST(:p_entry_id AS uuid[]), CAST(:p_account_id AS uuid[]),
                         CAST(:p_side AS text[]), CAST(:p_amount AS bigint[]), CAST(:p_posted_delta AS bigint[]),
                         CAST(:p_pending_delta AS bigint[]), CAST(:p_account_seq AS bigint[]))
    WHERE EXISTS (SELECT 1 FROM claim)
),
ho AS (
    INSERT INTO ledger_open_holds (entry_id, expires_at)
    SELECT * FROM unnest(CAST(:h_entry_id AS uuid[]), CAST(:h_expires_at AS timestamptz[]))
    WHERE EXISTS (SELECT 1 FROM claim)
),
hc AS (
    DELETE FROM ledger_open_holds
    WHERE entry_id = ANY(CAST(:c_entry_id AS uuid[])) AND EXISTS (SELECT 1 FROM claim)
    RETURNING entry_id
),
a AS (
    UPDATE ledger_accounts AS t
    SET debits_posted = u.dp, credits_posted = u.cp, debits_pending = u.dq, credits_pending = u.cq, version = u.v
    FROM unnest(CAST(:a_id AS uuid[]), CAST(:a_dp AS bigint[]), CAST(:a_cp AS bigint[]), CAST(:a_dq AS bigint[]),
                CAST(:a_cq AS bigint[]), CAST(:a_v AS bigint[]), CAST(:a_old AS bigint[]))
         AS u(id, dp, cp, dq, cq, v, old)
    WHERE t.id = u.id AND t.version = u.old AND EXISTS (SELECT 1 FROM claim)
    RETURNING t.id
)
SELECT (SELECT count(*) FROM claim) AS claimed, (SELECT count(*) FROM a) AS updated,
       (SELECT count(*) FROM hc) AS closed
"""


def _positional(sql: str) -> tuple[str, list[str]]:
    """``:name`` placeholders to asyncpg's ``$n``, with the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    return re.sub(r"(?<!:):([a-z_]+)", number, sql), names


_WRITE_WITH_KEY = _positional(_WRITE.format(claim=_CLAIM_KEY))
_WRITE_WITHOUT_KEY = _positional(_WRITE.format(claim=_NO_KEY))


def _check_counts(writes: Writes, updated: int, closed: int) -> None:
    if updated != len(writes.accounts) or closed != len(writes.holds_closed):
        raise Conflict("the accounts or holds changed while the entry was being written; try again")


async def _write_postgres(conn: AsyncConnection, writes: Writes) -> bool:
    params: dict[str, Any] = {}
    for name, values in _columns(writes.entries, ENTRY_FIELDS).items():
        params[f"e_{name}"] = values
    for name, values in _columns(writes.postings, POSTING_FIELDS).items():
        params[f"p_{name}"] = values
    params["h_entry_id"] = [h["entry_id"] for h in writes.holds_opened]
    params["h_expires_at"] = [h["expires_at"] for h in writes.holds_opened]
    params["c_entry_id"] = list(writes.holds_closed)
    params["a_id"] = [a.id for a, _ in writes.accounts]
    params["a_dp"] = [a.debits_posted for a, _ in writes.accounts]
    params["a_cp"] = [a.credits_posted for a, _ in writes.accounts]
    params["a_dq"] = [a.debits_pending for a, _ in writes.accounts]
    params["a_cq"] = [a.credits_pending for a, _ in writes.accounts]
    params["a_v"] = [a.version for a, _ in writes.accounts]
    params["a_old"] = [old for _, old in writes.accounts]
    if writes.record is not None:
        params.update({f"k_{name}": value for name, value in writes.record.items()})
        sql, names = _WRITE_WITH_KEY
    else:
        sql, names = _WRITE_WITHOUT_KEY
    claimed, updated, closed = await _driver_call(conn, "fetchrow", sql, *(params[n] for n in names))
    if not claimed:
        return False
    _check_counts(writes, updated, closed)
    return True


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
