"""What one bid costs the server in CPU, in-process (a report, not a test).

The app runs in this process on PostgreSQL and each request is one ASGI call (no sockets, no
client, no other load), so the CPU time per request is the server's own: the framework, the
reads and the transaction, without fan-out (nobody is subscribed). Measured, in one run:

* baseline: ``GET /health``, the framework's floor;
* a refused bid: below the current high (the caller's read and the screening read, then 422);
* an accepted bid: each one increment above the last (screening, then the transaction).

    .venv/bin/python bench/bid_cost.py
    TECHX_BENCH_REQUESTS=5000 ...    # requests per kind (default 3000)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.auction import ASKING, STEP, setup  # noqa: E402
from bench.ledger import database_url, drop, machine, recreate  # noqa: E402

REQUESTS = int(os.environ.get("TECHX_BENCH_REQUESTS", "3000"))
DB_NAME = "techx_bench_bid_cost"


async def call(app: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    """One request as the server hands it to the app; returns the status."""
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return incoming.pop() if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return int(sent[0]["status"])


async def cpu_per_request(kind: Callable[[int], Awaitable[int]], expected: int) -> float:
    """Milliseconds of this process's CPU per request, after a warm-up."""
    for n in range(200):
        assert await kind(n) == expected
    started = time.process_time()
    for n in range(REQUESTS):
        status = await kind(n)
        assert status == expected, status
    return (time.process_time() - started) / REQUESTS * 1000


async def measure(env: dict[str, str], bidders: list[tuple[str, str]], hot: str) -> None:
    from exchange.platform.settings import Settings
    from exchange.server.app import create_app

    app = create_app(Settings.from_env(env), run_background_tasks=False)
    async with app.lifespan():
        tokens = [app.state.tokens.issue(uuid.UUID(user_id)) for user_id, _ in bidders]
        path = f"/api/v1/auctions/{hot}/bids"
        amounts = iter(range(ASKING + 1000 * STEP, 10**12, STEP))

        def bid(n: int, amount: int) -> Awaitable[int]:
            headers = {
                "Authorization": f"Bearer {tokens[n % len(tokens)]}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "application/json",
            }
            return call(app, "POST", path, b'{"amount": %d}' % amount, headers)

        assert await bid(0, next(amounts)) == 201  # a high for the refusals to be below
        health = await cpu_per_request(lambda n: call(app, "GET", "/health", b"", {}), 200)
        refused = await cpu_per_request(lambda n: bid(n, ASKING), 422)
        accepted = await cpu_per_request(lambda n: bid(n, next(amounts)), 201)
    print(f"baseline GET /health: {health:.3f} ms of CPU a request")
    print(f"refused bid: {refused:.3f} ms of CPU ({refused / health:.1f}× /health)")
    print(f"accepted bid: {accepted:.3f} ms of CPU ({accepted / health:.1f}× /health)")


def main() -> None:
    print(f"machine: {machine()}")
    print(f"{REQUESTS} requests of each kind, in-process on PostgreSQL, after 200 to warm up")
    asyncio.run(recreate(DB_NAME))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(DB_NAME),
        "TECHX_KEYS_DIR": tempfile.mkdtemp(prefix="techx-bench-keys-"),
        "TECHX_LOG_LEVEL": "WARNING",
        "TECHX_AUCTION_MINUTES": "600",
    }
    try:
        bidders, hot, _, _ = asyncio.run(setup(env, bidders_count=3, auctions_count=1, per_bidder=1))
        asyncio.run(measure(env, bidders, hot))
    finally:
        asyncio.run(drop(DB_NAME))


if __name__ == "__main__":
    main()
