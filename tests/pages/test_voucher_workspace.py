"""The voucher workspaces in the browser's words: a government's program administrator sets a
program up and grants vouchers, an enterprise orders a service paid partly with them, the provider
confirms and delivers, the enterprise accepts, the provider claims redemption, and the claim's
public notice shows on the administrator's page. Refusals read in Chinese, in place."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.helpers import operator, verified
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.voucher_helpers import API, fund, top_up

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def form_key(page: str) -> str:
    found = re.search(r'name="key" value="([0-9a-f]{32})"', page)
    assert found, "every workspace form carries its own idempotency key"
    return found.group(1)


def beijing_day(app: Any, days: int) -> str:
    return (app.state.clock.now() + timedelta(hours=8, days=days)).date().isoformat()


async def test_program_grant_order_delivery_acceptance_and_redemption_under_notice(client, app) -> None:
    ops = await operator(client, app)
    gov = await verified(client, ops, "government", "上海市科学技术委员会")
    ent = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    prov = await verified(client, ops, "service_provider", "上海材料检测中心")
    await top_up(app, ent.org_id, 100_000_000)

    async with browser_of(app, gov) as admin, browser_of(app, ent) as buyer, browser_of(app, prov) as provider:
        # The administrator sets a program up on the page (plain form: 303 to the program's page).
        page = (await admin.get("/workspace/programs")).text
        assert "设立项目" in page and 'href="/workspace/programs"' in page
        created = await post_form(
            admin,
            "/workspace/programs",
            key=form_key(page),
            name="2027年度上海市科技创新券",
            year="2027",
            budget="1,000,000",
            per_org_cap="200,000",
            coverage="50",
            categories=["testing", "tech_search"],
            valid_from=beijing_day(app, -1),
            valid_until=beijing_day(app, 90),
        )
        assert created.status_code == 303, created.text
        program_path = created.headers["location"]
        program_id = program_path.rsplit("/", 1)[1]
        program = (await client.get(f"{API}/voucher-programs/{program_id}")).json()
        assert program["budget"] == 100_000_000 and program["per_org_cap"] == 20_000_000
        assert program["coverage_bp"] == 5000 and program["categories"] == ["tech_search", "testing"]
        await fund(client, ops, program_id, 100_000_000)

        # A grant beyond the cap is refused in place, in Chinese; one within it is granted.
        page = (await admin.get(program_path)).text
        assert "上海固能新材料有限公司" in page  # the verified enterprises to choose from
        over = await htmx_post(
            admin, f"{program_path}/grants", key=form_key(page), org_id=ent.org_id, amount="200,000.01"
        )
        assert over.status_code == 422 and "超过本项目对每家企业的发放上限" in over.text
        granted = await htmx_post(
            admin, f"{program_path}/grants", key=form_key(page), org_id=ent.org_id, amount="80,000"
        )
        assert granted.status_code == 200 and granted.headers["hx-retarget"] == "#work"
        assert "创新券已发放" in granted.text and "¥80,000.00" in granted.text

        # The provider publishes a service.
        page = (await provider.get("/workspace/services")).text
        published = await htmx_post(
            provider,
            "/workspace/services",
            key=form_key(page),
            category="testing",
            title="锂电池材料性能检测",
            description="CNAS 认可实验室",
            price="100,000",
        )
        assert published.status_code == 200 and "锂电池材料性能检测" in published.text
        service_id = (await client.get(f"{API}/services", params={"provider_id": prov.org_id})).json()["items"][0]["id"]

        # The enterprise sees its vouchers and orders the service, half paid with vouchers.
        page = (await buyer.get("/workspace/vouchers")).text
        assert "2027年度上海市科技创新券" in page and "¥80,000.00" in page
        too_much = await htmx_post(
            buyer, "/workspace/vouchers/orders", key=form_key(page), service_id=service_id, voucher_amount="60,000"
        )
        assert too_much.status_code == 422 and "创新券支付金额超过项目规定的比例" in too_much.text
        ordered = await post_form(
            buyer, "/workspace/vouchers/orders", key=form_key(page), service_id=service_id, voucher_amount="50,000"
        )
        assert ordered.status_code == 303, ordered.text
        order_path = ordered.headers["location"]
        assert order_path.startswith("/workspace/orders/")

        # The provider confirms (the holds are placed) and delivers with a note.
        page = (await provider.get("/workspace/orders")).text
        assert "锂电池材料性能检测" in page and "上海固能新材料有限公司" in page and order_path in page
        page = (await provider.get(order_path)).text
        assert "确认订单" in page and "{# documents #}" not in page
        confirmed = await htmx_post(provider, f"{order_path}/confirm", key=form_key(page))
        assert confirmed.status_code == 200 and "订单已确认" in confirmed.text
        delivered = await htmx_post(
            provider, f"{order_path}/deliver", key=form_key(confirmed.text), results_summary="检测报告 No. 2027-031"
        )
        assert delivered.status_code == 200 and "检测报告 No. 2027-031" in delivered.text

        # The enterprise accepts the delivery: the vouchers and the cash go to the provider.
        page = (await buyer.get(order_path)).text
        assert "验收交付" in page and "拒绝验收并取消订单" in page and "检测报告 No. 2027-031" in page
        accepted = await post_form(buyer, f"{order_path}/accept", key=form_key(page))
        assert accepted.status_code == 303 and accepted.headers["location"] == order_path
        assert "已验收" in (await buyer.get(order_path)).text
        wallet = (await buyer.get("/workspace/vouchers")).text
        assert "¥30,000.00" in wallet  # available: 80,000 granted − 50,000 spent

        # The provider claims redemption from the order's page; the public notice opens.
        page = (await provider.get(order_path)).text
        claimed = await htmx_post(
            provider, "/workspace/redemptions", key=form_key(page), order_ids=order_path.rsplit("/", 1)[1], back="order"
        )
        assert claimed.status_code == 200 and "兑付申请已提交" in claimed.text
        assert "查看创新券兑付公示" in claimed.text
        orders_page = (await provider.get("/workspace/orders")).text
        assert "公示中" in orders_page and "暂无可申请兑付的订单" in orders_page

        # The claim is under notice on the administrator's page, with its notice and the report's export.
        page = (await admin.get(program_path)).text
        assert "兑付申请与公示" in page and "上海材料检测中心" in page and "公示中" in page
        notice = re.search(r'href="(/notices/[0-9a-f-]{36})"', page)
        assert notice and (await admin.get(notice.group(1))).status_code == 200
        assert f"/workspace/programs/{program_id}/report?format=csv" in page
        assert "公示期满后方可批准" in page
        assert "¥50,000.00" in page  # spent and claimed


async def test_refusals_read_in_chinese_and_roles_keep_to_their_pages(client, app) -> None:
    ops = await operator(client, app)
    gov = await verified(client, ops, "government")
    prov = await verified(client, ops, "service_provider")
    university = await verified(client, ops, "university")

    async with browser_of(app, prov) as provider:
        page = (await provider.get("/workspace/services")).text
        # A provider is no enterprise: it may not order with vouchers.
        refused = await htmx_post(
            provider, "/workspace/vouchers/orders", key=form_key(page), service_id=str(uuid.uuid4()), voucher_amount=""
        )
        assert refused.status_code == 403 and "只有企业可以订购服务并使用创新券支付" in refused.text
        # A price that is no sum of yuan, named in Chinese.
        bad = await htmx_post(
            provider, "/workspace/services", key=form_key(page), category="testing", title="检测", price="十万"
        )
        assert bad.status_code == 400 and "请以元为单位填写金额" in bad.text
        blank = await htmx_post(
            provider, "/workspace/services", key=form_key(page), category="testing", title=" ", price="1"
        )
        assert blank.status_code == 400 and "请检查“服务名称”一栏" in blank.text
        # The program administrators' page is not theirs.
        assert (await provider.get("/workspace/programs")).status_code == 403

    async with browser_of(app, gov) as admin:
        page = (await admin.get("/workspace/programs")).text
        backwards = await htmx_post(
            admin, "/workspace/programs", key=form_key(page), name="项目", year="2027", budget="100",
            categories="testing", valid_from=beijing_day(app, 10), valid_until=beijing_day(app, 1),
        )  # fmt: skip
        assert backwards.status_code == 422 and "有效期止须晚于有效期起" in backwards.text
        assert (await admin.get("/workspace/vouchers")).status_code == 403

    async with browser_of(app, university) as stranger:
        assert (await stranger.get("/workspace/services")).status_code == 403
        assert "您没有权限" in (await stranger.get("/workspace/programs")).text

    async with browser_of(app) as public:
        assert (await public.get("/workspace/orders")).status_code == 401
