"""A buyer whose voucher program covers brokerage pays part of the buyer-side exchange fee with
vouchers at settlement, through the app as composed (vouchers wired into trading): exact VCH and
CNY balances, the fee fully accounted once the exchange redeems its vouchers, a zero-sum ledger."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import operator, relogin, verified
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
COVERAGE_BP = 4_000  # the program pays up to 40% of what it covers
GRANTED = 1_000_000
IN_VOUCHERS = FEE * COVERAGE_BP // 10_000  # 200,000


async def test_a_brokerage_voucher_pays_part_of_the_buyer_fee_at_settlement(client, app):
    ops = await operator(client, app)
    gov = await verified(client, ops, "government", "上海市科学技术委员会")
    seller = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    buyer = await verified(client, ops, "enterprise", "苏州智造装备有限公司")
    await fund(app, buyer, FUNDS)
    now = app.state.clock.now()
    program = await create_program(
        client,
        app,
        gov,
        categories=["brokerage", "testing"],
        coverage_bp=COVERAGE_BP,
        valid_until=(now + timedelta(days=180)).isoformat(),
    )
    await fund_program(client, ops, program["id"], GRANTED)
    await grant(client, gov, program["id"], buyer.org_id, GRANTED)

    # Listed mode with one intent: the exchange opens a thread at the listed price; the buyer accepts.
    listing = await announced(client, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    everyone = (ops, gov, seller, buyer)
    await to_end_of_announcement(app, client, listing, *everyone)
    threads = await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)
    (thread,) = threads.json()["items"]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    assert (deal["price"], deal["fees"]["buyer_fee"], deal["fees"]["seller_fee"]) == (PRICE, FEE, FEE)
    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text

    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text
    assert paid.json()["state"] == "settled"
    assert paid.json()["fees"]["buyer_fee_vouchers"] == IN_VOUCHERS

    # CNY: the buyer paid the price and the fee less the voucher part; the seller got the price less its fee.
    in_cash = FEE - IN_VOUCHERS
    assert await wallet(client, buyer) == {
        "posted": FUNDS - PRICE - in_cash,
        "held": 0,
        "available": FUNDS - PRICE - in_cash,
    }
    assert await wallet(client, seller) == {"posted": PRICE - FEE, "held": 0, "available": PRICE - FEE}
    assert await balance(app, "exchange:fees") == (FEE + in_cash, 0)
    assert await balance(app, f"deal:{deal['id']}:escrow") == (0, 0)
    # VCH: the voucher part left the buyer's vouchers for the exchange's, and the wallet shows it.
    assert await balance(app, f"org:{buyer.org_id}:vouchers") == (GRANTED - IN_VOUCHERS, 0)
    assert await balance(app, "exchange:vouchers_received") == (IN_VOUCHERS, 0)
    shown = (await client.get(f"{API}/wallet", headers=buyer.headers)).json()["balances"]
    vch = next(b for b in shown if b["unit"] == "VCH")
    assert (vch["posted"], vch["held"], vch["available"]) == (GRANTED - IN_VOUCHERS, 0, GRANTED - IN_VOUCHERS)
    payments = await client.get(f"{API}/voucher-programs/{program['id']}/fee-payments", headers=gov.headers)
    assert [(p["deal_id"], p["fee"], p["amount"]) for p in payments.json()["items"]] == [(deal["id"], FEE, IN_VOUCHERS)]
    report = (await client.get(f"{API}/voucher-programs/{program['id']}/report", headers=gov.headers)).json()
    assert (report["figures"]["spent"], report["figures"]["broken_invariants"]) == (IN_VOUCHERS, [])
    # Paying again (another key) settles nothing twice.
    again = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert again.status_code == 409, again.text
    assert await balance(app, "exchange:vouchers_received") == (IN_VOUCHERS, 0)
    await assert_ledger_sound(app)

    # The exchange redeems its fee vouchers after the public notice: the fee is then wholly in cash.
    ids = [p["id"] for p in payments.json()["items"]]
    claimed = await client.post(f"{API}/redemptions", json={"fee_payment_ids": ids}, headers=ops.headers)
    assert claimed.status_code == 201, claimed.text
    app.state.clock.advance(timedelta(days=10))
    await sweep(app)
    await relogin(client, gov, ops, buyer, seller)
    approved = await client.post(f"{API}/redemptions/{claimed.json()['id']}/approve", headers=gov.headers)
    assert approved.status_code == 200, approved.text
    assert await balance(app, "exchange:fees") == (2 * FEE, 0)
    assert await balance(app, "exchange:vouchers_received") == (0, 0)
    assert await balance(app, f"program:{program['id']}:funding") == (GRANTED - IN_VOUCHERS, 0)
    await assert_ledger_sound(app)
