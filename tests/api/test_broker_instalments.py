"""A broker's commissions on a deal paid in instalments, over HTTP on both databases: the seller's
(3 % of the price, out of each payment's proceeds) and the buyer's (a fixed amount with an odd fen,
on each payment's amount) are paid in shares with every settled payment, in the same batch; the
shares add up to the lump sums exactly, the broker organisation's cash equals them, and the
broker's public page shows the sum in yuan."""

from __future__ import annotations

from exchange.brokers.domain import commission_shares
from exchange.web.formats import yuan
from tests.calendar_helpers import load_2027_fixture
from tests.helpers import operator, verified
from tests.instalment_helpers import AMOUNTS, PRICE, SHARES, TERMS, at, show, to
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
SELLER_BP = 300
SELLER_COMMISSION = PRICE * SELLER_BP // 10_000  # 1,333,333 fen
BUYER_COMMISSION = 500_001  # ¥5,000.01: a fen that cannot split evenly over three payments


async def test_commissions_are_paid_in_exact_shares_with_each_instalment(client, app):
    await load_2027_fixture(app.state.db, app.state.clock.now())
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "university", "复旦大学")
    buyer = await verified(client, ops, "enterprise", "华新材料")
    await fund(app, buyer, FUNDS)
    body = {"name": "王经纪", "credential_number": "JSJJR-310000-2024-000777", "issuing_body": "上海市技术市场协会",
            "contact": "021-6000 0000"}  # fmt: skip
    broker = (await client.post(f"{API}/brokers", json=body, headers=agency.headers)).json()
    assert (await client.post(f"{API}/brokers/{broker['id']}/verify", headers=ops.headers)).status_code == 200

    listing = await announced(client, seller, ops, mode="listed")
    for party, owed_by, commission in (
        (seller, "seller", {"commission_bp": SELLER_BP}),
        (buyer, "buyer", {"commission_fen": BUYER_COMMISSION}),
    ):
        made = await client.post(
            f"{API}/broker-engagements",
            json={"broker_id": broker["id"], "subject_kind": "listing", "subject_id": listing["id"],
                  "owed_by": owed_by, **commission},
            headers=party.headers,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        accepted = await client.post(f"{API}/broker-engagements/{made.json()['id']}/accept", headers=agency.headers)
        assert accepted.status_code == 200, accepted.text

    await intent(client, buyer, listing["id"])
    parties = (ops, agency, seller, buyer)
    await to_end_of_announcement(app, client, listing, *parties)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    countered = await client.post(
        f"{API}/negotiations/{thread['id']}/offers",
        json={"price": PRICE, "payment_terms": TERMS},
        headers=buyer.headers,
    )
    assert countered.status_code == 201, countered.text
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{countered.json()['standing_offer_id']}/accept",
        headers=seller.headers,
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    await past_notice(app, client, deal["notice_id"], *parties)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    schedule = signed.json()["payment_schedule"]

    seller_shares = commission_shares(SELLER_COMMISSION, [s.seller_proceeds for s in SHARES])
    buyer_shares = commission_shares(BUYER_COMMISSION, AMOUNTS)
    assert sum(seller_shares) == SELLER_COMMISSION and sum(buyer_shares) == BUYER_COMMISSION

    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text
    assert (await wallet(client, agency))["posted"] == seller_shares[0] + buyer_shares[0]
    await to(app, client, at(schedule[1]["due_at"]), *parties)
    assert (await wallet(client, agency))["posted"] == sum(seller_shares[:2]) + sum(buyer_shares[:2])
    await to(app, client, at(schedule[2]["due_at"]), *parties)
    assert (await show(client, buyer, deal["id"]))["state"] == "settled"

    # Exactly the lump sums, in the broker organisation's cash; each payment's legs are its shares.
    assert await wallet(client, agency) == {
        "posted": SELLER_COMMISSION + BUYER_COMMISSION,
        "held": 0,
        "available": SELLER_COMMISSION + BUYER_COMMISSION,
    }
    statement = (await client.get(f"{API}/deals/{deal['id']}/settlement", headers=seller.headers)).json()
    legs = [
        sorted((leg["payer"], leg["amount"]) for leg in p["settlement_legs"]) for p in statement["content"]["payments"]
    ]
    assert legs == [sorted([("seller", s), ("buyer", b)]) for s, b in zip(seller_shares, buyer_shares, strict=True)]
    assert await balance(app, f"deal:{deal['id']}:escrow") == 0
    await assert_ledger_sound(app)

    record = (await client.get(f"{API}/brokers/{broker['id']}/record")).json()
    assert (record["deals"], record["deals_closed"], record["earned"]) == (1, 1, SELLER_COMMISSION + BUYER_COMMISSION)
    page = (await client.get(f"/brokers/{broker['id']}", headers={"accept": "text/html"})).text
    assert yuan(SELLER_COMMISSION + BUYER_COMMISSION) in page  # ¥18,333.34
