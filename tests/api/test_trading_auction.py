"""Flow (a) over HTTP on both databases: an auction with three bidders, anti-sniping, the deal's
result notice, signatures, payment, settlement with exact fees and rewards, losers' deposits
released; and the auction's bad input."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import assert_problem, operator, register, verified
from tests.trading_helpers import (
    API,
    advance,
    announced,
    assert_ledger_sound,
    balance,
    fund,
    intent,
    key,
    past_notice,
    to_auction_opening,
    to_end_of_announcement,
    wallet,
)

FUNDS = 100_000_000  # ¥1,000,000 each
ASKING, DEPOSIT, STEP = 50_000_000, 5_000_000, 500_000


async def bid(client, party, auction_id, amount, headers=None):
    return await client.post(
        f"{API}/auctions/{auction_id}/bids", json={"amount": amount}, headers={**party.headers, **(headers or key())}
    )


async def test_auction_with_three_bidders_settles_to_the_fen(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="复旦大学技术转移中心")
    a, b, c = [await verified(client, ops, name=f"买方{n}") for n in "ABC"]
    for buyer in (a, b, c):
        await fund(app, buyer, FUNDS)
    listing = await announced(client, seller, ops, mode="auction")
    lid = listing["id"]
    intents = {p.org_id: await intent(client, p, lid) for p in (a, b, c)}
    assert {i["deposit"] for i in intents.values()} == {DEPOSIT}
    assert await wallet(client, a) == {"posted": FUNDS, "held": DEPOSIT, "available": FUNDS - DEPOSIT}
    # One intent per organisation; the seller registers none.
    assert_problem(await client.post(f"{API}/listings/{lid}/intents", headers=a.headers), 409, "intent-exists")
    assert_problem(await client.post(f"{API}/listings/{lid}/intents", headers=seller.headers), 403, "seller-cannot-buy")

    everyone = (ops, seller, a, b, c)
    await to_end_of_announcement(app, client, listing, *everyone)
    shown = (await client.get(f"{API}/listings/{lid}")).json()
    assert shown["status"] == "auctioning"
    await to_auction_opening(app, client, listing, *everyone)
    auction = (await client.get(f"{API}/listings/{lid}/auction", headers=a.headers)).json()
    aid = auction["id"]
    assert auction["minimum_next_bid"] == ASKING and auction["increment"] == STEP

    # Bad input: nothing is written.
    assert_problem(await bid(client, a, aid, ASKING - STEP), 422, "bid-below-asking-price", "amount")
    assert_problem(await bid(client, a, aid, ASKING + 1), 422, "bid-off-increment-grid", "amount")
    assert_problem(await bid(client, seller, aid, ASKING), 403, "seller-cannot-buy")
    outsider = await verified(client, ops)
    assert_problem(await bid(client, outsider, aid, ASKING), 403, "not-a-participant")
    assert_problem(
        await client.post(f"{API}/auctions/{aid}/bids", json={"amount": ASKING}, headers=a.headers),
        400,
        "idempotency-key-required",
    )

    first = key()
    placed = await bid(client, a, aid, ASKING, first)
    assert placed.status_code == 201, placed.text
    replay = await bid(client, a, aid, ASKING, first)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == placed.json()["id"]
    assert_problem(await bid(client, b, aid, ASKING), 422, "bid-below-minimum", "amount")
    assert (await bid(client, b, aid, ASKING + STEP)).status_code == 201
    assert (await bid(client, c, aid, ASKING + 2 * STEP)).status_code == 201
    # The key of an accepted bid still replays it once the high has moved past it; with another
    # amount the key is refused, not taken for a new bid.
    late = await bid(client, a, aid, ASKING, first)
    assert late.status_code == 201 and late.headers["Idempotent-Replayed"] == "true"
    assert late.json()["id"] == placed.json()["id"]
    assert_problem(await bid(client, a, aid, ASKING + 5 * STEP, first), 409, "idempotency-key-reused")
    # A query parameter the operation does not declare is refused, not ignored.
    misspelt = await client.get(f"{API}/auctions/{aid}/bids", params={"limt": 5}, headers=a.headers)
    assert misspelt.status_code == 400, misspelt.text

    # A bid in the last five minutes moves the end to bid time + 5 minutes.
    app.state.clock.advance(timedelta(minutes=27))
    late = await bid(client, a, aid, ASKING + 3 * STEP)
    assert late.status_code == 201, late.text
    now = app.state.clock.now()
    auction = (await client.get(f"{API}/auctions/{aid}", headers=b.headers)).json()
    assert auction["ends_at"].replace("Z", "+00:00") == (now + timedelta(minutes=5)).isoformat()
    assert auction["high_bidder"] == "bidder 1" and auction["high_amount"] == ASKING + 3 * STEP
    mine = (await client.get(f"{API}/auctions/{aid}/bids", headers=a.headers)).json()["items"]
    assert [x["bidder"] for x in mine] == ["you", "bidder 3", "bidder 2", "you"]

    # The original end passes: the auction is still open (extended).
    app.state.clock.advance(timedelta(minutes=4))
    assert (await bid(client, b, aid, ASKING + 4 * STEP)).status_code == 201  # extends again
    assert (await bid(client, a, aid, ASKING + 5 * STEP)).status_code == 201
    await advance(app, client, timedelta(minutes=6), *everyone)
    assert_problem(await bid(client, c, aid, ASKING + 10 * STEP), 409, "auction-closed")
    closed = (await client.get(f"{API}/auctions/{aid}", headers=c.headers)).json()
    assert closed["status"] == "closed" and closed["deal_id"]
    price = ASKING + 5 * STEP  # 52,500,000 fen = ¥525,000

    # Losers' deposits are released at once; the winner's stays held.
    assert await wallet(client, b) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert await wallet(client, c) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert await wallet(client, a) == {"posted": FUNDS, "held": DEPOSIT, "available": FUNDS - DEPOSIT}

    deal_id = closed["deal_id"]
    deal = (await client.get(f"{API}/deals/{deal_id}", headers=a.headers)).json()
    assert deal["state"] == "result_notice" and deal["price"] == price and deal["notice_kind"] == "deal_result"
    assert (await client.get(f"{API}/deals/{deal_id}", headers=b.headers)).status_code == 404
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "deal_formed"
    notice = (await client.get(f"{API}/notices/{deal['notice_id']}")).json()
    assert notice["kind"] == "deal_result" and notice["content"]["body"]["price"] == price

    # Signing waits for the notice to close (5 working days).
    assert_problem(await client.post(f"{API}/deals/{deal_id}/sign", headers=a.headers), 409, "invalid-state")
    await past_notice(app, client, deal["notice_id"], *everyone)
    deal = (await client.get(f"{API}/deals/{deal_id}", headers=a.headers)).json()
    assert deal["state"] == "awaiting_signatures"
    member = await register(client)  # not an admin of either party
    assert (await client.post(f"{API}/deals/{deal_id}/sign", headers=member.headers)).status_code == 404
    assert (await client.post(f"{API}/deals/{deal_id}/sign", headers=a.headers)).status_code == 200
    assert_problem(await client.post(f"{API}/deals/{deal_id}/sign", headers=a.headers), 409, "already-signed")
    signed = await client.post(f"{API}/deals/{deal_id}/sign", headers=seller.headers)
    assert signed.status_code == 200 and signed.json()["state"] == "awaiting_payment"

    # Payment by the wrong party, and without a key, is refused.
    assert_problem(
        await client.post(f"{API}/deals/{deal_id}/pay", headers={**seller.headers, **key()}), 403, "not-a-participant"
    )
    assert_problem(await client.post(f"{API}/deals/{deal_id}/pay", headers=a.headers), 400, "idempotency-key-required")
    pay_key = key()
    paid = await client.post(f"{API}/deals/{deal_id}/pay", headers={**a.headers, **pay_key})
    assert paid.status_code == 200, paid.text
    assert paid.json()["state"] == "settled"
    again = await client.post(f"{API}/deals/{deal_id}/pay", headers={**a.headers, **pay_key})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert_problem(
        await client.post(f"{API}/deals/{deal_id}/pay", headers={**a.headers, **key()}), 409, "invalid-state"
    )

    # Fees: 1% of ¥525,000 = ¥5,250 per side; inventors get 70% of the seller's net.
    fee = 525_000
    net = price - fee
    reward = net * 7 // 10
    assert paid.json()["fees"] == {
        "seller_fee": fee,
        "buyer_fee": fee,
        "buyer_fee_vouchers": 0,
        "inventor_reward_bp": 7000,
        "inventor_reward": reward,
        "seller_proceeds": net - reward,
    }
    assert await wallet(client, a) == {"posted": FUNDS - price - fee, "held": 0, "available": FUNDS - price - fee}
    assert await wallet(client, seller) == {"posted": net - reward, "held": 0, "available": net - reward}
    assert await balance(app, f"org:{seller.org_id}:inventor_rewards") == reward == 36_382_500
    assert await balance(app, "exchange:fees") == 2 * fee
    assert await balance(app, f"deal:{deal_id}:escrow") == 0
    assert await balance(app, f"listing:{lid}:deposits") == 0
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "sold"

    # The deal joins the annual figures.
    figures = (await client.get(f"{API}/stats", params={"year": 2026})).json()["deals"]
    assert (figures["formed"], figures["settled"], figures["value"], figures["fees"]) == (1, 1, price, 2 * fee)
    assert figures["inventor_rewards"] == reward
    assert figures["by_deal_type"]["transfer"] == {"count": 1, "value": price}
    assert figures["by_seller_kind"]["university"] == {"count": 1, "value": price}
    assert figures["by_field"]["new_energy"] == {"count": 1, "value": price}
    settled_month = paid.json()["settled_at"][:7]
    assert [m for m in figures["by_month"] if m["count"]] == [{"month": settled_month, "count": 1, "value": price}]
    await assert_ledger_sound(app)
