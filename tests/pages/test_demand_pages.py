"""The demand pages: an enterprise posts a demand from its workspace and publishes it; the board
and the demand's page show it in yuan and Beijing time with the confidential part hidden; a
university answers from the page, the enterprise declines with a reason and the university reads
it as feedback on its proposals page."""

from __future__ import annotations

import pytest

from tests.helpers import operator, verified
from tests.page_helpers import browser_of, post_form


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_post_a_demand_answer_it_and_read_the_feedback(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "页面企业")
    uni = await verified(client, ops, "university", "页面大学")
    async with browser_of(app, owner) as firm:
        assert "技术需求" in (await firm.get("/")).text  # the portal's navigation links the board
        await firm.get("/workspace/demands")
        saved = await post_form(
            firm, "/workspace/demands", title="耐高温密封材料", description="发动机密封件", performance="耐温≥600°C",
            field="new_materials", keywords="密封 耐高温", ipc_codes="C09K 3/10", budget_min_yuan="100000",
            budget_max_yuan="1236000", accepted_forms=["license", "technical_service"], deadline="2099-05-01",
            confidential="目标客户：某航空发动机厂",
        )  # fmt: skip
        assert saved.status_code == 303, saved.text
        where = saved.headers["location"].split("?")[0]
        await firm.get(where)
        published = await post_form(firm, f"{where}/publish")
        assert published.status_code == 303, published.text
    board = (await client.get("/demands", headers={"accept": "text/html"})).text
    assert "耐高温密封材料" in board and "123.6 万元" in board.replace("123.60", "123.6")
    demand_id = where.rsplit("/", 1)[1]
    public = (await client.get(f"/demands/{demand_id}")).text
    assert "¥1,236,000.00" in public and "2099" in public
    assert "航空发动机厂" not in public
    async with browser_of(app, uni) as campus:
        page = await campus.get(f"/demands/{demand_id}")
        assert "签署保密协议" in page.text and "航空发动机厂" not in page.text
        sent = await post_form(
            campus, f"/demands/{demand_id}/proposals", summary="陶瓷基复合密封", solution="SiC纤维增强"
        )
        assert sent.status_code == 303, sent.text
        async with browser_of(app, owner) as firm:
            received = await firm.get(where)
            assert "陶瓷基复合密封" in received.text and "列入候选" in received.text
            proposal_id = received.text.split('id="proposal-')[1].split('"')[0]
            declined = await post_form(firm, f"/workspace/proposals/{proposal_id}/decline", reason="耐温不达标")
            assert declined.status_code == 303, declined.text
        mine = await campus.get("/workspace/proposals")
        assert "耐温不达标" in mine.text and "未采纳" in mine.text
        signed = await post_form(campus, f"/demands/{demand_id}/nda")
        assert signed.status_code == 303
        assert "航空发动机厂" in (await campus.get(f"/demands/{demand_id}/confidential")).text
