"""Helpers for driving the API as the exchange's parties do."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar

from exchange.parties import service as parties
from exchange.parties.domain import credit_code_check_char
from exchange.parties.passwords import hash_password

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)


def credit_code(seed: int | None = None) -> str:
    """A valid unified social credit code, different for each call."""
    rng = random.Random(seed if seed is not None else next(_counter) * 7919 + random.getrandbits(32))
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + "310000" + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + credit_code_check_char(first17)


@dataclass
class Party:
    token: str
    user_id: str
    org_id: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(client: Any, kind: str = "enterprise", name: str | None = None) -> Party:
    email = f"user-{uuid.uuid4().hex[:10]}@example.cn"
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": "测试用户",
            "org": {"name": name or f"测试机构 {kind}", "credit_code": credit_code(), "kind": kind},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Party(body["access_token"], body["user"]["id"], body["org"]["id"], email)


async def operator(client: Any, app: Litestar) -> Party:
    """An exchange operator, created the way `techx operator create` creates one."""
    email = f"ops-{uuid.uuid4().hex[:8]}@techx.example"
    db = app.state.db
    user = await db.transaction(
        lambda s: parties.create_operator(
            s, email=email, password_hash=_PASSWORD_HASH, display_name="Operator", now=app.state.clock.now()
        )
    )
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return Party(response.json()["access_token"], str(user.id), str(user.org_id), email)


async def verified(client: Any, ops: Party, kind: str = "enterprise", name: str | None = None) -> Party:
    party = await register(client, kind, name)
    response = await client.post(f"/api/v1/orgs/{party.org_id}/verify", headers=ops.headers, json={"note": "ok"})
    assert response.status_code == 200, response.text
    return party


def assert_problem(response: Any, status: int, problem_type: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["type"] == problem_type, body
    assert body["status"] == status
    if field is not None:
        fields = [e.get("field") for e in body.get("errors", [])]
        assert field in fields, body
    return body
