"""The demand pages: an enterprise posts a demand from its workspace and publishes it; the board
and the demand's page show it in yuan and Beijing time with the confidential part hidden; a
university answers from the page, the enterprise declines with a reason and the university reads
it as feedback on its proposals page."""

from __future__ import annotations

import pytest

from tests.helpers import create_listing, operator, verified
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
            field="new_materials", keywords="密封 耐高温", ipc_codes="C09K 3/10", budget_min_fen="100000",
            budget_max_fen="1,236,000", accepted_forms=["license", "technical_service"], deadline="2099-05-01",
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
    assert "¥1,236,000.00" in public and "2099年5月1日 24:00" in public  # the Beijing date typed, to its 24:00
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


DEMAND = {
    "title": "低温锂电池电解液", "description": "-40°C 下容量保持率不足", "performance": "-40°C 容量保持≥80%",
    "field": "new_energy", "budget_max_fen": 50_000_000, "accepted_forms": ["license"], "deadline": "2099-03-01",
}  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_refused_forms_come_back_as_typed_with_the_words_next_to_the_field(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "表单企业")
    uni = await verified(client, ops, "university", "受邀大学")
    listing = await create_listing(client, uni, title="宽温域电解液配方")
    async with browser_of(app, owner) as firm:
        form = (await firm.get("/workspace/demands")).text
        assert "受邀大学" in form and "表单企业</option>" not in form  # invited organisations chosen by name
        refused = await post_form(
            firm, "/workspace/demands", title="低温", description="保留的描述", budget_max_fen="十万"
        )
        assert refused.status_code == 422, refused.text
        assert "请以元为单位填写金额" in refused.text and 'id="demand-budget_max_fen-error"' in refused.text
        assert "保留的描述" in refused.text and "尚未发布技术需求" in refused.text  # as typed; nothing written
        untitled = await post_form(firm, "/workspace/demands", title=" ", deadline="2000-01-01")
        assert untitled.status_code == 422 and "请填写需求名称" in untitled.text, untitled.text
        saved = await post_form(
            firm, "/workspace/demands", title="低温电解液", visibility="invited", invited_org_ids=[uni.org_id],
            confidential="现用配方供应商：某某化学",
        )  # fmt: skip
        assert saved.status_code == 303, saved.text
        where = saved.headers["location"].split("?")[0]
        assert "仅受邀机构可见：受邀大学" in (await firm.get(where)).text
        edit = (await firm.get(f"{where}/edit")).text
        assert 'value="低温电解液"' in edit and "某某化学" in edit and "selected>受邀大学" in edit
        upside_down = await post_form(
            firm, f"{where}/edit", title="低温锂电池电解液", budget_min_fen="500000", budget_max_fen="100000",
            visibility="invited", invited_org_ids=[uni.org_id], confidential="现用配方供应商：某某化学",
        )  # fmt: skip
        assert upside_down.status_code == 422 and "预算上限不能低于预算下限" in upside_down.text
        assert "低温电解液" in (await firm.get(where)).text  # the draft unchanged
        edited = await post_form(
            firm, f"{where}/edit", title="低温锂电池电解液", description="-40°C 下容量保持率不足",
            performance="-40°C 容量保持≥80%", field="new_energy", budget_max_fen="500000",
            accepted_forms=["license", "technical_service"], deadline="2099-03-01", visibility="invited",
            invited_org_ids=[uni.org_id], confidential="现用配方供应商：某某化学",
        )  # fmt: skip
        assert edited.status_code == 303, edited.text
        assert (await post_form(firm, f"{where}/publish")).status_code == 303
    demand_id = where.rsplit("/", 1)[1]
    assert (await client.get(f"/demands/{demand_id}")).status_code == 404  # invited only: not the public's
    async with browser_of(app, uni) as campus:
        page = (await campus.get(f"/demands/{demand_id}")).text
        assert f"挂牌 {listing['number']} · 宽温域电解液配方" in page  # its own listings, to tick
        no_summary = await post_form(campus, f"/demands/{demand_id}/proposals", listing_ids=[listing["id"]])
        assert no_summary.status_code == 422 and "请概述方案如何解决该需求" in no_summary.text
        assert f'value="{listing["id"]}" checked' in no_summary.text
        sent = await post_form(
            campus, f"/demands/{demand_id}/proposals", summary="宽温域配方", listing_ids=[listing["id"]],
            budget_fen="300,000",
        )  # fmt: skip
        assert sent.status_code == 303, sent.text
    async with browser_of(app, owner) as firm:
        received = (await firm.get(where)).text
        assert f"挂牌 {listing['number']} · 宽温域电解液配方" in received and "¥300,000.00" in received
        proposal_id = received.split('id="proposal-')[1].split('"')[0]
        blank = await post_form(firm, f"/workspace/proposals/{proposal_id}/decline", reason="  ")
        assert blank.status_code == 422 and "请填写理由，对方将看到此理由" in blank.text
        assert "已提交" in blank.text  # not declined


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_campaigns_opened_and_screened_in_the_console_and_a_programs_workspace(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "征集企业")
    program = await verified(client, ops, "government", "区科委创新项目")
    async with browser_of(app, ops) as console:
        listing_page = (await console.get("/console/campaigns")).text
        assert "需求征集与筛选" in listing_page and 'href="/console/campaigns"' in listing_page  # the console nav
        refused = await post_form(console, "/console/campaigns", theme="", kind="demands", description="d", rules="r",
                                  deadline="2099-06-30")  # fmt: skip
        assert refused.status_code == 422 and "请填写征集主题" in refused.text
        opened = await post_form(
            console, "/console/campaigns", theme="2099 新能源技术需求征集", kind="demands",
            description="征集新能源企业的技术需求",
            rules="已认证企业；每家至多三项", deadline="2099-06-30",
        )  # fmt: skip
        assert opened.status_code == 303, opened.text
        campaign_page = opened.headers["location"].split("?")[0]
        campaign_id = campaign_page.rsplit("/", 1)[1]
    demand = await client.post("/api/v1/demands", json=DEMAND, headers=owner.headers)
    await client.post(f"/api/v1/demands/{demand.json()['id']}/publish", headers=owner.headers)
    submitted = await client.post(
        f"/api/v1/campaigns/{campaign_id}/submissions", json={"demand_id": demand.json()["id"]}, headers=owner.headers
    )
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()["id"]
    async with browser_of(app, ops) as console:
        page = (await console.get(campaign_page)).text
        assert "低温锂电池电解液" in page and "征集企业" in page and "待筛选" in page
        no_reason = await post_form(console, f"/console/campaigns/submissions/{submission}", decision="rejected")
        assert no_reason.status_code == 422 and "请填写理由，对方将看到此理由" in no_reason.text
        rejected = await post_form(
            console, f"/console/campaigns/submissions/{submission}", decision="rejected", reason="不属于新能源领域"
        )
        assert rejected.status_code == 303, rejected.text
        assert "未入选：不属于新能源领域" in (await console.get(campaign_page)).text
    async with browser_of(app, owner) as firm:
        assert (await firm.get("/console/campaigns")).status_code == 403
        assert (await firm.get("/workspace/campaigns")).status_code == 403
    async with browser_of(app, program) as office:
        opened = await post_form(
            office, "/workspace/campaigns", theme="区级解决方案征集", kind="solutions", description="征集解决方案",
            rules="高校、科研院所", deadline="2099-07-31",
        )  # fmt: skip
        assert opened.status_code == 303 and opened.headers["location"].startswith("/workspace/campaigns/")
        mine = (await office.get("/workspace/campaigns")).text
        assert "区级解决方案征集" in mine and "2099 新能源技术需求征集" not in mine  # its own campaigns
        assert (await office.get(campaign_page.replace("/console/", "/workspace/"))).status_code == 403


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_submit_a_demand_to_a_campaign_from_its_page_then_close_the_demand(client, app) -> None:
    from tests.api.test_demands_journey import CALL, posted

    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "征集企业")
    campaign = await client.post(
        "/api/v1/campaigns", json={**CALL, "theme": "氢能技术需求征集", "deadline": "2099-01-01"}, headers=ops.headers
    )
    assert campaign.status_code == 201, campaign.text
    demand = await posted(client, owner)
    async with browser_of(app, owner) as firm:
        page = (await firm.get(f"/campaigns/{campaign.json()['id']}")).text
        assert "提交到本次征集" in page and "车载储氢瓶轻量化材料" in page
        sent = await post_form(firm, f"/campaigns/{campaign.json()['id']}/submissions", demand_id=demand["id"])
        assert sent.status_code == 303, sent.text
        after = (await firm.get(sent.headers["location"])).text
        assert "已提交到本次征集" in after and "待筛选" in after
        assert "<h2>提交到本次征集</h2>" not in after  # nothing left to submit
        closed = await post_form(firm, f"/workspace/demands/{demand['id']}/end", act="close", reason="已找到方案")
        assert closed.status_code == 303, closed.text
        assert "需求已关闭" in (await firm.get(closed.headers["location"])).text
    shown = await client.get(f"/api/v1/demands/{demand['id']}", headers=owner.headers)
    assert shown.json()["status"] == "closed" and shown.json()["close_reason"] == "已找到方案"
