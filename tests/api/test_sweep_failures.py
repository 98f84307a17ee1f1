"""A due row whose processing fails: the other rows are processed, it is retried with growing gaps,
set aside after the limit with its error for operators (API and CLI), and processed after a retry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from exchange.server.app import create_app
from tests.api.test_ops_metrics import gauges
from tests.conftest import make_settings
from tests.helpers import announced_listing, assert_problem, operator, relogin, verified
from tests.integration.test_cli import techx

API = "/api/v1"


@pytest.fixture
async def app(backend, keys_dir, clock):
    settings = make_settings(backend, keys_dir, sweep_max_attempts=4, sweep_retry_base_seconds=10.0)
    return create_app(settings, clock=clock, run_background_tasks=False)


async def sweep(app) -> dict[str, int]:
    return await app.state.sweeper.run_once(app.state.db, app.state.clock.now())


async def failures(client, ops, **params) -> list[dict]:
    response = await client.get(f"{API}/ops/sweep-failures", headers=ops.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_failing_row_backs_off_is_set_aside_and_is_processed_after_a_retry(
    client, app, clock, backend, keys_dir
):
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute")
    bad = await announced_listing(client, seller, ops)
    good = await announced_listing(client, seller, ops)
    hooks = app.state.listings.hooks
    original, tried = hooks.close_handler, []

    async def flaky(session, listing, now):
        if str(listing.id) == bad["id"]:
            tried.append(now)
            raise RuntimeError("the registry refused the closing record")
        return await original(session, listing, now)

    hooks.set_close_handler(flaky)
    failed_before = (await gauges(client, app)).get(("techx_sweep_step_failures_total", (("step", "notices"),)), 0)
    clock.set(clock.now().replace(day=30, hour=16))  # both announcements end

    assert (await sweep(app))["notices"] == 1  # the good one is closed although the bad one fails
    listing = (await client.get(f"{API}/listings/{good['id']}")).json()
    assert listing["status"] == "unsold"
    assert (await client.get(f"{API}/listings/{bad['id']}")).json()["status"] == "announced"
    assert len(tried) == 1

    # Growing gaps: 10 s, 20 s, 40 s (base 10 s); passes in between leave the row alone.
    for gap in (10, 20, 40):
        clock.advance(timedelta(seconds=gap - 1))
        await sweep(app)
        before = len(tried)
        clock.advance(timedelta(seconds=1))
        await sweep(app)
        assert len(tried) == before + 1, gap
    assert len(tried) == 4  # the limit: set aside

    clock.advance(timedelta(days=2))
    await sweep(app)
    assert len(tried) == 4  # set aside: not tried again, however long
    await relogin(client, ops)
    [failure] = await failures(client, ops, set_aside="true")
    assert failure["step"] == "notices" and failure["row_key"] == bad["announcement"]["notice_id"]
    assert failure["attempts"] == 4 and failure["set_aside"] is True
    assert "the registry refused the closing record" in failure["last_error"]
    assert await failures(client, ops, set_aside="false") == []
    metrics = await gauges(client, app)
    assert metrics[("techx_sweep_rows_set_aside", (("step", "notices"),))] == 1
    assert metrics[("techx_sweep_step_failures_total", (("step", "notices"),))] == failed_before + 4

    listed = await asyncio.to_thread(
        techx, "sweep", "failures", env={"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    )
    assert listed.returncode == 0, listed.stderr
    assert failure["id"] in listed.stdout and "the registry refused the closing record" in listed.stdout
    assert "1 failing rows" in listed.stdout

    hooks.set_close_handler(original)  # the cause is fixed
    retried = await client.post(f"{API}/ops/sweep-failures/{failure['id']}/retry", headers=ops.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["set_aside"] is False
    assert (await sweep(app))["notices"] == 1
    assert (await client.get(f"{API}/listings/{bad['id']}")).json()["status"] == "unsold"
    assert await failures(client, ops) == []
    assert (await gauges(client, app))[("techx_sweep_rows_set_aside", (("step", "notices"),))] == 0


async def test_the_cli_retries_a_row_set_aside(client, app, clock, backend, keys_dir):
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute")
    bad = await announced_listing(client, seller, ops)
    hooks = app.state.listings.hooks
    original = hooks.close_handler

    async def broken(session, listing, now):
        raise RuntimeError("down")

    hooks.set_close_handler(broken)
    clock.set(clock.now().replace(day=30, hour=16))
    for _ in range(4):
        await sweep(app)
        clock.advance(timedelta(hours=1))
    await relogin(client, ops)
    [failure] = await failures(client, ops, set_aside="true")

    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    retried = await asyncio.to_thread(techx, "sweep", "retry", failure["id"], env=env)
    assert retried.returncode == 0, retried.stderr
    assert "retried on the next pass" in retried.stdout
    hooks.set_close_handler(original)
    assert (await sweep(app))["notices"] == 1
    assert (await client.get(f"{API}/listings/{bad['id']}")).json()["status"] == "unsold"
    unknown = await asyncio.to_thread(techx, "sweep", "retry", "0190f5a2-0000-7000-8000-000000000000", env=env)
    assert unknown.returncode == 1 and "not found" in unknown.stderr


async def test_only_operators_see_and_retry_sweep_failures(client, app):
    ops = await operator(client, app)
    trader = await verified(client, ops)
    assert_problem(await client.get(f"{API}/ops/sweep-failures", headers=trader.headers), 403, "forbidden")
    assert_problem(
        await client.post(f"{API}/ops/sweep-failures/0190f5a2-0000-7000-8000-000000000000/retry", headers=ops.headers),
        404,
        "not-found",
    )
