"""Portal pages benchmark (a report, not a test): public reads per second against ``GET /health``.

One real ``techx serve`` process on a fresh PostgreSQL database, 16 keep-alive connections from
``wrk`` (Debian's package: ``apt-get install wrk``; a load generator written in C, so that the
client does not take the CPU the server needs on a small machine). Two data sets:

* **A, the demo**: ``techx demo`` (the exchange a newcomer sees after ``make run``);
* **B, 100,000 listings**: the demo plus 100,000 generated public listings (``bench/search.py``'s
  generator: Chinese and English titles and summaries cut into words with jieba as the service
  does, inserted with SQLAlchemy Core), their announcements dated around the present (open
  notices closing in the coming weeks, so that the sweeper has nothing to do during the run), and
  an announcement notice for each, written with one ``INSERT … SELECT``.

For each data set the server runs twice: with the cache of anonymous reads turned off
(``TECHX_PAGE_CACHE_SECONDS=0``: every request runs its handler, what a cache miss costs) and on
(the default): then each read is measured again with ``If-None-Match`` carrying the ETag of the
answer (a browser revalidating its copy: ``304``). Reads, each with the ``/health`` baseline of
the same server measured just before them:

* JSON: ``/api/v1/notices``, ``/api/v1/listings``, ``/api/v1/listings?q=储氢``, ``/api/v1/stats``,
  ``/api/v1/home``;
* HTML: ``/notices``, ``/listings``, ``/listings?q=储氢``, ``/``, ``/stats`` — each only if the page
  exists (404 is reported as skipped). HTML requests carry the CSRF cookie a browser has after its
  first page, no session cookie (anonymous).

It prints requests/s, p50/p95/p99 latency, the ratio to ``/health`` and the server's CPU, and
checks the goals: notices, listings and search pages ≥ 1,000 req/s on A and ≥ 300 on B, p95 <
50 ms.

    .venv/bin/python bench/pages.py
    TECHX_BENCH_SECONDS=10 ...       # measured seconds per read (default 10, after 1 s of warm-up)
    TECHX_BENCH_SETS=A,B ...         # which data sets (default A,B)
    TECHX_BENCH_CACHE=off,on ...     # which server configurations (default off,on)
    TECHX_BENCH_LISTINGS=100000 ...  # listings added in B
    TECHX_BENCH_KEEP=1 ...           # keep the seeded databases (and reuse them on the next run)
    TECHX_BENCH_PG=postgresql://...  # admin DSN (default postgres@127.0.0.1:5432)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ledger import ADMIN_DSN, database_url, drop, free_port, machine, recreate, server_env  # noqa: E402

SECONDS = float(os.environ.get("TECHX_BENCH_SECONDS", "10"))
SETS = os.environ.get("TECHX_BENCH_SETS", "A,B").split(",")
CACHE = os.environ.get("TECHX_BENCH_CACHE", "off,on").split(",")
LISTINGS = int(os.environ.get("TECHX_BENCH_LISTINGS", "100000"))
KEEP = os.environ.get("TECHX_BENCH_KEEP", "") not in ("", "0")
CONNECTIONS = 16
WORD = "储氢"

JSON_READS = ["/api/v1/notices", "/api/v1/listings", f"/api/v1/listings?q={WORD}", "/api/v1/stats", "/api/v1/home"]
PAGES = ["/notices", "/listings", f"/listings?q={WORD}", "/", "/stats"]
GOALS = {"/notices": (1000, 300), "/listings": (1000, 300), f"/listings?q={WORD}": (1000, 300)}

# wrk's report as one JSON line (latencies in microseconds); non-2xx/3xx answers count as errors.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


# -- data ---------------------------------------------------------------------------------------------------


def techx(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "exchange.server.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"techx {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


async def database_exists(name: str) -> bool:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def demo(name: str, env: dict[str, str]) -> None:
    started = time.perf_counter()
    asyncio.run(recreate(name))
    techx(env, "demo")
    print(f"  techx demo: {time.perf_counter() - started:.0f} s", flush=True)


async def add_listings(name: str, count: int) -> None:
    """``count`` public listings from bench/search.py's generator, dated around the present, each
    with its announcement notice."""
    from sqlalchemy import text

    from bench import search
    from exchange.platform.db import Database, create_engine

    started = time.perf_counter()
    rows = search.generate(count)
    for row in rows:
        row["i"] += 1_000_000  # listing numbers clear of the demo's
        if row["status"] == "auctioning":
            row["status"] = "announced"  # an auction needs its trading rows; the board needs open notices
    search.segment_all(rows)
    print(f"  generated and segmented {count:,} listings in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    db = Database(create_engine(database_url(name), pool_size=2))
    try:
        org, user = await search.seller_org(db)
        await search.seed(db, rows, org, user)
        now = datetime.now(UTC)

        async def present(session: Any) -> None:
            # Announcements of the last 20 days stay open for weeks yet; the others ended earlier.
            await session.execute(
                text(
                    "UPDATE listings SET announced_at = CAST(:now AS timestamptz) - (random() * interval '20 days'), "
                    "first_announced_at = NULL WHERE seller_org_id = :org AND status = 'announced'"
                ),
                {"now": now, "org": org},
            )
            await session.execute(
                text(
                    "UPDATE listings SET announced_at = "
                    "CAST(:now AS timestamptz) - interval '60 days' - (random() * interval '300 days') "
                    "WHERE seller_org_id = :org AND status NOT IN ('announced', 'draft', 'under_review')"
                ),
                {"now": now, "org": org},
            )
            await session.execute(
                text(
                    "UPDATE listings SET first_announced_at = announced_at, published_at = announced_at, "
                    "created_at = announced_at, updated_at = announced_at, "
                    "closes_at = announced_at + interval '28 days' "
                    "WHERE seller_org_id = :org AND announced_at IS NOT NULL"
                ),
                {"org": org},
            )
            await session.execute(
                text(
                    "INSERT INTO notices (id, kind, subject_type, subject_id, title, status, opens_at, closes_at, "
                    "content, signature, key_id, created_at, ended_at, end_reason) "
                    "SELECT gen_random_uuid(), 'listing_announcement', 'listing', id, title, "
                    "CASE WHEN status = 'announced' THEN 'open' ELSE 'closed' END, announced_at, closes_at, "
                    "json_build_object('title', title, 'number', number, 'summary', summary)::text, "
                    "'benchmark', 'benchmark', announced_at, "
                    "CASE WHEN status = 'announced' THEN NULL ELSE closes_at END, '' "
                    "FROM listings WHERE seller_org_id = :org AND announced_at IS NOT NULL"
                ),
                {"org": org},
            )
            await session.execute(
                text(
                    "UPDATE listings SET notice_id = n.id FROM notices n "
                    "WHERE n.subject_id = listings.id AND listings.seller_org_id = :org"
                ),
                {"org": org},
            )

        await db.transaction(present)
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("listings", "listing_ip_assets", "notices"):
                await conn.execute(text(f"VACUUM (FULL, ANALYZE) {table}"))  # the updates above left old rows
    finally:
        await db.dispose()
    print(f"  inserted and indexed in {time.perf_counter() - started:.0f} s", flush=True)


# -- load ---------------------------------------------------------------------------------------------------


def wrk(base: str, path: str, headers: dict[str, str], seconds: float) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT)
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    url = base + quote(path, safe="/?=&")
    try:
        subprocess.run([*args[:3], "-d1s", *args[4:], url], capture_output=True, check=True)  # warm-up
        done = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    finally:
        script.unlink()
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


class Server:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "exchange.server.cli", "serve", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit(f"the server of {name} did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def row(label: str, result: dict[str, float], health: float, cpu: float) -> str:
    return (
        f"  {label:34s} {result['rps']:8.0f} req/s  p50 {result['p50'] / 1000:6.1f}  p95 {result['p95'] / 1000:6.1f}  "
        f"p99 {result['p99'] / 1000:6.1f} ms  ×{result['rps'] / health:5.3f} of /health  "
        f"server CPU {cpu:3.0f}%" + (f"  {result['errors']} errors" if result["errors"] else "")
    )


def measure(data_set: str, server: Server, cache: str, results: list[dict[str, Any]]) -> None:
    client = httpx.Client(base_url=server.base, timeout=120)
    csrf = client.get("/", headers={"Accept": "text/html"}).cookies.get("techx_csrf")
    for path in JSON_READS + PAGES:
        html = not path.startswith("/api/")
        headers = {"Accept": "text/html"} if html else {"Accept": "application/json"}
        if html and csrf:
            headers["Cookie"] = f"techx_csrf={csrf}"
        first = client.get(path, headers=headers)
        if first.status_code != 200:
            print(f"  {path:34s} skipped: {first.status_code} (not on this branch yet)", flush=True)
            continue
        health = wrk(server.base, "/health", {}, SECONDS)["rps"]
        variants = [("", headers)]
        if cache == "on" and first.headers.get("etag"):
            variants.append((" (304)", {**headers, "If-None-Match": first.headers["etag"]}))
        for suffix, sent in variants:
            cpu_before, started = server.cpu_seconds(), time.perf_counter()
            result = wrk(server.base, path, sent, SECONDS)
            cpu = (server.cpu_seconds() - cpu_before) / (time.perf_counter() - started) * 100
            print(row(path + suffix, result, health, cpu), f"| /health {health:.0f} req/s", flush=True)
            results.append(
                {"set": data_set, "cache": cache, "path": path + suffix, "health": health, "cpu": cpu, **result}
            )
    client.close()


def verdict(results: list[dict[str, Any]]) -> None:
    print("\ngoals (cache on, full answers; HTML pages): ≥ 1,000 req/s on A, ≥ 300 on B, p95 < 50 ms")
    for result in results:
        goal = GOALS.get(result["path"])
        if goal is None or result["cache"] != "on":
            continue
        floor = goal[0] if result["set"] == "A" else goal[1]
        met = result["rps"] >= floor and result["p95"] < 50_000
        print(
            f"  {result['set']} {result['path']:24s} {result['rps']:6.0f} req/s (≥ {floor}), "
            f"p95 {result['p95'] / 1000:.1f} ms: {'met' if met else 'MISSED'}"
        )


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    print(f"machine: {machine()}")
    print(f"{CONNECTIONS} connections (wrk, 1 thread), {SECONDS:g} s per read after 1 s of warm-up, one server process")
    results: list[dict[str, Any]] = []
    keys = tempfile.mkdtemp(prefix="techx-bench-keys-")
    names = {"A": "techx_bench_pages_demo", "B": "techx_bench_pages_100k"}
    try:
        for data_set in SETS:
            name = names[data_set]
            env = server_env(name, keys + "-" + data_set, TECHX_LOG_JSON="true", TECHX_DB_POOL_SIZE="20")
            print(f"== {data_set}: {'the demo' if data_set == 'A' else f'the demo and {LISTINGS:,} listings'}")
            if not (KEEP and asyncio.run(database_exists(name))):
                demo(name, env)
                if data_set == "B":
                    asyncio.run(add_listings(name, LISTINGS))
            for cache in CACHE:
                print(f"-- cache {cache}", flush=True)
                server = Server(name, {**env, "TECHX_PAGE_CACHE_SECONDS": "2" if cache == "on" else "0"})
                try:
                    measure(data_set, server, cache, results)
                finally:
                    server.stop()
            if not KEEP:
                asyncio.run(drop(name))
    finally:
        for data_set in SETS:
            shutil.rmtree(keys + "-" + data_set, ignore_errors=True)
        shutil.rmtree(keys, ignore_errors=True)
    verdict(results)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
