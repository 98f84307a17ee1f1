"""The notice board pages: the board and its filters, a notice with its signed text, objections."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

import listings.pages
from tests.helpers import PASSWORD, Party, announced_listing, operator, register, verified
from tests.page_helpers import browser_of

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
API = "/api/v1"
HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}


async def sign_in(client: httpx.AsyncClient, party: Party) -> str:
    """Sign in through the form; the CSRF token the page's forms carry."""
    await client.get("/login")
    token = client.cookies.get("techx_csrf")
    answer = await client.post("/login", data={"email": party.email, "password": PASSWORD, "_csrf_token": token})
    assert answer.status_code == 303, answer.text
    return str(token)


async def two_notices(client: httpx.AsyncClient, app: Any) -> tuple[Party, dict[str, Any], dict[str, Any]]:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    energy = await announced_listing(client, seller, ops)  # new_energy
    medicine = await announced_listing(client, seller, ops, title="抗体药物偶联技术", field="biomedicine")
    return ops, energy, medicine


def nid(listing: dict[str, Any]) -> str:
    """The id of a listing's announcement notice."""
    return str(listing["announcement"]["notice_id"])


def rows(page: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-notice-id="([0-9a-f-]+)"', page.text)


async def test_board_lists_open_notices_with_period_countdown_and_objections(client, app) -> None:
    _, energy, _ = await two_notices(client, app)
    page = await client.get("/notices", headers=HTML)
    assert page.status_code == 200
    assert nid(energy) in rows(page)
    assert "固态锂电池制备方法" in page.text and "挂牌公告" in page.text and "公示中" in page.text
    assert re.search(r"还剩 \d+ 个工作日", page.text)
    assert "年" in page.text and "UTC" not in page.text


async def test_board_filters_by_kind_field_status_and_day(client, app, clock) -> None:
    _, energy, medicine = await two_notices(client, app)
    both = {nid(energy), nid(medicine)}
    by_field = await client.get("/notices", params={"field": "biomedicine"}, headers=HTML)
    assert rows(by_field) == [nid(medicine)]
    assert 'value="biomedicine" selected' in by_field.text  # the form keeps the choice
    assert rows(await client.get("/notices", params={"kind": "deal_result"})) == []
    assert set(rows(await client.get("/notices", params={"kind": "listing_announcement", "status": "open"}))) == both
    assert rows(await client.get("/notices", params={"status": "closed"})) == []
    today = clock.now().date().isoformat()
    # The empty values a GET form sends for "any" are no filter at all.
    unfiltered = {"kind": "", "field": "", "status": "", "opened_from": today, "opened_to": ""}
    assert set(rows(await client.get("/notices", params=unfiltered))) == both
    tomorrow = (clock.now() + timedelta(days=2)).date().isoformat()
    assert rows(await client.get("/notices", params={"opened_from": tomorrow})) == []


async def test_board_ignores_unknown_parameters_and_refuses_bad_values_in_chinese(client, app) -> None:
    _, energy, _ = await two_notices(client, app)
    shared = await client.get("/notices?from=singlemessage&isappinstalled=0", headers=HTML)
    assert shared.status_code == 200 and nid(energy) in rows(shared)
    for params in (
        {"kind": "rumour"},
        {"status": "maybe"},
        {"field": "astrology"},
        {"opened_from": "2027-13-40"},
        {"opened_from": "2027-02-01", "opened_to": "2027-01-01"},  # the range backwards
    ):
        refused = await client.get("/notices", params=params, headers=HTML)
        assert 400 <= refused.status_code < 500, params
        assert "查询或提交的内容有误" in refused.text and "<html" in refused.text
    bad_cursor = await client.get("/notices", params={"cursor": "not-a-cursor"}, headers=HTML)
    assert 400 <= bad_cursor.status_code < 500 and "翻页链接有误" in bad_cursor.text


async def test_board_pages_through_with_the_filters_kept(client, app, monkeypatch) -> None:
    monkeypatch.setattr(listings.pages, "BOARD_PAGE_SIZE", 1)
    _, energy, medicine = await two_notices(client, app)
    first = await client.get("/notices", params={"kind": "listing_announcement"})
    assert len(rows(first)) == 1
    next_url = html.unescape(re.search(r'<a href="([^"]+)" rel="next">下一页</a>', first.text).group(1))
    assert "kind=listing_announcement" in next_url and "cursor=" in next_url
    second = await client.get(next_url)
    assert len(rows(second)) == 1 and "回到第一页" in second.text
    assert set(rows(first) + rows(second)) == {nid(energy), nid(medicine)}
    assert 'rel="next"' not in second.text


async def test_notice_page_shows_the_signed_text_the_signature_and_the_offline_recipe(client, app) -> None:
    _, energy, _ = await two_notices(client, app)
    notice = (await client.get(f"{API}/notices/{nid(energy)}")).json()
    page = await client.get(f"/notices/{notice['id']}", headers=HTML)
    assert page.status_code == 200
    signed = re.search(r'<pre class="signed" id="signed-content">(.*?)</pre>', page.text, re.S).group(1)
    assert html.unescape(signed) == notice["signed_content"]
    assert f'data-signature="{notice["signature"]}"' in page.text
    assert f'data-key-id="{notice["key_id"]}"' in page.text and "data-verify" in page.text
    assert "技术领域" in page.text and "新能源" in page.text and "挂牌价" in page.text and "¥500,000.00" in page.text
    assert re.search(r"还剩 \d+ 个工作日", page.text)
    assert "共 0 项异议" in page.text
    assert "离线核验方法" in page.text and "Ed25519PublicKey" in page.text and "/api/v1/keys" in page.text
    # Anonymous readers are sent to sign in instead of the form.
    assert f'<a href="/login?next=/notices/{notice["id"]}">登录</a>后可对本公示提出异议' in page.text
    assert 'name="reason"' not in page.text


async def test_offline_recipe_verifies_against_the_published_keys(client, app) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    _, energy, _ = await two_notices(client, app)
    notice = (await client.get(f"{API}/notices/{nid(energy)}")).json()
    keys = (await client.get(f"{API}/keys")).json()["keys"]
    key = next(k for k in keys if k["id"] == notice["key_id"])  # what the recipe on the page does
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["key"])).verify(
        base64.b64decode(notice["signature"]), notice["signed_content"].encode("utf-8")
    )


async def test_unknown_notice_is_a_chinese_404(client) -> None:
    missing = await client.get("/notices/01900000-0000-7000-8000-000000000001", headers=HTML)
    assert missing.status_code == 404 and "页面不存在" in missing.text
    assert (await client.get("/notices/not-an-id", headers=HTML)).status_code == 404


async def test_a_withdrawn_notice_says_so(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await announced_listing(client, seller, ops)
    withdrawn = await client.post(
        f"{API}/listings/{listing['id']}/withdraw", json={"reason": "权属核查"}, headers=seller.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    page = await client.get(f"/notices/{nid(listing)}", headers=HTML)
    assert "此公示已撤回" in page.text and "已撤销" in page.text and "转让方撤回了挂牌" in page.text
    assert "不再接受异议" in page.text


async def test_objection_through_the_page_is_accepted_then_refused_in_chinese(client, app) -> None:
    ops, energy, _ = await two_notices(client, app)
    objector = await register(client)
    notice_id = nid(energy)
    token = await sign_in(client, objector)
    form = await client.get(f"/notices/{notice_id}", headers=HTML)
    assert 'name="reason"' in form.text and "提出异议" in form.text
    url = f"/notices/{notice_id}/objections"

    short = await client.post(url, data={"reason": "太短"}, headers={**HTMX, "X-CSRFToken": token})
    assert short.status_code == 422 and "异议理由须为 10 至 2,000 个字" in short.text
    assert "characters" not in short.text

    accepted = await client.post(
        url, data={"reason": "该专利权属存在争议，请交易所核查。"}, headers={**HTMX, "X-CSRFToken": token}
    )
    assert accepted.status_code == 200 and "异议已提交" in accepted.text
    assert "<html" not in accepted.text  # htmx gets the answer alone
    mine = (await client.get(f"{API}/objections", headers=objector.headers)).json()["items"]
    assert [o["notice_id"] for o in mine] == [notice_id]

    again = await client.post(url, data={"reason": "再次提出异议，理由同上。"}, headers={**HTMX, "X-CSRFToken": token})
    assert again.status_code == 409 and "异议正在处理中" in again.text

    # The organisation's limit: two more objections (each dismissed), then a fourth is refused.
    filed = mine[0]["id"]
    for _ in range(2):
        dismissed = await client.post(
            f"{API}/objections/{filed}/resolve", json={"decision": "dismissed", "note": "不成立"}, headers=ops.headers
        )
        assert dismissed.status_code == 200, dismissed.text
        answer = await client.post(
            f"{API}/notices/{notice_id}/objections",
            json={"reason": "再次提出异议，理由同上。"},
            headers=objector.headers,
        )
        assert answer.status_code == 201, answer.text
        filed = answer.json()["id"]
    last = await client.post(
        f"{API}/objections/{filed}/resolve", json={"decision": "dismissed", "note": "不成立"}, headers=ops.headers
    )
    assert last.status_code == 200, last.text
    fourth = await client.post(url, data={"reason": "第四次异议，理由同上。"}, headers={**HTMX, "X-CSRFToken": token})
    assert fourth.status_code == 409 and "最多提出 3 次异议" in fourth.text

    page = await client.get(f"/notices/{notice_id}", headers=HTML)
    assert "共 3 项异议：待处理 0 项，已处理 3 项" in page.text
    # The objector sees its own objections (to attach evidence); the public never the objector or reason.
    assert "您提出的异议" in page.text and "权属存在争议" in page.text
    async with browser_of(app) as public:
        seen = await public.get(f"/notices/{notice_id}", headers=HTML)
    assert "共 3 项异议：待处理 0 项，已处理 3 项" in seen.text
    assert objector.email not in seen.text and "权属存在争议" not in seen.text and "您提出的异议" not in seen.text


async def test_objection_without_scripts_renders_the_notice_with_the_answer(client, app, clock) -> None:
    _, energy, _ = await two_notices(client, app)
    objector = await register(client)
    token = await sign_in(client, objector)
    url = f"/notices/{nid(energy)}/objections"
    accepted = await client.post(
        url, data={"reason": "该专利权属存在争议，请核查。", "_csrf_token": token}, headers=HTML
    )
    assert accepted.status_code == 200 and "<html" in accepted.text and "异议已提交" in accepted.text
    assert "共 1 项异议：待处理 1 项" in accepted.text
    no_token = await client.post(url, data={"reason": "该专利权属存在争议，请核查。"}, headers=HTML)
    assert no_token.status_code == 403 and "页面已过期" in no_token.text
    notice = (await client.get(f"{API}/notices/{nid(energy)}")).json()
    clock.set(datetime.fromisoformat(notice["closes_at"]) + timedelta(minutes=1))  # the period has run
    token = await sign_in(client, objector)
    closed = await client.post(url, data={"reason": "期满之后提出的异议。", "_csrf_token": token}, headers=HTML)
    assert closed.status_code == 409 and "此公示已不在公示期内" in closed.text


async def test_anonymous_objection_is_sent_to_sign_in(client, app) -> None:
    _, energy, _ = await two_notices(client, app)
    await client.get("/notices")
    token = client.cookies.get("techx_csrf")
    answer = await client.post(
        f"/notices/{nid(energy)}/objections",
        data={"reason": "匿名提出的异议内容。"},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert answer.status_code == 401 and "请先登录" in answer.text


async def test_a_superseded_notice_links_the_newer_one(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await announced_listing(client, seller, ops)
    amended = await client.patch(
        f"{API}/listings/{listing['id']}", json={"summary": "补充：已完成中试。"}, headers=seller.headers
    )
    assert amended.status_code == 200, amended.text
    newer = nid(amended.json())
    page = await client.get(f"/notices/{nid(listing)}", headers=HTML)
    assert "此公示已被新版本取代" in page.text and f'<a href="/notices/{newer}">查看新版本公示</a>' in page.text


async def test_a_notice_cancelled_on_an_upheld_objection_says_so(client, app) -> None:
    ops, energy, _ = await two_notices(client, app)
    objector = await register(client)
    filed = await client.post(
        f"{API}/notices/{nid(energy)}/objections",
        json={"reason": "该专利权属存在争议，请核查。"},
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text
    upheld = await client.post(
        f"{API}/objections/{filed.json()['id']}/resolve",
        json={"decision": "upheld", "note": "成立"},
        headers=ops.headers,
    )
    assert upheld.status_code == 200, upheld.text
    page = await client.get(f"/notices/{nid(energy)}", headers=HTML)
    assert "此公示因异议成立已撤销" in page.text and "已处理 1 项" in page.text
    assert "撤回说明" not in page.text  # the operator's note is not published here
