"""公示 and 实施 on the process page, and the contract registration page, on both databases: the
notice with its link, period and objections; the office answers and resolves an objection through
the forms (an upheld one without a step refused beside its input, nothing written); the listing
draft made through the implementation form (a patent without its expiry refused beside the field),
a negotiated contract below the floor refused; a signed deal's contract registered by the office
and read by the buyer."""

from __future__ import annotations

from tests.helpers import verified
from tests.institution_helpers import (
    API,
    REASON,
    object_to,
    past_period,
    settled_deal,
    to_decision,
    university,
)
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.pages.test_institution_pages import api_process, error_next_to


async def test_the_office_answers_and_resolves_an_objection_on_the_process_page(client, app) -> None:
    uni = await university(client, app)
    process = await to_decision(client, uni)
    pid, notice_id = process["id"], process["notice_id"]
    objector = await verified(client, uni.ops, "enterprise", "异议企业")
    oid = await object_to(client, notice_id, objector)
    page_path = f"/workspace/transfers/{pid}"
    async with browser_of(app, uni.office) as office:
        page = (await office.get(page_path)).text
        assert f'href="/notices/{notice_id}"' in page
        assert "公示截止" in page and "剩余" in page
        assert REASON in page and "待处理" in page
        # The answer, as a seller answers.
        answered = await post_form(
            office, f"{page_path}/objections/{oid}/answer", answer="已核实完成人名单，正在补正。"
        )
        assert answered.status_code == 303, answered.text
        objection = (await client.get(f"{API}/objections/{oid}", headers=uni.office.headers)).json()
        assert objection["answer"] == "已核实完成人名单，正在补正。"
        # Upheld without saying where the process goes: refused beside the select, nothing written.
        refused = await htmx_post(office, f"{page_path}/objections/{oid}/resolve", decision="upheld", note="名单有误")
        assert refused.status_code == 422
        assert "退回到的环节" in error_next_to(refused.text, f"resolve-{oid}-return_to")
        assert (await api_process(client, uni, pid))["step"] == "notice"
        # Upheld, back to 决策: a new pass; the notice is cancelled.
        done = await post_form(office, f"{page_path}/objections/{oid}/resolve", decision="upheld",
                               return_to="decision", note="完成人名单有误")  # fmt: skip
        assert done.status_code == 303 and "notice=transfer-objection-resolved" in done.headers["location"]
        page = (await office.get(page_path)).text
        assert "异议成立" in page and "完成人名单有误" in page
    after = await api_process(client, uni, pid)
    assert (after["step"], after["pass_no"]) == ("decision", 2)
    assert (await client.get(f"{API}/notices/{notice_id}")).json()["status"] == "cancelled"


async def test_a_member_without_the_office_role_is_shown_no_resolve_form_and_refused(client, app) -> None:
    uni = await university(client, app)
    process = await to_decision(client, uni)
    objector = await verified(client, uni.ops, "enterprise", "异议企业")
    oid = await object_to(client, process["notice_id"], objector)
    async with browser_of(app, uni.evaluator) as member:
        page = (await member.get(f"/workspace/transfers/{process['id']}")).text
        assert REASON in page and "提交处理结果" not in page
        refused = await htmx_post(member, f"/workspace/transfers/{process['id']}/objections/{oid}/resolve",
                                  decision="dismissed")  # fmt: skip
        assert refused.status_code == 403
    assert (await api_process(client, uni, process["id"]))["step"] == "notice"


async def test_the_listing_draft_through_the_implementation_form(client, app) -> None:
    uni = await university(client, app)
    process = await to_decision(client, uni)
    pid = process["id"]
    await past_period(client, app, uni)
    path = f"/workspace/transfers/{pid}"
    async with browser_of(app, uni.office) as office:
        page = (await office.get(path)).text
        assert "生成挂牌草稿" in page and 'value="ZL202110000001.X"' in page
        form = {"deal.type": "transfer", "ip_assets.0.kind": "invention_patent",
                "ip_assets.0.number": "ZL202110000001.X", "ip_assets.0.title": "储氢合金",
                "deposit": "50,000", "increment": "10,000"}  # fmt: skip
        refused = await htmx_post(office, f"{path}/implementation", **form)
        assert refused.status_code == 422
        assert error_next_to(refused.text, "implementation-ip_assets-0-expires_on")
        assert (await api_process(client, uni, pid))["listing_id"] is None
        done = await post_form(office, f"{path}/implementation", **form, **{"ip_assets.0.expires_on": "2041-06-30"})
        assert done.status_code == 303, done.text
        shown = await api_process(client, uni, pid)
        assert shown["status"] == "finished" and shown["listing_id"]
        page = (await office.get(path)).text
        assert f'href="/workspace/listings/{shown["listing_id"]}"' in page
    listing = (await client.get(f"{API}/listings/{shown['listing_id']}", headers=uni.office.headers)).json()
    assert (listing["status"], listing["pricing"]["deposit"], listing["pricing"]["increment"]) == (
        "draft", 5_000_000, 1_000_000,
    )  # fmt: skip


async def test_a_negotiated_contract_below_the_floor_is_refused_beside_its_amount(client, app) -> None:
    uni = await university(client, app)
    buyer = await verified(client, uni.ops, "enterprise", "宁德新能")
    process = await to_decision(client, uni, pricing="negotiated", counterparty="宁德新能")
    pid = process["id"]
    await past_period(client, app, uni, buyer)
    path = f"/workspace/transfers/{pid}"
    async with browser_of(app, uni.office) as office:
        page = (await office.get(path)).text
        assert "登记合同并实施" in page and "宁德新能" in page
        contract = {"contract.terms": "专利权转让，一次性付款。", "contract.signed_on": "2026-03-18",
                    "ip_assets.0.kind": "invention_patent", "ip_assets.0.number": "ZL202110000001.X",
                    "ip_assets.0.title": "储氢合金", "ip_assets.0.expires_on": "2041-06-30"}  # fmt: skip
        low = await htmx_post(office, f"{path}/implementation", **contract, **{"contract.amount": "1,000,000"})
        assert low.status_code == 422
        assert "不低于底价" in error_next_to(low.text, "implementation-contract-amount")
        done = await post_form(office, f"{path}/implementation", **contract, **{"contract.amount": "1,250,000"})
        assert done.status_code == 303, done.text
        page = (await office.get(path)).text
        assert "¥1,250,000.00" in page and "专利权转让，一次性付款。" in page
    shown = await api_process(client, uni, pid)
    assert shown["contract"]["amount"] == 125_000_000


async def test_the_contract_registration_of_a_signed_deal(client, app) -> None:
    uni = await university(client, app)
    process = await to_decision(client, uni)
    deal, buyer = await settled_deal(client, app, uni, process["id"])
    path = f"/workspace/deals/{deal['id']}/contract-registration"
    async with browser_of(app, uni.office) as office:
        # The process page links the signed deal to its registration.
        text = (await office.get(f"/workspace/transfers/{process['id']}")).text
        assert path in text
        form = {"contract_number": "2026310000000123", "registry_name": "上海市技术合同登记处",
                "registered_on": "2026-04-20", "certified_amount": "¥1,200,000"}  # fmt: skip
        refused = await htmx_post(office, path, **{**form, "registered_on": "2099-01-01"})
        assert refused.status_code == 422
        assert "不能晚于今天" in error_next_to(refused.text, "registration-registered_on")
        done = await post_form(office, path, **{**form, "registered_on": deal["signed_at"][:10]
                                                if deal.get("signed_at") else "2026-03-01"})  # fmt: skip
        assert done.status_code == 303, done.text
    recorded = (await client.get(f"{API}/deals/{deal['id']}/contract-registration", headers=buyer.headers)).json()
    assert (recorded["contract_number"], recorded["certified_amount"]) == ("2026310000000123", 120_000_000)
    async with browser_of(app, buyer) as reader:
        page = (await reader.get(path)).text
        assert "2026310000000123" in page and "¥1,200,000.00" in page and "记录登记" not in page
