"""White paper benchmark: the annual white paper over 1,000,000 ledger entries and 100,000 listings
(the 100% size; 10% beside it shows memory staying flat as the data grows tenfold).

For each database (PostgreSQL, then SQLite) and each size the run creates a fresh database,
migrates it, fills it with SQLAlchemy Core bulk inserts (listings of one year with sellers in
Shanghai's districts, settled deals, closed auctions with their bids, voucher programs, grants,
voucher-paid service orders with their ledger holds and postings, and other ledger entries up to
the size's count, each with two postings), then measures in a fresh child process:

- ``baseline``: ``SELECT count(*)`` of the ledger's entries and postings, listings and deals (a
  scan of the tables the white paper reads);
- ``figures``: every section's aggregates (``white_paper``);
- ``paper``: the figures, the charts and the HTML and PDF (what ``techx report white-paper`` does).

It prints each time, the ratio figures/baseline, and the child's peak RSS (``resource.getrusage``).

    .venv/bin/python bench/reports.py [--sizes 0.1,1] [--only postgresql|sqlite]

PostgreSQL comes from ``TECHX_BENCH_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
a temporary database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import func, insert, select, text
from uuid6 import uuid7

from exchange.parties.domain import credit_code_check_char
from exchange.parties.models import Org, User
from exchange.platform.db import Database, create_engine
from exchange.platform.migrate import upgrade
from exchange.trading.models import Auction, Bid, Deal, Intent
from exchange.vouchers.models import Service, ServiceOrder, VoucherGrant, VoucherProgram
from ledger.models import Account, Entry, Posting
from listings.models import Listing, Notice

PG_ADMIN = os.environ.get("TECHX_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
YEAR = 2026
START = datetime(2025, 12, 31, 16, tzinfo=UTC)  # 1 January, Beijing
SPAN = timedelta(days=365)
FULL = {"listings": 100_000, "entries": 1_000_000, "orgs": 2_000}
CHUNK = 5_000
DISTRICTS = [
    "310101",
    "310104",
    "310105",
    "310106",
    "310107",
    "310109",
    "310110",
    "310112",
    "310115",
    "310000",
    "320500",
]
FIELDS = ["electronic_information", "biomedicine", "advanced_manufacturing", "new_materials", "new_energy", "other"]
KINDS = ["university", "research_institute", "enterprise"]
TYPES = ["transfer", "license", "equity"]
CATEGORIES = ["testing", "tech_search", "valuation", "patent_management"]


def moment(rng: random.Random) -> datetime:
    return START + SPAN * rng.random()


def _filler(column: Any) -> Any:
    """A value for a required column the bench does not care about (an update time, a counter)."""
    if column.name.endswith("_at"):
        return START
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = str
    return {datetime: START, bool: False, int: 0, str: "", dict: {}, list: []}.get(kind, "")


async def chunked(db: Database, table: Any, rows: Any) -> None:
    batch: list[dict[str, Any]] = []
    required = [c for c in table.columns if not c.nullable and c.default is None and c.server_default is None]
    rows = ({**{c.name: _filler(c) for c in required if c.name not in row}, **row} for row in rows)

    async def flush(items: list[dict[str, Any]]) -> None:
        async def write(session: Any) -> None:
            await session.execute(insert(table), items)

        await db.transaction(write)

    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            await flush(batch)
            batch = []
    if batch:
        await flush(batch)


async def build(db: Database, scale: float, seed: int = 21) -> dict[str, int]:
    rng = random.Random(seed)
    n_orgs = max(50, int(FULL["orgs"] * scale))
    n_listings = int(FULL["listings"] * scale)
    n_entries = int(FULL["entries"] * scale)
    n_deals, n_auctions, n_orders, n_grants = n_listings // 10, n_listings // 20, n_entries // 20, n_entries // 20
    orgs = [uuid7() for _ in range(n_orgs)]
    user = uuid7()

    def org_rows() -> Any:
        for i, org in enumerate(orgs):
            first17 = "91" + DISTRICTS[i % len(DISTRICTS)] + f"{i:09d}"
            yield {
                "id": org, "name": f"机构{i}", "credit_code": first17 + credit_code_check_char(first17),
                "kind": KINDS[i % 3], "verified": True, "status": "active", "created_at": START,
            }  # fmt: skip

    await chunked(db, Org.__table__, org_rows())
    await chunked(db, User.__table__, [{
        "id": user, "email": "bench@example.cn", "password_hash": "x", "display_name": "bench", "org_id": orgs[0],
        "role": "admin", "created_at": START,
    }])  # fmt: skip
    listing_ids = [uuid7() for _ in range(n_listings)]

    def listing_rows() -> Any:
        for i, lid in enumerate(listing_ids):
            at = moment(rng)
            asking = rng.randrange(100_000, 50_000_000) * 100
            yield {
                "id": lid, "number": i + 1, "seller_org_id": orgs[i % n_orgs], "seller_org_name": f"机构{i % n_orgs}",
                "seller_kind": KINDS[i % n_orgs % 3], "created_by": user, "title": f"成果{i}", "summary": "简介",
                "field": FIELDS[i % len(FIELDS)], "keywords": [], "maturity": 5, "inventors": [],
                "deal_type": TYPES[i % 3], "deal_terms": {"type": TYPES[i % 3]}, "pricing_mode": "listed",
                "asking_price": asking, "appraised_value": asking * 9 // 10 if i % 2 else None,
                "deposit": asking // 10, "increment": asking // 100, "confidential_ciphertext": None,
                "status": "sold" if i < n_deals else "announced", "version": 1, "notice_id": None,
                "announcement_round": 1, "period_working_days": 20, "announced_at": at, "closes_at": at + SPAN / 12,
                "first_announced_at": at, "published_at": at, "search_title": f"成果{i}", "search_body": "简介",
                "feed_seq": i + 1, "created_at": at,
            }  # fmt: skip

    await chunked(db, Listing.__table__, listing_rows())
    deal_ids = [uuid7() for _ in range(n_deals)]
    notice_ids = [uuid7() for _ in range(n_deals)]
    intent_ids = [uuid7() for _ in range(n_deals)]
    await chunked(db, Intent.__table__, ({
        "id": intent, "listing_id": listing_ids[i], "org_id": orgs[(i + 7) % n_orgs], "user_id": user, "number": 1,
        "status": "won", "deposit": 0, "created_at": START,
    } for i, intent in enumerate(intent_ids)))  # fmt: skip

    def deal_rows() -> Any:
        for i, did in enumerate(deal_ids):
            at = moment(rng)
            price = rng.randrange(100_000, 80_000_000) * 100
            yield {
                "id": did, "listing_id": listing_ids[i], "buyer_org_id": orgs[(i + 7) % n_orgs],
                "seller_org_id": orgs[i % n_orgs], "intent_id": intent_ids[i],
                "concluded_by": "auction" if i < n_auctions else "negotiation", "deal_type": TYPES[i % 3],
                "field": FIELDS[i % len(FIELDS)], "seller_kind": KINDS[i % n_orgs % 3], "snapshot": {},
                "price": price, "deposit": price // 10, "hold_entry_id": None, "seller_fee": price // 100,
                "buyer_fee": price // 100, "inventor_reward_bp": 0, "inventor_reward": 0,
                "seller_proceeds": price - price // 100,
                "buyer_fee_vouchers": 0, "related_party": False, "state": "settled", "notice_id": notice_ids[i],
                "notice_kind": "deal_result", "settled_at": at, "created_at": at - timedelta(days=20),
                "updated_at": at, "forfeited_to_seller": 0, "forfeited_to_exchange": 0, "end_reason": "",
            }  # fmt: skip

    await chunked(db, Deal.__table__, deal_rows())

    def notice_rows() -> Any:
        for i, nid in enumerate(notice_ids):
            body = {
                "achievement": f"成果{i}",
                "listing_number": i + 1,
                "deal_type": TYPES[i % 3],
                "price": 0,
                "buyer": f"机构{(i + 7) % n_orgs}",
                "seller": f"机构{i % n_orgs}",
                "concluded_by": "negotiation",
            }
            yield {
                "id": nid, "kind": "deal_result", "subject_type": "deal", "subject_id": deal_ids[i],
                "title": "成交结果",
                "status": "closed", "opens_at": START, "closes_at": START, "content": json.dumps({"body": body}),
                "signature": "x", "key_id": "bench", "created_at": START, "end_reason": "",
            }  # fmt: skip

    await chunked(db, Notice.__table__, notice_rows())

    def auction_rows() -> Any:
        for i in range(n_auctions):
            at = moment(rng)
            asking = 10_000_000
            yield {
                "id": uuid7(), "listing_id": listing_ids[i], "status": "closed", "asking_price": asking,
                "increment": 100_000, "starts_at": at, "scheduled_end": at, "ends_at": at,
                "high_amount": asking + 100_000 * (i % 9), "high_bid_id": None, "high_org_id": orgs[i % n_orgs],
                "intent_id": intent_ids[i],
                "bid_count": i % 9, "closed_at": at, "deal_id": deal_ids[i],
            }  # fmt: skip

    auctions = list(auction_rows())
    await chunked(db, Auction.__table__, ({k: v for k, v in a.items() if k != "intent_id"} for a in auctions))

    def bid_rows() -> Any:
        for a in auctions:
            for seq in range(a["bid_count"]):
                yield {
                    "id": uuid7(), "auction_id": a["id"], "intent_id": a["intent_id"],
                    "org_id": orgs[(seq * 13) % n_orgs],
                    "user_id": user, "bidder_number": seq + 1, "amount": a["asking_price"] + seq * 100_000,
                    "seq": seq + 1, "created_at": a["closed_at"], "extended_to": None,
                }  # fmt: skip

    await chunked(db, Bid.__table__, bid_rows())
    programs = [uuid7() for _ in CATEGORIES]
    await chunked(db, VoucherProgram.__table__, [{
        "id": p, "owner_org_id": orgs[0], "name": f"项目{c}", "year": YEAR, "budget": 10**12, "per_org_cap": 10**10,
        "coverage_bp": 5000, "categories": [c] if i else CATEGORIES, "valid_from": START, "valid_until": START + SPAN,
        "created_by": user, "created_at": START,
    } for i, (p, c) in enumerate(zip(programs, CATEGORIES, strict=True))])  # fmt: skip
    service = uuid7()
    await chunked(db, Service.__table__, [{
        "id": service, "provider_org_id": orgs[1], "provider_name": "服务机构", "category": "testing", "title": "检测",
        "description": "检测", "price": 1_000_000, "created_at": START,
    }])  # fmt: skip
    accounts = [uuid7(), uuid7()]
    await chunked(db, Account.__table__, [{
        "id": a, "code": f"bench:{i}", "unit": "VCH", "type": "liability", "no_overdraft": False, "closed": False,
        "debits_posted": 0, "credits_posted": 0, "debits_pending": 0, "credits_pending": 0, "version": 0,
        "created_at": START,
    } for i, a in enumerate(accounts)])  # fmt: skip
    holds = [uuid7() for _ in range(n_orders)]

    def entry(
        kind: str, phase: str, at: datetime, resolves: uuid.UUID | None = None, eid: uuid.UUID | None = None
    ) -> dict[str, Any]:
        return {
            "id": eid or uuid7(), "unit": "VCH", "kind": kind, "phase": phase, "description": kind,
            "metadata_json": "{}", "external_ref": None, "idempotency_key": None, "timeout_seconds": None,
            "expires_at": None, "resolves_id": resolves, "reverses_id": None, "created_at": at,
        }  # fmt: skip

    def entry_rows() -> Any:
        for _ in range(n_grants):
            yield entry("voucher_grant", "posted", moment(rng))
        for hold in holds:
            at = moment(rng)
            yield entry("voucher_order_hold", "pending", at, eid=hold)
            yield entry("voucher_order_hold", "post_pending", at + timedelta(days=3), resolves=hold)
        for _ in range(n_entries - n_grants - 2 * n_orders):
            yield entry("top_up", "posted", moment(rng))

    entry_ids: list[uuid.UUID] = []

    def kept(rows: Any) -> Any:
        for row in rows:
            entry_ids.append(row["id"])
            yield row

    await chunked(db, Entry.__table__, kept(entry_rows()))
    await chunked(db, VoucherGrant.__table__, ({
        "id": uuid7(), "program_id": programs[i % len(programs)], "org_id": orgs[i % n_orgs], "amount": 1_000_000,
        "entry_id": entry_ids[i], "granted_by": user, "note": "", "created_at": moment(rng),
    } for i in range(n_grants)))  # fmt: skip
    await chunked(db, ServiceOrder.__table__, ({
        "id": uuid7(), "service_id": service, "buyer_org_id": orgs[i % n_orgs], "provider_org_id": orgs[1],
        "program_id": programs[i % len(programs)], "category": CATEGORIES[i % len(CATEGORIES)], "price": 1_000_000,
        "voucher_amount": 500_000, "cash_amount": 500_000, "state": "accepted", "voucher_hold_id": hold,
        "cash_hold_id": None, "results_summary": "", "cancel_reason": "", "redemption_id": None, "redeemed": False,
        "revoked": False, "created_by": user, "created_at": START, "updated_at": START,
    } for i, hold in enumerate(holds)))  # fmt: skip

    def posting_rows() -> Any:
        for seq, eid in enumerate(entry_ids):
            for side, account in (("debit", accounts[0]), ("credit", accounts[1])):
                yield {
                    "id": uuid7(), "entry_id": eid, "account_id": account, "side": side, "amount": 1_000,
                    "posted_delta": 1_000, "pending_delta": 0, "account_seq": seq + 1,
                }  # fmt: skip

    await chunked(db, Posting.__table__, posting_rows())

    async def analyze(session: Any) -> None:  # the planner's statistics, as autovacuum keeps them in service
        await session.execute(text("ANALYZE"))

    await db.transaction(analyze)
    return {"listings": n_listings, "entries": len(entry_ids), "deals": n_deals, "auctions": n_auctions}


# -- the measurement, in a child process of its own (its peak RSS is the white paper's) -----------------


async def measure(url: str) -> dict[str, float]:
    from exchange.stats.white_paper.paper import render_files, white_paper

    db = Database(create_engine(url, pool_size=2))
    try:
        async with db.read() as session:
            began = time.perf_counter()
            for table in (Entry, Posting, Listing, Deal):
                await session.scalar(select(func.count()).select_from(table))
            baseline = time.perf_counter() - began
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        from exchange.stats.white_paper.sections import SECTIONS

        sections = {}
        async with db.read() as session:
            began = time.perf_counter()
            for make in SECTIONS:  # each section's time, then the white paper as one
                at = time.perf_counter()
                await make(session, YEAR)
                sections[make.__name__] = round(time.perf_counter() - at, 2)
        async with db.read() as session:
            began = time.perf_counter()
            paper = await white_paper(session, YEAR, datetime.now(UTC))
            figures = time.perf_counter() - began
        rss_figures = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        files = await render_files(paper, ("html", "pdf"))
        rendered = time.perf_counter() - began
    finally:
        await db.dispose()
    return {
        "baseline": baseline,
        "figures": figures,
        "paper": figures + rendered,
        "rss_before_mb": rss_before / 1024,
        "rss_figures_mb": rss_figures / 1024,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pdf_kb": len(files["techx-white-paper-2026.pdf"]) / 1024,
        "sections": sections,  # type: ignore[dict-item]
    }


def child(url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", url], check=True, capture_output=True, text=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def fresh_postgres() -> tuple[str, str]:
    name = f"techx_bench_reports_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = PG_ADMIN.rsplit("/", 1)[0]
    return name, f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"


async def drop_postgres(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def run_one(backend: str, scale: float) -> None:
    folder = tempfile.TemporaryDirectory()
    pg_name = None
    if backend == "postgresql":
        pg_name, url = await fresh_postgres()
    else:
        url = f"sqlite+aiosqlite:///{folder.name}/bench.db"
    try:
        engine = create_engine(url, pool_size=2)
        await upgrade(engine)
        db = Database(engine)
        began = time.perf_counter()
        sizes = await build(db, scale)
        await db.dispose()
        built = time.perf_counter() - began
        m = await asyncio.to_thread(child, url)
        print(
            f"{backend:<10} {scale:>5.0%}  listings {sizes['listings']:>7,}  entries {sizes['entries']:>9,}  "
            f"(built in {built:.0f} s)\n"
            f"  baseline count(*) scan {m['baseline']:6.2f} s | figures {m['figures']:6.2f} s | "
            f"ratio {m['figures'] / m['baseline']:5.2f} | figures + charts + HTML + PDF {m['paper']:6.2f} s\n"
            f"  peak RSS: {m['rss_before_mb']:.0f} MB before, {m['rss_figures_mb']:.0f} MB after the figures, "
            f"{m['rss_peak_mb']:.0f} MB after the PDF ({m['pdf_kb']:.0f} KB)\n"
            f"  sections (s): {m['sections']}",
            flush=True,
        )
    finally:
        if pg_name:
            await drop_postgres(pg_name)
        folder.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0.1,1", help="fractions of 1,000,000 entries / 100,000 listings")
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.measure))))
        return
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    for backend in [args.only] if args.only else ["postgresql", "sqlite"]:
        for scale in (float(s) for s in args.sizes.split(",")):
            asyncio.run(run_one(backend, scale))


if __name__ == "__main__":
    main()
