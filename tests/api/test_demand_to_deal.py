"""The issue's journey end to end, on both databases: an enterprise's demand submitted to a campaign
and screened; two institutions propose (the university linking its negotiated-price listing); one
is declined with a reason its proposer reads, the other shortlisted; the enterprise engages a
verified broker on that listing (2% owed by the buyer) and opens the negotiation from the proposal;
the announcement ends, offers go back and forth, the university accepts; its negotiated-price
notice runs (SPEC §3.5), both sign, the enterprise pays — a settled deal where the broker's
organisation received exactly its commission, the seller its proceeds and inventors' share, the
exchange its fees; the ledger sound and the certificate and statement naming the broker."""

from __future__ import annotations

from tests.api.test_demands_journey import posted
from tests.helpers import announced_listing, operator, verified
from tests.trading_helpers import (
    API,
    assert_ledger_sound,
    balance,
    fund,
    key,
    past_notice,
    to_end_of_announcement,
    wallet,
)

FUNDS = 100_000_000
PRICE = 46_000_000  # ¥460,000, agreed after a counter-offer
COMMISSION_BP = 200  # 2% of the price, owed by the buyer
COMMISSION = PRICE * COMMISSION_BP // 10_000  # ¥9,200
FEE = PRICE // 100  # 1% per side below ¥1M


async def test_a_demand_becomes_a_settled_deal_with_the_brokers_commission_paid_exactly(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "上海氢能装备有限公司")
    uni = await verified(client, ops, "university", "华东示范大学")
    institute = await verified(client, ops, "research_institute", "材料研究所")
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    await fund(app, owner, FUNDS)

    # The demand, submitted to an operator's campaign and accepted by its organiser.
    campaign = await client.post(
        f"{API}/campaigns",
        json={"theme": "氢能产业技术需求征集", "description": "征集氢能领域企业技术需求", "rules": "每家企业不超过3项",
              "kind": "demands", "deadline": "2099-06-30"},
        headers=ops.headers,
    )  # fmt: skip
    assert campaign.status_code == 201, campaign.text
    demand = await posted(client, owner)
    sub = await client.post(
        f"{API}/campaigns/{campaign.json()['id']}/submissions", json={"demand_id": demand["id"]}, headers=owner.headers
    )
    assert sub.status_code == 201, sub.text
    screened = await client.post(
        f"{API}/campaign-submissions/{sub.json()['id']}/screening", json={"decision": "accepted"}, headers=ops.headers
    )
    assert screened.status_code == 200 and screened.json()["screening"] == "accepted", screened.text

    # Two proposals: the university links its negotiated-price listing, the institute describes a solution.
    listing = await announced_listing(client, uni, ops, mode="negotiated")
    p1 = await client.post(
        f"{API}/demands/{demand['id']}/proposals",
        json={"summary": "以我校固态储氢材料满足需求", "listing_ids": [listing["id"]]},
        headers=uni.headers,
    )
    assert p1.status_code == 201, p1.text
    p2 = await client.post(
        f"{API}/demands/{demand['id']}/proposals",
        json={"summary": "碳纤维缠绕新工艺", "solution": "采用T800碳纤维与新型树脂体系"},
        headers=institute.headers,
    )
    assert p2.status_code == 201, p2.text
    declined = await client.post(
        f"{API}/proposals/{p2.json()['id']}/decline", json={"reason": "工艺成本超出预算"}, headers=owner.headers
    )
    assert declined.status_code == 200, declined.text
    mine = (await client.get(f"{API}/proposals", headers=institute.headers)).json()["items"]
    assert [(p["status"], p["feedback"]) for p in mine] == [("declined", "工艺成本超出预算")]
    shortlisted = await client.post(f"{API}/proposals/{p1.json()['id']}/shortlist", headers=owner.headers)
    assert shortlisted.status_code == 200 and shortlisted.json()["status"] == "shortlisted", shortlisted.text

    # A verified broker, engaged by the enterprise on the listing: 2% of the price, owed by the buyer.
    registered = await client.post(
        f"{API}/brokers",
        json={"name": "王经纪", "credential_number": "JSJJR-310000-2024-000777", "issuing_body": "上海市技术市场协会",
              "contact": "021-6000 0000"},
        headers=agency.headers,
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    broker = registered.json()
    assert (await client.post(f"{API}/brokers/{broker['id']}/verify", headers=ops.headers)).status_code == 200
    engaged = await client.post(
        f"{API}/broker-engagements",
        json={"broker_id": broker["id"], "subject_kind": "listing", "subject_id": listing["id"], "owed_by": "buyer",
              "commission_bp": COMMISSION_BP},
        headers=owner.headers,
    )  # fmt: skip
    assert engaged.status_code == 201, engaged.text
    accepted = await client.post(f"{API}/broker-engagements/{engaged.json()['id']}/accept", headers=agency.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text

    # The negotiation opened from the proposal: the enterprise's intent on the listing, its deposit held.
    opened = await client.post(
        f"{API}/proposals/{p1.json()['id']}/negotiate", json={"path": "listing", "listing_id": listing["id"]},
        headers=owner.headers,
    )  # fmt: skip
    assert opened.status_code == 200 and opened.json()["status"] == "negotiating", opened.text
    deposit = listing["pricing"]["deposit"]
    assert (await wallet(client, owner))["held"] == deposit

    # The announcement ends; the enterprise offers, the university counters, the enterprise accepts.
    everyone = (ops, owner, uni, institute, agency)
    await to_end_of_announcement(app, client, listing, *everyone)
    started = await client.post(
        f"{API}/listings/{listing['id']}/negotiations", json={"price": 42_000_000, "note": "首次报价"},
        headers=owner.headers,
    )  # fmt: skip
    assert started.status_code == 201, started.text
    thread = started.json()
    countered = await client.post(
        f"{API}/negotiations/{thread['id']}/offers", json={"price": PRICE, "note": "含技术服务"}, headers=uni.headers
    )
    assert countered.status_code == 201, countered.text
    standing = countered.json()["standing_offer_id"]
    agreed = await client.post(f"{API}/negotiations/{thread['id']}/offers/{standing}/accept", headers=owner.headers)
    assert agreed.status_code == 201, agreed.text
    deal = agreed.json()
    # A public institution's negotiated price: the negotiated-price notice (SPEC §3.5), declaring the broker.
    assert deal["price"] == PRICE and deal["notice_kind"] == "negotiated_price"
    notice = (await client.get(f"{API}/notices/{deal['notice_id']}")).json()
    assert notice["kind"] == "negotiated_price"
    (declared,) = notice["content"]["body"]["brokerage"]
    assert (declared["broker"], declared["broker_org"], declared["owed_by"], declared["commission"]) == (
        "王经纪", "上海技术经纪服务有限公司", "buyer", COMMISSION,
    )  # fmt: skip
    # The proposer sees its proposal became a negotiation.
    theirs = (await client.get(f"{API}/proposals", headers=uni.headers)).json()["items"]
    assert [p["status"] for p in theirs] == ["negotiating"]

    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (uni, owner):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    certificate = (await client.get(f"{API}/deals/{deal['id']}/certificate", headers=owner.headers)).json()
    assert [(d["broker"], d["credential_number"], d["commission"]) for d in certificate["content"]["brokerage"]] == [
        ("王经纪", "JSJJR-310000-2024-000777", COMMISSION)
    ]
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**owner.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text

    # Exactly: the broker's organisation its commission; the seller its proceeds less the inventors'
    # share; the exchange a fee from each side; the buyer the price, its fee and the commission.
    assert deal["fees"]["buyer_fee"] == deal["fees"]["seller_fee"] == FEE
    assert await wallet(client, agency) == {"posted": COMMISSION, "held": 0, "available": COMMISSION}
    spent = PRICE + FEE + COMMISSION
    assert await wallet(client, owner) == {"posted": FUNDS - spent, "held": 0, "available": FUNDS - spent}
    net = PRICE - FEE
    reward = net * 7 // 10
    assert await wallet(client, uni) == {"posted": net - reward, "held": 0, "available": net - reward}
    assert await balance(app, f"org:{uni.org_id}:inventor_rewards") == reward
    assert await balance(app, "exchange:fees") == FEE + FEE
    assert await balance(app, f"deal:{deal['id']}:escrow") == 0
    await assert_ledger_sound(app)

    # The settlement statement names the broker on the commission's leg.
    statement = await client.get(f"{API}/deals/{deal['id']}/settlement", headers=owner.headers)
    assert statement.status_code == 200, statement.text
    (payment,) = statement.json()["content"]["payments"]
    (leg,) = payment["settlement_legs"]
    assert (leg["payer"], leg["amount"]) == ("buyer", COMMISSION) and "王经纪" in leg["label"]
    record = (await client.get(f"{API}/brokers/{broker['id']}/record")).json()
    assert (record["deals"], record["deals_closed"], record["earned"]) == (1, 1, COMMISSION)
