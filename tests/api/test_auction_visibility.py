"""Who sees an auction (SPEC §3.2: participants are the intent holders with an active intent).

An organisation that withdrew its intent (its deposit returned) is no participant: the auction,
its bids, the listing's auction and the live stream answer it 404, as to a stranger. The bidders
— and, once it has closed, the winner and the losers whose deposits came back at the close —
keep seeing it; so do the seller and operators.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers import assert_problem, operator, relogin, verified
from tests.trading_helpers import (
    announced,
    fund,
    intent,
    key,
    sweep,
    to_auction_opening,
    to_end_of_announcement,
    wallet,
)

API = "/api/v1"


def routes(auction: dict[str, Any]) -> list[str]:
    return [
        f"{API}/auctions/{auction['id']}",
        f"{API}/auctions/{auction['id']}/bids",
        f"{API}/listings/{auction['listing_id']}/auction",
        f"{API}/auctions/{auction['id']}/events",
    ]


async def test_a_withdrawn_intent_holder_no_longer_sees_the_auction(client, app):
    ops = await operator(client, app)
    seller, stranger = await verified(client, ops), await verified(client, ops)
    a, b, gone = await verified(client, ops), await verified(client, ops), await verified(client, ops)
    for buyer in (a, b, gone):
        await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops, mode="auction")
    for buyer in (a, b):
        await intent(client, buyer, listing["id"])
    withdrawn = await client.delete(
        f"{API}/intents/{(await intent(client, gone, listing['id']))['id']}", headers=gone.headers
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn", withdrawn.text
    assert (await wallet(client, gone))["held"] == 0  # the deposit came back
    parties = (ops, seller, stranger, a, b, gone)
    await to_end_of_announcement(app, client, listing, *parties)
    await to_auction_opening(app, client, listing, *parties)
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=a.headers)).json()
    placed = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": 50_000_000}, headers={**a.headers, **key()}
    )
    assert placed.status_code == 201, placed.text

    for path in routes(auction):
        for outsider in (gone, stranger):
            assert_problem(await client.get(path, headers=outsider.headers), 404, "not-found")
    for path in routes(auction)[:3]:  # the stream stays open for those who see it
        for insider in (a, b, seller, ops):
            shown = await client.get(path, headers=insider.headers)
            assert shown.status_code == 200, (path, shown.text)
    refused = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": 51_000_000}, headers={**gone.headers, **key()}
    )
    assert_problem(refused, 403, "not-a-participant")

    # Closed: the winner's intent is won, the loser's released at the close — both took part.
    ends_at = datetime.fromisoformat(auction["ends_at"].replace("Z", "+00:00"))
    app.state.clock.set(ends_at + timedelta(minutes=1))
    await sweep(app)
    await relogin(client, *parties)
    for path in routes(auction):
        for insider in (a, b):
            shown = await client.get(path, headers=insider.headers)
            assert shown.status_code == 200, (path, shown.text)
        assert_problem(await client.get(path, headers=gone.headers), 404, "not-found")
