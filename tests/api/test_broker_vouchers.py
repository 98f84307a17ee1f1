"""A buyer's broker commission paid partly with its innovation vouchers (SPEC §4: the program
covers brokerage), on both databases: at settlement the exchange's fee takes its voucher part first,
the commission the rest within the program's coverage of it — to the broker's organisation as a
voucher service provider's receipt — and the remainder in cash, all in the payment's settlement.
The broker's organisation then redeems those vouchers through the redemption process (public
notice, the program's approval) for cash from the program's funding; the ledger stays sound and the
program's invariants hold."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import assert_problem, operator, relogin, verified
from tests.trading_helpers import (
    API,
    announced,
    assert_ledger_sound,
    fund,
    intent,
    key,
    past_notice,
    sweep,
    to_end_of_announcement,
    wallet,
)
from tests.voucher_helpers import balance, create_program, grant
from tests.voucher_helpers import fund as fund_program

FUNDS = 100_000_000
PRICE = 50_000_000  # ¥500,000: the fee is 1% per side
FEE = 500_000
COMMISSION = PRICE * 300 // 10_000  # 3%: ¥15,000
COVERAGE_BP = 4_000  # 40%
GRANTED = 700_000
FEE_IN_VOUCHERS = FEE * COVERAGE_BP // 10_000  # 200,000
# 40% of the commission is 600,000, but only 500,000 is left after the fee.
COMMISSION_IN_VOUCHERS = GRANTED - FEE_IN_VOUCHERS
COMMISSION_IN_CASH = COMMISSION - COMMISSION_IN_VOUCHERS


async def test_a_buyers_vouchers_pay_part_of_its_brokers_commission(client, app) -> None:
    ops = await operator(client, app)
    gov = await verified(client, ops, "government", "上海市科学技术委员会")
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    buyer = await verified(client, ops, "enterprise", "苏州智造装备有限公司")
    await fund(app, buyer, FUNDS)
    now = app.state.clock.now()
    program = await create_program(
        client, app, gov, categories=["brokerage"], coverage_bp=COVERAGE_BP,
        valid_until=(now + timedelta(days=180)).isoformat(),
    )  # fmt: skip
    await fund_program(client, ops, program["id"], GRANTED)
    await grant(client, gov, program["id"], buyer.org_id, GRANTED)

    broker = await client.post(
        f"{API}/brokers",
        json={"name": "王经纪", "credential_number": "JSJJR-310000-2024-000555", "issuing_body": "上海市技术市场协会",
              "contact": "021-6000 0000"},
        headers=agency.headers,
    )  # fmt: skip
    assert broker.status_code == 201, broker.text
    assert (await client.post(f"{API}/brokers/{broker.json()['id']}/verify", headers=ops.headers)).status_code == 200
    listing = await announced(client, seller, ops, mode="listed")
    engaged = await client.post(
        f"{API}/broker-engagements",
        json={"broker_id": broker.json()["id"], "subject_kind": "listing", "subject_id": listing["id"],
              "owed_by": "buyer", "commission_bp": 300},
        headers=buyer.headers,
    )  # fmt: skip
    assert engaged.status_code == 201, engaged.text
    accepted = await client.post(f"{API}/broker-engagements/{engaged.json()['id']}/accept", headers=agency.headers)
    assert accepted.status_code == 200, accepted.text

    await intent(client, buyer, listing["id"])
    everyone = (ops, gov, agency, seller, buyer)
    await to_end_of_announcement(app, client, listing, *everyone)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    formed = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=buyer.headers
    )
    assert formed.status_code == 201, formed.text
    deal = formed.json()
    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (seller, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text
    assert paid.json()["fees"]["buyer_fee_vouchers"] == FEE_IN_VOUCHERS

    # CNY: the buyer paid the price, the fee and the commission less their voucher parts; the broker's
    # organisation has the commission's cash part in its wallet and the voucher part as vouchers received.
    spent = PRICE + FEE - FEE_IN_VOUCHERS + COMMISSION_IN_CASH
    assert await wallet(client, buyer) == {"posted": FUNDS - spent, "held": 0, "available": FUNDS - spent}
    assert await wallet(client, agency) == {
        "posted": COMMISSION_IN_CASH,
        "held": 0,
        "available": COMMISSION_IN_CASH,
    }
    assert await wallet(client, seller) == {"posted": PRICE - FEE, "held": 0, "available": PRICE - FEE}
    assert await balance(app, f"org:{buyer.org_id}:vouchers") == (0, 0)
    assert await balance(app, "exchange:vouchers_received") == (FEE_IN_VOUCHERS, 0)
    assert await balance(app, f"org:{agency.org_id}:vouchers_received") == (COMMISSION_IN_VOUCHERS, 0)
    await assert_ledger_sound(app)

    # The statement shows the commission whole, its voucher part named; the broker's record counts both.
    statement = (await client.get(f"{API}/deals/{deal['id']}/settlement", headers=buyer.headers)).json()
    (leg,) = statement["content"]["payments"][0]["settlement_legs"]
    assert (leg["amount"], leg["vouchers"]) == (COMMISSION, COMMISSION_IN_VOUCHERS)
    record = (await client.get(f"{API}/brokers/{broker.json()['id']}/record")).json()
    assert record["earned"] == COMMISSION

    # The broker's organisation sees the vouchers paid to it (not the exchange's) and redeems them.
    mine = await client.get(f"{API}/voucher-programs/{program['id']}/fee-payments", headers=agency.headers)
    assert [(p["amount"], p["recipient_org_id"], p["ref"]) for p in mine.json()["items"]] == [
        (COMMISSION_IN_VOUCHERS, agency.org_id, engaged.json()["id"])
    ]
    everything = await client.get(f"{API}/voucher-programs/{program['id']}/fee-payments", headers=gov.headers)
    assert sorted(p["amount"] for p in everything.json()["items"]) == [FEE_IN_VOUCHERS, COMMISSION_IN_VOUCHERS]
    exchange_fee = next(p["id"] for p in everything.json()["items"] if p["recipient_org_id"] is None)
    not_its = await client.post(f"{API}/redemptions", json={"fee_payment_ids": [exchange_fee]}, headers=agency.headers)
    assert_problem(not_its, 403, "forbidden")
    ids = [p["id"] for p in mine.json()["items"]]
    by_seller = await client.post(f"{API}/redemptions", json={"fee_payment_ids": ids}, headers=seller.headers)
    assert_problem(by_seller, 422, "invalid-redemption", "fee_payment_ids")
    claimed = await client.post(f"{API}/redemptions", json={"fee_payment_ids": ids}, headers=agency.headers)
    assert claimed.status_code == 201, claimed.text
    assert (claimed.json()["kind"], claimed.json()["amount"]) == ("commissions", COMMISSION_IN_VOUCHERS)
    app.state.clock.advance(timedelta(days=10))
    await sweep(app)
    await relogin(client, *everyone)
    approved = await client.post(f"{API}/redemptions/{claimed.json()['id']}/approve", headers=gov.headers)
    assert approved.status_code == 200, approved.text
    assert await wallet(client, agency) == {"posted": COMMISSION, "held": 0, "available": COMMISSION}
    assert await balance(app, f"org:{agency.org_id}:vouchers_received") == (0, 0)
    assert await balance(app, f"program:{program['id']}:funding") == (GRANTED - COMMISSION_IN_VOUCHERS, 0)
    report = (await client.get(f"{API}/voucher-programs/{program['id']}/report", headers=gov.headers)).json()
    figures = report["figures"]
    assert (figures["spent"], figures["redeemed"], figures["broken_invariants"]) == (
        GRANTED,
        COMMISSION_IN_VOUCHERS,
        [],
    )
    await assert_ledger_sound(app)
