"""The `techx` command line, run as a real process against each database."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from exchange.platform.migrate import head_revision
from tests.conftest import PG_ADMIN_DSN, _postgres_reachable
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


def test_serve_on_a_busy_port_names_the_port_and_how_to_choose_another(keys_dir, tmp_path):
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techx.db'}",
        "TECHX_KEYS_DIR": str(keys_dir),
        "TECHX_HOST": "127.0.0.1",
    }
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        result = techx("serve", env={**env, "TECHX_PORT": str(port)})  # as `make run` starts it
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in message
    assert "TECHX_PORT=" in message and "make run" in message
    assert not (tmp_path / "techx.db").exists(), "it stopped before touching the database"


def test_serve_says_where_it_listens(keys_dir, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techx.db'}", "TECHX_KEYS_DIR": str(keys_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "exchange.server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([server.stdout], [], [], 60)
        assert ready, "nothing printed within 60 s"
        assert server.stdout.readline() == f"TechX listening on http://127.0.0.1:{port}\n"
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve", "--port", "0"], ["demo"]])
def test_a_missing_postgresql_database_is_one_line_naming_it_and_how_to_create_it(command, keys_dir):
    problem = asyncio.run(_postgres_reachable())
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(f"PostgreSQL is unreachable: {problem}")
    server = urlsplit(PG_ADMIN_DSN)
    name = f"techx_missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+asyncpg://{server.username}@{server.hostname}:{server.port}/{name}"
    result = techx(*command, env={"DATABASE_URL": url, "TECHX_KEYS_DIR": str(keys_dir)})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f'error: PostgreSQL database "{name}" does not exist on {server.hostname}:{server.port}'
        f" — create it with: createdb -h {server.hostname} -p {server.port} -U {server.username} {name}"
    ), result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TECHX_LOG_JSON", "ture", "error: TECHX_LOG_JSON must be one of true, false, 1, 0, yes, no (not 'ture')"),
        ("TECHX_LOG_JSNO", "true", "error: unknown setting TECHX_LOG_JSNO (did you mean TECHX_LOG_JSON?)"),
    ],
)
def test_serve_refuses_a_bad_setting_in_one_line(tmp_path, variable, value, expected):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", variable: value}
    result = techx("serve", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""
