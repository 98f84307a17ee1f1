"""Text no database stores (NUL) is refused at the door with 422 naming the field, on both
databases alike, and nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select

from exchange.parties.models import Org
from tests.helpers import assert_problem, create_listing, credit_code, operator, verified


async def orgs(app) -> int:
    async with app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(Org))


async def test_a_nul_in_a_body_field_is_422_naming_it_and_writes_nothing(client, app):
    body = {
        "email": "nul@example.cn",
        "password": "0123456789abc",
        "display_name": "张\u0000伟",
        "org": {"name": "上海\u0000大学", "credit_code": credit_code(), "kind": "university"},
    }
    refused = await client.post("/api/v1/auth/register", json=body)
    problem = assert_problem(refused, 422, "validation-error")
    assert {e["field"] for e in problem["errors"]} == {"display_name", "org.name"}
    assert await orgs(app) == 0
    login = await client.post("/api/v1/auth/login", json={"email": "x\u0000@example.cn", "password": "0123456789abc"})
    assert_problem(login, 422, "validation-error", "email")


async def test_a_nul_deep_in_a_listing_or_in_a_query_parameter_is_422(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    listing = await create_listing(client, seller)
    bad = {"ip_assets": [{"kind": "know_how", "number": "KH-1", "title": "工艺\u0000"}]}
    refused = await client.patch(f"/api/v1/listings/{listing['id']}", json=bad, headers=seller.headers)
    assert_problem(refused, 422, "validation-error", "ip_assets.0.title")
    for name, value in (("code_prefix", "org\u0000"), ("unit", "CN\u0000Y")):
        query = await client.get("/api/v1/ledger/accounts", params={name: value}, headers=ops.headers)
        assert_problem(query, 422, "validation-error", name)
    # A backslash written before "u0000" is text, not a NUL.
    fine = await client.get("/api/v1/ledger/accounts", params={"code_prefix": "\\u0000"}, headers=ops.headers)
    assert fine.status_code == 200, fine.text
