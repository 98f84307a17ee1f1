"""A listing's public page lists the technology brokers its seller engaged once their organisation
accepted (name linked to the broker's page, organisation, credential, commission basis); a buyer's
broker and an engagement not yet accepted are not shown; a listing without brokers shows no such
section."""

from __future__ import annotations

import pytest

from tests.helpers import announced_listing, operator, verified

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
API = "/api/v1"


async def broker(client, ops, agency, name, number):
    made = await client.post(
        f"{API}/brokers",
        json={"name": name, "credential_number": number, "issuing_body": "上海市技术市场协会", "contact": "021"},
        headers=agency.headers,
    )
    assert made.status_code == 201, made.text
    assert (await client.post(f"{API}/brokers/{made.json()['id']}/verify", headers=ops.headers)).status_code == 200
    return made.json()["id"]


async def engage(client, party, broker_id, listing_id, owed_by, **commission):
    body = {"broker_id": broker_id, "subject_kind": "listing", "subject_id": listing_id, "owed_by": owed_by}
    made = await client.post(f"{API}/broker-engagements", json={**body, **commission}, headers=party.headers)
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_the_listing_page_lists_the_sellers_accepted_brokers(client, app) -> None:
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "university", "华东示范大学")
    buyer = await verified(client, ops, "enterprise", "苏州智造装备有限公司")
    listing = await announced_listing(client, seller, ops)
    plain = (await client.get(f"/listings/{listing['id']}")).text
    assert "技术经纪人" not in plain

    wang = await broker(client, ops, agency, "王经纪", "JSJJR-310000-2024-000101")
    li = await broker(client, ops, agency, "李经纪", "JSJJR-310000-2024-000102")
    zhao = await broker(client, ops, agency, "赵经纪", "JSJJR-310000-2024-000103")
    accepted = await engage(client, seller, wang, listing["id"], "seller", commission_bp=250)
    assert (await client.post(f"{API}/broker-engagements/{accepted}/accept", headers=agency.headers)).status_code == 200
    await engage(client, seller, li, listing["id"], "seller", commission_fen=800_000)  # not accepted
    by_buyer = await engage(client, buyer, zhao, listing["id"], "buyer", commission_bp=100)
    assert (await client.post(f"{API}/broker-engagements/{by_buyer}/accept", headers=agency.headers)).status_code == 200

    page = await client.get(f"/listings/{listing['id']}")
    assert page.status_code == 200, page.text
    # Anonymous: the cached page was dropped when the engagements changed (public-data triggers).
    shown = page.text.split("<h2>技术经纪人</h2>", 1)[1].split("</ul>", 1)[0]
    assert f'href="/brokers/{wang}"' in shown and "王经纪" in shown
    assert "上海技术经纪服务有限公司" in shown and "JSJJR-310000-2024-000101" in shown and "成交价的 2.50%" in shown
    assert "李经纪" not in page.text and "赵经纪" not in page.text
