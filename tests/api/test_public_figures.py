"""The public reads under the home page and the service catalogue, on both databases:
``GET /home`` (auctions anyone may watch, notices closing soonest, latest deal results) and
``GET /service-providers`` (providers' public records)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers import operator
from tests.trading_helpers import API, advance, announced, fund, intent, key, to_end_of_announcement, verified
from tests.voucher_helpers import cast, create_program, service


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_home_shows_an_auction_from_its_scheduling_to_its_result(client: Any, app: Any) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="东海大学")
    a, b = await verified(client, ops, name="买方甲"), await verified(client, ops, name="买方乙")
    for buyer in (a, b):
        await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops, mode="auction")
    for buyer in (a, b):
        await intent(client, buyer, listing["id"])
    assert (await client.get(f"{API}/home")).json()["auctions"] == []  # announced, not auctioned yet

    await to_end_of_announcement(app, client, listing, ops, seller, a, b)
    [scheduled] = (await client.get(f"{API}/home")).json()["auctions"]  # anyone: no token
    assert scheduled["status"] == "scheduled" and scheduled["listing_id"] == listing["id"]
    assert scheduled["title"] == listing["title"] and scheduled["high_amount"] is None
    assert not {"high_bidder", "bids", "bidder"} & set(scheduled)  # who bids stays with the participants

    app.state.clock.set(at(scheduled["starts_at"]))
    await advance(app, client, timedelta(seconds=1), a, b)
    bid = await client.post(
        f"{API}/auctions/{scheduled['id']}/bids",
        json={"amount": scheduled["asking_price"]},
        headers={**a.headers, **key()},
    )
    assert bid.status_code == 201, bid.text
    [live] = (await client.get(f"{API}/home")).json()["auctions"]
    assert (live["status"], live["high_amount"], live["bid_count"]) == ("open", scheduled["asking_price"], 1)

    app.state.clock.set(at(live["ends_at"]))
    await advance(app, client, timedelta(seconds=1), ops)
    home = (await client.get(f"{API}/home")).json()
    assert home["auctions"] == []
    [result] = home["latest_results"]
    assert (result["achievement"], result["price"], result["buyer"], result["seller"]) == (
        listing["title"], scheduled["asking_price"], "买方甲", "东海大学",
    )  # fmt: skip
    assert result["kind"] == "deal_result" and result["concluded_by"] == "auction"
    closing = home["closing_notices"][0]
    assert closing["notice"]["id"] == result["notice_id"] and closing["working_days_left"] >= 5
    assert home["figures"]["year"] == app.state.clock.now().year


async def test_providers_public_records_page_by_cursor(client: Any, app: Any) -> None:
    c = await cast(client, app)
    await create_program(client, app, c.gov)
    other = await verified(client, c.ops, "service_provider", "东海检测技术有限公司")
    for provider in (c.prov, other):
        await service(client, provider, "testing")
    first = (await client.get(f"{API}/service-providers", params={"limit": 1})).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = (await client.get(f"{API}/service-providers", params={"limit": 1, "cursor": first["next_cursor"]})).json()
    assert second["next_cursor"] is None
    names = {first["items"][0]["name"], second["items"][0]["name"]}
    assert names == {"上海知识产权服务中心", "东海检测技术有限公司"}
    assert all(r["services"] == 1 and r["completed_orders"] == 0 and r["verified"] for r in first["items"])
