"""A university's transfer process on its pages: a disclosure typed through the form (shares in per
cent, refused in Chinese next to the field), each step's form by the role that acts there, a
member without the role shown no form and refused when posting anyway, a return and a stop, and
the institution's settings and role grants saved through the settings page."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.helpers import join
from tests.institution_helpers import API, University, grant, university
from tests.page_helpers import browser_of, htmx_post, post_form

DISCLOSURE = {
    "title": "一种高容量储氢合金及其制备方法",
    "summary": "镁基储氢合金，室温吸放氢。",
    "field": "new_materials",
    "keywords": "储氢、合金",
    "maturity": "5",
    "ip_assets.0.kind": "invention_patent",
    "ip_assets.0.number": "ZL202110000001.X",
    "ip_assets.0.title": "储氢合金",
    "ip_assets.0.expires_on": "2041-03-01",
    "inventors.0.name": "张发明",
    "inventors.0.affiliation": "材料学院",
    "inventors.0.share_bp": "60.5",
    "inventors.1.name": "李创新",
    "inventors.1.affiliation": "材料学院",
    "inventors.1.share_bp": "39.5",
    "funding.0.kind": "government",
    "funding.0.funder": "国家自然科学基金委员会",
    "funding.0.project_number": "52071234",
    "intended_form": "transfer",
}
EXPERTS = {
    f"experts.{i}.{k}": v
    for i, name in enumerate(["王专家", "赵专家", "钱专家"])
    for k, v in {
        "name": name,
        "affiliation": "外校",
        "external": "on",
        "opinion": "技术先进。",
        "vote": "approve",
    }.items()
}
DECISION = {
    "minutes": "成果转化工作领导小组2026年第5次会议纪要",
    "decision_makers.0.name": "陈校长",
    "decision_makers.0.vote": "approve",
    "decision_makers.1.name": "刘处长",
    "decision_makers.1.vote": "approve",
    "pricing": "auction",
    "floor_price": "1,200,000",
}


def error_next_to(page: str, input_id: str) -> str:
    found = re.search(rf'id="{re.escape(input_id)}-error">([^<]*)<', page)
    assert found, f"no error next to {input_id}"
    return found.group(1)


async def api_process(client: httpx.AsyncClient, uni: University, pid: str) -> dict[str, Any]:
    response = await client.get(f"{API}/transfer-processes/{pid}", headers=uni.office.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def disclosed(app: Any, uni: University) -> str:
    async with browser_of(app, uni.inventor) as inventor:
        await inventor.get("/workspace/transfers/new")
        made = await post_form(inventor, "/workspace/transfers/new", **DISCLOSURE)
        assert made.status_code == 303, made.text
        return made.headers["location"].split("/")[3].split("?")[0]


async def test_a_disclosure_typed_through_the_form_and_taken_to_an_approved_decision(client, app) -> None:
    uni = await university(client, app)
    async with browser_of(app, uni.inventor) as inventor:
        form = await inventor.get("/workspace/transfers/new")
        assert form.status_code == 200 and "成果转化" in form.text and 'name="inventors.0.share_bp"' in form.text

        # Shares not adding up to 100 %: the domain's refusal, in Chinese, next to the inventors; what
        # was typed stays; nothing is written.
        short = await post_form(inventor, "/workspace/transfers/new", **{**DISCLOSURE, "inventors.1.share_bp": "30"})
        assert short.status_code == 422
        assert "合计须恰好为 100%" in error_next_to(short.text, "disclosure-inventors")
        assert 'value="60.5"' in short.text and 'value="ZL202110000001.X"' in short.text
        # A share that is no per cent: next to its own input.
        bad = await post_form(inventor, "/workspace/transfers/new", **{**DISCLOSURE, "inventors.1.share_bp": "abc"})
        assert bad.status_code == 422 and "百分数" in error_next_to(bad.text, "disclosure-inventors-1-share_bp")
        # Government funding without its number.
        unnumbered = await post_form(
            inventor, "/workspace/transfers/new", **{**DISCLOSURE, "funding.0.project_number": ""}
        )
        assert unnumbered.status_code == 422
        assert "项目编号" in error_next_to(unnumbered.text, "disclosure-funding-0-project_number")
        listed = await client.get(f"{API}/institutions/{uni.office.org_id}/processes", headers=uni.office.headers)
        assert listed.json()["items"] == []

        made = await post_form(inventor, "/workspace/transfers/new", **DISCLOSURE)
        assert made.status_code == 303, made.text
        path = made.headers["location"].split("?")[0]
        pid = path.split("/")[3]
        process = await api_process(client, uni, pid)
        assert [i["share_bp"] for i in process["disclosure"]["inventors"]] == [6050, 3950]
        assert process["step"] == "first_review"

        # The inventor sees the process, with no form of 初审, and is refused when posting anyway.
        page = await inventor.get(path)
        assert page.status_code == 200 and "初审通过" not in page.text and "退回或终止" not in page.text
        assert '<li class="done">' in page.text and 'aria-current="step"' in page.text
        assert "发明人" in page.text and "年" in page.text  # the role and the time, in Chinese
        forced = await htmx_post(inventor, f"{path}/first-review", complete="on", institution_owns="on")
        assert forced.status_code == 403 and "没有在此环节办理的角色" in forced.text
        assert (await api_process(client, uni, pid))["step"] == "first_review"

    async with browser_of(app, uni.office) as office:
        page = await office.get(path)
        assert "初审通过" in page.text and "终止流程" in page.text
        half = await post_form(office, f"{path}/first-review", complete="on")
        assert half.status_code == 422
        assert "有权转化" in error_next_to(half.text, "first_review-institution_owns")
        done = await post_form(office, f"{path}/first-review", complete="on", institution_owns="on")
        assert done.status_code == 303 and done.headers["location"].endswith("notice=transfer-step-done")

    async with browser_of(app, uni.evaluator) as evaluator:
        page = await evaluator.get(path)
        assert 'name="appraised_value"' in page.text
        evaluation = {
            "kind": "external",
            "appraiser": "上海东洲资产评估有限公司",
            "report_number": "东洲评报字[2026]第0101号",
            "report_date": "2026-01-20",
        }
        typo = await htmx_post(evaluator, f"{path}/evaluation", **evaluation, appraised_value="一百万")
        assert typo.status_code == 422 and typo.headers["hx-retarget"] == "#work"
        assert "以元为单位" in error_next_to(typo.text, "evaluation-appraised_value")
        ok = await htmx_post(evaluator, f"{path}/evaluation", **evaluation, appraised_value="1,000,000")
        assert ok.status_code == 200 and "本环节已办理" in ok.text and "¥1,000,000.00" in ok.text

    async with browser_of(app, uni.panel) as panel:
        two = {k: v for k, v in EXPERTS.items() if not k.startswith("experts.2.")}
        few = await post_form(panel, f"{path}/expert-review", **two)
        assert few.status_code == 422 and "至少需要 3 位专家" in error_next_to(few.text, "expert_review-experts")
        inventor_as_expert = await post_form(panel, f"{path}/expert-review", **{**EXPERTS, "experts.2.name": "李创新"})
        assert "发明人不能担任" in error_next_to(inventor_as_expert.text, "expert_review-experts-2-name")
        assert (await post_form(panel, f"{path}/expert-review", **EXPERTS)).status_code == 303

    async with browser_of(app, uni.board) as board:
        low = await post_form(board, f"{path}/decision", **{**DECISION, "floor_price": "900,000"})
        assert low.status_code == 422 and "不得低于评估值" in error_next_to(low.text, "decision-floor_price")
        unvoted = {**DECISION, "pricing": "negotiated", "decision_makers.1.vote": ""}
        negotiated = await post_form(board, f"{path}/decision", **unvoted)
        assert "协议定价须写明受让方" in error_next_to(negotiated.text, "decision-counterparty")
        assert "未回避的决策成员须表决" in error_next_to(negotiated.text, "decision-decision_makers-1-vote")
        assert (await post_form(board, f"{path}/decision", **DECISION)).status_code == 303
        page = await board.get(path)
        assert "底价 ¥1,200,000.00" in page.text and "决策机构" in page.text and "评估值 ¥1,000,000.00" in page.text
        assert "陈校长（同意）" in page.text and "表决 同意 2，不同意 0，弃权 0" in page.text
        assert page.text.count('<li class="done">') == 5  # 发起 初审 评估 论证 决策 ticked
        assert 'id="transfer-notice"' in page.text and "公示中" in page.text  # the decision's notice runs

    process = await api_process(client, uni, pid)
    assert process["step"] == "notice" and process["decision"]["floor_price"] == 120_000_000
    assert [e["role"] for e in process["history"]] == ["inventor", "office", "evaluator", "expert_panel",
                                                       "decision_body"]  # fmt: skip

    async with browser_of(app, uni.office) as office:
        listing = await office.get("/workspace/transfers?step=notice")
        assert DISCLOSURE["title"] in listing.text and "公示" in listing.text
        none = await office.get("/workspace/transfers?step=evaluation")
        assert DISCLOSURE["title"] not in none.text


async def test_a_return_opens_a_new_pass_and_a_stop_ends_the_process(client, app) -> None:
    uni = await university(client, app)
    pid = await disclosed(app, uni)
    path = f"/workspace/transfers/{pid}"
    async with browser_of(app, uni.office) as office:
        await office.get(path)
        assert (
            await post_form(office, f"{path}/first-review", complete="on", institution_owns="on")
        ).status_code == 303
        no_reason = await post_form(office, f"{path}/return", to="first_review", reason="")
        assert no_reason.status_code == 422 and "理由" in error_next_to(no_reason.text, "return-reason")
        back = await htmx_post(office, f"{path}/return", to="first_review", reason="权属证明不全，请补充。")
        assert back.status_code == 200 and "流程已退回" in back.text
        assert "第 2 轮" in back.text and "退回 1 次" in back.text and "权属证明不全" in back.text
        stopped = await post_form(office, f"{path}/stop", reason="发明人撤回披露。")
        assert stopped.status_code == 303
        page = await office.get(path)
        assert "已终止" in page.text and '<li class="stopped">' in page.text and "初审通过" not in page.text
    process = await api_process(client, uni, pid)
    assert process["status"] == "stopped"
    assert [e["outcome"] for e in process["history"]] == ["completed", "completed", "returned", "stopped"]


async def test_settings_and_role_grants_saved_through_the_settings_page(client, app) -> None:
    uni = await university(client, app)
    member = await join(client, uni.office, name="新成员")
    settings = {
        "workflow.first_review": "on",
        "workflow.evaluation": "on",
        "decision_body": "校长办公会",
        "notice_days": "20",
        "notice_unit": "working_days",
        "plan_notice_days": "15",
        "plan_notice_unit": "working_days",
        "inventor_share_bp": "75",
        "extra_approval_threshold_fen": "500,000",
        "institution_parts.0.name": "学校",
        "institution_parts.0.weight": "5",
        "institution_parts.1.name": "学院",
        "institution_parts.1.weight": "5",
    }
    async with browser_of(app, uni.office) as office:
        page = await office.get("/workspace/transfers/settings")
        assert page.status_code == 200 and "转化设置" in page.text and "以下为默认设置" in page.text
        short = await post_form(office, "/workspace/transfers/settings", **{**settings, "notice_days": "10"})
        assert short.status_code == 422 and "15 至 90 天" in error_next_to(short.text, "settings-notice_days")
        low = await post_form(office, "/workspace/transfers/settings", **{**settings, "inventor_share_bp": "60"})
        assert "不得低于 70%" in error_next_to(low.text, "settings-inventor_share_bp")
        saved = await post_form(office, "/workspace/transfers/settings", **settings)
        assert saved.status_code == 303, saved.text

        granted = await htmx_post(office, "/workspace/transfers/settings/roles", user_id=member.user_id,
                                  role="evaluator")  # fmt: skip
        assert granted.status_code == 200 and "角色已授予" in granted.text and "新成员" in granted.text
        revoked = await post_form(office, f"/workspace/transfers/settings/roles/{member.user_id}/evaluator/revoke")
        assert revoked.status_code == 303

    stored = (await client.get(f"{API}/institutions/{uni.office.org_id}/settings", headers=uni.office.headers)).json()
    assert [w["step"] for w in stored["workflow"]] == ["initiate", "first_review", "evaluation", "decision", "notice",
                                                       "implementation"]  # fmt: skip
    assert stored["decision_body"] == "校长办公会" and stored["notice_days"] == 20
    assert stored["inventor_share_bp"] == 7500 and stored["extra_approval_threshold_fen"] == 50_000_000
    assert [p["name"] for p in stored["institution_parts"]] == ["学校", "学院"]
    roles = (await client.get(f"{API}/institutions/{uni.office.org_id}/roles", headers=uni.office.headers)).json()
    assert not any(r["user_id"] == member.user_id for r in roles["items"])

    # A member reads the settings and is refused when saving them.
    async with browser_of(app, member) as reader:
        page = await reader.get("/workspace/transfers/settings")
        assert page.status_code == 200 and "由机构管理员维护" in page.text and "保存设置" not in page.text
        refused = await htmx_post(reader, "/workspace/transfers/settings", **settings)
        assert refused.status_code == 403 and "只有机构管理员" in refused.text
        await grant(client, uni.office, member, "decision_body")


async def test_a_disclosure_returned_to_initiate_is_corrected_on_its_form_and_submitted_again(client, app) -> None:
    uni = await university(client, app)
    async with browser_of(app, uni.inventor) as page:
        await post_form(page, "/workspace/transfers/new", **DISCLOSURE)
    listed = await client.get(f"{API}/institutions/{uni.office.org_id}/processes", headers=uni.office.headers)
    pid = listed.json()["items"][0]["id"]
    back = await client.post(
        f"{API}/transfer-processes/{pid}/return", json={"to": "initiate", "reason": "缺少第三位发明人"},
        headers=uni.office.headers,
    )  # fmt: skip
    assert back.json()["step"] == "initiate" and back.json()["pass_no"] == 2
    async with browser_of(app, uni.inventor) as page:
        shown = (await page.get(f"/workspace/transfers/{pid}")).text
        assert "修改并重新提交披露" in shown
        form = (await page.get(f"/workspace/transfers/{pid}/disclosure")).text
        # The disclosure in force fills the form: the shares back in per cent.
        assert 'value="60.5"' in form and "ZL202110000001.X" in form
        # Shares no longer adding up to 100 %: refused next to the field, nothing written.
        three = {
            **DISCLOSURE,
            "inventors.2.name": "王补充",
            "inventors.2.affiliation": "化学学院",
            "inventors.2.share_bp": "5",
        }
        refused = await htmx_post(page, f"/workspace/transfers/{pid}/disclosure", **three)
        assert refused.status_code == 422 and error_next_to(refused.text, "disclosure-inventors")
        three["inventors.1.share_bp"] = "34.5"
        done = await post_form(page, f"/workspace/transfers/{pid}/disclosure", **three)
        assert done.status_code == 303
    process = (await client.get(f"{API}/transfer-processes/{pid}", headers=uni.office.headers)).json()
    assert process["step"] == "first_review"
    assert [i["name"] for i in process["disclosure"]["inventors"]] == ["张发明", "李创新", "王补充"]
    amended = process["history"][-1]
    assert (amended["step"], amended["pass_no"], amended["outcome"]) == ("initiate", 2, "completed")
    assert [i["name"] for i in amended["record"]["previous"]["inventors"]] == ["张发明", "李创新"]
