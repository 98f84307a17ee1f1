"""A listing's announcement notice declares the brokers its seller engaged (accepted before the
notice is signed), with their credential and the commission's basis as a percentage; the notice's
signature verifies offline; a listing without a broker has a notice with no brokerage at all (as
before); the notice's page writes the declaration in Chinese."""

from __future__ import annotations

import pytest

from tests.api.test_listings_journey import verify_offline
from tests.helpers import create_listing, operator, verified

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
API = "/api/v1"


async def approved(client, seller, ops, listing_id) -> dict:
    submitted = await client.post(f"{API}/listings/{listing_id}/submit", headers=seller.headers)
    assert submitted.status_code == 200, submitted.text
    done = await client.post(f"{API}/listings/{listing_id}/review", json={"decision": "approve"}, headers=ops.headers)
    assert done.status_code == 200, done.text
    notice = await client.get(f"{API}/notices/{done.json()['announcement']['notice_id']}")
    assert notice.status_code == 200, notice.text
    return notice.json()


async def test_the_announcement_declares_the_sellers_broker_and_stays_verifiable(client, app):
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "university", "上海理工大学")
    body = {"name": "王经纪", "credential_number": "JSJJR-310000-2024-000123", "issuing_body": "上海市技术市场协会",
            "contact": "021-6000 0000"}  # fmt: skip
    broker = (await client.post(f"{API}/brokers", json=body, headers=agency.headers)).json()
    assert (await client.post(f"{API}/brokers/{broker['id']}/verify", headers=ops.headers)).status_code == 200

    draft = await create_listing(client, seller, mode="listed")
    made = await client.post(
        f"{API}/broker-engagements",
        json={"broker_id": broker["id"], "subject_kind": "listing", "subject_id": draft["id"], "owed_by": "seller",
              "commission_bp": 250},
        headers=seller.headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    accepted = await client.post(f"{API}/broker-engagements/{made.json()['id']}/accept", headers=agency.headers)
    assert accepted.status_code == 200, accepted.text

    notice = await approved(client, seller, ops, draft["id"])
    (declared,) = notice["content"]["body"]["brokerage"]
    assert declared == {
        "broker": "王经纪",
        "broker_id": broker["id"],
        "credential_number": "JSJJR-310000-2024-000123",
        "broker_org": "上海技术经纪服务有限公司",
        "owed_by": "seller",
        "basis": "成交价的 2.50%",
    }
    (key,) = [k for k in (await client.get(f"{API}/keys")).json()["keys"] if k["id"] == notice["key_id"]]
    verify_offline(key["key"], notice)
    page = (await client.get(f"/notices/{notice['id']}", headers={"accept": "text/html"})).text
    assert "技术经纪人" in page and "王经纪" in page and "成交价的 2.50%" in page and "转让方" in page

    # Without a broker, the notice is as it always was: no brokerage key.
    plain = await create_listing(client, seller, mode="listed")
    assert "brokerage" not in (await approved(client, seller, ops, plain["id"]))["content"]["body"]
