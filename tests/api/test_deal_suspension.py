"""A deal is on hold while either party is suspended (SPEC §1: a suspended organisation is not paid).

Signing and paying are refused with 409 `deal-on-hold` naming the suspended party, settlement
credits nobody, and the deal's payment deadline does not run out while it is on hold: it moves by
the time a party spent suspended. When the operators reinstate the organisation the deal resumes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers import assert_problem, operator, relogin
from tests.trading_helpers import (
    assert_ledger_sound,
    balance,
    key,
    open_auction_with_two_bidders,
    past_notice,
    sweep,
)

API = "/api/v1"
PRICE = 50_000_000


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def deal_awaiting_signatures(client: Any, app: Any) -> tuple[dict[str, Any], Any, Any, Any]:
    auction, seller, buyer, _ = await open_auction_with_two_bidders(client, app)
    bid = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": PRICE}, headers={**buyer.headers, **key()}
    )
    assert bid.status_code == 201, bid.text
    ops = await operator(client, app)
    app.state.clock.set(at(auction["ends_at"]) + timedelta(minutes=1))
    await sweep(app)
    await relogin(client, seller, buyer)
    (deal,) = (await client.get(f"{API}/deals", headers=buyer.headers)).json()["items"]
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    await relogin(client, ops, seller, buyer)
    return deal, ops, seller, buyer


async def org_action(client: Any, ops: Any, org: Any, action: str) -> None:
    done = await client.post(f"{API}/orgs/{org.org_id}/{action}", json={"note": "核查中"}, headers=ops.headers)
    assert done.status_code == 200, done.text


async def shown(client: Any, party: Any, deal: dict[str, Any]) -> dict[str, Any]:
    return (await client.get(f"{API}/deals/{deal['id']}", headers=party.headers)).json()


async def test_a_suspended_seller_is_not_paid_and_the_deal_waits(client, app):
    deal, ops, seller, buyer = await deal_awaiting_signatures(client, app)
    await org_action(client, ops, seller, "suspend")
    for party in (seller, buyer):
        refused = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        body = assert_problem(refused, 409, "deal-on-hold")
        assert body["suspended"] == ["seller"], body
    await org_action(client, ops, seller, "reinstate")
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    due = at(signed.json()["payment_due_at"])

    # Suspended again while the buyer is to pay: paying is refused, the deadline does not run out.
    await org_action(client, ops, seller, "suspend")
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert_problem(paid, 409, "deal-on-hold")
    seller_cash = f"org:{seller.org_id}:cash"
    seller_before = await balance(app, seller_cash)
    app.state.clock.set(due + timedelta(days=10))
    assert (await sweep(app))["payment-deadline"] == 0
    await relogin(client, ops, seller, buyer)
    assert (await shown(client, buyer, deal))["state"] == "awaiting_payment"
    assert await balance(app, seller_cash) == seller_before

    # Reinstated: the deadline moved by the ten days and more spent suspended; the buyer pays.
    await org_action(client, ops, seller, "reinstate")
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text
    assert (await shown(client, buyer, deal))["state"] == "settled"
    assert (
        await balance(app, seller_cash) == seller_before + (await shown(client, buyer, deal))["fees"]["seller_proceeds"]
    )
    await assert_ledger_sound(app)


async def test_the_payment_deadline_moves_by_the_time_a_party_was_suspended(client, app):
    deal, ops, seller, buyer = await deal_awaiting_signatures(client, app)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    due = at(signed.json()["payment_due_at"])
    signed_at = app.state.clock.now()

    await org_action(client, ops, buyer, "suspend")
    app.state.clock.set(signed_at + timedelta(days=2))
    await relogin(client, ops)
    await org_action(client, ops, buyer, "reinstate")

    app.state.clock.set(due + timedelta(minutes=1))
    assert (await sweep(app))["payment-deadline"] == 0  # two more days to pay
    app.state.clock.set(due + timedelta(days=2))
    assert (await sweep(app))["payment-deadline"] == 1
    await relogin(client, buyer)
    assert (await shown(client, buyer, deal))["state"] == "defaulted"
    await assert_ledger_sound(app)
