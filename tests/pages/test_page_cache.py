"""Anonymous public reads answered from memory (exchange/web/caching.py), on SQLite and PostgreSQL:
revalidation with 304, invalidation by the changes that affect a read, nothing cached for or leaked
to a signed-in reader."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.api.test_auction_stream import ASKING, STEP, bid
from tests.helpers import PASSWORD, announced_listing, listing_body, operator, register, verified
from tests.trading_helpers import (
    fund,
    intent,
    key,
    open_auction_with_two_bidders,
    to_auction_opening,
    to_end_of_announcement,
)

API = "/api/v1"
HTML = {"accept": "text/html"}


def anonymous(app: Litestar) -> httpx.AsyncClient:
    """A second visitor, with its own cookies."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")


async def test_an_anonymous_json_read_has_an_etag_and_revalidates_with_304(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{API}/notices")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
    etag = first.headers["etag"]
    again = await client.get(f"{API}/notices", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = await client.get(f"{API}/notices", headers={"if-none-match": 'W/"something-else"'})
    assert stale.status_code == 200
    assert stale.json() == first.json()


async def test_a_new_announcement_shows_at_once_on_the_board_and_in_the_library(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    board = await client.get(f"{API}/notices")
    library = await client.get(f"{API}/listings", params={"q": "固态"})
    assert board.json()["items"] == [] and library.json()["items"] == []
    ops = await operator(client, app)
    seller = await verified(client, ops)
    listing = await announced_listing(client, seller, ops)
    board_after = await client.get(f"{API}/notices", headers={"if-none-match": board.headers["etag"]})
    assert board_after.status_code == 200
    assert [n["subject_id"] for n in board_after.json()["items"]] == [listing["id"]]
    library_after = await client.get(f"{API}/listings", params={"q": "固态"})
    assert [item["id"] for item in library_after.json()["items"]] == [listing["id"]]


async def test_an_objection_moves_the_boards_count_at_once(client: httpx.AsyncClient, app: Litestar) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops)
    await announced_listing(client, seller, ops)
    board = (await client.get(f"{API}/notices")).json()["items"]
    assert board[0]["objection_count"] == 0
    objector = await register(client)
    filed = await client.post(
        f"{API}/notices/{board[0]['id']}/objections",
        json={"reason": "权属存在争议：专利权人另有其人"},
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text
    async with anonymous(app) as visitor:
        assert (await visitor.get(f"{API}/notices")).json()["items"][0]["objection_count"] == 1
        notice = await visitor.get(f"{API}/notices/{board[0]['id']}")
        assert notice.json()["objection_count"] == 1


async def test_a_bid_moves_the_public_data_version(client: httpx.AsyncClient, app: Litestar) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops)
    bidder = await verified(client, ops)
    await fund(app, bidder, 100_000_000)
    listing = await announced_listing(client, seller, ops, mode="auction")
    await intent(client, bidder, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, bidder)
    await to_auction_opening(app, client, listing, ops, seller, bidder)
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=bidder.headers)).json()
    before = await app.state.public_data.version()
    placed = await client.post(
        f"{API}/auctions/{auction['id']}/bids",
        json={"amount": auction["minimum_next_bid"]},
        headers={**bidder.headers, **key()},
    )
    assert placed.status_code == 201, placed.text
    assert await app.state.public_data.version() > before


async def test_one_listing_and_one_notice_are_kept_for_anonymous_readers_too(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops)
    listing = await announced_listing(client, seller, ops)
    reader = anonymous(app)
    for path in (f"{API}/listings/{listing['id']}", f"{API}/notices/{listing['announcement']['notice_id']}"):
        first = await reader.get(path)
        assert first.status_code == 200 and "etag" in first.headers, path
        again = await reader.get(path, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304, path
    await reader.aclose()


async def test_a_change_nobody_sees_leaves_the_version_alone(client: httpx.AsyncClient, app: Litestar) -> None:
    await register(client)  # an organisation signs up: nothing public yet
    before = await app.state.public_data.version()
    await client.post(f"{API}/auth/login", json={"email": "nobody@example.cn", "password": "x"})
    assert await app.state.public_data.version() == before


async def test_the_clock_ages_a_stored_answer(client: httpx.AsyncClient, app: Litestar) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops)
    await announced_listing(client, seller, ops)
    first = (await client.get(f"{API}/notices")).json()["items"][0]["seconds_remaining"]
    app.state.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    later = (await client.get(f"{API}/notices")).json()["items"][0]["seconds_remaining"]
    assert later == first - 30


async def test_a_signed_in_reader_is_never_served_or_stored(client: httpx.AsyncClient, app: Litestar) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops)
    made = await client.post(f"{API}/listings", json=listing_body(), headers=seller.headers)
    await client.post(f"{API}/listings/{made.json()['id']}/submit", headers=seller.headers)
    query = {"status": "under_review"}
    public = await client.get(f"{API}/listings", params=query)
    assert public.json()["items"] == []  # the public sees no listing under review
    mine = await client.get(f"{API}/listings", params=query, headers=ops.headers)
    assert [item["id"] for item in mine.json()["items"]] == [made.json()["id"]]  # not the stored answer
    assert mine.headers["cache-control"] == "private, no-store"
    assert "etag" not in mine.headers
    assert (await client.get(f"{API}/listings", params=query)).json()["items"] == []  # nor stored for others


async def test_pages_carry_each_readers_own_csrf_token_and_server_time(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    first = await client.get("/", headers=HTML)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, max-age=0, must-revalidate"
    mine = client.cookies["techx_csrf"]
    assert mine in first.text
    app.state.clock.advance(timedelta(milliseconds=500))  # type: ignore[attr-defined]
    async with anonymous(app) as visitor:
        other = await visitor.get("/", headers=HTML)
        assert other.headers["age"] == "0"  # from memory
        theirs = visitor.cookies["techx_csrf"]
        assert theirs != mine and theirs in other.text and mine not in other.text
        assert _server_time(other.text) != _server_time(first.text)  # the time of the answer, not of the page
        app.state.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
        assert "age" not in (await visitor.get("/", headers=HTML)).headers  # past half its time: made again
        assert other.headers["etag"] != first.headers["etag"]  # a copy holding another token is not theirs
    again = await client.get("/", headers={**HTML, "if-none-match": first.headers["etag"]})
    assert again.status_code == 304


async def test_a_signed_in_page_is_private_and_never_leaks(client: httpx.AsyncClient, app: Litestar) -> None:
    party = await register(client, name="私密机构")
    async with anonymous(app) as visitor:
        assert "私密机构" not in (await visitor.get("/", headers=HTML)).text  # stored for the public
        await visitor.get("/login")
        signed_in = await visitor.post(
            "/login",
            data={"email": party.email, "password": PASSWORD, "_csrf_token": visitor.cookies["techx_csrf"]},
        )
        assert signed_in.status_code == 303
        page = await visitor.get("/", headers=HTML)
        assert "私密机构" in page.text
        assert page.headers["cache-control"] == "private, no-store"
        assert "etag" not in page.headers
    async with anonymous(app) as stranger:
        assert "私密机构" not in (await stranger.get("/", headers=HTML)).text


async def test_shared_links_with_parameters_in_another_order_are_one_page(app: Litestar) -> None:
    async with anonymous(app) as visitor:
        a = await visitor.get(f"{API}/listings", params=[("q", "电池"), ("order", "newest")])
        b = await visitor.get(f"{API}/listings", params=[("order", "newest"), ("q", "电池")])
        assert "age" not in a.headers and b.headers["age"] == "0"
        assert a.headers["etag"] == b.headers["etag"]


def _server_time(page: str) -> str:
    found = re.search(r'data-server-time="([^"]*)"', page)
    assert found
    return found.group(1)


async def test_a_bid_shows_at_once_on_the_public_auction_page(client: httpx.AsyncClient, app: Litestar) -> None:
    auction, _, a, b = await open_auction_with_two_bidders(client, app)
    await bid(client, a, auction["id"], ASKING)
    async with anonymous(app) as watcher:
        before = await watcher.get(f"/auctions/{auction['id']}", headers=HTML)
        assert '<dd id="bid-count">1</dd>' in before.text
        assert (await watcher.get(f"/auctions/{auction['id']}", headers=HTML)).headers["age"] == "0"  # kept
        await bid(client, b, auction["id"], ASKING + STEP)
        after = await watcher.get(f"/auctions/{auction['id']}", headers=HTML)
        assert "age" not in after.headers and '<dd id="bid-count">2</dd>' in after.text  # made again, with the bid
        revalidated = await watcher.get(
            f"/auctions/{auction['id']}", headers={**HTML, "if-none-match": before.headers["etag"]}
        )
        assert revalidated.status_code == 200  # the browser's copy predates the bid


async def test_the_annual_figures_are_computed_once_per_change(
    client: httpx.AsyncClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    import exchange.stats.figures as routes

    computed = []
    original = routes.listing_figures

    async def counted(session: Any, year: int) -> Any:
        computed.append(year)
        return await original(session, year)

    monkeypatch.setattr(routes, "listing_figures", counted)
    ops = await operator(client, app)
    seller = await verified(client, ops)
    for caller in ({}, ops.headers, seller.headers):  # signed in or not: the same figures
        assert (await client.get(f"{API}/stats", headers=caller)).json()["listings"]["announced"] == 0
    assert len(computed) == 1
    await announced_listing(client, seller, ops)
    assert (await client.get(f"{API}/stats", headers=ops.headers)).json()["listings"]["announced"] == 1
    assert len(computed) == 2
