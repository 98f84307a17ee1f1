"""A brokered deal rated over HTTP, on both databases: the buyer engages a verified broker on a
listing; once the deal is formed but not settled the broker is not rated yet; once its payment
settled with the broker's commission the buyer — and only the buyer, its client — rates the broker's
organisation, once; the broker's record and page show that organisation's grade, score and ratings."""

from __future__ import annotations

from tests.api.test_broker_commission import broker_body, engage
from tests.helpers import assert_problem, operator, verified
from tests.page_helpers import browser_of
from tests.trading_helpers import API, announced, fund, intent, key, past_notice, to_end_of_announcement


def rated_deal(engagement_id: str, marks: tuple[int, int, int] = (5, 5, 5)) -> dict:
    q, t, p = marks
    return {"kind": "brokered_deal", "engagement_id": engagement_id, "quality": q, "timeliness": t,
            "professionalism": p, "comment": "撮合高效，条款清楚"}  # fmt: skip


async def test_the_buyer_rates_its_broker_after_the_deal_settles(client, app):
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    buyer = await verified(client, ops, "enterprise", "苏州智造装备有限公司")
    await fund(app, buyer, 100_000_000)
    broker = (await client.post(f"{API}/brokers", json=broker_body(), headers=agency.headers)).json()
    assert (await client.post(f"{API}/brokers/{broker['id']}/verify", headers=ops.headers)).status_code == 200
    page = (await client.get(f"/brokers/{broker['id']}", headers={"accept": "text/html"})).text
    assert "未评级" in page and "信用评价功能上线后" not in page

    listing = await announced(client, seller, ops, mode="listed")
    made = await engage(client, buyer, broker["id"], listing["id"], "buyer", commission_bp=300)
    assert made.status_code == 201, made.text
    engagement = made.json()
    accepted = await client.post(f"{API}/broker-engagements/{engagement['id']}/accept", headers=agency.headers)
    assert accepted.status_code == 200, accepted.text

    await intent(client, buyer, listing["id"])
    everyone = (ops, agency, seller, buyer)
    await to_end_of_announcement(app, client, listing, *everyone)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    formed = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=buyer.headers
    )
    assert formed.status_code == 201, formed.text
    deal = formed.json()
    # The deal is formed, not settled: nothing to rate yet.
    early = await client.post(f"{API}/credit/ratings", json=rated_deal(engagement["id"]), headers=buyer.headers)
    assert_problem(early, 409, "engagement-not-finished", "engagement_id")

    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (seller, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text

    # Settled with the commission: the client rates; the seller, no party to the engagement, may not.
    by_seller = await client.post(f"{API}/credit/ratings", json=rated_deal(engagement["id"]), headers=seller.headers)
    assert_problem(by_seller, 403, "forbidden")
    rated = await client.post(f"{API}/credit/ratings", json=rated_deal(engagement["id"]), headers=buyer.headers)
    assert rated.status_code == 201, rated.text
    again = await client.post(f"{API}/credit/ratings", json=rated_deal(engagement["id"]), headers=buyer.headers)
    assert_problem(again, 409, "already-rated", "engagement_id")

    # One fresh 5-star rating: (3.5 × 3 + 5) / 4 = 3.875 → 71.9, grade B — of the broker's organisation.
    credit = (await client.get(f"{API}/credit/providers/{agency.org_id}")).json()
    assert (credit["score"], credit["grade"], credit["ratings"]) == (71.9, "B", 1)
    listed = (await client.get(f"{API}/credit/providers/{agency.org_id}/ratings")).json()["items"]
    assert [(r["kind"], r["engagement_id"]) for r in listed] == [("brokered_deal", engagement["id"])]
    record = (await client.get(f"{API}/brokers/{broker['id']}/record")).json()
    assert record["credit"] == {"grade": "B", "score": 71.9, "ratings": 1, "demonstration": False}
    assert record["deals_closed"] == 1
    page = (await client.get(f"/brokers/{broker['id']}", headers={"accept": "text/html"})).text
    assert "信用 B 级" in page and "71.9 分" in page and "1 条" in page and "未评级" not in page
    assert f'href="/credit/providers/{agency.org_id}"' in page
    # The buyer's page of the brokered deal shows its rating, and no second form.
    async with browser_of(app, buyer) as firm:
        shown = (await firm.get(f"/workspace/credit/engagements/brokered_deal/{engagement['id']}")).text
    assert "撮合高效，条款清楚" in shown and "提交评价" not in shown
