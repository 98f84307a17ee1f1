"""Writes per second through one balancer address, from a client host: ledger entries and bids.

    python -m cluster.throughput WORLD_JSON BASE_URL SECONDS WORKERS

Half the workers post ledger transfers, half post bids on the world's auction (each a step above
the high bid it knows; refused bids, outbid by another worker, count as answered bids too: the
exchange did the work of refusing them). Prints one JSON line of rates.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import httpx

from cluster.world import World


async def measure(world: World, base_url: str, seconds: float, workers: int) -> dict[str, float]:
    counts = {"ledger": 0, "bids": 0, "accepted": 0, "errors": 0}
    failures: dict[str, int] = {}
    high = [world.reserve - world.increment]
    async with httpx.AsyncClient(base_url=base_url, timeout=15, limits=httpx.Limits(max_connections=None)) as client:
        shown = await client.get(
            f"/api/v1/auctions/{world.auction_id}", headers={"Authorization": f"Bearer {world.bidders[0].token}"}
        )
        high[0] = max(high[0], shown.json().get("high_amount") or 0)
        end = time.monotonic() + seconds

        async def ledger(i: int) -> None:
            headers = {"Authorization": f"Bearer {world.ops}"}
            while time.monotonic() < end:
                body = {
                    "unit": "CNY",
                    "kind": "transfer",
                    "postings": [
                        {"account_id": world.source, "side": "debit", "amount": 1 + i},
                        {"account_id": world.accounts[i % len(world.accounts)], "side": "credit", "amount": 1 + i},
                    ],
                }
                r = await client.post(
                    "/api/v1/ledger/entries", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
                )
                if r.status_code == 201:
                    counts["ledger"] += 1
                else:
                    counts["errors"] += 1
                    failures[f"ledger {r.status_code} {r.text[:120]}"] = (
                        failures.get(f"ledger {r.status_code} {r.text[:120]}", 0) + 1
                    )

        async def bidder(i: int) -> None:
            token = world.bidders[i % len(world.bidders)].token
            while time.monotonic() < end:
                amount = high[0] + world.increment
                r = await client.post(
                    f"/api/v1/auctions/{world.auction_id}/bids",
                    json={"amount": amount},
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
                )
                if r.status_code == 201:
                    counts["accepted"] += 1
                    high[0] = max(high[0], amount)
                elif r.status_code >= 500:
                    counts["errors"] += 1
                    failures[f"bid {r.status_code} {r.text[:120]}"] = (
                        failures.get(f"bid {r.status_code} {r.text[:120]}", 0) + 1
                    )
                    continue
                else:
                    high[0] = max(high[0], amount)  # refused as outbid: someone is at least there
                counts["bids"] += 1

        started = time.monotonic()
        await asyncio.gather(
            *[ledger(i) for i in range(workers // 2)], *[bidder(i) for i in range(workers - workers // 2)]
        )
        elapsed = time.monotonic() - started
    return {
        "ledger_per_second": round(counts["ledger"] / elapsed, 1),
        "bids_per_second": round(counts["bids"] / elapsed, 1),
        "accepted_per_second": round(counts["accepted"] / elapsed, 1),
        "errors": counts["errors"],
        "failures": failures,
    }


def main(argv: list[str]) -> None:
    world_path, base_url, seconds, workers = argv
    print(json.dumps(asyncio.run(measure(World.load(Path(world_path)), base_url, float(seconds), int(workers)))))


if __name__ == "__main__":
    main(sys.argv[1:])
