"""Buyer-side exchange fees paid with vouchers, as trading's settlement calls it: bounded by the
coverage of the fee and by the vouchers available, from the program expiring first, once per deal."""

from __future__ import annotations

import uuid
from datetime import timedelta

from exchange.vouchers import BrokerageFeeVouchers
from tests.helpers import assert_problem, relogin
from tests.voucher_helpers import API, balance, cast, check_invariants, create_program, fund, grant


async def pay(app, buyer: str, fee: int, deal_id: uuid.UUID, instalment: int = 0) -> int:
    fees = BrokerageFeeVouchers()
    return await app.state.db.transaction(
        lambda s: fees.pay_fee(
            s, buyer_org_id=uuid.UUID(buyer), fee=fee, deal_id=deal_id, now=app.state.clock.now(), instalment=instalment
        )
    )


async def test_fee_vouchers_are_bounded_by_coverage_and_availability(client, app):
    c = await cast(client, app)
    now = app.state.clock.now()
    soon = await create_program(client, app, c.gov, valid_until=(now + timedelta(days=30)).isoformat())
    later = await create_program(client, app, c.gov, valid_until=(now + timedelta(days=90)).isoformat())
    testing_only = await create_program(client, app, c.gov, categories=["testing"])
    await grant(client, c.gov, soon["id"], c.ent.org_id, 1_000_000)
    await grant(client, c.gov, later["id"], c.ent.org_id, 10_000_000)
    await grant(client, c.gov, testing_only["id"], c.ent.org_id, 5_000_000)
    vouchers = f"org:{c.ent.org_id}:vouchers"

    deal = uuid.uuid4()
    # Half of a ¥100,000 fee: ¥10,000 from the program expiring first, ¥40,000 from the next.
    assert await pay(app, c.ent.org_id, 10_000_000, deal) == 5_000_000
    assert await balance(app, vouchers) == (11_000_000, 0)
    assert await balance(app, "exchange:vouchers_received") == (5_000_000, 0)
    # The same deal again: the same answer, nothing moves.
    assert await pay(app, c.ent.org_id, 10_000_000, deal) == 5_000_000
    assert await balance(app, vouchers) == (11_000_000, 0)
    # Another deal: the first program is used up; the testing-only program never pays fees.
    assert await pay(app, c.ent.org_id, 20_000_000, uuid.uuid4()) == 6_000_000
    assert await balance(app, vouchers) == (5_000_000, 0)
    assert await pay(app, c.ent.org_id, 20_000_000, uuid.uuid4()) == 0
    for program, spent in ((soon, 1_000_000), (later, 10_000_000), (testing_only, 0)):
        report = await check_invariants(client, c.gov, program["id"], [])
        assert report["figures"]["spent"] == spent
    # A buyer without vouchers, a zero fee, and an ended program pay nothing.
    assert await pay(app, c.prov.org_id, 10_000_000, uuid.uuid4()) == 0
    assert await pay(app, c.ent.org_id, 0, uuid.uuid4()) == 0
    app.state.clock.advance(timedelta(days=200))
    assert await pay(app, c.ent.org_id, 10_000_000, uuid.uuid4()) == 0


async def test_each_instalment_of_a_deal_pays_its_part_of_the_fee_with_vouchers(client, app):
    """A deal paid in instalments charges the buyer's fee in parts: vouchers pay each part once."""
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await grant(client, c.gov, program["id"], c.ent.org_id, 10_000_000)
    vouchers = f"org:{c.ent.org_id}:vouchers"
    deal = uuid.uuid4()
    assert await pay(app, c.ent.org_id, 3_000_000, deal, instalment=0) == 1_500_000
    assert await pay(app, c.ent.org_id, 3_500_000, deal, instalment=1) == 1_750_000
    assert await balance(app, vouchers) == (6_750_000, 0)
    # An instalment's fee again: the same answer, nothing moves.
    assert await pay(app, c.ent.org_id, 3_500_000, deal, instalment=1) == 1_750_000
    assert await balance(app, vouchers) == (6_750_000, 0)
    listed = await client.get(f"{API}/voucher-programs/{program['id']}/fee-payments", headers=c.ops.headers)
    assert [(p["deal_id"], p["instalment"], p["amount"]) for p in listed.json()["items"]] == [
        (str(deal), 0, 1_500_000),
        (str(deal), 1, 1_750_000),
    ]
    report = await check_invariants(client, c.gov, program["id"], [])
    assert report["figures"]["spent"] == 3_250_000


async def test_the_exchange_redeems_fee_vouchers_after_a_public_notice(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    pid = program["id"]
    await fund(client, c.ops, pid, 10_000_000)
    await grant(client, c.gov, pid, c.ent.org_id, 4_000_000)
    await pay(app, c.ent.org_id, 6_000_000, uuid.uuid4())
    await pay(app, c.ent.org_id, 2_000_000, uuid.uuid4())
    fees_before = (await balance(app, "exchange:fees"))[0]
    listed = await client.get(f"{API}/voucher-programs/{pid}/fee-payments", headers=c.ops.headers)
    assert [(p["fee"], p["amount"]) for p in listed.json()["items"]] == [(6_000_000, 3_000_000), (2_000_000, 1_000_000)]
    ids = [p["id"] for p in listed.json()["items"]]
    assert_problem(
        await client.post(f"{API}/redemptions", json={"fee_payment_ids": ids}, headers=c.prov.headers), 403, "forbidden"
    )
    claimed = await client.post(f"{API}/redemptions", json={"fee_payment_ids": ids}, headers=c.ops.headers)
    assert claimed.status_code == 201, claimed.text
    claim = claimed.json()
    assert (claim["kind"], claim["amount"], claim["state"]) == ("exchange_fees", 4_000_000, "noticed")
    again = await client.post(f"{API}/redemptions", json={"fee_payment_ids": ids[:1]}, headers=c.ops.headers)
    assert_problem(again, 409, "already-redeemed", "fee_payment_ids")
    app.state.clock.advance(timedelta(days=8))
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await relogin(client, c.gov, c.ops)
    approved = await client.post(f"{API}/redemptions/{claim['id']}/approve", headers=c.gov.headers)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert await balance(app, "exchange:vouchers_received") == (0, 0)
    assert await balance(app, "exchange:fees") == (fees_before + 4_000_000, 0)
    assert await balance(app, f"program:{pid}:funding") == (6_000_000, 0)
    report = await check_invariants(client, c.gov, pid, [])
    assert (report["figures"]["spent"], report["figures"]["redeemed"], report["figures"]["outstanding"]) == (
        4_000_000,
        4_000_000,
        0,
    )
