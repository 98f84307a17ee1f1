"""The matches page: an enterprise sees, under its published demand, the listing that answers it
with why (the shared words, the IPC code, every fit, in Chinese); it marks the listing not relevant
and the page moves it down; the seller sees the demand under its listing."""

from __future__ import annotations

import pytest

from tests.api.test_demands_journey import posted
from tests.helpers import announced_listing, operator, verified
from tests.page_helpers import browser_of, post_form


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_matches_with_why_and_a_mark_that_moves_them(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "上海氢能装备有限公司")
    seller = await verified(client, ops, "university", "上海材料大学")
    tank = await announced_listing(
        client, seller, ops, title="车载高压储氢瓶碳纤维缠绕内胆技术", field="new_materials",
        summary="70MPa车载储氢瓶的轻量化塑料内胆与碳纤维缠绕工艺。", keywords=["储氢瓶", "轻量化", "F17C 1/06"],
    )  # fmt: skip
    other = await announced_listing(
        client, seller, ops, title="轻量化铝合金车身板材", field="new_materials",
        summary="汽车车身用高强度铝合金板材的轻量化成形工艺。", keywords=["铝合金", "轻量化"],
    )  # fmt: skip
    demand = await posted(client, owner)
    async with browser_of(app, owner) as firm:
        page = (await firm.get("/workspace/matches")).text
        assert "对接推荐" in page and "车载储氢瓶轻量化材料" in page
        group = page.split(f'id="doc-{demand["id"]}"')[1]
        assert group.index(tank["id"]) < group.index(other["id"])
        assert "共同词" in group and "F17C" in group and "领域：符合" in group
        marked = await post_form(
            firm, "/workspace/matches/feedback", query_kind="demand", query_id=demand["id"], doc_kind="listing",
            doc_id=tank["id"], relevant="0",
        )  # fmt: skip
        assert marked.status_code == 303, marked.text
        after = (await firm.get(marked.headers["location"])).text
        assert "已记录您的标记" in after
        group = after.split(f'id="doc-{demand["id"]}"')[1]
        assert group.index(other["id"]) < group.index(tank["id"])
        refused = await post_form(
            firm,
            "/workspace/matches/feedback",
            query_kind="demand",
            query_id="x",
            doc_kind="listing",
            doc_id=tank["id"],
        )
        assert refused.status_code == 422  # the shared error page, in Chinese; nothing recorded
    async with browser_of(app, seller) as campus:
        page = (await campus.get("/workspace/matches")).text
        assert "车载储氢瓶轻量化材料" in page.split(f'id="doc-{tank["id"]}"')[1]
