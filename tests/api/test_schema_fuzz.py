"""Property-based fuzzing of every operation in the OpenAPI schema against a real server.

Every endpoint joins automatically. The checks: never a 5xx, every status and body as documented,
bad input refused. Runs once per database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from exchange.parties import service as parties
from exchange.parties.passwords import hash_password
from exchange.platform.db import Database, create_engine
from tests.conftest import make_settings
from tests.helpers import PASSWORD, credit_code
from tests.live import LiveServer

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, backends, tmp_path_factory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    from tests.conftest import _backend

    backend = _backend(backends, request.param)
    if backend.name == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
        server_settings = make_settings(backend, tmp_path_factory.mktemp("fuzz-keys"), database_url=url)
    else:
        server_settings = make_settings(backend, tmp_path_factory.mktemp("fuzz-keys"))
    server = LiveServer(server_settings).start()
    try:
        email = f"fuzz-{uuid.uuid4().hex[:8]}@example.cn"
        registered = httpx.post(
            f"{server.base_url}/api/v1/auth/register",
            json={
                "email": email,
                "password": PASSWORD,
                "display_name": "Fuzz",
                "org": {"name": "Fuzz Co", "credit_code": credit_code(), "kind": "enterprise"},
            },
        )
        assert registered.status_code == 201, registered.text
        # A verified organisation reaches past the guards into every module's rules.
        verify_org(server, server_settings.database_url, registered.json()["org"]["id"])
        headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        yield server, headers
    finally:
        server.stop()


def verify_org(server: LiveServer, database_url: str, org_id: str) -> None:
    email = f"fuzz-ops-{uuid.uuid4().hex[:8]}@techx.example"

    async def create() -> None:
        db = Database(create_engine(database_url, pool_size=1))
        try:
            await db.transaction(
                lambda s: parties.create_operator(
                    s, email=email, password_hash=hash_password(PASSWORD), display_name="Ops", now=datetime.now(UTC)
                )
            )
        finally:
            await db.dispose()

    asyncio.run(create())
    login = httpx.post(f"{server.base_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["access_token"]
    verified = httpx.post(
        f"{server.base_url}/api/v1/orgs/{org_id}/verify",
        headers={"Authorization": f"Bearer {token}"},
        json={"note": "fuzzing"},
    )
    assert verified.status_code == 200, verified.text


@pytest.fixture(scope="module")
def api_schema(live):
    server, _ = live
    return schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_and_never_fails(case, live):
    server, headers = live
    case.call_and_validate(base_url=server.base_url, headers=credentials_for(case, headers))


def credentials_for(case, headers: dict[str, str]) -> dict[str, str]:
    """The fuzzing user's token, unless the case leaves Authorization out on purpose.

    A negative case that drops a required ``Authorization`` header tests that the request is
    refused; adding the token back would turn it into a valid request and a false finding.
    """
    dropped = "Authorization" not in (case.headers or {})
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER) and dropped:
        return {}
    return headers
