"""Auction benchmark (a report, not a test): bids per second, latency and live-event fan-out on PostgreSQL.

In one run, against one running ``techx serve`` (one process: live events use the in-memory channels
backend; several processes would share Redis), with 200 more connections subscribed to
``GET /auctions/{id}/events`` of the hot auction during (0)-(1), timing each ``bid`` event from
commit to delivery:

* (0) alone: one bidder, one request at a time, for 5 s: what a bid costs when nothing queues;
* (1r) one hot auction at a bidder's pace: 200 bidders, each with its own token and connection,
  each bidding at random moments (Poisson) ``RATE`` times a second (default 1: 200 bids/s in all,
  far more than people bidding by hand) for ``SECONDS`` (default 60) at the known high bid plus
  one to three increments. Latency counts from the moment the bid was due, so a server that falls
  behind is charged for the queue;
* (1) one hot auction flat out: the same 200 bidders, each sending its next bid as soon as the
  last is answered (200 requests always in flight): the server's capacity; by Little's law the
  latency is then 200 / throughput whatever the code does;
* (2) 50 auctions at once, flat out: the same 200 bidders, each holding intents on 10 of them;
* baseline: right after each case, ``GET /health`` over the same 200 connections in the same
  pattern (at the same pace for (1r), the same number of requests flat out for (1) and (2)): the
  framework's own floor on this machine.

It prints accepted and rejected bids/s, p50/p99 latency of a bid (and of accepted ones), the SSE
delay p50/p99, the baseline's requests/s and p50/p99, the ratios, the CPU used by the server, by
PostgreSQL and by this client during each case, and the load average. Target: p99 bid latency
< 100 ms with 200 bidders on one auction.

Setup runs in this process with a clock set in the past, so that announcements have ended and the
sweeper opens the auctions at the real present; the server then takes bids on the system clock.

    .venv/bin/python bench/auction.py
    TECHX_BENCH_SECONDS=20 ...       # measured seconds per case (default 60)
    TECHX_BENCH_RATE=2 ...           # bids per second of each bidder in (1r) (default 1)
    TECHX_BENCH_CASES=0,1r ...       # which cases (default 0,1r,1,2)
    TECHX_BENCH_SUBSCRIBERS=0 ...    # live-event subscribers during (0)-(1) (default 200)
    TECHX_BENCH_WORKERS=2 ...        # server processes (default 1; more use the Redis channels backend)
    TECHX_BENCH_PG=postgresql://...  # admin DSN (default postgres@127.0.0.1:5432)
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ledger import (  # noqa: E402
    drop,
    free_port,
    machine,
    percentile,
    recreate,
    server_env,
    tree_peak_mib,
)

SECONDS = float(os.environ.get("TECHX_BENCH_SECONDS", "60"))
# Server processes; more than one carries live events through Redis (TECHX_REDIS_URL).
WORKERS = int(os.environ.get("TECHX_BENCH_WORKERS", "1"))
RATE = float(os.environ.get("TECHX_BENCH_RATE", "1"))
CASES = set(os.environ.get("TECHX_BENCH_CASES", "0,1r,1,2").split(","))
BIDDERS = 200
SUBSCRIBERS = int(os.environ.get("TECHX_BENCH_SUBSCRIBERS", "200"))  # 0: no live events to deliver
AUCTIONS = 50
PER_BIDDER = 10  # intents of each bidder among the 50 auctions
ASKING, STEP = 1_000_000, 10_000  # ¥10,000, increments of ¥100
DB_NAME = "techx_bench_auction"


# -- setup (in this process, on a clock in the past) ------------------------------------------------------


async def setup(
    env: dict[str, str], bidders_count: int = BIDDERS, auctions_count: int = AUCTIONS, per_bidder: int = PER_BIDDER
) -> tuple[list[tuple[str, str]], str, list[str], dict[str, list[str]]]:
    """Operator, seller, ``bidders_count`` funded bidders, a hot auction and ``auctions_count`` others,
    open now; each bidder holds intents on the hot one and ``per_bidder`` others. Returns (user_id,
    org_id) of the bidders, the hot auction's id, the others and each bidder's auctions among them."""
    from exchange.parties import service as parties
    from exchange.parties.domain import OrgKind
    from exchange.platform.clock import ManualClock
    from exchange.platform.migrate import upgrade
    from exchange.platform.settings import Settings
    from exchange.server.app import create_app
    from exchange.trading import intents
    from ledger import service as ledger
    from tests.helpers import credit_code, listing_body

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per setup request otherwise
    settings = Settings.from_env(env)
    real_now = datetime.now(UTC)
    clock = ManualClock(real_now - timedelta(days=45))
    app = create_app(settings, clock=clock, run_background_tasks=False)
    db = app.state.db
    await upgrade(db.engine)
    now = clock.now()
    ops = await db.transaction(
        lambda s: parties.create_operator(s, email="ops@bench.example", password_hash="x", display_name="ops", now=now)
    )

    async def org(n: int, kind: OrgKind) -> Any:
        return await db.transaction(
            lambda s: parties.register(
                s,
                email=f"u{n}-{uuid.uuid4().hex[:6]}@bench.example",
                password_hash="x",
                display_name=f"用户{n}",
                org_name=f"机构{n}",
                credit_code=credit_code(),
                kind=kind,
                now=now,
                verified=True,
            )
        )

    seller_user, _ = await org(0, OrgKind.ENTERPRISE)
    bidders = [await org(n + 1, OrgKind.ENTERPRISE) for n in range(bidders_count)]

    async def fund(session: Any) -> None:
        bank = await ledger.get_or_create_account(session, "bank:settlement", "CNY", "asset", now=now)
        for _, bidder_org in bidders:
            cash = await ledger.get_or_create_account(
                session, f"org:{bidder_org.id}:cash", "CNY", "liability", True, now=now
            )
            await ledger.transfer(session, bank.id, cash.id, 10**10, unit="CNY", kind="top_up", now=now)

    await db.transaction(fund)
    transport = httpx.ASGITransport(app=app)
    seller_h = {"Authorization": f"Bearer {app.state.tokens.issue(seller_user.id)}"}
    ops_h = {"Authorization": f"Bearer {app.state.tokens.issue(ops.id)}"}
    listing_ids = []
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for n in range(auctions_count + 1):
            body = listing_body(mode="auction", title=f"基准测试拍卖 {n}")
            body["pricing"] = {"mode": "auction", "asking_price": ASKING, "increment": STEP}
            made = (await client.post("/api/v1/listings", json=body, headers=seller_h)).json()
            await client.post(f"/api/v1/listings/{made['id']}/submit", headers=seller_h)
            approved = await client.post(
                f"/api/v1/listings/{made['id']}/review", json={"decision": "approve"}, headers=ops_h
            )
            assert approved.status_code == 200, approved.text
            listing_ids.append(made["id"])
        hot, others = listing_ids[0], listing_ids[1:]
        rng = random.Random(7)
        chosen: dict[str, list[str]] = {}
        principals = []
        from exchange.parties.service import load_principal

        async with db.read() as session:
            for user, _ in bidders:
                principals.append(await load_principal(session, user.id))
        for principal in principals:
            mine = rng.sample(others, per_bidder)
            chosen[str(principal.user_id)] = mine
            for listing_id in [hot, *mine]:
                await db.transaction(
                    lambda s, p=principal, lid=listing_id: intents.register_intent(
                        s, app.state.trading, p, uuid.UUID(lid), clock.now()
                    )
                )
        clock.set(datetime.now(UTC))
        await app.state.sweeper.run_once(db, clock.now())  # the announcements end: the auctions are scheduled
        auctions: dict[str, str] = {}
        from sqlalchemy import select, update

        from exchange.trading.models import Auction

        # They would open at the set time of the next working day; the benchmark opens them now.
        ends = clock.now() + timedelta(minutes=settings.auction_minutes)
        await db.transaction(
            lambda s: s.execute(update(Auction).values(starts_at=clock.now(), scheduled_end=ends, ends_at=ends))
        )
        async with db.read() as session:
            for row in (await session.scalars(select(Auction))).all():
                auctions[str(row.listing_id)] = str(row.id)
    await db.dispose()
    assert len(auctions) == auctions_count + 1, f"{len(auctions)} auctions opened"
    by_user = {u: [auctions[lid] for lid in lids] for u, lids in chosen.items()}
    return [(str(u.id), str(o.id)) for u, o in bidders], auctions[hot], list(auctions.values()), by_user


# -- a small keep-alive HTTP/1.1 client (a full-featured one would spend the CPU the server needs) ----------


class Connection:
    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", key: bool = False) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
        if key:
            head += f"Idempotency-Key: {uuid.uuid4().hex}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        message = head.encode() + b"\r\n" + body
        for _ in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            self.writer.write(message)
            status_line = await self.reader.readline()
            if status_line:
                break
            # The server closes a connection idle for 5 s (uvicorn's keep-alive): open another, as browsers do.
            self.close()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Load:
    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    latencies: list[float] = field(default_factory=list)
    accepted_latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)  # (1r): how late a due bid left (its own previous one in flight)
    loop_lags: list[float] = field(default_factory=list)  # how late this client's event loop woke a 10 ms timer
    errors: list[str] = field(default_factory=list)


async def bid_load(
    connections: list[Connection], choices: list[list[str]], seconds: float, rate: float | None = None
) -> Load:
    """Each connection bids flat out, or (``rate``) at Poisson moments ``rate`` times a second."""
    load = Load()
    highs: dict[str, int] = {}
    end = time.perf_counter() + seconds
    encoder = msgspec.json.Encoder()

    async def run(conn: Connection, mine: list[str]) -> None:
        rng = random.Random()
        due = time.perf_counter() + (rng.expovariate(rate) if rate else 0.0)
        while due < end:
            if rate:
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                load.lags.append(max(0.0, time.perf_counter() - due) * 1000)
            auction = rng.choice(mine)
            high = highs.get(auction)
            amount = ASKING if high is None else high + STEP * rng.randint(1, 3)
            began = due if rate else time.perf_counter()
            status, body = await conn.request(
                "POST", f"/api/v1/auctions/{auction}/bids", encoder.encode({"amount": amount}), key=True
            )
            latency = (time.perf_counter() - began) * 1000
            load.latencies.append(latency)
            load.requests += 1
            if status == 201:
                load.accepted += 1
                load.accepted_latencies.append(latency)
                highs[auction] = max(highs.get(auction, 0), amount)
            elif status == 422:
                load.rejected += 1
                detail = msgspec.json.decode(body).get("detail", "")
                if "current high bid is" in detail:  # learn the high bid from the refusal
                    highs[auction] = max(highs.get(auction, 0), int(detail.split("is ")[1].split(" ")[0]))
            else:
                load.errors.append(f"{status} {body[:200]!r}")
            due = due + rng.expovariate(rate) if rate else time.perf_counter()

    async def watch_loop() -> None:  # is this client itself the bottleneck?
        while time.perf_counter() < end:
            began = time.perf_counter()
            await asyncio.sleep(0.01)
            load.loop_lags.append((time.perf_counter() - began - 0.01) * 1000)

    await asyncio.gather(watch_loop(), *(run(c, m) for c, m in zip(connections, choices, strict=True)))
    return load


async def health_load(
    connections: list[Connection], total: int, seconds: float = 0.0, rate: float | None = None
) -> tuple[float, list[float]]:
    """``total`` requests flat out, or (``rate``) each connection at Poisson moments for ``seconds``."""
    latencies: list[float] = []
    remaining = [total]

    async def run(conn: Connection) -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            began = time.perf_counter()
            status, _ = await conn.request("GET", "/health")
            latencies.append((time.perf_counter() - began) * 1000)
            assert status == 200

    async def paced(conn: Connection, end: float) -> None:
        rng = random.Random()
        due = time.perf_counter() + rng.expovariate(rate or 1)
        while due < end:
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            status, _ = await conn.request("GET", "/health")
            latencies.append((time.perf_counter() - due) * 1000)
            assert status == 200
            due += rng.expovariate(rate or 1)

    started = time.perf_counter()
    if rate:
        await asyncio.gather(*(paced(c, started + seconds) for c in connections))
    else:
        await asyncio.gather(*(run(c) for c in connections))
    return time.perf_counter() - started, latencies


class CpuMeter:
    """CPU seconds of the server's processes, of PostgreSQL's and of this client over a case."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.hz = os.sysconf("SC_CLK_TCK")

    def _ticks(self, pid: int | str) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])

    def sample(self) -> tuple[float, float, float, float]:
        children = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children").read_text().split()
        server = sum(self._ticks(p) for p in [self.server_pid, *children]) / self.hz
        postgres = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip() == "postgres":
                        postgres += self._ticks(entry.name)
                except OSError:
                    continue
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return server, postgres / self.hz, usage.ru_utime + usage.ru_stime, time.perf_counter()

    @staticmethod
    def describe(before: tuple[float, ...], after: tuple[float, ...]) -> str:
        wall = after[3] - before[3]
        server, postgres, client = ((a - b) / wall * 100 for a, b in zip(after[:3], before[:3], strict=True))
        return (
            f"CPU (of {os.cpu_count() * 100}%): server {server:.0f}%, PostgreSQL {postgres:.0f}%, "
            f"this client {client:.0f}%; load average {os.getloadavg()[0]:.2f}"
        )


async def subscribe(port: int, token: str, auction: str, delays: list[float], ready: asyncio.Event, n: list[int]):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/auctions/{auction}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    while (line := await reader.readline()) not in (b"\r\n", b""):
        pass
    n[0] += 1
    if n[0] == SUBSCRIBERS:
        ready.set()
    try:
        while line := await reader.readline():
            if line.startswith(b"data:") and line[5:].strip():
                data = msgspec.json.decode(line[5:])
                if "published_at" in data and "amount" in data:
                    delays.append((time.time() - data["published_at"]) * 1000)
    finally:
        writer.close()


def report(name: str, load: Load, seconds: float, health: tuple[float, list[float]], cpu: str, extra: str = "") -> None:
    elapsed, health_lat = health
    p99 = percentile(load.latencies, 0.99)
    health_rps = len(health_lat) / elapsed
    bid_rps = load.requests / seconds
    print(
        f"{name}: {load.accepted / seconds:.0f} accepted/s, {load.rejected / seconds:.0f} rejected/s, "
        f"bid p50 {percentile(load.latencies, 0.5):.1f} ms, p99 {p99:.1f} ms "
        f"(accepted: p50 {percentile(load.accepted_latencies, 0.5):.1f} ms, "
        f"p99 {percentile(load.accepted_latencies, 0.99):.1f} ms){extra}"
    )
    if load.lags:
        print(
            f"  due bids left late (behind the bidder's previous one) by p50 {percentile(load.lags, 0.5):.1f} ms, "
            f"p99 {percentile(load.lags, 0.99):.1f} ms"
        )
    print(
        f"  this client's event loop late by p50 {percentile(load.loop_lags, 0.5):.1f} ms, "
        f"p99 {percentile(load.loop_lags, 0.99):.1f} ms"
    )
    print(f"  {cpu}")
    print(
        f"  baseline GET /health ×{len(health_lat)}: {health_rps:.0f} req/s, p50 {percentile(health_lat, 0.5):.1f} ms, "
        f"p99 {percentile(health_lat, 0.99):.1f} ms | ratio bid/health: throughput {bid_rps / health_rps:.2f}×, "
        f"p99 {p99 / percentile(health_lat, 0.99):.1f}× | target p99 < 100 ms: {'met' if p99 < 100 else 'missed'}"
    )
    if load.errors:
        print(f"  {len(load.errors)} unexpected answers, e.g. {load.errors[0]}")


async def measure(
    port: int, keys: str, bidders: list[tuple[str, str]], hot: str, by_user: dict[str, list[str]], server_pid: int
):
    from exchange.parties.auth import TokenIssuer
    from exchange.platform.clock import SystemClock
    from exchange.platform.keys import load_keys

    tokens = TokenIssuer(load_keys(Path(keys)).jwt, 3600, SystemClock())
    bid_conns = [Connection(port, tokens.issue(uuid.UUID(u))) for u, _ in bidders]
    meter = CpuMeter(server_pid)

    delays: list[float] = []
    ready, count = asyncio.Event(), [0]
    subscribers = [
        asyncio.create_task(
            subscribe(port, tokens.issue(uuid.UUID(bidders[i % BIDDERS][0])), hot, delays, ready, count)
        )
        for i in range(SUBSCRIBERS)
    ]
    if SUBSCRIBERS:
        await asyncio.wait_for(ready.wait(), 60)
    await asyncio.sleep(0.5)

    def sse() -> str:
        said = (
            f", SSE delay to {SUBSCRIBERS} subscribers p50 {percentile(delays, 0.5):.1f} ms, "
            f"p99 {percentile(delays, 0.99):.1f} ms ({len(delays)} deliveries)"
        )
        delays.clear()
        return said

    if "0" in CASES:
        alone = 5.0
        before = meter.sample()
        load = await bid_load(bid_conns[:1], [[hot]], alone)
        cpu = meter.describe(before, meter.sample())
        health = await health_load(bid_conns[:1], load.requests)
        report("(0) one bidder alone, one request at a time", load, alone, health, cpu, sse())
    if "1r" in CASES:
        before = meter.sample()
        load = await bid_load(bid_conns, [[hot]] * BIDDERS, SECONDS, RATE)
        cpu = meter.describe(before, meter.sample())
        extra = sse()
        health = await health_load(bid_conns, 0, SECONDS, RATE)
        report(f"(1r) one hot auction, 200 bidders at {RATE:g} bid/s each", load, SECONDS, health, cpu, extra)
    if "1" in CASES:
        before = meter.sample()
        load = await bid_load(bid_conns, [[hot]] * BIDDERS, SECONDS)
        cpu = meter.describe(before, meter.sample())
        extra = sse()
        health = await health_load(bid_conns, load.requests)
        report("(1) one hot auction, 200 bidders flat out", load, SECONDS, health, cpu, extra)
    for task in subscribers:
        task.cancel()
    await asyncio.gather(*subscribers, return_exceptions=True)
    if "2" in CASES:
        before = meter.sample()
        load = await bid_load(bid_conns, [by_user[u] for u, _ in bidders], SECONDS)
        cpu = meter.describe(before, meter.sample())
        health = await health_load(bid_conns, load.requests)
        report(f"(2) {AUCTIONS} auctions at once, 200 bidders flat out", load, SECONDS, health, cpu)
    for conn in bid_conns:
        conn.close()


def main() -> int:
    print(f"machine: {machine()}")
    processes = "one server process" if WORKERS == 1 else f"{WORKERS} server processes, events through Redis"
    print(f"{BIDDERS} bidders, {SUBSCRIBERS} SSE subscribers, {SECONDS:.0f} s per case, {processes}")
    asyncio.run(recreate(DB_NAME))
    keys = tempfile.mkdtemp(prefix="techx-bench-keys-")
    port = free_port()
    pool = os.environ.get("TECHX_DB_POOL_SIZE", "20")
    env = server_env(DB_NAME, keys, TECHX_AUCTION_MINUTES="60", TECHX_DB_POOL_SIZE=pool)
    if WORKERS > 1:
        env["TECHX_CHANNELS_BACKEND"] = "redis"
    server = None
    try:
        started = time.perf_counter()
        bidders, hot, _, by_user = asyncio.run(setup(env))
        made = BIDDERS * (PER_BIDDER + 1)
        print(f"setup: {time.perf_counter() - started:.0f} s ({AUCTIONS + 1} auctions, {made} intents)")
        server = subprocess.Popen(
            [sys.executable, "-m", "exchange.server.cli", "serve", "--port", str(port), "--workers", str(WORKERS)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(measure(port, keys, bidders, hot, by_user, server.pid))
        print(f"server peak memory: {tree_peak_mib(server.pid):.0f} MiB")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(keys, ignore_errors=True)
        asyncio.run(drop(DB_NAME))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
