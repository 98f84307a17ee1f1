"""The `techx` command line, run as a real process against each database."""

from __future__ import annotations

import os
import subprocess
import sys

from exchange.platform.migrate import head_revision
from tests.helpers import assert_problem, register


def techx(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.server.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_operator_created_by_the_cli_can_verify_an_org(backend, keys_dir, client):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir), "TECHX_OPERATOR_PASSWORD": "operator-secret-1"}
    upgraded = techx("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert head_revision() in upgraded.stdout

    created = techx("operator", "create", "--email", "Ops@TechX.example", "--name", "值班运营", env=env)
    assert created.returncode == 0, created.stderr
    assert "operator ops@techx.example created" in created.stdout
    again = techx("operator", "create", "--email", "ops@techx.example", env=env)
    assert again.returncode == 1 and "already registered" in again.stderr

    login = await client.post(
        "/api/v1/auth/login", json={"email": "ops@techx.example", "password": "operator-secret-1"}
    )
    assert login.status_code == 200, login.text
    ops_headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    party = await register(client)
    assert_problem(await client.get("/api/v1/wallet", headers=party.headers), 403, "org-not-verified")
    verify = await client.post(f"/api/v1/orgs/{party.org_id}/verify", headers=ops_headers)
    assert verify.status_code == 200
    assert (await client.get("/api/v1/wallet", headers=party.headers)).status_code == 200


def test_short_passwords_are_refused(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "TECHX_OPERATOR_PASSWORD": "short"}
    result = techx("operator", "create", "--email", "a@b.cn", env=env)
    assert result.returncode == 2 and "at least 10" in result.stderr


def test_common_and_blank_operator_passwords_are_refused(tmp_path):
    for password, why in [("qwertyuiop", "common"), (" " * 12, "spaces")]:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "TECHX_OPERATOR_PASSWORD": password}
        result = techx("operator", "create", "--email", "a@b.cn", env=env)
        assert result.returncode == 2 and why in result.stderr, result.stderr


def test_a_server_process_keeps_its_start_up_objects_out_of_the_collectors_sight(keys_dir, tmp_path):
    """Once the app of a server process is built, a full collection walks only what requests have
    created since, not the libraries' and the app's own objects (walking those stalled every request
    in flight for 100-200 ms several times a minute under load)."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techx.db'}", "TECHX_KEYS_DIR": str(keys_dir)}
    code = (
        "import gc; from exchange.server.cli import serving_app; serving_app(); "
        "print(gc.get_freeze_count(), len(gc.get_objects()))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    frozen, collectable = map(int, run.stdout.split())
    assert frozen > 100_000 and collectable < 1_000, run.stdout
