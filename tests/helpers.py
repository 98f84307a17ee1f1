"""Helpers for driving the API as the exchange's parties do."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from sqlalchemy import select

from exchange.parties import service as parties
from exchange.parties.domain import credit_code_check_char
from exchange.parties.passwords import hash_password
from exchange.platform.db import Database, create_engine
from exchange.platform.outbox import Kind, OutboxEvent

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


def db_of(client: Any) -> Database:
    """The database of the app an in-process test client talks to."""
    return client._transport.app.state.db  # type: ignore[no-any-return]


async def mailed_token(db: Database, kind: str | Kind, email: str) -> str:
    """The token of the latest account mail of ``kind`` to ``email``, read from the notification
    outbox (the notifications module delivers it; tests read it where it is written)."""
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.kind == Kind(kind).value).order_by(OutboxEvent.id.desc())
            )
        ).all()
    for row in rows:
        if email in row.audience.get("emails", ()) and row.data.get("token"):
            return str(row.data["token"])
    raise AssertionError(f"no {Kind(kind).value} mail with a token to {email} in the outbox")


def mailed_token_at(database_url: str, kind: str | Kind, email: str) -> str:
    """``mailed_token`` for a test of a server in another process: reads its database (in a thread
    of its own, so that a running event loop does not stand in the way)."""

    async def read() -> str:
        db = Database(create_engine(database_url, pool_size=1))
        try:
            return await mailed_token(db, kind, email)
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read()).result()


def sign_up_body(email: str, kind: str = "enterprise", name: str | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": email,
        "password": PASSWORD,
        "display_name": "测试用户",
        "org": {"name": name or f"测试机构 {kind}", "credit_code": credit_code(), "kind": kind},
    }
    body.update(changes)
    return body


async def confirm(client: Any, email: str, db: Database | None = None) -> dict[str, Any]:
    """Confirm ``email`` by the token of its confirmation mail: the user, org and tokens."""
    token = await mailed_token(db or db_of(client), Kind.EMAIL_CONFIRMATION, email)
    response = await client.post("/api/v1/auth/confirm-email", json={"token": token})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def register(
    client: Any, kind: str = "enterprise", name: str | None = None, *, db: Database | None = None
) -> Party:
    """Sign up (202), confirm the address by the mailed token, and hold the tokens it answers with.
    ``db``: the server's database when ``client`` talks to a server in another process."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.cn"
    response = await client.post("/api/v1/auth/register", json=sign_up_body(email, kind, name))
    assert response.status_code == 202, response.text
    body = await confirm(client, email, db)
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


async def verified(
    client: Any, ops: Party, kind: str = "enterprise", name: str | None = None, *, db: Database | None = None
) -> Party:
    party = await register(client, kind, name, db=db)
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


def listing_body(deal_type: str = "transfer", mode: str = "listed", **changes: Any) -> dict[str, Any]:
    """A valid listing of one deal type and pricing mode; ``changes`` replace top-level fields."""
    deals = {
        "transfer": {"type": "transfer"},
        "license": {"type": "license", "scope": "exclusive", "term_months": 36, "territory": "CN"},
        "equity": {"type": "equity", "company_name": "上海固能新材料有限公司", "shares_bp": 1500},
    }
    body: dict[str, Any] = {
        "title": "固态锂电池制备方法",
        "summary": "一种高能量密度固态锂电池的制备方法, suitable for electric vehicles.",
        "field": "new_energy",
        "keywords": ["固态电池", "储能"],
        "maturity": 6,
        "ip_assets": [
            {
                "kind": "invention_patent",
                "number": "ZL202310123456.7",
                "title": "一种固态电解质及其制备方法",
                "expires_on": "2043-05-01",
            }
        ],
        "inventors": [{"name": "李明"}, {"name": "王芳", "related_to_buyer": ["91310000MA1FL0000N"]}],
        "deal": deals[deal_type],
        "pricing": {"mode": mode, "asking_price": 50_000_000, "appraised_value": 45_000_000},
        "confidential_details": "电解质配方: Li7La3Zr2O12 掺杂 0.25 mol Ta; 烧结 1150°C 12 h",
    }
    body.update(changes)
    return body


async def create_listing(client: Any, seller: Party, **kw: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/listings", json=listing_body(**kw), headers=seller.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def announced_listing(client: Any, seller: Party, ops: Party, **kw: Any) -> dict[str, Any]:
    """A listing created, submitted and approved: its announcement notice is open."""
    listing = await create_listing(client, seller, **kw)
    submitted = await client.post(f"/api/v1/listings/{listing['id']}/submit", headers=seller.headers)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(
        f"/api/v1/listings/{listing['id']}/review", json={"decision": "approve"}, headers=ops.headers
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


async def relogin(client: Any, *parties: Party) -> None:
    """New bearer tokens after the test clock moved past their lifetime."""
    for party in parties:
        response = await client.post("/api/v1/auth/login", json={"email": party.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        party.token = response.json()["access_token"]


async def invite(client: Any, admin: Party, email: str, role: str = "member") -> dict[str, Any]:
    """An invitation into the organisation of ``admin``, mailed to ``email``."""
    response = await client.post(
        f"/api/v1/orgs/{admin.org_id}/invitations", json={"email": email, "role": role}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def accept(client: Any, email: str, name: str = "新成员", password: str = PASSWORD) -> Any:
    """The answer to accepting the invitation mailed to ``email``."""
    token = await mailed_token(db_of(client), "account.invitation", email)
    return await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": password, "display_name": name}
    )


async def join(client: Any, admin: Party, role: str = "member", name: str = "新成员") -> Party:
    """A new address invited into ``admin``'s organisation, joined: signed in as the new member."""
    email = f"member-{uuid.uuid4().hex[:8]}@example.cn"
    await invite(client, admin, email, role)
    joined = await accept(client, email, name)
    assert joined.status_code == 200, joined.text
    body = joined.json()
    assert body["user"]["role"] == role and body["org"]["id"] == admin.org_id
    return Party(body["access_token"], body["user"]["id"], body["org"]["id"], email)
