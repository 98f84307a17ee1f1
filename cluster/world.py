"""The exchange the fault suite trades on: bidders with deposits in one running auction, and ledger
accounts for a stream of direct ledger writes, built on the cluster's primary before the API hosts start.

It is built by the exchange's own services in this process (an app over the primary's Unix socket,
with a hand-moved clock), the way the suite's integration tests build theirs, so set-up costs no
HTTP. The clock ends at the auction's opening; the API hosts then start with the test clock ahead of
real time by ``offset_seconds``, so every host, and a host restarted after a crash, agrees on the
time and the auction runs on them for its thirty minutes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from exchange.platform.clock import ManualClock
from exchange.server.app import create_app
from tests.calendar_helpers import load_2027_fixture
from tests.conftest import make_settings
from tests.helpers import operator, verified
from tests.trading_helpers import announced, fund, intent, to_auction_opening, to_end_of_announcement

API = "/api/v1"
TOKEN_LIFETIME_SECONDS = 4 * 3600  # the hosts' setting too: the tokens made here outlive the suite
FUNDS = 10**12  # fen in each bidder's wallet: no bid fails for want of money
LEDGER_ACCOUNTS = 8


@dataclass
class Bidder:
    org_id: str
    token: str


@dataclass
class World:
    auction_id: str
    increment: int
    reserve: int  # the first acceptable bid
    ops: str  # an operator's token: the ledger writes
    bidders: list[Bidder]
    source: str  # a ledger asset account the writes draw from
    accounts: list[str]  # liability accounts they pay into
    offset_seconds: int  # the hosts' TECHX_TEST_CLOCK_OFFSET_SECONDS

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> World:
        raw = json.loads(path.read_text())
        raw["bidders"] = [Bidder(**b) for b in raw["bidders"]]
        return cls(**raw)


@dataclass
class _Backend:  # what make_settings needs of a database
    url: str


async def build(database_url: str, keys_dir: Path, bidders: int) -> World:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per set-up request otherwise
    clock = ManualClock(datetime.now(UTC))
    settings = make_settings(
        _Backend(database_url), keys_dir, environment="test", token_lifetime_seconds=TOKEN_LIFETIME_SECONDS
    )
    app = create_app(settings, clock=clock, run_background_tasks=False)
    await load_2027_fixture(app.state.db, clock.now())  # the auction may open in the next year
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cluster.local") as client:
            ops = await operator(client, app)
            seller = await verified(client, ops)
            parties = await _at_most(8, [verified(client, ops) for _ in range(bidders)])
            for party in parties:
                await fund(app, party, FUNDS)
            listing = await announced(client, seller, ops, mode="auction")
            await _at_most(8, [intent(client, party, listing["id"]) for party in parties])
            await to_end_of_announcement(app, client, listing, ops, seller, *parties)
            await to_auction_opening(app, client, listing, ops, seller, *parties)
            auction = await _ok(client.get(f"{API}/listings/{listing['id']}/auction", headers=parties[0].headers))
            source = await _account(client, ops.headers, "ops:cluster:source", "asset")
            accounts = [
                await _account(client, ops.headers, f"ops:cluster:{i}", "liability") for i in range(LEDGER_ACCOUNTS)
            ]
        offset = int((clock.now() - datetime.now(UTC)).total_seconds())
        return World(
            auction_id=auction["id"],
            increment=auction["increment"],
            reserve=auction["minimum_next_bid"],
            ops=ops.token,
            bidders=[Bidder(p.org_id, p.token) for p in parties],
            source=source,
            accounts=accounts,
            offset_seconds=max(offset, 0),
        )
    finally:
        await app.state.db.dispose()


async def _at_most(n: int, work: list[Any]) -> list[Any]:
    """The awaitables' results, at most ``n`` running at once: no more than the pool's connections."""
    gate = asyncio.Semaphore(n)

    async def one(awaitable: Any) -> Any:
        async with gate:
            return await awaitable

    return await asyncio.gather(*(one(w) for w in work))


async def _ok(response: Any) -> dict[str, Any]:
    answer = await response
    if answer.status_code >= 300:
        raise AssertionError(f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text}")
    return answer.json()


async def _account(client: httpx.AsyncClient, headers: dict[str, str], code: str, type_: str) -> str:
    body = {"code": code, "unit": "CNY", "type": type_, "no_overdraft": type_ == "liability"}
    made = await _ok(
        client.post(f"{API}/ledger/accounts", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    )
    return made["id"]
