"""End-to-end harness: the real ``techx`` server as a subprocess on a fresh PostgreSQL database.

Each test gets its own database (created, migrated by ``techx db upgrade``, dropped afterwards),
its own keys, a free loopback port and the test clock (``TECHX_ENVIRONMENT=test``,
``TECHX_TEST_CLOCK=true``), so a test drives the exchange only as a client would: over HTTP, and
through the ``techx`` command line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.calendar_helpers import FIXTURE_2027
from tests.conftest import PG_ADMIN_DSN, _postgres_reachable

OPERATOR_EMAIL = "ops@techx-e2e.example"
OPERATOR_PASSWORD = "operator-secret-e2e"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``techx serve`` in a child process: start, wait until ready, kill, restart, run CLI commands."""

    def __init__(self, database_url: str, workdir: Path, **settings: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TECHX_KEYS_DIR": str(workdir / "keys"),
            "TECHX_ENVIRONMENT": "test",
            "TECHX_TEST_CLOCK": "true",
            # The journeys move the clock by minutes between sign-ins, written for hour-long tokens.
            "TECHX_TOKEN_LIFETIME_SECONDS": "3600",
            # The journeys read mailed tokens from the outbox, which delivery would erase; the
            # tests of delivery turn it on.
            "TECHX_NOTIFY_INTERVAL_SECONDS": "0",
            "TECHX_LOG_LEVEL": "WARNING",
            "TECHX_LOG_JSON": "true",
            **settings,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    def techx(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "exchange.server.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"techx {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self, timeout: float = 60) -> ServerProcess:
        assert self.process is None, "already running"
        self.starts += 1
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "exchange.server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"the server was not ready within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; what the database committed is all that remains."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()


class Api:
    """A thin HTTP client of one server: the API under /api/v1, tokens by party, the clock control."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("/_") or path.startswith("/api/") else f"/api/v1{path}"
        return self.http.request(method, url, headers=headers, **kw)

    def ok(self, method: str, path: str, token: str | None = None, status: int | None = None, **kw: Any) -> Any:
        response = self.request(method, path, token, **kw)
        expected = status or (201 if method == "POST" and response.status_code == 201 else 200)
        assert response.status_code == expected, f"{method} {path} → {response.status_code}: {response.text}"
        return response.json() if response.content else None

    def login(self, email: str, password: str) -> str:
        return self.ok("POST", "/auth/login", json={"email": email, "password": password})["access_token"]

    def sign_up(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register (202), then confirm the address by the token of the confirmation mail, read from
        the server's outbox: the user, the organisation and the tokens."""
        from tests.helpers import mailed_token_at

        answer = self.ok("POST", "/auth/register", status=202, json=body)
        token = mailed_token_at(self.server.database_url, "account.email_confirmation", answer["email"])
        return self.ok("POST", "/auth/confirm-email", json={"token": token})  # type: ignore[no-any-return]

    def advance(self, token: str, *, sweep: bool = True, **delta: int) -> dict[str, Any]:
        return self.ok("POST", "/_test/clock/advance", token, json={**delta, "sweep": sweep})

    def now(self, token: str) -> datetime:
        return parse_time(self.ok("GET", "/_test/clock", token)["now"])

    def advance_past(self, token: str, moment: str | datetime, margin_seconds: int = 60) -> dict[str, Any]:
        """Move the server's clock to ``margin_seconds`` after ``moment`` (if it is not there yet) and sweep."""
        target = parse_time(moment) if isinstance(moment, str) else moment
        seconds = max(0, int((target - self.now(token)).total_seconds()) + margin_seconds)
        return self.advance(token, seconds=seconds)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@contextmanager
def fresh_pg_database(prefix: str = "techx_e2e") -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards; its asyncpg URL. Its statements run
    in a thread of their own, so that a running event loop (Playwright's) does not stand in the way."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    def run(coroutine: Any) -> Any:
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, coroutine).result()

    problem = run(_postgres_reachable())
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(f"PostgreSQL is unreachable: {problem}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; its asyncpg URL."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def server_settings() -> dict[str, str]:
    """Extra environment for the server (``TECHX_…``); a test module overrides it, e.g. for Stripe."""
    return {}


@pytest.fixture
def server(pg_database: str, tmp_path: Path, server_settings: dict[str, str]) -> Iterator[ServerProcess]:
    """The real server, migrated and ready, with an operator created by ``techx operator create``."""
    proc = ServerProcess(pg_database, tmp_path, **server_settings)
    upgraded = proc.techx("db", "upgrade")
    assert "database at revision" in upgraded.stdout
    proc.techx("operator", "create", "--email", OPERATOR_EMAIL, "--password", OPERATOR_PASSWORD)
    # The server runs on the real date, and its periods run into 2027, a year without official
    # calendar data: the 2027 TEST FIXTURE (not the official schedule) is loaded as an operator would.
    loaded = proc.techx("calendar", "import", str(FIXTURE_2027), check=False)
    assert loaded.returncode == 0 or "loaded already" in loaded.stderr, loaded.stderr
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def api(server: ServerProcess) -> Iterator[Api]:
    client = Api(server)
    try:
        yield client
    finally:
        client.close()
