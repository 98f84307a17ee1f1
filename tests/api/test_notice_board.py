"""The board's filters on ``GET /api/v1/notices``: status (one or all), kind, field, opening day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers import announced_listing, assert_problem, operator, relogin, verified
from tests.trading_helpers import announced, fund, intent, to_end_of_announcement

API = "/api/v1"


def ids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [n["id"] for n in answer.json()["items"]]


async def test_board_filters_by_field_status_and_opening_day(client, app, clock) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    energy = (await announced_listing(client, seller, ops))["announcement"]["notice_id"]
    clock.advance(timedelta(days=1))
    await relogin(client, seller, ops)
    medicine_listing = await announced_listing(client, seller, ops, title="抗体药物偶联技术", field="biomedicine")
    medicine = medicine_listing["announcement"]["notice_id"]
    board = f"{API}/notices"

    assert ids(await client.get(board, params={"field": "biomedicine"})) == [medicine]
    assert ids(await client.get(board, params={"field": "new_energy"})) == [energy]
    assert ids(await client.get(board, params={"field": "agriculture"})) == []
    assert ids(await client.get(board, params={"field": "biomedicine", "kind": "deal_result"})) == []

    opened = datetime.fromisoformat(medicine_listing["announcement"]["opens_at"])
    beijing_day = (opened + timedelta(hours=8)).date().isoformat()  # Beijing is UTC+8 all year
    assert ids(await client.get(board, params={"opened_from": beijing_day})) == [medicine]
    assert ids(await client.get(board, params={"opened_to": beijing_day, "opened_from": beijing_day})) == [medicine]
    before = (opened + timedelta(hours=8) - timedelta(days=1)).date().isoformat()
    assert ids(await client.get(board, params={"opened_to": before})) == [energy]

    # Running notices come soonest to close first; "all" and ended statuses the latest to close first.
    assert ids(await client.get(board)) == [energy, medicine]
    assert ids(await client.get(board, params={"status": "all"})) == [medicine, energy]
    assert ids(await client.get(board, params={"status": "closed"})) == []

    assert_problem(await client.get(board, params={"field": "astrology"}), 400, "validation-error", "field")
    assert_problem(
        await client.get(board, params={"opened_from": "2027-02-30"}), 400, "validation-error", "opened_from"
    )
    assert_problem(await client.get(board, params={"status": "any"}), 400, "validation-error", "status")
    # The calendar's ends filter nothing out (and never overflow).
    assert ids(await client.get(board, params={"opened_from": "0001-01-01", "opened_to": "9999-12-31"})) == [
        energy,
        medicine,
    ]
    backwards = {"opened_from": "2027-02-01", "opened_to": "2027-01-31"}
    assert_problem(await client.get(board, params=backwards), 422, "invalid-request", "opened_to")


async def test_board_pages_through_every_status_newest_first(client, app, clock) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    made = []
    for title in ("第一项成果技术", "第二项成果技术", "第三项成果技术"):
        made.append((await announced_listing(client, seller, ops, title=title))["announcement"]["notice_id"])
        clock.advance(timedelta(hours=1))
        await relogin(client, seller, ops)
    withdrawn = await client.post(
        f"{API}/listings/{(await client.get(f'{API}/notices/{made[0]}')).json()['subject_id']}/withdraw",
        json={"reason": "权属核查"},
        headers=seller.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"status": "all", "limit": 1, "kind": "listing_announcement"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{API}/notices", params=params)).json()
        seen += [(n["id"], n["status"]) for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [n for n, _ in seen] == made[::-1]  # one period each: the latest announced closes last
    assert dict(seen)[made[0]] == "cancelled"
    assert ids(await client.get(f"{API}/notices", params={"status": "cancelled"})) == [made[0]]
    open_now = ids(await client.get(f"{API}/notices", params={"limit": 1}))
    assert len(open_now) == 1 and open_now[0] in made[1:]


async def test_a_deal_notice_is_found_by_its_listing_field(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute")
    buyer = await verified(client, ops)
    await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops, mode="listed")  # new_energy
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    threads = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()
    thread = threads["items"][0]
    offer = thread["offers"][0]["id"]
    accepted = await client.post(f"{API}/negotiations/{thread['id']}/offers/{offer}/accept", headers=buyer.headers)
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    board = f"{API}/notices"
    assert ids(await client.get(board, params={"field": "new_energy", "kind": deal["notice_kind"]})) == [
        deal["notice_id"]
    ]
    assert ids(await client.get(board, params={"field": "biomedicine", "status": "all"})) == []
    everything = ids(await client.get(board, params={"field": "new_energy", "status": "all"}))
    assert deal["notice_id"] in everything and listing["announcement"]["notice_id"] in everything
