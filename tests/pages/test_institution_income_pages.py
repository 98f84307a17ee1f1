"""收益分配 and the annual report's inputs on the office's pages, on both databases: a receipt of a
settled deal shown in yuan with the default plan first; an adjusted plan short of the declared
share refused beside ``inventors``, a payout that is not yuan beside its input, nothing written;
a plan above the threshold proposed, its notice linked, the higher meeting's minutes recorded, the
inventors' identities checked and the plan paid once though the form is sent twice (its key); the
inventors' balances; the report's inputs saved through its form, a refusal beside its field."""

from __future__ import annotations

import re
from typing import Any

from tests.institution_helpers import API, settled_deal, to_decision, university
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.pages.test_institution_pages import error_next_to
from tests.trading_helpers import past_notice

PATH = "/workspace/transfers/income"


def form_values(page: str) -> dict[str, str]:
    """The plan form's inputs as the page fills them (names with their values)."""
    return {name: value for name, value in re.findall(r'name="(payouts\.\d+\.\w+|default)"[^>]*value="([^"]*)"', page)}


def yuan_text(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


async def receipt_of(client: Any, office: Any) -> dict[str, Any]:
    (receipt,) = (
        await client.get(f"{API}/institutions/{office.org_id}/income-receipts", headers=office.headers)
    ).json()["items"]
    return receipt  # type: ignore[no-any-return]


async def test_a_plan_proposed_approved_and_paid_through_the_income_page(client, app) -> None:
    uni = await university(client, app)
    process = await to_decision(client, uni)
    _, buyer = await settled_deal(client, app, uni, process["id"])
    office = uni.office
    receipt = await receipt_of(client, office)
    amount = receipt["amount"]
    async with browser_of(app, office) as browser:
        page = (await browser.get(PATH)).text
        assert yuan_text(amount) in page and yuan_text(receipt["reward_held"]) in page
        values = form_values(page)
        # The default first: the declared 70 % to 张发明 and 李创新 (60:40), the rest to 学校.
        names = [values[f"payouts.{n}.name"] for n in range(3)]
        assert names == ["张发明", "李创新", "学校"]
        fen = [int(x) for x in values["default"].split(",")]
        assert sum(fen) == amount and [values[f"payouts.{n}.amount"] for n in range(3)] == [yuan_text(f) for f in fen]
        plan_path = f"{PATH}/receipts/{receipt['id']}/plans"
        key = f"plan-{receipt['id']}"
        # Short of the declared share: refused beside the inventors, nothing written.
        short = {**values, "payouts.0.amount": "1", "payouts.2.amount": yuan_text(amount - 1 - fen[1]),
                 "reason": "调整"}  # fmt: skip
        refused = await htmx_post(browser, plan_path, **short)
        assert refused.status_code == 422
        assert "不得低于" in error_next_to(refused.text, f"{key}-inventors")
        not_yuan = await htmx_post(browser, plan_path, **{**values, "payouts.1.amount": "十万"})
        assert not_yuan.status_code == 422 and error_next_to(not_yuan.text, f"{key}-payouts-1-amount")
        assert (await receipt_of(client, office))["plans"] == []
        # Adjusted: 张发明 above the ¥300,000 threshold, the parts' share smaller.
        above = 30_000_001
        second = fen[0] + fen[1] - above + 5
        adjusted = {**values, "payouts.0.amount": yuan_text(above), "payouts.1.amount": yuan_text(second),
                    "payouts.2.amount": yuan_text(amount - above - second), "reason": "张发明为主要完成人"}  # fmt: skip
        made = await post_form(browser, plan_path, **adjusted)
        assert made.status_code == 303 and "notice=plan-proposed" in made.headers["location"], made.text
        (plan,) = (await receipt_of(client, office))["plans"]
        assert plan["status"] == "noticed" and plan["extra_approval_needed"]
        assert [p["amount"] for p in plan["payouts"]][:2] == [above, second]
        page = (await browser.get(PATH)).text
        assert f'href="/notices/{plan["notice_id"]}"' in page and "公示中" in page and "提出方案并公示" not in page

    await past_notice(app, client, plan["notice_id"], uni.ops, office, buyer, uni.inventor)
    accounts = (
        await client.get(f"{API}/institutions/{office.org_id}/inventor-accounts", headers=office.headers)
    ).json()["items"]
    async with browser_of(app, office) as browser:
        page = (await browser.get(PATH)).text
        assert "记录额外审批" in page
        extra_path = f"{PATH}/plans/{plan['id']}/extra-approval"
        empty = await htmx_post(browser, extra_path, minutes="")
        assert empty.status_code == 422 and error_next_to(empty.text, f"extra-{plan['id']}-minutes")
        assert (await post_form(browser, extra_path, minutes="学校党委常委会第3次会议纪要")).status_code == 303
        for account in accounts:
            checked = await post_form(browser, f"{PATH}/inventors/{account['id']}/identity-check",
                                      note="身份证与银行卡已核验")  # fmt: skip
            assert checked.status_code == 303
        page = (await browser.get(PATH)).text
        form_key = re.search(r'name="key" value="([0-9a-f]+)"', page)
        assert form_key and "分配到发明人账户" in page
        # Sent twice with the form's key: paid once.
        for _ in range(2):
            paid = await post_form(browser, f"{PATH}/plans/{plan['id']}/pay", key=form_key.group(1))
            assert paid.status_code == 303, paid.text
        page = (await browser.get(PATH)).text
        assert "已分配" in page and yuan_text(above) in page
    balances = {
        a["name"]: a["balance"]
        for a in (
            await client.get(f"{API}/institutions/{office.org_id}/inventor-accounts", headers=office.headers)
        ).json()["items"]
    }
    assert balances == {"张发明": above, "李创新": second}


async def test_the_annual_report_inputs_through_its_form(client, app) -> None:
    uni = await university(client, app)
    async with browser_of(app, uni.office) as browser:
        page = (await browser.get("/workspace/transfers/annual-report?year=2026")).text
        assert "填报 2026 年度内容" in page
        path = "/workspace/transfers/annual-report/2026/inputs"
        form = {"contracts.development.count": "3", "contracts.development.amount": "1,500,000",
                "contracts.consulting.count": "0", "contracts.consulting.amount": "20,000",
                "joint_bodies.0.name": "氢能联合实验室", "joint_bodies.0.partner": "宁德新能",
                "joint_bodies.0.founded_on": "2026-01-10", "problems": "专业人员不足。",
                "plans": "建设概念验证中心。"}  # fmt: skip
        refused = await htmx_post(browser, path, **form)
        assert refused.status_code == 422
        assert error_next_to(refused.text, "inputs-contracts-consulting-amount")
        saved = await post_form(browser, path, **{**form, "contracts.consulting.amount": "0"})
        assert saved.status_code == 303 and "notice=annual-inputs-saved" in saved.headers["location"]
        page = (await browser.get("/workspace/transfers/annual-report?year=2026")).text
        assert "氢能联合实验室" in page and "¥1,500,000.00" in page
    async with browser_of(app, uni.inventor) as member:
        page = (await member.get("/workspace/transfers/annual-report?year=2026")).text
        assert "保存填报内容" not in page and "氢能联合实验室" in page
    report = (
        await client.get(f"{API}/institutions/{uni.office.org_id}/annual-reports/2026", headers=uni.office.headers)
    ).json()
    assert report["inputs"]["contracts"]["development"] == {"count": 3, "amount": 150_000_000}


async def test_the_navigation_names_the_income_page_and_the_annual_report(client, app) -> None:
    uni = await university(client, app)
    async with browser_of(app, uni.office) as browser:
        page = (await browser.get(PATH)).text
        assert 'href="/workspace/transfers/annual-report"' in page and "年度报告" in page and "收益分配" in page
    async with browser_of(app, uni.ops) as ops:
        page = (await ops.get("/console/institutions/annual-reports")).text
        assert 'href="/console/institutions/annual-reports"' in page and "成果转化年度报告" in page
