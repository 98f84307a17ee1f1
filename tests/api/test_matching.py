"""Matching and the single-character search, on both databases: a listing indexed and matched for
a demand with why; a change seen at the next match; feedback kept and moving one organisation's
order only; ``氢`` finds 储氢合金 in the library."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from exchange.matching.models import MatchFeedback
from tests.api.test_demands_journey import posted
from tests.helpers import announced_listing, assert_problem, operator, verified

API = "/api/v1"


async def titles(client, q: str) -> list[str]:
    response = await client.get(f"{API}/listings", params={"q": q})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_one_character_finds_the_word_it_is_in_and_matching_explains_and_learns(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="上海材料大学")
    hydrogen = await announced_listing(
        client,
        seller,
        ops,
        title="储氢合金及其制备方法",
        summary="稀土系AB5型储氢合金，吸放氢平台压低，循环寿命长，可用于固态储氢罐。",
        field="new_materials",
        keywords=["储氢合金", "C22C 19/03"],
    )
    graphene = await announced_listing(
        client,
        seller,
        ops,
        title="石墨烯透明导电薄膜",
        summary="化学气相沉积石墨烯薄膜，卷对卷转移，用于柔性透明电极。",
        field="new_materials",
        keywords=["石墨烯"],
    )

    # The library: one character finds the listing whose title holds it; another does not.
    assert await titles(client, "氢") == ["储氢合金及其制备方法"]
    assert await titles(client, "氦") == []
    assert await titles(client, "储氢 合金") == ["储氢合金及其制备方法"]

    # Matching: a demand's best listing, with why.
    buyer = await verified(client, ops, "enterprise", name="上海氢能装备有限公司")
    other = await verified(client, ops, "enterprise", name="苏州储运科技有限公司")
    need = await posted(
        client, buyer, title="加氢站固态储氢", description="需要以合金方式安全储存氢气，替代高压气瓶。",
        performance="常温常压储氢", min_maturity=4, ipc_codes=["C22C 19/07"], keywords=[],
        accepted_forms=["transfer", "license"], budget_min_fen=10_000_000, budget_max_fen=80_000_000,
    )  # fmt: skip

    async def ranked(party=buyer) -> list[dict]:
        found = await client.get(f"{API}/demands/{need['id']}/matches", headers=party.headers)
        assert found.status_code == 200, found.text
        return found.json()["items"]  # type: ignore[no-any-return]

    first = await ranked()
    assert [m["id"] for m in first][:1] == [hydrogen["id"]]
    why = first[0]
    assert "储氢" in why["matched_terms"] or "储氢合金" in why["matched_terms"]
    assert [(s["code"], s["depth"], s["level"]) for s in why["shared_ipc"]] == [("C22C 19/00", 4, "大组")]
    assert {f["aspect"]: f["fit"] for f in why["fits"]} == {
        "领域": "yes",
        "成熟度": "yes",
        "合作方式": "yes",
        "预算": "yes",
    }

    # A change to a listing is seen at the next match: the graphene listing becomes a hydrogen one.
    amended = await client.patch(
        f"{API}/listings/{graphene['id']}",
        json={"title": "高容量镁基储氢合金", "summary": "镁基储氢合金球磨制备，储氢容量高，用于固态储氢。"},
        headers=seller.headers,
    )
    assert amended.status_code == 200, amended.text
    after = await ranked()
    assert graphene["id"] in [m["id"] for m in after]
    changed = next(m for m in after if m["id"] == graphene["id"])
    assert changed["title"] == "高容量镁基储氢合金" and "储氢" in changed["matched_terms"]

    # Feedback: the buyer marks the first irrelevant; its order changes, the other organisation's not.
    top = after[0]["id"]
    body = {
        "query_kind": "demand",
        "query_id": need["id"],
        "doc_kind": "listing",
        "doc_id": top,
        "relevant": False,
        "contacted": True,
        "note": "已联系，容量不够",
    }
    marked = await client.post(f"{API}/matching/feedback", json=body, headers=buyer.headers)
    assert marked.status_code == 201, marked.text
    assert marked.json()["org_id"] == buyer.org_id and marked.json()["relevant"] is False
    mine = await ranked(buyer)
    theirs = await ranked(other)
    assert mine[0]["id"] != top and mine[-1]["id"] == top
    assert theirs[0]["id"] == top
    assert next(m for m in mine if m["id"] == top)["signals"]["feedback"] < 0

    # Bad input: named field, nothing written.
    assert_problem(
        await client.post(f"{API}/matching/feedback", json={**body, "doc_kind": "demand"}, headers=buyer.headers),
        422,
        "matching-rule-broken",
        "doc_kind",
    )
    assert_problem(
        await client.post(
            f"{API}/matching/feedback", json={**body, "doc_id": str(uuid.uuid4())}, headers=buyer.headers
        ),
        404,
        "not-found",
        "doc_id",
    )
    assert_problem(
        await client.post(f"{API}/matching/feedback", json={**body, "relevant": "no"}, headers=buyer.headers),
        400,
        "validation-error",
        "relevant",
    )
    assert (await client.post(f"{API}/matching/feedback", json=body)).status_code == 401
    async with app.state.db.read() as session:
        kept = (await session.scalars(select(MatchFeedback))).all()
    assert [(str(r.doc_id), r.relevant, r.contacted, r.note) for r in kept] == [(top, False, True, "已联系，容量不够")]
