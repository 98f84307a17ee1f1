"""Ledger benchmark (a report, not a test): entries per second on PostgreSQL against pgbench.

In one run, on one machine:

* baseline: ``pgbench -i -s 10`` on a scratch database, then ``pgbench -c 16 -j 2 -T 20`` (TPC-B-like);
* (a) one entry per transaction (``post_entry_alone``: one round trip), random pairs of 1,000
  accounts, 16 concurrent workers; and the same entry joining a transaction of the caller's
  (``post_entry`` in ``db.transaction``, as the exchange's services write), for comparison;
* (b) one entry per transaction over 10 hot accounts; and again with each of them split into 8
  shards (docs/ledger.md, "Hot accounts");
* (c) atomic batches of 100 and of 1,000 random entries (``post_batch_alone``), 16 workers;
* batches shaped like the exchange's own: a deal's settlement (4 entries: seller, the one fee
  account every deal pays, the inventors' reward, the deposit back) and a voucher program's grant
  round (100 entries from one of 4 program accounts);
* (d) ``POST /api/v1/ledger/entries`` over HTTP against a running ``techx serve``, 16 connections.

Each prints entries/s, p50/p99 latency of a transaction (or request), peak memory (resident set of
the worker processes, or of the server) and the ratio of entries/s to pgbench's tps. Targets (issue
of the ledger's speed): (a) ≥ 0.75×, (b) ≥ 0.45×, (c) ≥ 3×, (d) ≥ 0.30×.

The machine is shared, and what else runs on it changes from minute to minute, so pgbench runs
again right before each case: each ratio is to the baseline measured next to it.

The 16 workers of (a) and (b) share two processes (one Python process cannot keep 16 one-entry
transactions busy on its own); those of (c) share one (a batch is mostly Python work, and a second
process only competes with PostgreSQL for the CPU). The server of (d) runs two processes
(``techx serve --workers 2``), as a production deployment runs several.

    make bench                       # or: .venv/bin/python bench/ledger.py
    TECHX_BENCH_SECONDS=30 ...       # measured seconds per case (default 15, after 2 s of warm-up)
    TECHX_BENCH_PG=postgresql://...  # the server's admin DSN (default postgres@127.0.0.1:5432)
    TECHX_BENCH_CASES=b,b8           # only these cases (default: all)
    TECHX_BENCH_HTTP_WORKERS=1,2,3   # (d) once per number of server processes (default 2)

(d) also notes the server's CPU time per request (user + system, all its processes, from /proc).
"""

from __future__ import annotations

import asyncio
import glob
import multiprocessing
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_DSN = os.environ.get("TECHX_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECONDS = float(os.environ.get("TECHX_BENCH_SECONDS", "15"))
WARMUP = 2.0
WORKERS = 16
PGBENCH_SECONDS = 20
TARGETS = {"a": 0.75, "b": 0.45, "c100": 3.0, "c1000": 3.0, "d": 0.30}
SETTLEMENT_HOT = 1  # the exchange's fee account, written by every settlement
GRANT_PROGRAMS = 4  # program accounts, each paying 100 enterprises per round


def database_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0].split("://", 1)[1]
    return f"{driver}://{base}/{name}"


async def recreate(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def peak_rss_mib(pid: int | str = "self") -> float:
    """The peak resident set size (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_peak_mib(pid: int) -> float:
    """Peak resident set of a process and its children (the server's workers), in MiB."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return peak_rss_mib(pid) + sum(peak_rss_mib(child) for child in children)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Result:
    name: str
    entries_per_s: float
    p50_ms: float
    p99_ms: float
    peak_mib: float
    note: str = ""


# -- baseline -----------------------------------------------------------------------------------------


PGBENCH_DB = "techx_bench_pgbench"


def pgbench_args() -> list[str]:
    host, _, rest = ADMIN_DSN.split("@", 1)[1].partition(":")
    port = rest.split("/", 1)[0] or "5432"
    user = ADMIN_DSN.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]
    return ["-h", host, "-p", port, "-U", user]


def init_pgbench() -> None:
    asyncio.run(recreate(PGBENCH_DB))
    subprocess.run(["pgbench", *pgbench_args(), "-i", "-s", "10", "-q", PGBENCH_DB], check=True, capture_output=True)


def run_pgbench() -> Result:
    name, dsn = PGBENCH_DB, pgbench_args()
    logs = tempfile.mkdtemp(prefix="pgbench-")
    try:
        run = subprocess.run(
            [
                "pgbench",
                *dsn,
                "-c",
                str(WORKERS),
                "-j",
                "2",
                "-T",
                str(PGBENCH_SECONDS),
                "-l",
                "--log-prefix",
                f"{logs}/tx",
                name,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout).group(1))
        latencies = [
            int(line.split()[2]) / 1000
            for path in glob.glob(f"{logs}/tx*")
            for line in Path(path).read_text().splitlines()
            if line
        ]
        return Result("pgbench TPC-B-like, scale 10", tps, percentile(latencies, 0.5), percentile(latencies, 0.99), 0)
    finally:
        shutil.rmtree(logs, ignore_errors=True)


# -- in-process cases (a), (b), (c) -------------------------------------------------------------------


async def prepare(name: str, n_accounts: int) -> list[str]:
    from exchange.platform.db import Database, create_engine
    from exchange.platform.migrate import upgrade
    from ledger import service as ledger

    await recreate(name)
    engine = create_engine(database_url(name), pool_size=2)
    await upgrade(engine)
    db = Database(engine)
    now = datetime.now(UTC)

    async def work(session: Any) -> list[str]:
        return [
            str((await ledger.create_account(session, code=f"bench:{i}", unit="CNY", type="asset", now=now)).id)
            for i in range(n_accounts)
        ]

    ids = await db.transaction(work)
    await db.dispose()
    return ids


async def _run_workers(
    url: str, case: str, ids: list[str], workers: int, start_at: float, alone: bool
) -> dict[str, Any]:
    from exchange.platform.db import Database, create_engine
    from ledger import service as ledger
    from ledger.domain import EntrySpec

    accounts = [uuid.UUID(i) for i in ids]
    db = Database(create_engine(url, pool_size=workers), retry_attempts=20)
    async with db.read() as session:
        await ledger.load_shards(session)  # as a server does at start-up
    measured_from, end = start_at + WARMUP, start_at + WARMUP + SECONDS
    latencies: list[float] = []
    entries = 0

    def transfer(debit: uuid.UUID, credit: uuid.UUID, amount: int, kind: str = "transfer") -> EntrySpec:
        return EntrySpec.transfer(debit, credit, amount, unit="CNY", kind=kind)

    def random_pair() -> EntrySpec:
        debit, credit = random.sample(accounts, 2)
        return transfer(debit, credit, random.randint(1, 10_000))

    def settlement() -> list[EntrySpec]:
        """A deal settled: the escrow pays the seller, the exchange's fee (one account, written by
        every deal) and the inventors' reward; the buyer's deposit goes back."""
        escrow, seller, reward, deposit, buyer = random.sample(accounts[SETTLEMENT_HOT:], 5)
        fee = accounts[random.randrange(SETTLEMENT_HOT)]
        price = random.randint(100_000, 10_000_000)
        return [
            transfer(escrow, seller, price * 85 // 100, "settlement"),
            transfer(escrow, fee, price * 5 // 100, "fee"),
            transfer(escrow, reward, price - price * 85 // 100 - price * 5 // 100, "reward"),
            transfer(deposit, buyer, 50_000, "deposit_release"),
        ]

    def grant() -> list[EntrySpec]:
        """A voucher program's grant round: one program account to 100 enterprises."""
        program = accounts[random.randrange(GRANT_PROGRAMS)]
        return [
            transfer(program, enterprise, 2_000_000, "grant")
            for enterprise in random.sample(accounts[GRANT_PROGRAMS:], 100)
        ]

    if case == "settle":
        make: Any = settlement
    elif case == "grant":
        make = grant
    elif case.startswith("c"):
        make = lambda: [random_pair() for _ in range(int(case[1:]))]  # noqa: E731
    else:
        make = random_pair

    async def worker() -> None:
        nonlocal entries
        while (now := time.time()) < end:
            work = make()
            began = time.perf_counter()
            if isinstance(work, EntrySpec) and alone:
                await ledger.post_entry_alone(db, work, now=datetime.now(UTC))
            elif isinstance(work, EntrySpec):
                await db.transaction(lambda s, e=work: ledger.post_entry(s, e, now=datetime.now(UTC)))
            elif alone:
                await ledger.post_batch_alone(db, work, now=datetime.now(UTC))
            else:
                await db.transaction(lambda s, b=work: ledger.post_batch(s, b, now=datetime.now(UTC)))
            if now >= measured_from and time.time() <= end:
                latencies.append((time.perf_counter() - began) * 1000)
                entries += 1 if isinstance(work, EntrySpec) else len(work)

    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(*(worker() for _ in range(workers)))
    await db.dispose()
    return {"entries": entries, "latencies": latencies, "peak_mib": peak_rss_mib()}


def _worker_process(url: str, case: str, ids: list[str], workers: int, start_at: float, alone: bool, out: Any) -> None:
    import uvloop

    out.send(uvloop.run(_run_workers(url, case, ids, workers, start_at, alone)))


async def shard_all(name: str, ids: list[str], shards: int) -> None:
    """Split these accounts into ``shards`` rows each, as ``techx ledger shard`` does."""
    from exchange.platform.db import Database, create_engine
    from ledger import service as ledger

    db = Database(create_engine(database_url(name), pool_size=2))
    now = datetime.now(UTC)
    for account_id in ids:
        await db.transaction(lambda s, a=account_id: ledger.shard_account(s, uuid.UUID(a), shards=shards, now=now))
    await db.dispose()


def run_case(
    case: str,
    title: str,
    n_accounts: int,
    processes: int,
    *,
    alone: bool = True,
    shards: int = 0,
    hot: int | None = None,
) -> Result:
    """``alone``: each transaction is the ledger write alone (``post_entry_alone``/``post_batch_alone``,
    one round trip on PostgreSQL); otherwise the write joins a transaction of the caller's
    (``post_entry``/``post_batch`` in ``db.transaction``), as the exchange's services do. ``shards``: the
    first ``hot`` accounts (all by default) split into that many rows each."""
    name = f"techx_bench_{case}"
    ids = asyncio.run(prepare(name, n_accounts))
    if shards:
        asyncio.run(shard_all(name, ids[:hot], shards))
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # every process starts together, after it has imported everything
    pipes, children = [], []
    for index in range(processes):
        share = WORKERS // processes + (1 if index < WORKERS % processes else 0)
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker_process, args=(database_url(name), case, ids, share, start_at, alone, send)
        )
        process.start()
        pipes.append(receive)
        children.append(process)
    outcomes = [pipe.recv() for pipe in pipes]
    for child in children:
        child.join()
    asyncio.run(drop(name))
    latencies = [x for o in outcomes for x in o["latencies"]]
    entries = sum(o["entries"] for o in outcomes)
    return Result(
        title,
        entries / SECONDS,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        sum(o["peak_mib"] for o in outcomes),
        f"{processes} process{'es' if processes > 1 else ''}",
    )


# -- (d) over HTTP ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _http_load(port: int, token: str, ids: list[str], connections: int) -> tuple[int, list[float]]:
    """A small keep-alive HTTP/1.1 client: a full-featured one would spend the CPU the server needs."""
    encoder = msgspec.json.Encoder()
    start_at = time.time() + 0.5
    measured_from, end = start_at + WARMUP, start_at + WARMUP + SECONDS
    latencies: list[float] = []
    created = 0

    async def connection() -> None:
        nonlocal created
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        while (now := time.time()) < end:
            debit, credit = random.sample(ids, 2)
            body = encoder.encode(
                {
                    "unit": "CNY",
                    "kind": "transfer",
                    "postings": [
                        {"account_id": debit, "side": "debit", "amount": 100},
                        {"account_id": credit, "side": "credit", "amount": 100},
                    ],
                }
            )
            head = (
                f"POST /api/v1/ledger/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            began = time.perf_counter()
            writer.write(head.encode() + body)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if status != 201:
                raise RuntimeError(f"POST /ledger/entries answered {status}")
            if now >= measured_from and time.time() <= end:
                latencies.append((time.perf_counter() - began) * 1000)
                created += 1
        writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return created, latencies


def server_env(name: str, keys: str, **settings: str) -> dict[str, str]:
    """The environment of a ``techx`` process serving the benchmark's database ``name``."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(name),
        "TECHX_KEYS_DIR": keys,
        "TECHX_LOG_LEVEL": "WARNING",
        **settings,
    }


def run_http_case(workers: int = 1) -> Result:
    import uvloop

    name = "techx_bench_http"
    ids = asyncio.run(prepare(name, 1000))
    keys = tempfile.mkdtemp(prefix="techx-bench-keys-")
    port = free_port()
    env = server_env(name, keys, TECHX_OPERATOR_PASSWORD="bench-operator-password")
    techx = [sys.executable, "-m", "exchange.server.cli"]
    subprocess.run(
        [*techx, "operator", "create", "--email", "bench@techx.example"],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    server = subprocess.Popen(
        [*techx, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"email": "bench@techx.example", "password": "bench-operator-password"}
        )
        token = login.json()["access_token"]
        created, latencies, cpu_ms = uvloop.run(_http_load_measured(port, token, ids, WORKERS, server.pid))
        peak = tree_peak_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(keys, ignore_errors=True)
        asyncio.run(drop(name))
    return Result(
        "(d) POST /ledger/entries over HTTP",
        created / SECONDS,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        peak,
        f"{workers} server process{'es' if workers > 1 else ''}, server CPU {cpu_ms:.2f} ms/request",
    )


HTTP_WORKERS = [int(n) for n in os.environ.get("TECHX_BENCH_HTTP_WORKERS", "2").split(",")]


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (the server's workers), in seconds."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for process in (pid, *children):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _http_load_measured(
    port: int, token: str, ids: list[str], connections: int, pid: int
) -> tuple[int, list[float], float]:
    """``_http_load``, and the server's CPU milliseconds per request over the same measured window."""
    measured_from = time.time() + 0.5 + WARMUP  # as ``_http_load`` counts

    async def cpu() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, measured_from - time.time()))
        before = tree_cpu_seconds(pid)
        await asyncio.sleep(max(0.0, measured_from + SECONDS - time.time()))
        return before, tree_cpu_seconds(pid)

    (created, latencies), (before, after) = await asyncio.gather(_http_load(port, token, ids, connections), cpu())
    return created, latencies, (after - before) * 1000 / max(created, 1)


# -- report -------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    version = subprocess.run(["psql", ADMIN_DSN, "-Atc", "SHOW server_version"], capture_output=True, text=True)
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, PostgreSQL {version.stdout.strip()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )


def main() -> int:
    print(f"machine: {machine()}")
    print(
        f"{WORKERS} workers, {SECONDS:.0f} s measured per case after {WARMUP:.0f} s of warm-up; "
        f"baseline: pgbench -c {WORKERS} -j 2 -T {PGBENCH_SECONDS} on a scale-10 database, before each case"
    )
    init_pgbench()
    cases = [
        ("a", lambda: run_case("a", "(a) 1 entry/tx, 1,000 accounts", 1000, 2)),
        ("a-tx", lambda: run_case("a", "(a) in the caller's transaction", 1000, 2, alone=False)),
        ("b", lambda: run_case("b", "(b) 1 entry/tx, 10 hot accounts", 10, 2)),
        ("b8", lambda: run_case("b8", "(b) 10 hot accounts, each sharded ×8", 10, 2, shards=8)),
        ("c100", lambda: run_case("c100", "(c) batches of 100", 1000, 1)),
        ("c1000", lambda: run_case("c1000", "(c) batches of 1,000", 1000, 1)),
        ("settle", lambda: run_case("settle", "settlements (4 entries, 1 fee acct)", 1000, 1)),
        ("settle8", lambda: run_case("settle", "settlements, the fee account ×8", 1000, 1, shards=8, hot=1)),
        ("grant", lambda: run_case("grant", "grant rounds (100 entries, 4 programs)", 1000, 1)),
        *(("d", lambda n=n: run_http_case(n)) for n in HTTP_WORKERS),
    ]
    if only := os.environ.get("TECHX_BENCH_CASES"):
        cases = [case for case in cases if case[0] in only.split(",")]
    print(
        f"{'case':36} {'pgbench':>8} {'entries/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'peak MiB':>9} "
        f"{'× pgbench':>10}  target"
    )
    missed = []
    try:
        for key, run in cases:
            baseline = run_pgbench()
            result = run()
            ratio = result.entries_per_s / baseline.entries_per_s
            target = TARGETS.get(key)
            verdict = "" if target is None else (f"≥ {target}× met" if ratio >= target else f"≥ {target}× MISSED")
            if target is not None and ratio < target:
                missed.append(key)
            print(
                f"{result.name:36} {baseline.entries_per_s:8.0f} {result.entries_per_s:10.0f} "
                f"{result.p50_ms:8.1f} {result.p99_ms:8.1f} {result.peak_mib:9.0f} {ratio:10.2f}  {verdict} "
                f"({result.note}; pgbench p50 {baseline.p50_ms:.1f} ms, p99 {baseline.p99_ms:.1f} ms)",
                flush=True,
            )
    finally:
        asyncio.run(drop(PGBENCH_DB))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"targets missed: {', '.join(missed)}" if missed else "every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
