"""The clients of the fault suite, run on a client host: bidders, SSE subscribers and a ledger writer.

    python -m cluster.load WORLD_JSON BASE_URL CONTROL_DIR

Every write carries an ``Idempotency-Key`` and is sent again with the same key after a transport
error or a 5xx (a killed host, a balancer with no server, a database failing over) until it gets a
final answer, as a careful client of the exchange does. Subscribers follow the auction's event
stream and, when it breaks, reconnect with ``Last-Event-ID``.

The suite steers it through files in CONTROL_DIR: ``stop`` ends new writes (those unanswered are
still retried to an answer); ``final`` holds the auction's bid count once the suite has read it, and
each subscriber then reads until it has that bid. ``progress`` is rewritten every half second with
counts; ``result.json`` is what happened, written on exit.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cluster.world import World

RETRY_FOR_SECONDS = 90.0  # how long an unanswered write is retried before the client gives up
SUBSCRIBERS = 100
LEDGER_WRITERS = 4


@dataclass
class Write:
    """One keyed write and its final answer (status None: none after all retries)."""

    kind: str  # "bid" or "ledger"
    key: str
    body: dict[str, Any]
    status: int | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0
    served_by: str | None = None  # the API host that gave the final answer (the balancer's header)
    failures: list[str] = field(default_factory=list)  # what each retried attempt met


@dataclass
class Subscription:
    """What one subscriber's stream held: each bid's sequence number as it arrived."""

    viewer: str
    started_after: int | None = None  # the bid count its first snapshot stood for
    bids: list[int] = field(default_factory=list)
    closed: bool = False
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)


class Load:
    def __init__(self, world: World, base_url: str, control: Path) -> None:
        self.world, self.control = world, control
        self.client = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(15.0), limits=httpx.Limits(max_connections=None)
        )
        self.writes: list[Write] = []
        self.subscriptions: list[Subscription] = []
        self.high = world.reserve - world.increment  # the highest bid this client knows was accepted
        self.rng = random.Random(23)

    def stopped(self) -> bool:
        return (self.control / "stop").exists()

    def final(self) -> int | None:
        path = self.control / "final"
        return int(path.read_text()) if path.exists() else None

    async def keyed(self, write: Write, path: str, token: str, success: int = 201) -> Write:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": write.key}
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = 0.1
        while True:
            write.attempts += 1
            try:
                response = await self.client.post(path, json=write.body, headers=headers)
            except httpx.TransportError as error:
                write.failures.append(type(error).__name__)
            else:
                if response.status_code < 500:
                    write.status = response.status_code
                    write.served_by = response.headers.get("x-served-by")
                    write.answer = response.json() if response.content else None
                    return write
                write.failures.append(str(response.status_code))
            if time.monotonic() > deadline:
                return write
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def bidder(self, index: int) -> None:
        bidder = self.world.bidders[index]
        rng = random.Random(index)
        await asyncio.sleep(rng.uniform(0, 1.0))
        while not self.stopped():
            amount = self.high + self.world.increment * rng.randint(1, 3)
            write = Write("bid", uuid.uuid4().hex, {"amount": amount})
            self.writes.append(write)
            await self.keyed(write, f"/api/v1/auctions/{self.world.auction_id}/bids", bidder.token)
            if write.status == 201:
                self.high = max(self.high, amount)
            elif write.status is not None:  # outbid meanwhile: learn the high bid, as a bidder's page shows it
                await self.learn_high(bidder.token)
            await asyncio.sleep(rng.uniform(0.5, 2.0))

    async def learn_high(self, token: str) -> None:
        try:
            shown = await self.client.get(
                f"/api/v1/auctions/{self.world.auction_id}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError:
            return
        if shown.status_code == 200 and shown.json().get("high_amount") is not None:
            self.high = max(self.high, shown.json()["high_amount"])

    async def ledger_writer(self, index: int) -> None:
        rng = random.Random(1000 + index)
        while not self.stopped():
            account = self.world.accounts[rng.randrange(len(self.world.accounts))]
            amount = rng.randint(1, 100_000)
            body = {
                "unit": "CNY",
                "kind": "transfer",
                "postings": [
                    {"account_id": self.world.source, "side": "debit", "amount": amount},
                    {"account_id": account, "side": "credit", "amount": amount},
                ],
            }
            write = Write("ledger", uuid.uuid4().hex, body)
            self.writes.append(write)
            await self.keyed(write, "/api/v1/ledger/entries", self.world.ops)
            await asyncio.sleep(rng.uniform(0.05, 0.2))

    async def subscriber(self, index: int) -> None:
        bidder = self.world.bidders[index % len(self.world.bidders)]
        sub = Subscription(bidder.org_id)
        self.subscriptions.append(sub)
        last_id = ""
        deadline: float | None = None
        while not sub.closed:
            final = self.final()
            if final is not None:
                deadline = deadline or time.monotonic() + 60
                if (sub.bids and sub.bids[-1] >= final) or time.monotonic() > deadline:
                    return
            headers = {"Authorization": f"Bearer {bidder.token}", "Accept": "text/event-stream"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                url = f"/api/v1/auctions/{self.world.auction_id}/events"
                async with self.client.stream("GET", url, headers=headers, timeout=httpx.Timeout(5.0, read=3.0)) as r:
                    if r.status_code != 200:
                        sub.errors.append(f"status {r.status_code}")
                        raise httpx.TransportError("not a stream")
                    event = event_id = ""
                    async for line in r.aiter_lines():
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("id:"):
                            event_id = line[3:].strip()
                        elif line == "" and event:
                            if event == "snapshot" and event_id and sub.started_after is None:
                                sub.started_after = int(event_id.split(".")[0])
                            elif event == "bid":
                                sub.bids.append(int(event_id))
                            elif event == "closed":
                                sub.closed = True
                            if event_id:
                                last_id = event_id
                            event = event_id = ""
                        final = self.final()
                        if final is not None and sub.bids and sub.bids[-1] >= final:
                            return
            except (httpx.TransportError, httpx.StreamError) as error:
                sub.errors.append(type(error).__name__)
            if not sub.closed:
                sub.reconnects += 1
                await asyncio.sleep(0.2)

    async def report(self) -> None:
        while True:
            answered = [w for w in self.writes if w.status is not None]
            progress = {
                "bids_accepted": sum(1 for w in answered if w.kind == "bid" and w.status == 201),
                "ledger_written": sum(1 for w in answered if w.kind == "ledger" and w.status == 201),
                "unanswered": len(self.writes) - len(answered),
                "seen_by_subscribers": min((len(s.bids) for s in self.subscriptions), default=0),
            }
            tmp = self.control / "progress.tmp"
            tmp.write_text(json.dumps(progress))
            os.replace(tmp, self.control / "progress")
            await asyncio.sleep(0.5)

    async def run(self) -> None:
        reporter = asyncio.ensure_future(self.report())
        subscribers = [asyncio.ensure_future(self.subscriber(i)) for i in range(SUBSCRIBERS)]
        await self.learn_high(self.world.bidders[0].token)  # a run after others starts at their high bid
        await asyncio.sleep(1.0)  # the streams open before the first bid
        writers = [asyncio.ensure_future(self.bidder(i)) for i in range(len(self.world.bidders))]
        writers += [asyncio.ensure_future(self.ledger_writer(i)) for i in range(LEDGER_WRITERS)]
        await asyncio.gather(*writers)
        (self.control / "written").write_text("")
        await asyncio.gather(*subscribers)
        reporter.cancel()
        await self.client.aclose()
        result = {"writes": [asdict(w) for w in self.writes], "subscriptions": [asdict(s) for s in self.subscriptions]}
        (self.control / "result.json").write_text(json.dumps(result))


def main(argv: list[str]) -> None:
    world_path, base_url, control = argv
    asyncio.run(Load(World.load(Path(world_path)), base_url, Path(control)).run())


if __name__ == "__main__":
    main(sys.argv[1:])
