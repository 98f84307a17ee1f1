"""Trading's rules over HTTP on both databases: deposits and intents, negotiation turns, limits and
expiry, an auction without bids, signing by non-admins. Refused requests write nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from exchange.parties.models import User
from tests.helpers import _PASSWORD_HASH, PASSWORD, Party, assert_problem, operator, relogin, verified
from tests.trading_helpers import (
    API,
    announced,
    assert_ledger_sound,
    fund,
    intent,
    key,
    past_notice,
    sweep,
    to_auction_opening,
    to_end_of_announcement,
    wallet,
)

FUNDS = 100_000_000
DEPOSIT = 5_000_000


async def member_of(client, app, party: Party) -> Party:
    """A second user of the party's organisation, with the role member (not admin)."""
    email = f"member-{uuid.uuid4().hex[:8]}@example.cn"

    async def work(session):
        session.add(
            User(
                email=email,
                password_hash=_PASSWORD_HASH,
                display_name="成员",
                org_id=uuid.UUID(party.org_id),
                role="member",
                created_at=app.state.clock.now(),
            )
        )

    await app.state.db.transaction(work)
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return Party(response.json()["access_token"], "", party.org_id, email)


async def test_intents_hold_deposits_notify_of_amendments_and_release_on_withdrawal(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise")
    poor, buyer = await verified(client, ops), await verified(client, ops)
    await fund(app, poor, DEPOSIT - 1)
    await fund(app, buyer, FUNDS)
    listing = await announced(client, seller, ops, mode="listed")
    lid = listing["id"]

    refused = await client.post(f"{API}/listings/{lid}/intents", headers=poor.headers)
    assert_problem(refused, 409, "insufficient-funds")
    assert await wallet(client, poor) == {"posted": DEPOSIT - 1, "held": 0, "available": DEPOSIT - 1}
    assert (await client.get(f"{API}/intents", headers=poor.headers)).json()["items"] == []
    unverified = await verified(client, ops)
    unverified_resp = await client.post(f"{API}/orgs/{unverified.org_id}/suspend", headers=ops.headers, json={})
    assert unverified_resp.status_code == 200, unverified_resp.text
    assert_problem(await client.post(f"{API}/listings/{lid}/intents", headers=unverified.headers), 403, "org-suspended")

    mine = await intent(client, buyer, lid)
    assert await wallet(client, buyer) == {"posted": FUNDS, "held": DEPOSIT, "available": FUNDS - DEPOSIT}
    # Another party cannot see or withdraw it; not even the seller learns who holds intents.
    seen_by_seller = await client.get(f"{API}/intents", params={"listing_id": lid}, headers=seller.headers)
    assert seen_by_seller.json()["items"] == []
    assert (await client.get(f"{API}/intents/{mine['id']}", headers=poor.headers)).status_code == 404
    assert (await client.delete(f"{API}/intents/{mine['id']}", headers=poor.headers)).status_code == 404

    # A material amendment restarts the period and tells intent holders.
    pricing = {"mode": "listed", "asking_price": 60_000_000, "appraised_value": 45_000_000}
    amended = await client.patch(f"{API}/listings/{lid}", json={"pricing": pricing}, headers=seller.headers)
    assert amended.status_code == 200, amended.text
    shown = (await client.get(f"{API}/intents/{mine['id']}", headers=buyer.headers)).json()
    (note,) = shown["notifications"]
    assert note["kind"] == "listing_amended" and note["details"]["material"] is True
    assert "pricing" in note["details"]["changed"]

    withdrawn = await client.delete(f"{API}/intents/{mine['id']}", headers=buyer.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn", withdrawn.text
    assert await wallet(client, buyer) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert_problem(
        await client.delete(f"{API}/intents/{mine['id']}", headers=buyer.headers), 409, "listing-not-announced"
    )
    # It may register again (the amended deposit: 10% of the new price) while the announcement runs.
    again = await intent(client, buyer, lid)
    assert again["id"] == mine["id"] and again["deposit"] == 6_000_000
    # The seller withdraws the listing: every deposit is released.
    gone = await client.post(f"{API}/listings/{lid}/withdraw", json={"reason": "撤回"}, headers=seller.headers)
    assert gone.status_code == 200, gone.text
    assert await wallet(client, buyer) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    await assert_ledger_sound(app)


async def test_an_auction_without_bids_ends_unsold_with_every_deposit_released(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    a, b = await verified(client, ops), await verified(client, ops)
    for buyer in (a, b):
        await fund(app, buyer, FUNDS)
    listing = await announced(client, seller, ops, mode="listed")  # listed with two intents: an auction
    for buyer in (a, b):
        await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, a, b)
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "auctioning"
    await to_auction_opening(app, client, listing, ops, seller, a, b)
    app.state.clock.advance(timedelta(minutes=30))
    assert (await sweep(app))["auction-close"] == 1
    await relogin(client, a, b)
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    for buyer in (a, b):
        assert await wallet(client, buyer) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    await assert_ledger_sound(app)


async def _negotiating(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise")
    buyer = await verified(client, ops)
    await fund(app, buyer, FUNDS)
    listing = await announced(client, seller, ops, mode="negotiated")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    started = await client.post(
        f"{API}/listings/{listing['id']}/negotiations", json={"price": 30_000_000}, headers=buyer.headers
    )
    assert started.status_code == 201, started.text
    return ops, seller, buyer, listing, started.json()


async def test_a_thread_holds_at_most_twenty_offers(client, app):
    _, seller, buyer, _, thread = await _negotiating(client, app)
    tid = thread["id"]
    for n in range(19):
        party = seller if n % 2 == 0 else buyer
        made = await client.post(
            f"{API}/negotiations/{tid}/offers", json={"price": 30_000_000 + n * 100_000}, headers=party.headers
        )
        assert made.status_code == 201, made.text
    assert made.json()["offer_count"] == 20
    assert_problem(
        await client.post(f"{API}/negotiations/{tid}/offers", json={"price": 40_000_000}, headers=buyer.headers),
        409,
        "too-many-offers",
    )


async def test_an_expired_offer_cannot_be_accepted_and_the_sweep_ends_the_thread(client, app):
    ops, seller, buyer, listing, thread = await _negotiating(client, app)
    standing = thread["standing_offer_id"]
    app.state.clock.advance(timedelta(days=6))
    await relogin(client, ops, seller, buyer)
    assert_problem(
        await client.post(f"{API}/negotiations/{thread['id']}/offers/{standing}/accept", headers=seller.headers),
        409,
        "offer-expired",
    )
    assert_problem(
        await client.post(f"{API}/negotiations/{thread['id']}/offers", json={"price": 1}, headers=seller.headers),
        409,
        "offer-expired",
    )
    assert (await sweep(app))["offer-expiry"] == 1
    shown = (await client.get(f"{API}/negotiations/{thread['id']}", headers=buyer.headers)).json()
    assert shown["status"] == "expired" and shown["offers"][0]["status"] == "expired"
    assert await wallet(client, buyer) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    await assert_ledger_sound(app)


async def test_declining_ends_the_thread_and_only_admins_sign(client, app):
    ops, seller, buyer, _listing, thread = await _negotiating(client, app)
    standing = thread["standing_offer_id"]
    assert_problem(
        await client.post(f"{API}/negotiations/{thread['id']}/offers/{standing}/decline", headers=buyer.headers),
        409,
        "offer-out-of-turn",
    )
    countered = await client.post(
        f"{API}/negotiations/{thread['id']}/offers", json={"price": 45_000_000}, headers=seller.headers
    )
    standing = countered.json()["standing_offer_id"]
    accepted = await client.post(f"{API}/negotiations/{thread['id']}/offers/{standing}/accept", headers=buyer.headers)
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    clerk = await member_of(client, app, buyer)
    assert_problem(await client.post(f"{API}/deals/{deal['id']}/sign", headers=clerk.headers), 403, "admin-required")
    shown = (await client.get(f"{API}/deals/{deal['id']}", headers=buyer.headers)).json()
    assert shown["buyer_signed_at"] is None
    assert_problem(
        await client.get(f"{API}/deals/{deal['id']}/certificate", headers=buyer.headers), 409, "invalid-state"
    )
    assert_problem(
        await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()}), 409, "invalid-state"
    )
    # A declined offer ends the negotiation (another listing, another thread).
    _ops2, seller2, buyer2, listing2, thread2 = await _negotiating(client, app)
    declined = await client.post(
        f"{API}/negotiations/{thread2['id']}/offers/{thread2['standing_offer_id']}/decline", headers=seller2.headers
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined", declined.text
    assert await wallet(client, buyer2) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert (await client.get(f"{API}/listings/{listing2['id']}")).json()["status"] == "unsold"


async def test_both_parties_agree_to_cancel_a_signed_deal_and_the_deposit_returns(client, app):
    ops, seller, buyer, listing, thread = await _negotiating(client, app)
    countered = await client.post(
        f"{API}/negotiations/{thread['id']}/offers", json={"price": 45_000_000}, headers=seller.headers
    )
    standing = countered.json()["standing_offer_id"]
    deal = (
        await client.post(f"{API}/negotiations/{thread['id']}/offers/{standing}/accept", headers=buyer.headers)
    ).json()
    assert_problem(await client.post(f"{API}/deals/{deal['id']}/cancel", headers=buyer.headers), 409, "invalid-state")
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    for party in (seller, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    clerk = await member_of(client, app, seller)
    assert_problem(await client.post(f"{API}/deals/{deal['id']}/cancel", headers=clerk.headers), 403, "admin-required")
    one = await client.post(f"{API}/deals/{deal['id']}/cancel", headers=buyer.headers)
    assert one.status_code == 200 and one.json()["state"] == "awaiting_payment", one.text
    assert await wallet(client, buyer) == {"posted": FUNDS, "held": DEPOSIT, "available": FUNDS - DEPOSIT}
    both = await client.post(f"{API}/deals/{deal['id']}/cancel", headers=seller.headers)
    assert both.status_code == 200 and both.json()["state"] == "cancelled", both.text
    assert await wallet(client, buyer) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    assert_problem(
        await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()}), 409, "invalid-state"
    )
    await assert_ledger_sound(app)
