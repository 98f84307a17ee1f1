"""What the exchange tells whom (issue 17): the outbox rows written in the transactions of trading,
listings, vouchers and payments, on both databases — the auction journey from submission to
settlement, negotiation offers, objections, reminders told once, vouchers and withdrawals."""

from __future__ import annotations

from datetime import datetime, timedelta

from exchange.platform.outbox import Kind
from exchange.trading.reminders import AnnouncementClosingSweep
from tests.helpers import create_listing, operator, relogin, verified
from tests.notification_helpers import kinds_told, only, orgs, outbox_rows, to_operators, told, users
from tests.trading_helpers import (
    API,
    bid,
    fund,
    intent,
    key,
    past_notice,
    sweep,
    to_auction_opening,
    to_end_of_announcement,
)

FUNDS = 100_000_000
ASKING, DEPOSIT, STEP = 50_000_000, 5_000_000, 500_000
REASON = "成交价格明显低于评估价值，请核实定价程序。"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def submitted_and_approved(client, app, seller, ops, **kw):
    listing = await create_listing(client, seller, **kw)
    lid = listing["id"]
    assert (await client.post(f"{API}/listings/{lid}/submit", headers=seller.headers)).status_code == 200
    review = await only(app.state.db, Kind.LISTING_TO_REVIEW, listing_id=lid)
    assert to_operators(review) and not orgs(review) and review.data["listing_title"] == listing["title"]
    approved = await client.post(f"{API}/listings/{lid}/review", json={"decision": "approve"}, headers=ops.headers)
    assert approved.status_code == 200, approved.text
    return approved.json()


async def test_the_auction_journey_tells_winner_loser_and_seller_each_once(client, app):
    db = app.state.db
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="复旦大学技术转移中心")
    a, b = await verified(client, ops, name="买方甲"), await verified(client, ops, name="买方乙")
    for buyer in (a, b):
        await fund(app, buyer, FUNDS)
    everyone = (ops, seller, a, b)

    listing = await submitted_and_approved(client, app, seller, ops, mode="auction")
    lid = listing["id"]
    approved = await only(db, Kind.LISTING_APPROVED, listing_id=lid)
    assert orgs(approved) == {seller.org_id} and approved.subject_type == "listing" and approved.subject_id == lid
    assert approved.data["closes_at"] == listing["announcement"]["closes_at"]

    for buyer in (a, b):
        await intent(client, buyer, lid)
    registered = await outbox_rows(db, Kind.INTENT_REGISTERED)
    # Each buyer is told of its own intent; the seller of each one, without the buyer's name.
    assert [orgs(r) for r in registered] == [{a.org_id}, {seller.org_id}, {b.org_id}, {seller.org_id}]
    assert registered[0].data["deposit_fen"] == DEPOSIT and "deposit_fen" not in registered[1].data
    held = await outbox_rows(db, Kind.DEPOSIT_HELD)
    assert [(orgs(r), r.data["deposit_fen"]) for r in held] == [({a.org_id}, DEPOSIT), ({b.org_id}, DEPOSIT)]

    # Three working days before the announcement closes: the seller and both buyers, told once.
    await sweep(app)
    assert await outbox_rows(db, Kind.ANNOUNCEMENT_CLOSING) == []
    app.state.clock.set(at(listing["announcement"]["closes_at"]) - timedelta(days=1))
    await sweep(app)
    await sweep(app)
    # A sweeper of a process started afresh finds it told already.
    assert await AnnouncementClosingSweep(app.state.trading).run(db, app.state.clock.now()) == 0
    closing = await only(db, Kind.ANNOUNCEMENT_CLOSING, listing_id=lid)
    assert orgs(closing) == {seller.org_id, a.org_id, b.org_id} and closing.data["working_days_left"] <= 3

    await to_end_of_announcement(app, client, listing, *everyone)
    await to_auction_opening(app, client, listing, *everyone)
    auction = (await client.get(f"{API}/listings/{lid}/auction", headers=a.headers)).json()
    aid = auction["id"]
    await bid(client, a, aid, ASKING)
    await bid(client, a, aid, ASKING + STEP)  # raising its own high bid outbids nobody
    assert await outbox_rows(db, Kind.OUTBID) == []
    await bid(client, b, aid, ASKING + 2 * STEP)
    outbid = await only(db, Kind.OUTBID)
    assert orgs(outbid) == {a.org_id} and outbid.data["amount_fen"] == ASKING + 2 * STEP
    assert outbid.data["listing_title"] == listing["title"] and outbid.subject_id == aid
    # A bid in the last five minutes extends the auction: every organisation taking part is told.
    app.state.clock.advance(timedelta(minutes=27))
    await bid(client, a, aid, ASKING + 3 * STEP)
    extended = await only(db, Kind.AUCTION_EXTENDED)
    shown = (await client.get(f"{API}/auctions/{aid}", headers=a.headers)).json()
    assert orgs(extended) == {a.org_id, b.org_id} and extended.data["ends_at"] == shown["ends_at"]
    assert [orgs(r) for r in await outbox_rows(db, Kind.OUTBID)] == [{a.org_id}, {b.org_id}]

    app.state.clock.advance(timedelta(minutes=6))
    await sweep(app)
    await sweep(app)
    await relogin(client, *everyone)
    price = ASKING + 3 * STEP
    won, lost, sold = [await only(db, k) for k in (Kind.AUCTION_WON, Kind.AUCTION_LOST, Kind.AUCTION_SOLD)]
    assert (orgs(won), orgs(lost), orgs(sold)) == ({a.org_id}, {b.org_id}, {seller.org_id})
    assert won.data["amount_fen"] == price == won.data["price_fen"] and won.data["deal_id"]
    assert sold.data["price_fen"] == price and sold.data["net_to_seller_fen"] < price
    deal_id = won.data["deal_id"]
    released = await only(db, Kind.DEPOSIT_RELEASED)
    assert orgs(released) == {b.org_id} and released.data["deposit_fen"] == DEPOSIT
    # Each party is told of the close once, and of nothing that is another's.
    for party, kind in ((a, Kind.AUCTION_WON), (b, Kind.AUCTION_LOST), (seller, Kind.AUCTION_SOLD)):
        closing_kinds = {Kind.AUCTION_WON.value, Kind.AUCTION_LOST.value, Kind.AUCTION_SOLD.value}
        assert [k for k in await kinds_told(db, party.org_id) if k in closing_kinds] == [kind.value]

    deal = (await client.get(f"{API}/deals/{deal_id}", headers=a.headers)).json()
    await past_notice(app, client, deal["notice_id"], *everyone)
    awaiting = await only(db, Kind.DEAL_AWAITING_SIGNATURE)
    assert orgs(awaiting) == {a.org_id, seller.org_id} and awaiting.audience["admins_only"] is True
    assert awaiting.subject_type == "deal" and awaiting.subject_id == deal_id
    for party in (a, seller):
        assert (await client.post(f"{API}/deals/{deal_id}/sign", headers=party.headers)).status_code == 200
    deal = (await client.get(f"{API}/deals/{deal_id}", headers=a.headers)).json()

    # The first payment's reminder, three working days before its last day: to the buyer, once.
    first = deal["payment_schedule"][0]
    app.state.clock.set(at(first["remind_at"]))
    await sweep(app)
    await sweep(app)
    await relogin(client, *everyone)
    due = await only(db, Kind.PAYMENT_DUE)
    assert orgs(due) == {a.org_id} and due.data["amount_fen"] == price
    assert due.data["deadline_at"] == first["deadline_at"]
    notes = (await client.get(f"{API}/deals/{deal_id}", headers=a.headers)).json()["notifications"]
    assert [n["kind"] for n in notes] == ["payment_reminder"]

    paid = await client.post(f"{API}/deals/{deal_id}/pay", headers={**a.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text
    settled = await only(db, Kind.DEAL_SETTLED)
    fees = paid.json()["fees"]
    assert orgs(settled) == {a.org_id, seller.org_id}
    assert settled.data["price_fen"] == price
    assert (settled.data["seller_fee_fen"], settled.data["buyer_fee_fen"]) == (fees["seller_fee"], fees["buyer_fee"])
    assert settled.data["net_to_seller_fen"] == fees["seller_proceeds"]
    assert settled.data["inventor_reward_fen"] == fees["inventor_reward"]
    # Nothing of the journey told anyone twice.
    rows = await outbox_rows(db)
    keys = [(r.kind, tuple(sorted(orgs(r))), r.subject_id, tuple(sorted(r.data.items(), key=str))) for r in rows]
    assert len(keys) == len({str(k) for k in keys})


async def test_a_rejected_listing_tells_its_seller_why(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    listing = await create_listing(client, seller)
    assert (await client.post(f"{API}/listings/{listing['id']}/submit", headers=seller.headers)).status_code == 200
    rejected = await client.post(
        f"{API}/listings/{listing['id']}/review",
        json={"decision": "reject", "note": "评估报告缺失"},
        headers=ops.headers,
    )
    assert rejected.status_code == 200, rejected.text
    row = await only(app.state.db, Kind.LISTING_REJECTED)
    assert orgs(row) == {seller.org_id} and row.data["reason"] == "评估报告缺失"


async def test_an_auction_without_bids_tells_the_seller_and_the_bidders_it_is_unsold(client, app):
    db = app.state.db
    ops = await operator(client, app)
    seller, a = await verified(client, ops), await verified(client, ops)
    await fund(app, a, FUNDS)
    b = await verified(client, ops)
    await fund(app, b, FUNDS)
    listing = await submitted_and_approved(client, app, seller, ops, mode="auction")
    for buyer in (a, b):
        await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, a, b)
    await to_auction_opening(app, client, listing, ops, seller, a, b)
    app.state.clock.advance(timedelta(minutes=31))
    await sweep(app)
    unsold = await only(db, Kind.AUCTION_UNSOLD)
    assert orgs(unsold) == {seller.org_id, a.org_id, b.org_id} and unsold.data["stage"] == "auctioning"
    assert await outbox_rows(db, Kind.AUCTION_WON) == [] and await outbox_rows(db, Kind.AUCTION_LOST) == []
    assert {next(iter(orgs(r))) for r in await outbox_rows(db, Kind.DEPOSIT_RELEASED)} == {a.org_id, b.org_id}


async def test_negotiation_offers_are_told_to_the_side_that_answers(client, app):
    db = app.state.db
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute", name="研究所")
    buyer = await verified(client, ops, name="宁德新能")
    await fund(app, buyer, FUNDS)
    listing = await submitted_and_approved(client, app, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    # The listed price stands as the seller's opening offer: the buyer receives it.
    opening = await only(db, Kind.OFFER_RECEIVED)
    assert orgs(opening) == {buyer.org_id} and opening.data["price_fen"] == ASKING
    thread_id = opening.data["negotiation_id"]
    countered = await client.post(
        f"{API}/negotiations/{thread_id}/offers", json={"price": ASKING - STEP}, headers=buyer.headers
    )
    assert countered.status_code in (200, 201), countered.text
    received = await outbox_rows(db, Kind.OFFER_RECEIVED)
    assert [orgs(r) for r in received] == [{buyer.org_id}, {seller.org_id}]
    counter = received[1]
    assert counter.data["price_fen"] == ASKING - STEP and counter.data["offer_side"] == "buyer"

    # A day before the counter-offer expires, the seller (who must answer) is told, once.
    app.state.clock.set(at(counter.data["expires_at"]) - timedelta(hours=12))
    await sweep(app)
    await sweep(app)
    await relogin(client, ops, seller, buyer)
    expiring = await only(db, Kind.OFFER_EXPIRING)
    assert orgs(expiring) == {seller.org_id} and expiring.data["offer_id"] == counter.data["offer_id"]

    accepted = await client.post(
        f"{API}/negotiations/{thread_id}/offers/{counter.data['offer_id']}/accept", headers=seller.headers
    )
    assert accepted.status_code == 201, accepted.text
    row = await only(db, Kind.OFFER_ACCEPTED)
    assert orgs(row) == {buyer.org_id} and row.data["deal_id"] == accepted.json()["id"]
    assert await outbox_rows(db, Kind.OFFER_DECLINED) == []


async def test_a_declined_offer_is_told_to_the_offerer(client, app):
    db = app.state.db
    ops = await operator(client, app)
    seller, buyer = await verified(client, ops), await verified(client, ops)
    await fund(app, buyer, FUNDS)
    listing = await submitted_and_approved(client, app, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    opening = await only(db, Kind.OFFER_RECEIVED)
    declined = await client.post(
        f"{API}/negotiations/{opening.data['negotiation_id']}/offers/{opening.data['offer_id']}/decline",
        headers=buyer.headers,
    )
    assert declined.status_code in (200, 201), declined.text
    row = await only(db, Kind.OFFER_DECLINED)
    assert orgs(row) == {seller.org_id} and row.data["price_fen"] == ASKING
    # The buyer's deposit is released, and nobody left: the listing ends unsold.
    assert orgs(await only(db, Kind.DEPOSIT_RELEASED)) == {buyer.org_id}
    assert orgs(await only(db, Kind.AUCTION_UNSOLD)) == {seller.org_id, buyer.org_id}


async def test_an_objection_is_told_to_the_seller_the_objector_and_operators(client, app):
    db = app.state.db
    ops = await operator(client, app)
    seller, objector = await verified(client, ops), await verified(client, ops)
    listing = await submitted_and_approved(client, app, seller, ops)
    notice_id = listing["announcement"]["notice_id"]
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": REASON}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    objection_id = filed.json()["id"]
    row = await only(db, Kind.OBJECTION_FILED)
    assert orgs(row) == {seller.org_id} and users(row) == {objector.user_id}
    assert row.data["notice_id"] == notice_id and row.subject_id == objection_id
    assert "objector_org_id" not in row.data  # the seller does not learn who objected
    to_resolve = await only(db, Kind.OBJECTION_TO_RESOLVE)
    assert to_operators(to_resolve) and to_resolve.data["objector_org_id"] == objector.org_id

    resolved = await client.post(
        f"{API}/objections/{objection_id}/resolve",
        json={"decision": "dismissed", "note": "理由不成立"},
        headers=ops.headers,
    )
    assert resolved.status_code == 200, resolved.text
    row = await only(db, Kind.OBJECTION_RESOLVED)
    assert orgs(row) == {seller.org_id} and users(row) == {objector.user_id}
    assert (row.data["decision"], row.data["note"]) == ("dismissed", "理由不成立")
    assert await told(db, objector.org_id) == []  # the objector is told as a user, not its whole organisation
