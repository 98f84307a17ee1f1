"""Helpers for tests of deals paid in instalments: a signed deal on instalment terms, the clock
moved to a payment's dates."""

from __future__ import annotations

from datetime import datetime

from exchange.trading.domain import FeeSchedule, apportion, settlement
from tests.calendar_helpers import load_2027_fixture
from tests.helpers import operator, relogin, verified
from tests.trading_helpers import API, announced, fund, intent, past_notice, sweep, to_end_of_announcement

FEES = FeeSchedule(((100_000_000, 100), (1_000_000_000, 50), (None, 10)), 100_000)
DEPOSIT = 5_000_000
PRICE = 44_444_444
AMOUNTS = [13_333_334, 15_555_555, 15_555_555]  # 30 % down, then at 6 and 12 months
TERMS = {
    "kind": "installments",
    "installments": [{"due_months": m, "amount": a} for m, a in zip((0, 6, 12), AMOUNTS, strict=True)],
}
LUMP = settlement(PRICE, FEES, inventor_reward_bp=7000)  # a university seller: 70 % to the inventors
SHARES = apportion(LUMP, AMOUNTS)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def show(client, party, deal_id) -> dict:
    response = await client.get(f"{API}/deals/{deal_id}", headers=party.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def instalment_deal(client, app, funds: int, *, ops=None, seller=None, buyer_name: str = "华新材料"):
    """A university's listing sold by negotiation on instalment terms, signed by both parties.

    The last instalment falls due in 2027, a year without official calendar data: the 2027 TEST
    FIXTURE (not the official schedule) is loaded through the import first, as an operator would.
    """
    await load_2027_fixture(app.state.db, app.state.clock.now())
    ops = ops or await operator(client, app)
    seller = seller or await verified(client, ops, "university", name="复旦大学")
    buyer = await verified(client, ops, name=buyer_name)
    await fund(app, buyer, funds)
    listing = await announced(client, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    parties = (ops, seller, buyer)
    await to_end_of_announcement(app, client, listing, *parties)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    countered = await client.post(
        f"{API}/negotiations/{thread['id']}/offers",
        json={"price": PRICE, "payment_terms": TERMS, "note": "首付30%，余款一年内两期付清"},
        headers=buyer.headers,
    )
    assert countered.status_code == 201, countered.text
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{countered.json()['standing_offer_id']}/accept",
        headers=seller.headers,
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    # The schedule exists from the start, with each payment's share of the settlement; undated.
    planned = deal["payment_schedule"]
    assert [(p["seq"], p["due_months"], p["amount"], p["status"]) for p in planned] == [
        (0, 0, AMOUNTS[0], "pending"),
        (1, 6, AMOUNTS[1], "pending"),
        (2, 12, AMOUNTS[2], "pending"),
    ]
    assert all(p["due_at"] is None and p["deadline_at"] is None for p in planned)
    for payment, share in zip(planned, SHARES, strict=True):
        assert (payment["seller_fee"], payment["buyer_fee"]) == (share.seller_fee, share.buyer_fee)
        assert (payment["inventor_reward"], payment["seller_proceeds"]) == (
            share.inventor_reward,
            share.seller_proceeds,
        )
    await past_notice(app, client, deal["notice_id"], *parties)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    return ops, seller, buyer, listing, signed.json()


async def to(app, client, moment: datetime, *parties) -> dict[str, int]:
    app.state.clock.set(moment)
    counts = await sweep(app)
    await relogin(client, *parties)
    return counts
