"""Reads from a replica (``DATABASE_READ_URL``): anonymous public pages, search and open data read
the replica while it is fresh enough, and say so; signed-in readers and every decision read the
primary; a stale or unreachable replica hands its reads to the primary, never a 500.

The "replica" is a second database on the test server, copied from the primary and then changed,
so each answer shows which database it came from. It is no standby: the tests give the probe's
rule its samples (``ReadReplica.record``); the streaming standby itself runs in the cluster suite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from exchange.platform.db import ReadReplica, create_engine
from exchange.platform.staleness import WalSample
from exchange.server.app import create_app, periodic_tasks
from tests.api.test_ops_metrics import gauges
from tests.conftest import PG_ADMIN_DSN, Backend, make_settings, running
from tests.helpers import announced_listing, operator, register, verified

API = "/api/v1"
ON_REPLICA = "副本中的成果名称"
STALENESS = "x-data-staleness-seconds"


@pytest.fixture
async def replica_name(pg_backend: Backend) -> AsyncIterator[str]:
    name = f"{pg_backend.db_name}_replica_{uuid.uuid4().hex[:6]}"
    yield name
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def copy_primary(app: Any, backend: Backend, name: str) -> asyncpg.Connection:
    """The primary's database copied as ``name`` (a copy needs the primary without connections)."""
    await app.state.db.dispose()
    await backend.engine.dispose()
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{backend.db_name}"')
    await admin.close()
    return await asyncpg.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")


def fresh(app: Any) -> None:
    """One probe's result: the replica has replayed all the primary had just now."""
    app.state.db.read_replica.record(WalSample(app.state.clock.now(), 7), replayed_lsn=7)


async def test_public_reads_use_the_replica_and_decisions_the_primary(pg_backend, keys_dir, clock, replica_name):
    read_url = pg_backend.url.rsplit("/", 1)[0] + f"/{replica_name}"
    app = create_app(
        make_settings(pg_backend, keys_dir, database_read_url=read_url, page_cache_seconds=0),
        clock=clock,
        run_background_tasks=False,
    )
    # The server measures the replica every second, and only when there is one.
    assert "replica-lag" in {t.name for t in periodic_tasks(app.state.settings)}
    assert "replica-lag" not in {t.name for t in periodic_tasks(make_settings(pg_backend, keys_dir))}
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        ops = await operator(client, app)
        seller = await verified(client, ops)
        listing = await announced_listing(client, seller, ops)
        title, notice_id = listing["title"], listing["announcement"]["notice_id"]
        objector = await register(client)
        replica = await copy_primary(app, pg_backend, replica_name)
        try:
            await replica.execute("UPDATE listings SET title = $1 WHERE id = $2", ON_REPLICA, uuid.UUID(listing["id"]))
            await replica.execute("UPDATE notices SET status = 'closed' WHERE id = $1", uuid.UUID(notice_id))
            show = f"{API}/listings/{listing['id']}"

            # Before any probe the replica's staleness is unknown: the primary answers.
            unknown = await client.get(show)
            assert unknown.json()["title"] == title and STALENESS not in unknown.headers

            fresh(app)
            anonymous = await client.get(show)
            assert anonymous.json()["title"] == ON_REPLICA and anonymous.headers[STALENESS] == "0"
            found = await client.get(f"{API}/listings")
            assert [i["title"] for i in found.json()["items"]] == [ON_REPLICA] and STALENESS in found.headers
            exported = await client.get(f"{API}/open-data/listings")
            assert ON_REPLICA in exported.text and STALENESS in exported.headers
            assert (await client.get(f"{API}/notices/{notice_id}")).json()["status"] == "closed"
            page = await client.get("/listings", headers={"Accept": "text/html"})
            assert ON_REPLICA in page.text
            assert "数据来自只读副本，截至 2026年3月2日 09:00:00（北京时间），可能滞后至多 5 秒" in page.text
            shown = await client.get(f"/listings/{listing['id']}", headers={"Accept": "text/html"})
            assert ON_REPLICA in shown.text and "数据来自只读副本" in shown.text

            # A signed-in reader reads the primary (what they just wrote is there).
            signed_in = await client.get(show, headers=seller.headers)
            assert signed_in.json()["title"] == title and STALENESS not in signed_in.headers
            # A decision reads and writes the primary: the notice is open there, closed on the replica.
            filed = await client.post(
                f"{API}/notices/{notice_id}/objections",
                json={"reason": "该专利权属存在争议，发明人之一为我单位职工。"},
                headers=objector.headers,
            )
            assert filed.status_code == 201, filed.text
            assert await replica.fetchval("SELECT count(*) FROM notice_objections") == 0
            async with app.state.db.read() as session:
                assert (await session.execute(text("SELECT count(*) FROM notice_objections"))).scalar() == 1

            serving, staleness = "techx_read_replica_serving", "techx_read_replica_staleness_seconds"
            assert {k[0]: v for k, v in (await gauges(client, app)).items() if "replica" in k[0]} == {
                serving: 1,
                staleness: 0,
            }

            # Further behind than TECHX_READ_MAX_LAG_SECONDS (5): the primary answers again.
            clock.advance(timedelta(seconds=5.5))
            stale = await client.get(show)
            assert stale.json()["title"] == title and STALENESS not in stale.headers
            measured = await gauges(client, app)
            assert (measured[(serving, ())], measured[(staleness, ())]) == (0, 5.5)
            # Unreachable (probe and read alike): logged, the primary answers, nothing fails.
            fresh(app)
            unreachable = ReadReplica(
                create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", pool_size=1, connect_timeout=2),
                max_lag=5,
                clock=clock,
            )
            await app.state.db.probe_replica()  # the copy is no standby: it replays no WAL, unknown
            assert app.state.db.read_replica.as_of is None
            app.state.db.read_replica, kept = unreachable, app.state.db.read_replica
            fresh(app)
            cut_off = await client.get(show)
            assert cut_off.status_code == 200 and cut_off.json()["title"] == title and STALENESS not in cut_off.headers
            assert unreachable.as_of is None
            await app.state.db.probe_replica()
            assert unreachable.as_of is None
            app.state.db.read_replica = kept
        finally:
            await replica.close()
