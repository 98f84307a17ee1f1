"""Reconciliation benchmark (a report, not a test): ledger entries against provider records on PostgreSQL.

For each size N (10,000, 100,000 and 1,000,000 by default), a scratch database gets N posted
entries on ``bank:settlement`` (written with COPY: the ledger's write path is measured by
bench/ledger.py) and the provider side gets N records in a scrambled order, with 0.1% of each kind
of difference: entries the provider does not have, amounts off by one fen, and records the ledger
does not have. Then, each in a fresh process so that its peak memory is its own:

* baseline: the straightforward reconciliation — read both sides into dictionaries, compare;
* result: ``techx reconcile``'s run (``reconciliation.execute_run``): stage the provider's records,
  merge the two reference-ordered streams, write the differences.

Each prints wall time, peak resident memory above the process's size after start-up, the
differences found (which must be exactly those generated), and the ratios result/baseline. The
last lines show how time and memory grow from the smallest size to each larger one: the run's
time must grow linearly with N, and its memory must not.

    make bench                                   # or: .venv/bin/python bench/reconcile.py
    TECHX_BENCH_RECONCILE_SIZES=10000,100000 ... # the sizes (default 10000,100000,1000000)
    TECHX_BENCH_PG=postgresql://...              # the server's admin DSN (default postgres@127.0.0.1:5432)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ledger import database_url, drop, recreate  # noqa: E402

SIZES = [int(s) for s in os.environ.get("TECHX_BENCH_RECONCILE_SIZES", "10000,100000,1000000").split(",")]
DB_NAME = f"techx_bench_reconcile_{os.getpid()}"
PERIOD = (date(2026, 3, 1), date(2026, 3, 31))
START = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 2026-03-01 00:00 in China
STEP = 7919  # a prime: i -> i * STEP mod N scrambles the provider's order without holding it


def amount_of(i: int) -> int:
    return 100 + (i * 37) % 1_000_000


def reference_of(i: int) -> str:
    return f"R{i:09d}"


def expected(n: int) -> dict[str, int]:
    return {
        "missing_at_provider": len(range(0, n, 1000)),
        "amount_mismatch": len(range(1, n, 1000)),
        "missing_in_ledger": n // 1000,
        "matched": n - len(range(0, n, 1000)) - len(range(1, n, 1000)),
    }


def provider_records(n: int) -> Any:
    """The provider's side, scrambled, generated as it is read."""
    for k in range(n):
        i = (k * STEP + 13) % n
        if i % 1000 == 0:
            continue  # the ledger has it, the provider does not
        amount = amount_of(i) + (1 if i % 1000 == 1 else 0)
        yield reference_of(i), amount, START + timedelta(milliseconds=i)
    for j in range(n // 1000):
        yield f"X{j:09d}", 500, START + timedelta(milliseconds=j)


# -- the scratch database -----------------------------------------------------------------------------------


async def prepare(n: int) -> None:
    from exchange.accounting import chart
    from exchange.platform.db import create_engine
    from exchange.platform.migrate import upgrade

    await recreate(DB_NAME)
    engine = create_engine(database_url(DB_NAME), pool_size=1)
    await upgrade(engine)
    await engine.dispose()

    conn = await asyncpg.connect(database_url(DB_NAME).replace("+asyncpg", ""))
    try:
        settlement, wallet = uuid.uuid4(), uuid.uuid4()
        for account_id, spec in ((settlement, chart.BANK_SETTLEMENT), (wallet, chart.org_cash("bench"))):
            await conn.execute(
                "INSERT INTO ledger_accounts (id, code, unit, type, no_overdraft, closed, debits_posted,"
                " credits_posted, debits_pending, credits_pending, version, created_at)"
                " VALUES ($1, $2, $3, $4, $5, false, 0, 0, 0, 0, $6, $7)",
                account_id,
                spec.code,
                spec.unit,
                spec.type.value,
                spec.no_overdraft,
                n,
                START,
            )
        chunk = 100_000
        for low in range(0, n, chunk):
            entries, postings = [], []
            for i in range(low, min(n, low + chunk)):
                entry_id = uuid.uuid4()
                at = START + timedelta(milliseconds=i)
                amount = amount_of(i)
                entries.append((entry_id, "CNY", "bank_transfer", "posted", "", "{}", reference_of(i), at))
                postings.append((uuid.uuid4(), entry_id, settlement, "debit", amount, amount, 0, i + 1))
                postings.append((uuid.uuid4(), entry_id, wallet, "credit", amount, amount, 0, i + 1))
            await conn.copy_records_to_table(
                "ledger_entries",
                records=entries,
                columns=["id", "unit", "kind", "phase", "description", "metadata_json", "external_ref", "created_at"],
            )
            await conn.copy_records_to_table(
                "ledger_postings",
                records=postings,
                columns=[
                    "id",
                    "entry_id",
                    "account_id",
                    "side",
                    "amount",
                    "posted_delta",
                    "pending_delta",
                    "account_seq",
                ],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# -- the two ways, each in a child process --------------------------------------------------------------------


def status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    return status_mb("VmRSS")


async def run_streaming(n: int, name: str) -> dict[str, Any]:
    from exchange.payments import reconciliation
    from exchange.payments.domain import Provider
    from exchange.platform.db import Database, create_engine

    db = Database(create_engine(database_url(name), pool_size=4))
    now = lambda: datetime.now(UTC)  # noqa: E731

    async def records() -> Any:
        for i, record in enumerate(provider_records(n)):
            yield record
            if i % 5000 == 0:
                await asyncio.sleep(0)

    base = rss_mb()
    began = time.perf_counter()
    run, _ = await reconciliation.start_run(
        db,
        provider=Provider.BANK_TRANSFER,
        period_from=PERIOD[0],
        period_to=PERIOD[1],
        statement=reconciliation.Statement.from_text("date,amount,reference\n"),
        key=None,
        operator_id=None,
        now=now,
    )
    done = await reconciliation.execute_run(db, run, records(), now=now, batch=5000)
    seconds = time.perf_counter() - began
    await db.dispose()
    totals = {k: v["count"] for k, v in json.loads(done.totals).items()}
    return {"seconds": seconds, "base_mb": base, "totals": totals}


def ledger_movements(account_id: uuid.UUID, start: datetime, end: datetime) -> Any:
    """The baseline's ledger side in one query: per reference, what moved on the account in the period
    (the reference and date of a booked entry from its booking), summed and sorted in the database."""
    from sqlalchemy import String, and_, case, cast, func, literal, select

    from exchange.payments.models import Booking
    from ledger.models import entries, postings

    bookings = Booking.__table__
    value_at = func.coalesce(bookings.c.value_at, entries.c.created_at)
    entry_text = cast(entries.c.id, String)
    reference = func.coalesce(bookings.c.reference, entries.c.external_ref, literal("entry:") + entry_text)
    signed = case((postings.c.side == "debit", postings.c.posted_delta), else_=-postings.c.posted_delta)
    moves = (
        select(reference.collate("C").label("reference"), signed.label("amount"), entry_text.label("entry_id"))
        .select_from(
            postings.join(entries, entries.c.id == postings.c.entry_id).outerjoin(
                bookings, bookings.c.entry_id == entries.c.id
            )
        )
        .where(
            and_(postings.c.account_id == account_id, postings.c.posted_delta != 0, value_at >= start, value_at < end)
        )
        .subquery()
    )
    total = func.sum(moves.c.amount)
    return (
        select(moves.c.reference, total, func.min(moves.c.entry_id))
        .group_by(moves.c.reference)
        .having(total != 0)
        .order_by(moves.c.reference)
    )


async def run_naive(n: int, name: str) -> dict[str, Any]:
    from exchange.accounting import chart
    from exchange.payments.domain import period_bounds

    start, end = period_bounds(*PERIOD)
    conn = await asyncpg.connect(database_url(name).replace("+asyncpg", ""))
    base = rss_mb()
    began = time.perf_counter()
    settlement = await conn.fetchval("SELECT id FROM ledger_accounts WHERE code = $1", chart.BANK_SETTLEMENT.code)
    from sqlalchemy.dialects import postgresql

    query = ledger_movements(settlement, start, end).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    ours = {r[0]: int(r[1]) for r in await conn.fetch(str(query))}
    theirs: dict[str, int] = {}
    for reference, amount, _ in provider_records(n):
        theirs[reference] = theirs.get(reference, 0) + amount
    totals = dict.fromkeys(("matched", "amount_mismatch", "missing_in_ledger", "missing_at_provider"), 0)
    for reference, amount in ours.items():
        other = theirs.get(reference)
        if other is None:
            totals["missing_at_provider"] += 1
        else:
            totals["matched" if other == amount else "amount_mismatch"] += 1
    totals["missing_in_ledger"] = sum(1 for r in theirs if r not in ours)
    seconds = time.perf_counter() - began
    await conn.close()
    return {"seconds": seconds, "base_mb": base, "totals": totals}


def child(kind: str, n: int, name: str) -> None:
    result = asyncio.run((run_streaming if kind == "stream" else run_naive)(n, name))
    # VmHWM, the peak of this process image; ru_maxrss would also count the parent's size at fork.
    result["peak_mb"] = status_mb("VmHWM")
    print(json.dumps(result))


def measure(kind: str, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(n), DB_NAME], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["grown_mb"] = result["peak_mb"] - result["base_mb"]
    return result


def main() -> None:
    print(f"reconciliation benchmark — {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("N = ledger entries = provider records (± 0.1%), 0.1% of each kind of difference, PostgreSQL")
    rows = []
    try:
        for n in SIZES:
            began = time.perf_counter()
            asyncio.run(prepare(n))
            made = time.perf_counter() - began
            naive = measure("naive", n)
            stream = measure("stream", n)
            for result in (naive, stream):
                if result["totals"] != expected(n):
                    raise SystemExit(f"wrong differences at N={n}: {result['totals']} != {expected(n)}")
            rows.append((n, naive, stream))
            print(
                f"N={n:>9,}  (data {made:5.1f} s)  baseline (dictionaries): {naive['seconds']:7.2f} s "
                f"{naive['grown_mb']:7.1f} MB   result (streaming run): {stream['seconds']:7.2f} s "
                f"{stream['grown_mb']:7.1f} MB   ratio time {stream['seconds'] / naive['seconds']:.2f}× "
                f"memory {stream['grown_mb'] / max(naive['grown_mb'], 0.1):.2f}×   differences exact",
                flush=True,
            )
    finally:
        asyncio.run(drop(DB_NAME))
    n0, _, s0 = rows[0]
    for n, naive, stream in rows[1:]:
        print(
            f"growth {n0:,} → {n:,} (×{n // n0}): run time ×{stream['seconds'] / s0['seconds']:.1f}, "
            f"run memory ×{max(stream['grown_mb'], 0.1) / max(s0['grown_mb'], 0.1):.1f} "
            f"(baseline memory ×{max(naive['grown_mb'], 0.1) / max(rows[0][1]['grown_mb'], 0.1):.1f}); "
            f"run µs per record {1e6 * s0['seconds'] / n0:.1f} → {1e6 * stream['seconds'] / n:.1f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
