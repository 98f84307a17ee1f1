"""The operators' console: each queue shows its work and each action, taken from the page, does what
the API's operator route does — and nobody but an operator gets in."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.test_payments_bank import top_up
from tests.api.test_reconciliation_bank import CLEAN, DAY, DIFFERENT
from tests.helpers import Party, create_listing, operator, register, verified
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.trading_helpers import fund, wallet

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
API = "/api/v1"
FORBIDDEN = "您没有权限进行此操作。"
CONSOLE = [
    "/console/verifications",
    "/console/reviews",
    "/console/objections",
    "/console/bank-transfers",
    "/console/withdrawals",
    "/console/reconciliations",
    "/console/ledger",
    "/console/calendar",
    "/console/sweeps",
]


async def page(visitor: httpx.AsyncClient, path: str) -> str:
    answer = await visitor.get(path)
    assert answer.status_code == 200, answer.text
    assert "no-store" in answer.headers["cache-control"]
    return answer.text


@SQLITE
async def test_only_operators_get_in(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    async with browser_of(app, seller) as member:
        for path in CONSOLE:
            refused = await member.get(path)
            assert refused.status_code == 403, path
            assert FORBIDDEN in refused.text and "没有权限" in refused.text, path
        listing = await create_listing(client, seller)
        await client.post(f"{API}/listings/{listing['id']}/submit", headers=seller.headers)
        await member.get("/workspace")
        tried = await post_form(member, f"/console/reviews/{listing['id']}", decision="approve")
        assert tried.status_code == 403 and FORBIDDEN in tried.text
    shown = (await client.get(f"{API}/listings/{listing['id']}", headers=seller.headers)).json()
    assert shown["status"] == "under_review"
    async with browser_of(app) as public:
        assert (await public.get("/console/reviews")).status_code == 401
    async with browser_of(app, ops) as console:
        for path in CONSOLE:
            assert "运营后台" in await page(console, path), path


@SQLITE
async def test_a_newly_confirmed_org_is_verified_from_the_queue(client, app) -> None:
    ops = await operator(client, app)
    newcomer = await register(client, kind="enterprise", name="新注册科技有限公司")
    async with browser_of(app, ops) as console:
        queue = await page(console, "/console/verifications")
        assert "新注册科技有限公司" in queue and f'data-org-id="{newcomer.org_id}"' in queue
        answer = await htmx_post(console, f"/console/verifications/{newcomer.org_id}/verify", note="执照已核对")
        assert answer.status_code == 200 and "机构已通过认证" in answer.text
        assert f'data-org-id="{newcomer.org_id}"' not in await page(console, "/console/verifications")
    me = (await client.get(f"{API}/me", headers=newcomer.headers)).json()
    assert me["org"]["verified"] is True


@SQLITE
async def test_a_submitted_listing_is_approved_from_the_review_queue(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    listing = await create_listing(client, seller, title="钠离子电池正极材料")
    submitted = await client.post(f"{API}/listings/{listing['id']}/submit", headers=seller.headers)
    assert submitted.status_code == 200
    async with browser_of(app, ops) as console:
        queue = await page(console, "/console/reviews")
        assert "钠离子电池正极材料" in queue and "¥500,000.00" in queue
        approved = await post_form(console, f"/console/reviews/{listing['id']}", decision="approve", note="")
        assert approved.status_code == 303
        assert approved.headers["location"] == "/console/reviews?notice=listing-approved"
        after = await page(console, approved.headers["location"])
        assert "挂牌已审核通过" in after and "钠离子电池正极材料" not in after
        # A decision the API does not know is refused naming the field, in Chinese.
        wrong = await htmx_post(console, f"/console/reviews/{listing['id']}", decision="maybe")
        assert wrong.status_code == 400 and "审核结论" in wrong.text
    shown = (await client.get(f"{API}/listings/{listing['id']}")).json()
    assert shown["status"] == "announced"


@SQLITE
async def test_an_objection_is_resolved_from_the_page(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    objector = await verified(client, ops)
    listing = await create_listing(client, seller, title="抗体药物偶联技术")
    await client.post(f"{API}/listings/{listing['id']}/submit", headers=seller.headers)
    await client.post(f"{API}/listings/{listing['id']}/review", json={"decision": "approve"}, headers=ops.headers)
    notice_id = (await client.get(f"{API}/listings/{listing['id']}")).json()["announcement"]["notice_id"]
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections",
        json={"reason": "该专利的权利人与挂牌单位不一致，请核实。"},
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text
    async with browser_of(app, ops) as console:
        queue = await page(console, "/console/objections")
        assert "抗体药物偶联技术" in queue and "该专利的权利人与挂牌单位不一致" in queue
        answer = await htmx_post(
            console, f"/console/objections/{filed.json()['id']}/resolve", decision="dismissed", note="权属已核实"
        )
        assert answer.status_code == 200 and "异议不成立" in answer.text
        assert "没有待处理的异议" in await page(console, "/console/objections")
    objection = (await client.get(f"{API}/objections/{filed.json()['id']}", headers=ops.headers)).json()
    assert objection["status"] == "dismissed" and objection["resolution_note"] == "权属已核实"


@SQLITE
async def test_a_bank_transfer_is_matched_to_its_payer_and_credits_the_wallet(client, app) -> None:
    ops = await operator(client, app)
    buyer = await verified(client, ops, name="杭州云帆智能科技有限公司")
    record = {
        "amount": "12,345.67",
        "payer_name": "杭州云帆智能科技有限公司",
        "payer_account": "6222 0212 3456 7890",
        "reference": "HZ20260302001",
        "received_on": DAY,
    }
    async with browser_of(app, ops) as console:
        found = await page(console, "/console/bank-transfers?" + str(httpx.QueryParams(record)))
        assert f'value="{buyer.org_id}"' in found and "名称与付款人户名相符" in found
        recorded = await htmx_post(console, "/console/bank-transfers", **record, org_id=buyer.org_id)
        assert recorded.status_code == 200 and "银行到账已登记" in recorded.text
        assert (await wallet(client, buyer))["available"] == 1_234_567

        # The next transfer from the same account is matched by the account, whatever the name says.
        again = {**record, "payer_name": "云帆", "reference": "HZ20260302002", "amount": "100"}
        found = await page(console, "/console/bank-transfers?" + str(httpx.QueryParams(again)))
        assert f'value="{buyer.org_id}"' in found and "曾从该账户付款 1 次" in found

        twice = await htmx_post(console, "/console/bank-transfers", **record, org_id=buyer.org_id)
        assert twice.status_code == 409 and "这笔银行流水号已经登记过" in twice.text
        not_yuan = await htmx_post(
            console, "/console/bank-transfers", **{**again, "amount": "一百元"}, org_id=buyer.org_id
        )
        assert not_yuan.status_code == 400 and "请以元为单位填写金额" in not_yuan.text
        unchosen = await htmx_post(console, "/console/bank-transfers", **again)
        assert unchosen.status_code == 400 and "入账机构" in unchosen.text
    assert (await wallet(client, buyer))["available"] == 1_234_567


@SQLITE
async def test_a_withdrawal_is_paid_from_the_page(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, name="北方材料研究院", kind="research_institute")
    await fund(app, seller, 500_000)
    asked = await client.post(
        f"{API}/withdrawals",
        json={"amount": 300_000, "payee": "中国银行 6217 0000 1111"},
        headers={**seller.headers, "Idempotency-Key": "w-1"},
    )
    assert asked.status_code == 201, asked.text
    withdrawal_id = asked.json()["id"]
    async with browser_of(app, ops) as console:
        queue = await page(console, "/console/withdrawals")
        assert "北方材料研究院 提现 ¥3,000.00" in queue and "中国银行 6217 0000 1111" in queue
        paid = await post_form(console, f"/console/withdrawals/{withdrawal_id}/complete", bank_reference="PAY-778")
        assert paid.status_code == 303 and "notice=withdrawal-completed" in paid.headers["location"]
        assert "没有待支付的提现" in await page(console, "/console/withdrawals")
        assert "PAY-778" in await page(console, "/console/withdrawals?status=completed")
    shown = (await client.get(f"{API}/withdrawals/{withdrawal_id}", headers=seller.headers)).json()
    assert shown["status"] == "completed" and shown["bank_reference"] == "PAY-778"
    assert (await wallet(client, seller))["available"] == 200_000


async def books(client: httpx.AsyncClient, app: Any) -> tuple[Party, Party, Party]:
    """As the API's reconciliation test: two operators and three transfers and a paid withdrawal on DAY."""
    maker = await operator(client, app)
    checker = await operator(client, app)
    buyer = await verified(client, maker)
    for amount, reference in ((10_000, "A1"), (5_000, "A2"), (700, "A3")):
        await top_up(client, maker, buyer, amount, reference)
    requested = await client.post(
        f"{API}/withdrawals", json={"amount": 3_000, "payee": "acct"}, headers={**buyer.headers, "Idempotency-Key": "w"}
    )
    paid = await client.post(
        f"{API}/withdrawals/{requested.json()['id']}/complete", json={"bank_reference": "W1"}, headers=maker.headers
    )
    assert paid.status_code == 200, paid.text
    return maker, checker, buyer


async def run(console: httpx.AsyncClient, statement: str) -> str:
    await console.get("/console/reconciliations")
    started = await post_form(
        console,
        "/console/reconciliations",
        provider="bank_transfer",
        period_from=DAY,
        period_to=DAY,
        statement=statement,
    )
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
async def test_a_reconciliation_shows_its_differences_and_a_second_operator_approves_the_fix(client, app) -> None:
    maker, checker, buyer = await books(client, app)
    async with browser_of(app, maker) as console, browser_of(app, checker) as colleague:
        clean = await page(console, await run(console, CLEAN))
        assert "对账一致：渠道记录 4 笔" in clean

        report_path = await run(console, DIFFERENT)
        report = await page(console, report_path)
        assert "发现 3 项差异" in report
        assert "金额不符" in report and "账本缺少" in report and "渠道缺少" in report
        assert "第 6 行" in report  # the unreadable line
        run_id = report_path.rsplit("/", 1)[1]

        proposed = await htmx_post(
            console,
            f"/console/reconciliations/{run_id}/resolutions",
            reference="A2",
            counter_account=f"org:{buyer.org_id}:cash",
            reason="银行多记一分",
        )
        assert proposed.status_code == 200 and "等待另一位运营人员批准" in proposed.text
        own = await page(console, report_path)
        assert f"提出人：Operator（{maker.email}）" in own and "此方案由您提出，须由另一位运营人员批准" in own
        resolution_id = re.search(r'data-resolution-id="([0-9a-f-]+)"', own).group(1)  # type: ignore[union-attr]
        approve = f"/console/reconciliations/{run_id}/resolutions/{resolution_id}/approve"
        assert f'action="{approve}"' not in own

        refused = await htmx_post(console, approve)
        assert refused.status_code == 403 and "提出人不能自己批准" in refused.text

        seen = await page(colleague, report_path)
        assert f'action="{approve}"' in seen and f"提出人：Operator（{maker.email}）" in seen
        approved = await htmx_post(colleague, approve)
        assert approved.status_code == 200 and "调整方案已批准并入账" in approved.text
        after = await page(colleague, report_path)
        assert f"批准人：Operator（{checker.email}）" in after and "已批准" in after
    resolutions = (await client.get(f"{API}/reconciliations/{run_id}/resolutions", headers=maker.headers)).json()
    assert [(r["status"], r["checker_id"]) for r in resolutions] == [("approved", checker.user_id)]


@SQLITE
async def test_a_holiday_added_appears_in_the_calendar(client, app) -> None:
    ops = await operator(client, app)
    async with browser_of(app, ops) as console:
        before = await page(console, "/console/calendar?year=2026")
        assert "2026 年的节假日与调休上班日" in before and 'data-day="2026-10-09"' not in before
        added = await htmx_post(
            console,
            "/console/calendar/days",
            day="2026-10-09",
            kind="off",
            name="国庆节",
            notice="国办发明电〔2025〕7号",
            reason="补充放假安排",
        )
        assert added.status_code == 200 and "工作日历已更新" in added.text
        after = await page(console, "/console/calendar?year=2026")
        assert 'data-day="2026-10-09"' in after and "2026年10月9日" in after and "补充放假安排" in after
        nameless = await htmx_post(
            console, "/console/calendar/days", day="2026-10-12", kind="off", notice="n", reason="r"
        )
        assert nameless.status_code == 422 and "日历调整有误" in nameless.text
        no_reason = await htmx_post(
            console, "/console/calendar/days", day="2026-10-12", kind="off", name="x", notice="n"
        )
        assert no_reason.status_code == 400 and "原因" in no_reason.text
    shown = (await client.get(f"{API}/calendar/years/2026")).json()
    assert {"date": "2026-10-09", "kind": "off", "name": "国庆节"}.items() <= next(
        d for d in shown["days"] if d["date"] == "2026-10-09"
    ).items()


@SQLITE
async def test_the_ledger_shows_its_seal_lag_and_verifies_and_the_sweeps_their_failures(client, app) -> None:
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    await top_up(client, ops, buyer, 10_000, "L1")
    async with browser_of(app, ops) as console:
        ledger = await page(console, "/console/ledger")
        assert re.search(r"待封存分录</dt><dd>[1-9]\d* 笔", ledger) and "尚未封存任何区块" in ledger
        assert "尚未校验过" in ledger
        checked = await htmx_post(console, "/console/ledger/verify")
        assert checked.status_code == 200 and "校验通过" in checked.text
        # The outcome is kept: the page shows the last verification, when and by whom, after a reload.
        ledger = await page(console, "/console/ledger")
        assert "尚未校验过" not in ledger and "在运营后台执行" in ledger and "Operator（ops-" in ledger
        assert re.search(r'<span class="badge ok">一致</span> 0 个区块，0 笔已封存分录（共 [1-9]\d* 笔）', ledger)
        sweeps = await page(console, "/console/sweeps")
        assert "没有处理失败的记录" in sweeps and "calendar-watch" in sweeps
