"""Search benchmark: 100,000 generated listings, ``GET /api/v1/listings?q=…`` against a LIKE scan.

For each database (PostgreSQL, then SQLite) the run creates a fresh database, migrates it, seeds
it with realistic Chinese and English listings (SQLAlchemy Core bulk inserts; the words are cut
with jieba exactly as the service does), then times a mix of queries three ways, sequentially:

- ``api``: the HTTP endpoint in-process (routing, decoding, the service, JSON encoding);
- ``search``: the service's search function alone (what the index buys);
- ``like``: the baseline, the same query as ``title LIKE '%w%' OR summary LIKE '%w%'`` per word.

It prints p50/p95 latency and queries per second for each, and the ratio baseline/search.

    .venv/bin/python bench/search.py [--listings 100000] [--rounds 30] [--only postgresql|sqlite]

PostgreSQL comes from ``TECHX_BENCH_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
a temporary database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
from sqlalchemy import and_, insert, or_, select, text
from uuid6 import uuid7

from exchange.parties.models import Org, User
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.migrate import upgrade
from exchange.platform.settings import Settings
from exchange.server.app import create_app
from listings.domain import FIELD_LABELS, PUBLIC_STATUSES, DealType, Field, PricingMode
from listings.models import Listing, ListingIpAsset
from listings.queries import SearchQuery, search_listings
from listings.search import index_words, query_words

PG_ADMIN = os.environ.get("TECHX_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)

TOPICS: dict[str, list[str]] = {
    "new_energy": [
        "固态锂电池",
        "钠离子电池",
        "氢燃料电池",
        "光伏组件",
        "风电叶片",
        "储能系统",
        "电池管理系统",
        "锂电池回收",
    ],
    "new_materials": [
        "石墨烯薄膜",
        "碳纤维复合材料",
        "高熵合金",
        "陶瓷基复合材料",
        "纳米涂层",
        "生物降解塑料",
        "稀土永磁材料",
    ],
    "electronic_information": [
        "功率半导体芯片",
        "图像识别算法",
        "工业互联网平台",
        "毫米波雷达",
        "边缘计算网关",
        "区块链存证系统",
    ],
    "biomedicine": ["单克隆抗体", "mRNA疫苗", "基因编辑载体", "医用导管", "中药提取物", "体外诊断试剂", "手术机器人"],
    "advanced_manufacturing": [
        "激光焊接装备",
        "数控机床主轴",
        "工业机器人减速器",
        "增材制造工艺",
        "精密轴承",
        "智能仓储系统",
    ],
    "energy_saving_environment": [
        "污水处理膜",
        "烟气脱硝催化剂",
        "固废资源化",
        "土壤修复药剂",
        "余热回收装置",
        "VOCs治理设备",
    ],
    "agriculture": ["水稻新品种", "智能灌溉系统", "生物农药", "畜禽疫病检测", "设施农业大棚", "植物工厂照明"],
    "other": ["文物保护材料", "体育训练装备", "智慧教育平台", "城市轨道减振"],
}
RARE = ["钙钛矿叠层电池", "拓扑量子材料", "脑机接口电极"]  # about 1 in 500 listings
PREFIXES = ["一种", "新型", "高效", "低成本", "基于深度学习的", "用于新能源汽车的", "大面积", ""]
SUFFIXES = ["制备方法", "及其应用", "装置", "系统", "工艺", "检测方法", "控制方法", "生产线"]
ENGLISH = [
    ("solid-state battery", "new_energy"),
    ("sodium-ion battery cathode", "new_energy"),
    ("graphene thin film", "new_materials"),
    ("power semiconductor chip", "electronic_information"),
    ("monoclonal antibody", "biomedicine"),
    ("laser welding equipment", "advanced_manufacturing"),
    ("membrane water treatment", "energy_saving_environment"),
    ("smart irrigation", "agriculture"),
]
SENTENCES = [
    "该技术已完成中试验证，具备产业化条件。",
    "项目团队拥有十余年研发经验，发表论文三十余篇。",
    "相比现有技术，成本降低约30%，良品率显著提升。",
    "适用于规模化生产，可与现有产线兼容。",
    "已在长三角地区多家企业开展示范应用。",
    "The process has been validated at pilot scale and is ready for industrial production.",
    "Compared with existing methods, energy consumption is reduced by about 20 percent.",
]
KINDS = ["invention_patent"] * 6 + ["utility_model"] * 2 + ["software_copyright", "know_how"]
DEALS = ["transfer"] * 5 + ["license"] * 4 + ["equity"]
MODES = ["negotiated"] * 4 + ["listed"] * 4 + ["auction"] * 2
STATUSES = ["announced"] * 14 + ["unsold", "negotiating", "sold", "auctioning"] + ["draft", "under_review"]


def generate(count: int, seed: int = 20260601) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        if rng.random() < 0.2:
            core, field = rng.choice(ENGLISH)
            lead = rng.choice(["A", "Novel", "Low-cost", "High-efficiency"])
            title = f"{lead} {core} {rng.choice(['method', 'device', 'system', 'process'])}"
        else:
            field = rng.choice(list(TOPICS))
            core = rng.choice(RARE) if rng.random() < 0.002 else rng.choice(TOPICS[field])
            title = f"{rng.choice(PREFIXES)}{core}{rng.choice(SUFFIXES)}"
        summary = title + "。" + "".join(rng.sample(SENTENCES, 3))
        keywords = rng.sample([w for t in TOPICS.values() for w in t], 2)
        rows.append(
            {
                "i": i,
                "title": title[:200],
                "summary": summary,
                "field": field,
                "keywords": keywords,
                "ip_kind": rng.choice(KINDS),
                "deal_type": rng.choice(DEALS),
                "pricing_mode": rng.choice(MODES),
                "asking_price": rng.randrange(10, 5000) * 1_000_000,
                "status": rng.choice(STATUSES),
                "age_minutes": rng.randrange(0, 500_000),
            }
        )
    return rows


def _segment(row: dict[str, Any]) -> tuple[str, str]:
    return (
        index_words(row["title"], " ".join(row["keywords"])),
        index_words(row["summary"], FIELD_LABELS[Field(row["field"])], f"{row['title']} CN{row['i']:09d}", "示范大学"),
    )


def segment_all(rows: list[dict[str, Any]]) -> None:
    with Pool(os.cpu_count() or 1) as pool:
        for row, (title_words, body_words) in zip(rows, pool.map(_segment, rows, chunksize=500), strict=True):
            row["search_title"], row["search_body"] = title_words, body_words


async def seed(db: Database, rows: list[dict[str, Any]], seller: uuid.UUID, user: uuid.UUID) -> None:
    listings, assets = [], []
    for row in rows:
        listing_id = uuid7()
        created = NOW - timedelta(minutes=row["age_minutes"])
        public = row["status"] not in ("draft", "under_review")
        deal_terms = {"type": row["deal_type"]}
        if row["deal_type"] == "license":
            deal_terms.update(term_months=36, scope="non_exclusive", territory="CN", field_of_use="", royalty_bp=None)
        if row["deal_type"] == "equity":
            deal_terms.update(company_name="示范科技有限公司", shares_bp=1000)
        listings.append(
            {
                "id": listing_id,
                "number": row["i"] + 1,
                "seller_org_id": seller,
                "seller_org_name": "示范大学",
                "seller_kind": "university",
                "created_by": user,
                "title": row["title"],
                "summary": row["summary"],
                "field": row["field"],
                "keywords": row["keywords"],
                "maturity": 5,
                "inventors": [{"name": "张三", "related_to_buyer": []}],
                "deal_type": row["deal_type"],
                "deal_terms": deal_terms,
                "pricing_mode": row["pricing_mode"],
                "asking_price": row["asking_price"],
                "appraised_value": None,
                "deposit": row["asking_price"] // 10,
                "increment": None if row["pricing_mode"] == "negotiated" else row["asking_price"] // 100,
                "confidential_ciphertext": None,
                "status": row["status"],
                "version": 1,
                "notice_id": None,
                "announcement_round": 1 if public else 0,
                "period_working_days": 20 if public else None,
                "announced_at": created if public else None,
                "closes_at": created + timedelta(days=28) if public else None,
                "first_announced_at": created if public else None,
                "published_at": created,
                "search_title": row["search_title"],
                "search_body": row["search_body"],
                "feed_seq": row["i"] + 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        assets.append(
            {
                "id": uuid7(),
                "listing_id": listing_id,
                "position": 0,
                "kind": row["ip_kind"],
                "number": f"CN{row['i']:09d}",
                "title": row["title"],
                "expires_on": date(2040, 1, 1)
                if "patent" in row["ip_kind"] or row["ip_kind"] == "utility_model"
                else None,
            }
        )
    for start in range(0, len(listings), 2000):
        chunk, asset_chunk = listings[start : start + 2000], assets[start : start + 2000]

        async def write(session: Any, chunk: list = chunk, asset_chunk: list = asset_chunk) -> None:
            await session.execute(insert(Listing.__table__), chunk)
            await session.execute(insert(ListingIpAsset.__table__), asset_chunk)

        await db.transaction(write)


async def seller_org(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    org, user = uuid7(), uuid7()

    async def write(session: Any) -> None:
        await session.execute(
            insert(Org.__table__).values(
                id=org,
                name="示范大学",
                credit_code="91310000MA1FL0001R",
                kind="university",
                verified=True,
                status="active",
                created_at=NOW,
            )
        )
        await session.execute(
            insert(User.__table__).values(
                id=user,
                email="bench@example.cn",
                password_hash="x",
                display_name="bench",
                org_id=org,
                role="admin",
                created_at=NOW,
            )
        )

    await db.transaction(write)
    return org, user


QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("common word", {"q": "方法"}),
    ("common Chinese two-character word", {"q": "电池"}),
    ("rare word", {"q": "钙钛矿"}),
    ("Chinese two-character word", {"q": "疫苗"}),
    ("English word", {"q": "battery"}),
    ("two words", {"q": "固态 电池"}),
    ("word + filters", {"q": "电池", "field": "new_energy", "deal_type": "license", "min_price": 1_000_000_000}),
    ("word, newest", {"q": "芯片", "order": "newest"}),
    ("filters only", {"field": "biomedicine", "pricing_mode": "auction", "order": "newest"}),
]


def to_search(params: dict[str, Any], limit: int = 20) -> SearchQuery:
    kinds = {"field": Field, "deal_type": DealType, "pricing_mode": PricingMode}
    return SearchQuery(**{k: kinds[k](v) if k in kinds else v for k, v in params.items()}, limit=limit)


def like_query(params: dict[str, Any]) -> Any:
    """The baseline: the same filters, each word as a LIKE '%…%' scan of title and summary."""
    query = select(Listing).where(Listing.status.in_([s.value for s in PUBLIC_STATUSES]))
    for word in query_words(params.get("q", "")):
        pattern = f"%{word}%"
        query = query.where(or_(Listing.title.ilike(pattern), Listing.summary.ilike(pattern)))
    for name in ("field", "deal_type", "pricing_mode"):
        if name in params:
            query = query.where(getattr(Listing, name) == params[name])
    if "min_price" in params:
        query = query.where(and_(Listing.asking_price >= params["min_price"]))
    return query.order_by(Listing.published_at.desc(), Listing.id.desc()).limit(20)


async def timed(run: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    await run()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, 1000 * len(times) / sum(times)


async def bench_backend(
    name: str, url: str, rows: list[dict[str, Any]], rounds: int, *, seeded_already: bool = False
) -> dict[str, Any]:
    engine = create_engine(url, pool_size=4)
    await upgrade(engine)
    db = Database(engine)
    started = time.perf_counter()
    if not seeded_already:
        org, user = await seller_org(db)
        await seed(db, rows, org, user)
    if db.is_postgres:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE listings"))
            await conn.execute(text("VACUUM ANALYZE listing_ip_assets"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    seeded = time.perf_counter() - started
    if not seeded_already:
        print(f"  seeded {len(rows):,} listings in {seeded:.1f} s", flush=True)

    keys = Path(tempfile.mkdtemp(prefix="techx-bench-keys-"))
    app = create_app(
        Settings.from_env(env={}, database_url=url, keys_dir=keys, log_level="WARNING", log_json=False),
        clock=ManualClock(NOW),
        run_background_tasks=False,
    )
    results: dict[str, Any] = {"seed_seconds": seeded, "queries": []}
    all_api: list[float] = []
    all_search: list[float] = []
    all_like: list[float] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for label, params in QUERIES:

            async def api(params: dict[str, Any] = params) -> None:
                response = await client.get("/api/v1/listings", params=params)
                assert response.status_code == 200, response.text

            async def service(params: dict[str, Any] = params) -> None:
                async with db.read() as session:
                    await search_listings(session, to_search(params), None)

            async def like(params: dict[str, Any] = params) -> None:
                async with db.read() as session:
                    (await session.scalars(like_query(params))).all()

            async with db.read() as session:
                found = len((await search_listings(session, to_search(params, 100), None))[0])
            t_api = await timed(api, rounds)
            t_search = await timed(service, rounds)
            t_like = await timed(like, rounds)
            all_api += t_api
            all_search += t_search
            all_like += t_like
            a, s, b = summary(t_api), summary(t_search), summary(t_like)
            results["queries"].append((label, params, found, a, s, b))
            print(
                f"  {label:36s} hits≥{found:3d}  api p50 {a[0]:6.1f} p95 {a[1]:6.1f} ms | "
                f"search p50 {s[0]:6.1f} p95 {s[1]:6.1f} | LIKE p50 {b[0]:7.1f} p95 {b[1]:7.1f} | "
                f"LIKE/search p95 ×{b[1] / s[1]:.1f}",
                flush=True,
            )
    await app.state.db.dispose()
    await db.dispose()
    results["all"] = (summary(all_api), summary(all_search), summary(all_like))
    a, s, b = results["all"]
    print(
        f"  ALL: api p50 {a[0]:.1f} ms p95 {a[1]:.1f} ms {a[2]:.0f} q/s | search p50 {s[0]:.1f} p95 {s[1]:.1f} "
        f"{s[2]:.0f} q/s | LIKE p50 {b[0]:.1f} p95 {b[1]:.1f} {b[2]:.0f} q/s | LIKE/search p95 ×{b[1] / s[1]:.1f}",
        flush=True,
    )
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--keep", metavar="NAME", help="PostgreSQL: keep (or reuse) the seeded database NAME")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    rows: list[dict[str, Any]] = []

    def rows_once() -> list[dict[str, Any]]:
        if not rows:
            started = time.perf_counter()
            rows.extend(generate(args.listings))
            segment_all(rows)
            print(
                f"generated and segmented {len(rows):,} listings in {time.perf_counter() - started:.1f} s", flush=True
            )
        return rows

    if args.only != "sqlite":
        name = args.keep or f"techx_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(PG_ADMIN)
        exists = bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        print(f"== PostgreSQL ({(await admin.fetchval('SHOW server_version'))})", flush=True)
        try:
            await bench_backend(
                "postgresql", f"{base}/{name}", [] if exists else rows_once(), args.rounds, seeded_already=exists
            )
        finally:
            if not args.keep:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    if args.only != "postgresql":
        folder = Path(tempfile.mkdtemp(prefix="techx-bench-"))
        import sqlite3

        print(f"== SQLite ({sqlite3.sqlite_version})", flush=True)
        await bench_backend("sqlite", f"sqlite+aiosqlite:///{folder / 'bench.db'}", rows_once(), args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
