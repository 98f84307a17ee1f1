"""The achievement library, a listing's page and an organisation's profile, in-process over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

import listings.pages
from tests.helpers import PASSWORD, Party, announced_listing, create_listing, operator, register, verified
from tests.trading_helpers import fund, to_auction_opening, to_end_of_announcement

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
API = "/api/v1"
HTML = {"accept": "text/html"}


def titles(page: httpx.Response) -> list[str]:
    """The titles of the results, in the order the page lists them."""
    assert page.status_code == 200, page.text
    return re.findall(r'<h3><a href="/listings/[0-9a-f-]+">([^<]+)</a></h3>', page.text)


def total(page: httpx.Response) -> int:
    found = re.search(r"<strong data-total>(\d+)</strong>", page.text)
    assert found, page.text
    return int(found.group(1))


async def sign_in(client: httpx.AsyncClient, party: Party) -> None:
    await client.get("/login")
    token = client.cookies.get("techx_csrf")
    answer = await client.post("/login", data={"email": party.email, "password": PASSWORD, "_csrf_token": token})
    assert answer.status_code == 303, answer.text


async def catalogue(client, app):
    """Four public listings of two sellers (prices 50, 8, 3 and 80 万元) and a draft."""
    ops = await operator(client, app)
    firm = await verified(client, ops, "enterprise", name="上海新能科技有限公司")
    school = await verified(client, ops, "university", name="东海理工大学")
    ids = {}
    rows = [
        (firm, {}, "固态锂电池制备方法"),
        (
            firm,
            {
                "deal_type": "license",
                "mode": "auction",
                "title": "钠离子电池正极材料",
                "field": "new_materials",
                "pricing": {"mode": "auction", "asking_price": 8_000_000},
            },
            None,
        ),
        (
            firm,
            {
                "deal_type": "license",
                "mode": "negotiated",
                "title": "基于深度学习的医学影像诊断软件",
                "field": "electronic_information",
                "keywords": ["医学影像"],
                "deal": {"type": "license", "scope": "non_exclusive", "term_months": 24},
                "pricing": {"mode": "negotiated", "asking_price": 3_000_000},
            },
            None,
        ),
        (
            school,
            {
                "mode": "auction",
                "title": "高镍三元正极材料包覆技术",
                "maturity": 7,
                "pricing": {"mode": "auction", "asking_price": 80_000_000},
            },
            None,
        ),
    ]
    for seller, changes, _ in rows:
        if changes:  # the others say nothing of batteries (the default body does, in its summary)
            changes = {"summary": f"{changes['title']}。技术成熟，可产业化。", "keywords": [], **changes}
        listing = await announced_listing(client, seller, ops, **changes)
        ids[listing["title"]] = listing
        app.state.clock.advance(timedelta(minutes=1))
    await create_listing(client, firm, title="未公开的电池草稿")
    return ops, firm, school, ids


async def test_search_in_chinese_with_filters_orders_count_and_shareable_links(client, app, monkeypatch) -> None:
    _, firm, _, ids = await catalogue(client, app)
    found = await client.get("/listings", params={"q": "电池"}, headers=HTML)
    assert set(titles(found)) == {"固态锂电池制备方法", "钠离子电池正极材料"}  # 电池 is a word of both titles
    assert total(found) == 2 and "未公开的电池草稿" not in found.text
    assert '<html lang="zh-CN">' in found.text and 'value="电池"' in found.text  # the form keeps the query
    # A row: field, deal type, price in 万元, seller linking its profile, status, closing date.
    assert "50 万元" in found.text and "新能源" in found.text and "公示中" in found.text
    assert f'href="/orgs/{firm.org_id}"' in found.text and "年" in found.text
    assert titles(await client.get("/listings", params={"q": "医学影像"})) == ["基于深度学习的医学影像诊断软件"]
    assert titles(await client.get("/listings", params={"q": "量子计算"})) == []

    # Filters, each as the API applies it; an emptied select (field=) is no filter.
    async def only(**params) -> list[str]:
        return titles(await client.get("/listings", params=params))

    assert await only(q="电池", deal_type="license", field="") == ["钠离子电池正极材料"]
    assert await only(license_scope="exclusive") == ["钠离子电池正极材料"]
    assert await only(license_scope="non_exclusive") == ["基于深度学习的医学影像诊断软件"]
    assert await only(seller_kind="university") == ["高镍三元正极材料包覆技术"]
    assert await only(min_maturity="7") == ["高镍三元正极材料包覆技术"]
    assert await only(pricing_mode="negotiated") == ["基于深度学习的医学影像诊断软件"]
    assert set(await only(min_wan="5", max_wan="60")) == {"固态锂电池制备方法", "钠离子电池正极材料"}
    assert await only(min_wan="80", status="announced") == ["高镍三元正极材料包覆技术"]
    assert await only(seller_org_id=ids["高镍三元正极材料包覆技术"]["seller"]["org_id"]) == ["高镍三元正极材料包覆技术"]

    # Orders besides relevance.
    by_price = [
        "基于深度学习的医学影像诊断软件",
        "钠离子电池正极材料",
        "固态锂电池制备方法",
        "高镍三元正极材料包覆技术",
    ]
    assert await only(order="price_asc") == by_price
    assert await only(order="price_desc") == by_price[::-1]
    assert await only() == list(reversed(ids))  # newest first without words
    assert await only(order="closing") == list(ids)  # the same period length: the first announced closes first

    # Pages: the next link carries the filters and the cursor; the count stays the whole match.
    monkeypatch.setattr(listings.pages, "PAGE_SIZE", 3)
    first = await client.get("/listings", params={"order": "price_asc", "from": "singlemessage"})
    assert titles(first) == by_price[:3] and total(first) == 4
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first.text).group(1).replace("&amp;", "&")
    assert "order=price_asc" in next_link and "from=" not in next_link
    second = await client.get(next_link)
    assert titles(second) == by_price[3:] and total(second) == 4 and 'rel="next"' not in second.text
    assert "第一页" in second.text

    # A shared link with a messenger's parameters opens the same results.
    shared = await client.get(
        "/listings", params={"q": "电池", "from": "singlemessage", "isappinstalled": "0"}, headers=HTML
    )
    assert set(titles(shared)) == {"固态锂电池制备方法", "钠离子电池正极材料"}


@pytest.mark.parametrize(
    "params",
    [{"field": "space"}, {"min_wan": "abc"}, {"max_wan": "-1"}, {"order": "random"}, {"min_wan": "9", "max_wan": "1"}],
)
async def test_a_wrong_filter_is_a_chinese_page_not_an_error(client, params) -> None:
    page = await client.get("/listings", params=params, headers=HTML)
    assert 400 <= page.status_code < 500
    assert '<html lang="zh-CN">' in page.text and "有误" in page.text


async def test_listing_page_shows_public_fields_assets_seller_and_timeline(client, app) -> None:
    _, firm, _, ids = await catalogue(client, app)
    listing = ids["固态锂电池制备方法"]
    page = await client.get(f"/listings/{listing['id']}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "固态锂电池制备方法" in text and "固态电池、储能" in text and "6 级" in text
    assert "ZL202310123456.7" in text and "2043年5月1日" in text and "发明专利" in text  # the IP asset
    assert "¥500,000.00" in text and "¥450,000.00" in text  # asking price and appraisal in yuan
    assert "挂牌交易" in text and "全部权利转让" in text
    assert f'href="/orgs/{firm.org_id}"' in text and "上海新能科技有限公司" in text
    notice = listing["announcement"]["notice_id"]
    assert f'href="/notices/{notice}"' in text and "挂牌公示" in text
    assert re.search(r"<strong>还剩 \d+ 个工作日</strong>", text)  # the working days the announcement has left
    assert "登录后登记受让意向" in text  # the public's next step
    assert "Li7La3Zr2O12" not in text and "91310000MA1FL0000N" not in text  # no confidential detail

    licence = await client.get(f"/listings/{ids['钠离子电池正极材料']['id']}")
    assert "独占许可" in licence.text and "36 个月" in licence.text and "中国境内" in licence.text

    # Drafts are 404 for the public, as in the API; so is an unknown listing.
    draft = await create_listing(client, firm, title="另一份草稿")
    for path in (f"/listings/{draft['id']}", "/listings/0190c0de-0000-7000-8000-000000000000"):
        missing = await client.get(path, headers=HTML)
        assert missing.status_code == 404 and "页面不存在" in missing.text
    await sign_in(client, firm)
    assert (await client.get(f"/listings/{draft['id']}")).status_code == 200  # the seller sees its draft
    own = await client.get(f"/listings/{listing['id']}")
    assert "这是贵机构挂牌的项目" in own.text


async def test_a_verified_buyer_registers_intent_from_the_page_and_sees_its_deposit(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, name="东海材料研究院")
    listing = await announced_listing(client, seller, ops)
    stranger = await register(client)
    await sign_in(client, stranger)
    page = await client.get(f"/listings/{listing['id']}")
    assert "通过交易所审核" in page.text and '<button type="submit">登记受让意向' not in page.text

    buyer = await verified(client, ops, name="苏州智造装备股份有限公司")
    await sign_in(client, buyer)
    page = await client.get(f"/listings/{listing['id']}")
    assert "登记受让意向</button>" in page.text and "¥50,000.00" in page.text  # the deposit it will hold
    token = client.cookies.get("techx_csrf")
    short = await client.post(f"/listings/{listing['id']}/intent", data={"_csrf_token": token}, headers=HTML)
    assert short.status_code == 409 and "余额不足" in short.text  # no money in the wallet: refused in Chinese

    await fund(app, buyer, 10_000_000)
    done = await client.post(f"/listings/{listing['id']}/intent", data={"_csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].startswith(f"/listings/{listing['id']}")
    page = await client.get(f"/listings/{listing['id']}")
    assert "已登记受让意向" in page.text and "¥50,000.00" in page.text and "已冻结" in page.text
    again = await client.post(f"/listings/{listing['id']}/intent", data={"_csrf_token": token}, headers=HTML)
    assert again.status_code == 409 and "已登记" in again.text


async def test_an_auction_and_its_result_on_the_listing_and_the_profiles(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="东海理工大学")
    buyer = await verified(client, ops, name="上海固能新材料有限公司")
    await fund(app, buyer, 100_000_000)
    listing = await announced_listing(client, seller, ops, mode="auction")
    lid = listing["id"]
    assert (await client.post(f"{API}/listings/{lid}/intents", headers=buyer.headers)).status_code == 201
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    await to_auction_opening(app, client, listing, ops, seller, buyer)
    auction = (await client.get(f"{API}/listings/{lid}/auction", headers=buyer.headers)).json()

    public = await client.get(f"/listings/{lid}")
    assert "竞价中" in public.text and f'href="/auctions/{auction["id"]}"' in public.text
    assert "进入竞价大厅" not in public.text
    await sign_in(client, buyer)
    mine = await client.get(f"/listings/{lid}")
    assert "进入竞价大厅" in mine.text

    bid = await client.post(
        f"{API}/auctions/{auction['id']}/bids",
        json={"amount": auction["minimum_next_bid"]},
        headers={**buyer.headers, "Idempotency-Key": "page-test-bid-1"},
    )
    assert bid.status_code == 201, bid.text
    app.state.clock.advance(timedelta(minutes=40))
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    client.cookies.clear()

    closed = await client.get(f"/listings/{lid}")
    assert "已结束" in closed.text and "已成交" in closed.text and "成交结果公示" in closed.text
    assert "¥500,000.00" in closed.text and f'href="/orgs/{buyer.org_id}"' in closed.text

    profile = await client.get(f"/orgs/{seller.org_id}", headers=HTML)
    assert profile.status_code == 200
    assert "东海理工大学" in profile.text and "高等院校" in profile.text and "已通过审核" in profile.text
    assert "固态锂电池制备方法" in profile.text and "上海固能新材料有限公司" in profile.text  # its deal, by name
    assert seller.email not in profile.text  # public facts only
    bought = await client.get(f"/orgs/{buyer.org_id}")
    assert "受让方" in bought.text and "东海理工大学" in bought.text and "¥500,000.00" in bought.text
    assert "暂无公开挂牌项目" in bought.text

    unknown = await client.get("/orgs/0190c0de-0000-7000-8000-000000000000", headers=HTML)
    assert unknown.status_code == 404 and "页面不存在" in unknown.text
