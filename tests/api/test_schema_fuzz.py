"""Property-based fuzzing of every operation in the OpenAPI schema against a real server.

Every endpoint joins automatically. The checks: never a 5xx, every status and body as documented,
bad input refused; and every operation that takes a JSON body refuses a NUL in its text and a body
nested 100,000 deep at the door. Runs once per database.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from exchange.parties import service as parties
from exchange.parties.auth import TokenIssuer
from exchange.parties.passwords import hash_password
from exchange.platform.clock import SystemClock
from exchange.platform.db import Database, create_engine
from exchange.platform.keys import load_or_create_keys
from tests.conftest import make_settings
from tests.helpers import PASSWORD, credit_code, mailed_token_at
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
        assert registered.status_code == 202, registered.text
        token = mailed_token_at(server_settings.database_url, "account.email_confirmation", email)
        confirmed = httpx.post(f"{server.base_url}/api/v1/auth/confirm-email", json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        # A verified organisation reaches past the guards into every module's rules.
        verify_org(server, server_settings.database_url, confirmed.json()["org"]["id"])
        # A token of no session (as the server's own key issues it): the fuzzed sign-out and session
        # revocations then end nothing the other cases need.
        issuer = TokenIssuer(load_or_create_keys(server_settings).jwt, 3600, SystemClock())
        headers = {"Authorization": f"Bearer {issuer.issue(uuid.UUID(confirmed.json()['user']['id']))}"}

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


# Twenty examples per operation and database: every operation's schema is still met with bad and
# good bodies, and the module (the suite's longest, on one worker) costs two thirds of its thirty.
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
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


# 200 KB, under the body size cap: a decoder that recursed into it would fail with a 500. The NUL at
# the bottom is text the door would otherwise decode the whole body to find.
DEEP_BODY = b'{"a": ' + b"[" * 100_000 + b'"\\u0000"' + b"]" * 100_000 + b"}"


def json_body_operations(document: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path, the body's top-level fields) of every operation taking a JSON body."""
    schemas = document.get("components", {}).get("schemas", {})

    def fields(schema: dict[str, Any]) -> list[str]:
        if "$ref" in schema:
            return fields(schemas[schema["$ref"].rsplit("/", 1)[-1]])
        for choice in schema.get("oneOf", []) + schema.get("anyOf", []):
            if found := fields(choice):
                return found
        return sorted(schema.get("properties", {}))

    operations = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                operations.append((method.upper(), path, fields(content["application/json"]["schema"])))
    return operations


def some_path_value(document: dict[str, Any], path: str, method: str, name: str) -> str:
    """A well-formed value of a path parameter that names nothing (so only the body is judged)."""
    parameters = document["paths"][path][method.lower()].get("parameters", [])
    schema = next((p.get("schema", {}) for p in parameters if p.get("name") == name and p.get("in") == "path"), {})
    if schema.get("format") == "date":
        return "2099-01-01"
    if schema.get("type") == "integer":
        return "2099"
    return str(uuid.uuid4())


def test_every_json_operation_refuses_nul_text_and_deep_nesting_at_the_door(live):
    """Each body is refused before the operation's guards and rules: NUL text with 422 naming the
    fields, the nesting with 400 naming the body; never a 5xx, always problem details."""
    server, headers = live
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        document = http.get("/schema/openapi.json").json()
        operations = json_body_operations(document)
        assert len(operations) > 30, operations
        for method, path, fields in operations:
            url = re.sub(r"\{([^}]+)\}", lambda m, p=path, v=method: some_path_value(document, p, v, m.group(1)), path)
            nul = {name: "x\u0000" for name in fields or ["text"]}
            sent = {**headers, "content-type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
            for body, status, named in ((msgspec.json.encode(nul), 422, set(nul)), (DEEP_BODY, 400, {"body"})):
                answer = http.request(method, url, content=body, headers=sent)
                assert answer.status_code == status, (method, path, answer.text)
                assert answer.headers["content-type"].startswith("application/problem+json"), (method, path)
                assert {e["field"] for e in answer.json()["errors"]} == named, (method, path, answer.text)
