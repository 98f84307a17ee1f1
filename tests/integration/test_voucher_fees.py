"""Buyer-side exchange fees paid with vouchers, as trading's settlement calls it: bounded by the
coverage of the fee and by the vouchers available, from the program expiring first, once per deal."""

from __future__ import annotations

import uuid
from datetime import timedelta

from exchange.vouchers import BrokerageFeeVouchers
from tests.voucher_helpers import balance, cast, check_invariants, create_program, grant


async def pay(app, buyer: str, fee: int, deal_id: uuid.UUID) -> int:
    fees = BrokerageFeeVouchers()
    return await app.state.db.transaction(
        lambda s: fees.pay_fee(s, buyer_org_id=uuid.UUID(buyer), fee=fee, deal_id=deal_id, now=app.state.clock.now())
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
