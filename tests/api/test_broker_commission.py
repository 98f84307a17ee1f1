"""A technology broker registered by a service provider, verified by an operator, engaged on a
listing by the seller (its commission out of the proceeds) and by the buyer (from its wallet); the
deal settles with both commissions paid exactly into the broker organisation's wallet in the same
atomic batch, declared in the result notice, the certificate and the statement; the broker's
record reads the ledger. On both databases."""

from __future__ import annotations

from tests.helpers import assert_problem, operator, verified
from tests.trading_helpers import (
    API,
    announced,
    assert_ledger_sound,
    balance,
    fund,
    intent,
    key,
    past_notice,
    to_end_of_announcement,
    wallet,
)

FUNDS = 100_000_000
PRICE = 50_000_000  # ¥500,000: the fee is 1% per side
FEE = 500_000
BUYER_BP = 300  # 3% of the price, owed by the buyer
BUYER_COMMISSION = PRICE * BUYER_BP // 10_000
SELLER_COMMISSION = 800_000  # a fixed ¥8,000, owed by the seller


def broker_body(**changes):
    return {
        "name": "王经纪",
        "credential_number": "JSJJR-310000-2024-000123",
        "issuing_body": "上海市技术市场协会",
        "contact": "021-6000 0000",
        **changes,
    }


async def engage(client, party, broker_id, listing_id, owed_by, **commission):
    body = {"broker_id": broker_id, "subject_kind": "listing", "subject_id": listing_id, "owed_by": owed_by}
    return await client.post(f"{API}/broker-engagements", json={**body, **commission}, headers=party.headers)


async def test_a_brokers_commissions_are_paid_exactly_at_settlement(client, app):
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    buyer = await verified(client, ops, "enterprise", "苏州智造装备有限公司")
    await fund(app, buyer, FUNDS)

    # Registration: a malformed credential is refused naming the field; a good one waits for an operator.
    bad = await client.post(f"{API}/brokers", json=broker_body(credential_number="12"), headers=agency.headers)
    assert_problem(bad, 422, "broker-rule-broken", "credential_number")
    by_buyer = await client.post(f"{API}/brokers", json=broker_body(), headers=buyer.headers)
    assert by_buyer.status_code == 403, by_buyer.text
    registered = await client.post(f"{API}/brokers", json=broker_body(), headers=agency.headers)
    assert registered.status_code == 201, registered.text
    broker = registered.json()
    assert broker["status"] == "pending"

    listing = await announced(client, seller, ops, mode="listed")
    # An unverified broker is not engaged.
    early = await engage(client, buyer, broker["id"], listing["id"], "buyer", commission_bp=BUYER_BP)
    assert_problem(early, 409, "broker-not-verified", "broker_id")
    verified_ = await client.post(f"{API}/brokers/{broker['id']}/verify", headers=ops.headers)
    assert verified_.status_code == 200, verified_.text
    assert verified_.json()["status"] == "verified" and verified_.json()["verified_by"] == ops.user_id

    # A party engages only on its own account; a commission basis is one of two.
    wrong = await engage(client, buyer, broker["id"], listing["id"], "seller", commission_bp=BUYER_BP)
    assert_problem(wrong, 422, "broker-rule-broken", "owed_by")
    both = await engage(client, buyer, broker["id"], listing["id"], "buyer", commission_bp=1, commission_fen=1)
    assert_problem(both, 422, "broker-rule-broken", "commission_bp")

    engagements = []
    for party, owed_by, commission in (
        (buyer, "buyer", {"commission_bp": BUYER_BP}),
        (seller, "seller", {"commission_fen": SELLER_COMMISSION}),
    ):
        made = await engage(client, party, broker["id"], listing["id"], owed_by, **commission)
        assert made.status_code == 201, made.text
        accepted = await client.post(f"{API}/broker-engagements/{made.json()['id']}/accept", headers=agency.headers)
        assert accepted.status_code == 200, accepted.text
        engagements.append(accepted.json())
    # Visible to the other party of the listing.
    seen = await client.get(f"{API}/broker-engagements/{engagements[0]['id']}", headers=seller.headers)
    assert seen.status_code == 200 and seen.json()["owed_by"] == "buyer"

    await intent(client, buyer, listing["id"])
    everyone = (ops, agency, seller, buyer)
    await to_end_of_announcement(app, client, listing, *everyone)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    # The result notice declares the broker, its organisation and the commission's basis.
    notice = (await client.get(f"{API}/notices/{deal['notice_id']}")).json()
    content = notice["content"]
    declared = (content.get("body") or content)["brokerage"]
    assert {(d["broker"], d["broker_org"], d["owed_by"], d["commission"]) for d in declared} == {
        ("王经纪", "上海技术经纪服务有限公司", "buyer", BUYER_COMMISSION),
        ("王经纪", "上海技术经纪服务有限公司", "seller", SELLER_COMMISSION),
    }
    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    certificate = (await client.get(f"{API}/deals/{deal['id']}/certificate", headers=buyer.headers)).json()
    assert sorted(d["commission"] for d in certificate["content"]["brokerage"]) == sorted(
        [BUYER_COMMISSION, SELLER_COMMISSION]
    )

    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text
    assert paid.json()["state"] == "settled"

    # Exactly: the broker's organisation got both; the buyer paid its commission on top; the
    # seller's commission came out of its proceeds.
    assert await wallet(client, agency) == {
        "posted": BUYER_COMMISSION + SELLER_COMMISSION,
        "held": 0,
        "available": BUYER_COMMISSION + SELLER_COMMISSION,
    }
    assert (await wallet(client, buyer))["posted"] == FUNDS - PRICE - FEE - BUYER_COMMISSION
    assert (await wallet(client, seller))["posted"] == PRICE - FEE - SELLER_COMMISSION
    assert await balance(app, f"deal:{deal['id']}:escrow") == 0
    await assert_ledger_sound(app)

    # The statement names each commission as its own line; the buyer's wallet shows its entry.
    statement = await client.get(f"{API}/deals/{deal['id']}/settlement", headers=seller.headers)
    assert statement.status_code == 200, statement.text
    (payment,) = statement.json()["content"]["payments"]
    assert sorted((leg["payer"], leg["amount"]) for leg in payment["settlement_legs"]) == [
        ("buyer", BUYER_COMMISSION),
        ("seller", SELLER_COMMISSION),
    ]
    assert all("王经纪" in leg["label"] for leg in payment["settlement_legs"])
    lines = (await client.get(f"{API}/wallet/entries", headers=buyer.headers)).json()["items"]
    assert any(line["kind"] == "commission" and "王经纪" in line["description"] for line in lines), lines
    pdf = await client.get(f"{API}/deals/{deal['id']}/settlement/pdf", headers=seller.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.status_code

    # The broker's record, from the ledger.
    record = (await client.get(f"{API}/brokers/{broker['id']}/record")).json()
    assert (record["deals"], record["deals_closed"], record["earned"]) == (
        1,
        1,
        BUYER_COMMISSION + SELLER_COMMISSION,
    )
    assert record["engagements"] == {"accepted": 2} and record["ratings"] is None
