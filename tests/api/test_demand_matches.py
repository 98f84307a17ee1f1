"""Matching wired to demands, on both databases: a published demand finds the listing that answers
it and says why; the listing's seller finds the public demand (never an invited-only one it was
not invited to); a withdrawn demand leaves the index at once; the owner's "not relevant" moves its
order; and the daily digest tells each organisation its new matches once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from exchange.platform.outbox import OutboxEvent
from tests.api.test_demands_journey import posted
from tests.helpers import announced_listing, assert_problem, operator, verified
from tests.trading_helpers import advance, sweep

API = "/api/v1"


async def digests(app: Any) -> list[OutboxEvent]:
    async with app.state.db.read() as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    return [r for r in rows if r.kind == "matching.digest"]


def told_to(events: list[OutboxEvent], org_id: str) -> list[dict[str, Any]]:
    return [e.data for e in events if org_id in [str(o) for o in (e.audience or {}).get("orgs", [])]]


async def test_demands_and_listings_match_both_ways_with_why_and_a_daily_digest(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "上海氢能装备有限公司")
    seller = await verified(client, ops, "university", "上海材料大学")
    other = await verified(client, ops, "enterprise", "另一家企业")
    tank = await announced_listing(
        client, seller, ops, title="车载高压储氢瓶碳纤维缠绕内胆技术", field="new_materials",
        summary="70MPa车载储氢瓶的轻量化塑料内胆与碳纤维缠绕工艺，质量储氢密度高，循环寿命长。",
        keywords=["储氢瓶", "轻量化", "F17C 1/06"],
    )  # fmt: skip
    film = await announced_listing(
        client, seller, ops, title="石墨烯透明导电薄膜", field="new_materials",
        summary="化学气相沉积制备大面积石墨烯薄膜，方阻低，透光率高，用于柔性触摸屏。",
        keywords=["石墨烯", "透明导电"],
    )  # fmt: skip
    demand = await posted(client, owner)  # 车载储氢瓶轻量化材料, F17C 1/06

    # A demand's achievements: the tank first, with the words and the IPC code both share.
    found = await client.get(f"{API}/demands/{demand['id']}/matches", headers=owner.headers)
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert items[0]["id"] == tank["id"] and items[0]["kind"] == "listing"
    assert "储氢瓶" in items[0]["matched_terms"] or "储氢" in items[0]["matched_terms"]
    assert any(s["code"].startswith("F17C") for s in items[0]["shared_ipc"])
    assert {f["aspect"] for f in items[0]["fits"]} == {"领域", "成熟度", "合作方式", "预算"}
    assert film["id"] not in [i["id"] for i in items[:1]]

    # A listing's demands, for its seller: the public demand, not an invited-only one of others.
    hidden = await posted(client, other, visibility="invited", invited_org_ids=[owner.org_id])
    back = await client.get(f"{API}/listings/{tank['id']}/matches", headers=seller.headers)
    assert back.status_code == 200, back.text
    assert [i["id"] for i in back.json()["items"]][:1] == [demand["id"]]
    assert hidden["id"] not in [i["id"] for i in back.json()["items"]]
    # ... while the invited-only demand's owner still finds the achievements for it.
    own = await client.get(f"{API}/demands/{hidden['id']}/matches", headers=other.headers)
    assert own.json()["items"][0]["id"] == tank["id"]
    # Someone neither owning nor invited may not see the demand, nor therefore its matches.
    assert_problem(await client.get(f"{API}/demands/{hidden['id']}/matches", headers=seller.headers), 404, "not-found")
    assert_problem(
        await client.get(f"{API}/demands/{demand['id']}/matches", params={"k": 0}, headers=owner.headers),
        400, "validation-error",
    )  # fmt: skip

    # The owner marks the tank not relevant for this demand: it drops to the end of its matches.
    marked = await client.post(
        f"{API}/matching/feedback",
        json={"query_kind": "demand", "query_id": demand["id"], "doc_kind": "listing", "doc_id": tank["id"],
              "relevant": False, "note": "需要金属内胆"},
        headers=owner.headers,
    )  # fmt: skip
    assert marked.status_code == 201, marked.text
    again = await client.get(f"{API}/demands/{demand['id']}/matches", headers=owner.headers)
    assert again.json()["items"][0]["id"] != tank["id"]
    assert again.json()["items"][-1]["id"] == tank["id"]

    # The daily digest (the clock is at 09:00 Beijing): each side its new matches, once a day.
    await sweep(app)
    first = await digests(app)
    to_owner, to_seller = told_to(first, owner.org_id), told_to(first, seller.org_id)
    assert len(to_owner) == 1 and len(to_seller) == 1
    assert {(line["own_id"], line["other_id"]) for line in to_owner[0]["lines"]} >= {(demand["id"], tank["id"])}
    assert (tank["id"], demand["id"]) in {(line["own_id"], line["other_id"]) for line in to_seller[0]["lines"]}
    await sweep(app)
    assert len(await digests(app)) == len(first)  # not twice the same day

    # The next day nothing is new: no digest. A withdrawn demand leaves the seller's matches at once.
    await advance(app, client, timedelta(days=1), owner, seller)
    assert len(await digests(app)) == len(first)
    withdrawn = await client.post(
        f"{API}/demands/{demand['id']}/withdraw", json={"reason": "已解决"}, headers=owner.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    gone = await client.get(f"{API}/listings/{tank['id']}/matches", headers=seller.headers)
    assert demand["id"] not in [i["id"] for i in gone.json()["items"]]
