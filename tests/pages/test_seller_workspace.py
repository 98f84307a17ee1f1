"""The seller's workspace: a listing made in steps with the API's own refusals shown next to the
field, the draft saved and resumed, submitted, reviewed, announced and objected to; the
confidential details' access log; the sales page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.helpers import operator, register, verified
from tests.page_helpers import browser_of, post_form
from tests.trading_helpers import announced, fund, intent, past_notice, to_end_of_announcement

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

ACHIEVEMENT = {
    "step": "achievement",
    "title": "固态锂电池制备方法",
    "summary": "一种高能量密度固态锂电池的制备方法。",
    "field": "new_energy",
    "keywords": "固态电池、储能",
    "maturity": "6",
}
IP = {
    "step": "ip",
    "ip_assets.0.kind": "invention_patent",
    "ip_assets.0.number": "ZL202310123456.7",
    "ip_assets.0.title": "一种固态电解质及其制备方法",
    "ip_assets.0.expires_on": "2043-05-01",
}
DEAL = {
    "step": "deal",
    "deal.type": "transfer",
    "pricing.mode": "listed",
    "pricing.asking_price": "500,000",
    "pricing.appraised_value": "450000",
}


def carried_of(page: str) -> str:
    found = re.search(r'name="carried" value="([^"]*)"', page)
    assert found, "a step before the draft carries the earlier steps"
    return found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")


def error_next_to(page: str, name: str) -> str:
    """The words shown next to the input named ``name`` (its ``…-error`` element)."""
    found = re.search(rf'id="{re.escape(name.replace(".", "-"))}-error">([^<]*)<', page)
    assert found, f"no error next to {name}"
    return found.group(1)


def value_of(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" type="[a-z]+" value="([^"]*)"', page)
    assert found, f"no input {name}"
    return found.group(1)


async def step(visitor: httpx.AsyncClient, path: str, carried: str | None, fields: dict[str, Any]) -> httpx.Response:
    extra = {"carried": carried} if carried is not None else {}
    return await post_form(visitor, path, **extra, **fields)


async def test_a_listing_in_steps_refused_fields_in_chinese_draft_resumed_submitted_and_announced(client, app) -> None:
    ops = await operator(client, app)
    university = await verified(client, ops, kind="university")
    buyer = await verified(client, ops, kind="enterprise")

    async with browser_of(app, university) as seller:
        first = await seller.get("/workspace/listings/new")
        assert (
            first.status_code == 200 and 'name="title"' in first.text and "no-store" in first.headers["cache-control"]
        )

        # A missing title is the API's refusal, in Chinese, next to the title; what was typed stays.
        refused = await step(seller, "/workspace/listings/new", "", {**ACHIEVEMENT, "title": ""})
        assert refused.status_code == 422
        assert "成果名称" in error_next_to(refused.text, "title")
        assert value_of(refused.text, "keywords") == "固态电池、储能"

        second = await step(seller, "/workspace/listings/new", "", ACHIEVEMENT)
        assert second.status_code == 200 and 'name="ip_assets.0.number"' in second.text
        third = await step(seller, "/workspace/listings/new", carried_of(second.text), IP)
        assert third.status_code == 200 and 'name="pricing.asking_price"' in third.text
        carried = carried_of(third.text)

        # An asking price of 0: refused next to the price; the other prices as typed.
        zero = await step(seller, "/workspace/listings/new", carried, {**DEAL, "pricing.asking_price": "0"})
        assert zero.status_code == 422
        assert "挂牌价须为大于 0 的金额" in error_next_to(zero.text, "pricing.asking_price")
        assert value_of(zero.text, "pricing.appraised_value") == "450000"
        # Below the appraisal, for a university: the domain's rule, in Chinese.
        low = await step(seller, "/workspace/listings/new", carried, {**DEAL, "pricing.asking_price": "400,000"})
        assert low.status_code == 422 and "不得低于评估值" in error_next_to(low.text, "pricing.asking_price")
        # A patent without its expiry is only known to the domain when the draft is made: the IP
        # step comes back with the words next to the date, the rest as typed.
        no_expiry = await step(seller, "/workspace/listings/new", carried.replace('"2043-05-01"', '""'), DEAL)
        assert no_expiry.status_code == 422 and 'name="ip_assets.0.number"' in no_expiry.text
        assert "专利须填写有效期届满日" in error_next_to(no_expiry.text, "ip_assets.0.expires_on")
        assert value_of(no_expiry.text, "ip_assets.0.number") == "ZL202310123456.7"
        listed = (await client.get("/api/v1/listings/mine", headers=university.headers)).json()
        assert listed["items"] == []  # nothing half-made

        created = await step(seller, "/workspace/listings/new", carried, DEAL)
        assert created.status_code == 303, created.text
        edit_path = created.headers["location"]
        assert edit_path.endswith("step=inventors&saved=1")
        listing_id = edit_path.split("/")[3]

        # The draft is a real draft listing: the API shows it, and the page resumes it.
        draft = (await client.get(f"/api/v1/listings/{listing_id}", headers=university.headers)).json()
        assert draft["status"] == "draft" and draft["pricing"]["asking_price"] == 50_000_000
        resumed = await seller.get(f"/workspace/listings/{listing_id}/edit?step=deal")
        assert value_of(resumed.text, "pricing.asking_price") == "¥500,000.00"

        inventors = {"step": "inventors", "inventors.0.name": "李明", "inventor_reward_bp": "60"}
        short = await post_form(seller, f"/workspace/listings/{listing_id}/edit", **inventors)
        assert short.status_code == 422
        assert "不得低于 70%" in error_next_to(short.text, "inventor_reward_bp")
        assert value_of(short.text, "inventors.0.name") == "李明"
        saved = await post_form(
            seller, f"/workspace/listings/{listing_id}/edit", **{**inventors, "inventor_reward_bp": "75"}
        )
        assert saved.status_code == 303 and saved.headers["location"].endswith("step=confidential&saved=1")
        secret = await post_form(
            seller,
            f"/workspace/listings/{listing_id}/edit",
            step="confidential",
            confidential_details="烧结 1150°C 12 h",
        )
        assert secret.status_code == 303 and secret.headers["location"] == f"/workspace/listings/{listing_id}?saved=1"
        draft = (await client.get(f"/api/v1/listings/{listing_id}", headers=university.headers)).json()
        assert draft["inventor_reward_bp"] == 7500 and draft["has_confidential_details"]

        mine = await seller.get("/workspace/listings")
        assert f'href="/workspace/listings/{listing_id}"' in mine.text and "草稿" in mine.text

        submitted = await post_form(seller, f"/workspace/listings/{listing_id}/submit")
        assert submitted.status_code == 303
        page = (await seller.get(f"/workspace/listings/{listing_id}")).text
        assert "审核中" in page and "提交审核" in page

        approved = await client.post(
            f"/api/v1/listings/{listing_id}/review",
            json={"decision": "approve", "note": "材料齐全"},
            headers=ops.headers,
        )
        assert approved.status_code == 200, approved.text
        notice_id = approved.json()["announcement"]["notice_id"]

        objected = await client.post(
            f"/api/v1/notices/{notice_id}/objections",
            json={"reason": "该专利的权属存在争议，请核实。"},
            headers=buyer.headers,
        )
        assert objected.status_code == 201, objected.text
        nda = await client.post(f"/api/v1/listings/{listing_id}/nda", headers=buyer.headers)
        assert nda.status_code == 201
        read = await client.get(f"/api/v1/listings/{listing_id}/confidential", headers=buyer.headers)
        assert read.status_code == 200

        page = (await seller.get(f"/workspace/listings/{listing_id}")).text
        assert "公示中" in page and "审核通过并公示" in page
        assert f'href="/notices/{notice_id}"' in page
        assert re.search(r'<td class="num">1（1）</td>', page), "the objection, counted as pending"
        # The seller reads why and may answer (异议答复); who objected stays with the exchange.
        item = re.search(r'<li class="card" id="objection-[^"]+".*?</li>', page, re.S)
        assert item and "该专利的权属存在争议" in item.group(0) and "提交答复" in item.group(0)
        assert "测试机构" not in item.group(0) and buyer.email not in page
        assert "已签署保密协议" in page and "测试机构 enterprise" in page  # the access log
        assert "{# documents" not in page and 'class="documents"' in page

        sales = await seller.get("/workspace/sales")
        assert sales.status_code == 200 and "没有待答复的报价或待签署的成交" in sales.text


async def test_the_pages_are_the_sellers_own(client, app) -> None:
    ops = await operator(client, app)
    university = await verified(client, ops, kind="university")
    other = await verified(client, ops, kind="enterprise")
    government = await verified(client, ops, kind="government")
    draft = (
        await client.post(
            "/api/v1/listings",
            json={
                "title": "草稿",
                "field": "other",
                "maturity": 3,
                "ip_assets": [{"kind": "know_how", "number": "KH-1", "title": "工艺"}],
                "deal": {"type": "transfer"},
                "pricing": {"mode": "negotiated", "asking_price": 100_000},
            },
            headers=university.headers,
        )
    ).json()
    async with browser_of(app, university) as seller:
        assert (await client.post(f"/api/v1/listings/{draft['id']}/submit", headers=university.headers)).is_success
        rejected = await client.post(
            f"/api/v1/listings/{draft['id']}/review",
            json={"decision": "reject", "note": "请补充技术秘密的保护措施说明"},
            headers=ops.headers,
        )
        assert rejected.status_code == 200
        page = (await seller.get(f"/workspace/listings/{draft['id']}")).text
        assert "未通过审核" in page and "请补充技术秘密的保护措施说明" in page  # the review's remark
        revised = await post_form(seller, f"/workspace/listings/{draft['id']}/revise")
        assert revised.status_code == 303 and revised.headers["location"] == f"/workspace/listings/{draft['id']}/edit"
        assert (await seller.get(revised.headers["location"])).status_code == 200
    newcomer = await register(client, kind="research_institute")
    async with browser_of(app, newcomer) as unverified:
        await unverified.get("/workspace/listings/new")
        second = await step(unverified, "/workspace/listings/new", "", ACHIEVEMENT)
        third = await step(unverified, "/workspace/listings/new", carried_of(second.text), IP)
        refused = await step(unverified, "/workspace/listings/new", carried_of(third.text), DEAL)
        assert refused.status_code == 403 and "尚未通过交易所审核" in refused.text
        assert value_of(refused.text, "pricing.asking_price") == "500,000"  # nothing typed is lost
    async with browser_of(app, other) as stranger:
        assert (await stranger.get(f"/workspace/listings/{draft['id']}")).status_code == 404
        assert (await stranger.get(f"/workspace/listings/{draft['id']}/edit")).status_code == 404
    async with browser_of(app, government) as official:
        assert (await official.get("/workspace/listings/new")).status_code == 403
    async with browser_of(app) as public:
        assert (await public.get("/workspace/listings")).status_code == 401


async def test_sales_show_the_offer_to_answer_then_the_deal_to_sign(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university", name="上海交通大学")
    buyer = await verified(client, ops, name="星河科技")
    await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops, mode="negotiated")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    started = await client.post(
        f"/api/v1/listings/{listing['id']}/negotiations", json={"price": 48_000_000}, headers=buyer.headers
    )
    assert started.status_code == 201, started.text
    thread = started.json()

    async with browser_of(app, seller) as browser:
        sales = (await browser.get("/workspace/sales")).text
        assert f'href="/workspace/negotiations/{thread["id"]}"' in sales
        assert "答复报价" in sales and "星河科技" in sales and "¥480,000.00" in sales
        page = (await browser.get(f"/workspace/listings/{listing['id']}")).text
        assert "待您答复" in page and f'href="/workspace/negotiations/{thread["id"]}"' in page

    accepted = await client.post(
        f"/api/v1/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=seller.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)

    async with browser_of(app, seller) as browser:
        sales = (await browser.get("/workspace/sales")).text
        assert "签署成交" in sales and f'href="/workspace/deals/{deal["id"]}"' in sales
        assert "答复报价" not in sales
        page = (await browser.get(f"/workspace/listings/{listing['id']}")).text
        assert "待您签署" in page and "待签署" in page
