"""The test-only clock control: it moves a server's time and sweeps, and production can never have it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest

from exchange.platform.clock import OffsetClock
from exchange.platform.settings import Settings, SettingsError
from exchange.server.app import create_app
from tests.calendar_helpers import load_2027_fixture
from tests.conftest import make_settings
from tests.helpers import announced_listing, assert_problem, operator, relogin, verified


@pytest.fixture
async def app(backend, keys_dir):
    """The server as an end-to-end test runs it: a movable clock, no background tasks here.

    Its clock starts at the real date, so its periods may run into 2027: the 2027 test fixture (not
    the official schedule) is loaded through the import, as the end-to-end harness does."""
    app = create_app(make_settings(backend, keys_dir, environment="test", test_clock=True), run_background_tasks=False)
    await load_2027_fixture(app.state.db, app.state.clock.now())
    return app


@pytest.mark.parametrize(
    ("environment", "refusal"),
    [
        ("production", "TECHX_TEST_CLOCK needs TECHX_ENVIRONMENT=test"),
        ("development", "TECHX_TEST_CLOCK needs TECHX_ENVIRONMENT=test"),
        ("prod", "TECHX_ENVIRONMENT must be one of development, production, test"),
        ("staging", "TECHX_ENVIRONMENT must be one of development, production, test"),
        ("", "TECHX_ENVIRONMENT must be one of development, production, test"),
    ],
)
def test_the_test_clock_is_refused_outside_the_test_environment(environment, refusal):
    with pytest.raises(SettingsError, match=refusal):
        Settings.from_env(env={"TECHX_TEST_CLOCK": "1", "TECHX_ENVIRONMENT": environment})
    assert Settings.from_env(env={"TECHX_TEST_CLOCK": "1", "TECHX_ENVIRONMENT": "test"}).test_clock


def serve(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.server.cli", "serve", "--port", "9", *args],
        env={
            **os.environ,
            "TECHX_TEST_CLOCK": "true",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'never.db'}",
            "TECHX_KEYS_DIR": str(tmp_path / "keys"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_production_server_with_the_test_clock_refuses_to_start(tmp_path):
    started = serve(tmp_path, TECHX_ENVIRONMENT="production")
    assert started.returncode == 2
    assert "TECHX_TEST_CLOCK needs TECHX_ENVIRONMENT=test" in started.stderr
    assert not (tmp_path / "never.db").exists()  # refused before touching anything
    assert not (tmp_path / "keys").exists()


def test_the_test_clock_runs_in_one_process_only(tmp_path):
    started = serve(tmp_path, "--workers", "2", TECHX_ENVIRONMENT="test")
    assert started.returncode == 2
    assert "one server process only" in started.stderr
    assert not (tmp_path / "never.db").exists()


async def test_without_the_setting_there_is_no_clock_control(backend, keys_dir):
    plain = create_app(make_settings(backend, keys_dir), run_background_tasks=False)
    transport = httpx.ASGITransport(app=plain)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.post("/_test/clock/advance", json={"days": 30})).status_code == 404
        assert (await c.get("/_test/clock")).status_code == 404
    assert "/_test/clock" not in str(plain.openapi_schema.paths)


async def test_an_operator_moves_the_clock_and_due_notices_close(client, app):
    assert isinstance(app.state.clock, OffsetClock)
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    listing = await announced_listing(client, seller, ops)
    closes_at = datetime.fromisoformat(listing["announcement"]["closes_at"])

    # Not a seller's business: only operators move time.
    advance = "/_test/clock/advance"
    assert_problem(await client.post(advance, json={"days": 40}, headers=seller.headers), 403, "forbidden")
    assert_problem(await client.post(advance, json={"days": -1}, headers=ops.headers), 400, "validation-error", "days")

    before = datetime.fromisoformat((await client.get("/_test/clock", headers=ops.headers)).json()["now"])
    moved = await client.post("/_test/clock/advance", json={"days": 40}, headers=ops.headers)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    now = datetime.fromisoformat(body["now"])
    assert now - before >= timedelta(days=40) and now > closes_at
    assert body["offset_seconds"] == 40 * 86_400
    assert body["swept"]["notices"] >= 1

    await relogin(client, seller)  # 40 days outlive any bearer token
    shown = (await client.get(f"/api/v1/listings/{listing['id']}", headers=seller.headers)).json()
    assert shown["status"] == "unsold"


async def test_an_operator_moves_the_clock_until_a_moment(client, app):
    ops = await operator(client, app)
    advance = "/_test/clock/advance"
    before = datetime.fromisoformat((await client.get("/_test/clock", headers=ops.headers)).json()["now"])
    target = before + timedelta(days=3, hours=5)
    moved = await client.post(advance, json={"until": target.isoformat(), "seconds": 60}, headers=ops.headers)
    assert moved.status_code == 200, moved.text
    now = datetime.fromisoformat(moved.json()["now"])
    assert target + timedelta(seconds=60) <= now < target + timedelta(seconds=70)
    # A moment already past moves nothing: the clock never goes back.
    offset = moved.json()["offset_seconds"]
    await relogin(client, ops)  # three days outlive any bearer token
    again = await client.post(advance, json={"until": before.isoformat()}, headers=ops.headers)
    assert again.json()["offset_seconds"] == offset
    naive = await client.post(advance, json={"until": "2030-01-01T00:00:00"}, headers=ops.headers)
    assert_problem(naive, 400, "validation-error", "until")


async def test_servers_started_with_one_offset_share_one_moved_time(backend, keys_dir):
    settings = make_settings(backend, keys_dir, environment="test", test_clock=True, test_clock_offset_seconds=86_400)
    first = create_app(settings, run_background_tasks=False)
    second = create_app(settings, run_background_tasks=False)  # a host started later, or restarted
    assert first.state.clock.offset == second.state.clock.offset == timedelta(days=1)
    assert abs(second.state.clock.now() - first.state.clock.now()) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"TECHX_TEST_CLOCK_OFFSET_SECONDS": "60"}, "TECHX_TEST_CLOCK_OFFSET_SECONDS needs TECHX_TEST_CLOCK"),
        (
            {"TECHX_TEST_CLOCK": "1", "TECHX_TEST_CLOCK_OFFSET_SECONDS": "-60"},
            "TECHX_TEST_CLOCK_OFFSET_SECONDS must be 0 or more",
        ),
    ],
)
def test_a_clock_offset_without_the_test_clock_or_backwards_is_refused(env, refusal):
    with pytest.raises(SettingsError, match=refusal):
        Settings.from_env(env={"TECHX_ENVIRONMENT": "test", **env})
