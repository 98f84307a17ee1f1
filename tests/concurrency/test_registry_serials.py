"""Concurrent registrations on PostgreSQL: twenty submitted achievements registered at once by
parallel operator requests get twenty distinct, consecutive serials, and the feed's sequence has
no gap."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from exchange.registry import feed
from exchange.registry.domain import parse_number
from exchange.server.app import create_app
from tests.conftest import make_settings, running
from tests.helpers import operator, verified

API = "/api/v1/registry/achievements"
N = 20


@pytest.fixture
async def pg_client(pg_backend, keys_dir, clock):
    app = create_app(make_settings(pg_backend, keys_dir, db_pool_size=10), clock=clock, run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client, app


async def test_parallel_registrations_get_distinct_serials(pg_client):
    client, app = pg_client
    ops = await operator(client, app)
    uni = await verified(client, ops, "university", "东海理工大学")
    body = {"summary": "简介", "category": "Y", "keywords": ["词"], "level": "other", "stage": "early",
            "field": "other", "contact_name": "陈", "contact_phone": "021-12345678"}  # fmt: skip
    ids = []
    for i in range(N):
        made = await client.post(API, json={**body, "title": f"成果{i}"}, headers=uni.headers)
        assert (await client.post(f"{API}/{made.json()['id']}/submit", headers=uni.headers)).status_code == 200
        ids.append(made.json()["id"])
    answers = await asyncio.gather(*(client.post(f"{API}/{i}/register", headers=ops.headers) for i in ids))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    serials = sorted(parse_number(a.json()["number"]).serial for a in answers)
    assert serials == list(range(1, N + 1))
    async with app.state.db.read() as session:
        events = await feed.events_since(session, 0, 100)
    assert [e.seq for e in events] == list(range(1, N + 1))
