"""The home page, the figures, the voucher programs, the service catalogue and the open-data page:
what they show is what the JSON API publishes, in Chinese, in yuan and Beijing time."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from exchange.web.formats import wan_yuan, yuan
from listings.exports import CSV_COLUMNS, EXPORT_COLUMNS
from tests.helpers import announced_listing, operator, verified
from tests.trading_helpers import API, advance, key, open_auction_with_two_bidders, past_notice
from tests.voucher_helpers import Cast, act, cast, create_program, fund, grant, order, service, top_up

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

HTML = {"accept": "text/html"}


def section(page: str, heading_id: str) -> str:
    """The HTML of the page's section headed by ``heading_id``, to check what it holds and no more."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def page(client: httpx.AsyncClient, path: str, status: int = 200) -> str:
    answer = await client.get(path, headers=HTML)
    assert answer.status_code == status, answer.text[:2000]
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


async def test_an_empty_exchange_says_so_on_every_section(client: httpx.AsyncClient) -> None:
    home = await page(client, "/")
    assert "当前没有正在进行的竞价" in home
    assert "当前没有公示中的公告" in home
    assert "暂无公开的成交结果" in home
    assert "暂无数据" in section(home, "figures-heading")  # the chart of an empty year draws nothing


async def test_home_shows_the_live_auction_its_price_and_a_countdown_to_its_end(
    client: httpx.AsyncClient, app: Any
) -> None:
    auction, _seller, a, _b = await open_auction_with_two_bidders(client, app)
    placed = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": auction["asking_price"]}, headers={**a.headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    live = section(await page(client, "/"), "auctions-heading")
    assert f'href="/auctions/{auction["id"]}"' in live
    assert "固态锂电池制备方法" in live and "竞价中" in live
    assert "当前最高价" in live and yuan(auction["asking_price"]) in live
    ends = (await client.get(f"{API}/home")).json()["auctions"][0]["ends_at"]
    assert re.search(r'data-countdown="[^"]+"', live)
    assert ends == auction["ends_at"]  # the anti-sniping end the API shows is the one counted down
    assert "出价次数" in live and ">1<" in live


async def test_home_lists_open_notices_soonest_first_with_working_days_left_and_the_latest_results(
    client: httpx.AsyncClient, app: Any
) -> None:
    auction, seller, a, b = await open_auction_with_two_bidders(client, app)
    price = auction["asking_price"] + auction["increment"]
    for bidder, amount in ((a, auction["asking_price"]), (b, price)):
        answer = await client.post(
            f"{API}/auctions/{auction['id']}/bids", json={"amount": amount}, headers={**bidder.headers, **key()}
        )
        assert answer.status_code == 201, answer.text
    ops = await operator(client, app)
    await advance(app, client, timedelta(hours=2), ops, seller, a, b)  # the auction closes: a deal result notice
    later = await announced_listing(client, await verified(client, ops, "university"), ops, title="一种柔性显示面板")

    home_json = (await client.get(f"{API}/home")).json()
    home = await page(client, "/")
    notices = section(home, "notices-heading")
    closing = [item["notice"] for item in home_json["closing_notices"]]
    assert [n["kind"] for n in closing] == ["deal_result", "listing_announcement"]  # soonest to close first
    for notice in closing:
        assert f'href="/notices/{notice["id"]}"' in notices
    assert notices.index(closing[0]["id"]) < notices.index(closing[1]["id"])
    # Counted on the working-day calendar: on the day they opened (Tuesday 31 March, Qingming ahead),
    # the deal result's five working days and the announcement's twenty are all left.
    assert [item["working_days_left"] for item in home_json["closing_notices"]] == [5, 20]
    assert "2026年4月8日 24:00</time> · 还剩 5 个工作日" in notices
    assert later["announcement"]["notice_id"] == closing[1]["id"]

    results = section(home, "results-heading")
    [result] = home_json["latest_results"]
    assert result["price"] == price and result["status"] == "open"
    assert "固态锂电池制备方法" in results and wan_yuan(price) in results
    assert f'href="/notices/{result["notice_id"]}"' in results
    assert result["buyer"] in results and "网络竞价" in results and "公示中" in results

    # An objection upheld would cancel the notice; a closed one stays among the results.
    await past_notice(app, client, result["notice_id"], ops, seller, a, b)
    again = (await client.get(f"{API}/home")).json()["latest_results"]
    assert [r["status"] for r in again] == ["closed"]


async def test_figures_on_the_home_and_stats_pages_are_the_apis(client: httpx.AsyncClient, app: Any) -> None:
    _auction, seller, _a, _b = await open_auction_with_two_bidders(client, app)
    ops = await operator(client, app)
    await announced_listing(client, seller, ops, deal_type="license", field="biomedicine", title="抗体药物筛选平台")
    stats = (await client.get(f"{API}/stats")).json()
    year = stats["year"]
    assert stats["listings"]["announced"] == 2
    assert stats["listings"]["by_deal_type"] == {"transfer": 1, "license": 1, "equity": 0}

    home = section(await page(client, "/"), "figures-heading")
    assert f"{year}年交易所数据" in home and "2 项" in home
    assert f"{year}年各月成交金额" in home and "<table>" in home  # the chart, with its table
    assert "暂无数据" in home  # no deal settled yet: no bars to draw

    shown = await page(client, f"/stats?year={year}&from=singlemessage")  # a shared link
    text = text_of(shown)
    assert f"数据统计 · {year}年" in text
    assert "挂牌项目 2 项" in text
    assert f"挂牌总价 {wan_yuan(stats['listings']['asking_value'])}" in text
    # Each chart has an accessible name and its numbers in a table beside it.
    for anchor in ("listings-by-month", "deals-by-month", "listings-by-deal-type", "deals-by-deal-type",
                   "listings-by-field", "deals-by-field", "vouchers"):  # fmt: skip
        figure = shown[shown.index(f'id="{anchor}"') : shown.index("</figure>", shown.index(f'id="{anchor}"'))]
        assert "<table>" in figure and '<th scope="col"' in figure
        assert 'role="img"' in figure or "暂无数据" in figure
    drawn = shown[shown.index('id="listings-by-month"') :]
    assert re.search(r'<svg [^>]*role="img" aria-labelledby="listings-by-month-title"', drawn)
    by_type = text_of(shown[shown.index('id="listings-by-deal-type"') :])
    assert "转让 1 许可 1 作价入股 0" in by_type
    by_field = text_of(shown[shown.index('id="listings-by-field"') :])
    assert "生物医药 1" in by_field and "新能源 1" in by_field
    march = stats["listings"]["by_month"][2]
    assert march == {"month": f"{year}-03", "count": 2}
    assert "3月 2" in text_of(shown[shown.index('id="listings-by-month"') :])
    assert f'<option value="{year}" selected>' in shown


async def test_a_year_selector_reads_past_years_and_refuses_nonsense_in_chinese(client: httpx.AsyncClient) -> None:
    past = await page(client, "/stats?year=2024")
    assert "数据统计 · 2024年" in text_of(past)
    for bad in ("abc", "1999", "2101", "2026.5"):
        refused = await page(client, f"/stats?year={bad}", status=400)
        assert '<html lang="zh-CN">' in refused and "请求" in refused


async def a_provider_with_a_completed_order(client: httpx.AsyncClient, app: Any) -> tuple[Cast, dict[str, Any]]:
    """A program (active), its enterprise with vouchers, a provider with two services and one
    order accepted."""
    c = await cast(client, app)
    program = await create_program(client, app, c.gov, per_org_cap=30_000_000, coverage_bp=4_000)
    await fund(client, c.ops, program["id"], 50_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 20_000_000)
    testing = await service(client, c.prov, "testing", 10_000_000)
    await service(client, c.prov, "tech_search", 3_000_000)
    await top_up(app, c.ent.org_id, 10_000_000)
    placed = (await order(client, c.ent, testing["id"], 4_000_000)).json()
    assert (await act(client, c.prov, placed["id"], "confirm")).status_code == 200
    assert (await act(client, c.prov, placed["id"], "deliver", {"results_summary": "检测报告"})).status_code == 200
    assert (await act(client, c.ent, placed["id"], "accept")).status_code == 200
    return c, program


async def test_vouchers_page_shows_each_programs_terms_and_status(client: httpx.AsyncClient, app: Any) -> None:
    c, program = await a_provider_with_a_completed_order(client, app)
    await create_program(client, app, c.gov, name="2027年度创新券（预告）", valid_from="2027-01-01T00:00:00+08:00",
                         valid_until="2027-12-31T00:00:00+08:00")  # fmt: skip
    listed = (await client.get(f"{API}/voucher-programs")).json()["items"]
    assert [p["status"] for p in listed] == ["upcoming", "active"]  # newest first
    shown = text_of(await page(client, "/vouchers"))
    assert "2026年度上海市科技创新券 申领使用中" in shown and "2027年度创新券（预告） 尚未开始" in shown
    assert f"总预算 {yuan(program['budget'])}" in shown
    assert "每家企业上限 ¥300,000.00" in shown
    assert "创新券支付比例 服务价格的 40% 以内" in shown
    assert "申请对象 经交易所认证的企业" in shown
    assert "可购买的服务 技术经纪、科技查新与检索、检验检测" in shown
    assert "已发放 ¥200,000.00" in shown and "已到位资金 ¥500,000.00" in shown


async def test_services_page_groups_the_catalogue_and_shows_each_providers_record(
    client: httpx.AsyncClient, app: Any
) -> None:
    c, program = await a_provider_with_a_completed_order(client, app)
    other = await verified(client, c.ops, "service_provider", "东海检测技术有限公司")
    await service(client, other, "testing", 2_000_000)
    revoked = await client.post(
        f"{API}/voucher-programs/{program['id']}/revoke-provider",
        json={"provider_org_id": other.org_id, "reason": "虚构服务合同"},
        headers=c.gov.headers,
    )
    assert revoked.status_code == 201, revoked.text

    records = {r["name"]: r for r in (await client.get(f"{API}/service-providers")).json()["items"]}
    assert records["上海知识产权服务中心"] | {"org_id": None} == {
        "org_id": None, "name": "上海知识产权服务中心", "verified": True, "services": 2, "completed_orders": 1,
        "revoked_by": [], "grade": None, "score": None, "ratings": 0, "demonstration": False,
    }  # fmt: skip
    assert records["东海检测技术有限公司"]["revoked_by"] == ["2026年度上海市科技创新券"]
    # The revocation is a penalty of its credit: the prior's 62.5 less 15 points, grade D (docs/credit.md).
    assert (records["东海检测技术有限公司"]["grade"], records["东海检测技术有限公司"]["score"]) == ("D", 47.5)

    html = await page(client, "/services")
    testing = text_of(section(html, "category-testing"))
    search = text_of(section(html, "category-tech_search"))
    assert "检验检测" in testing and "科技查新与检索" in search
    assert "材料性能检测 CNAS 认可实验室检测 ¥100,000.00 上海知识产权服务中心 已认证" in testing
    assert "发布服务 2 项 已验收订单 1 笔" in testing
    assert "东海检测技术有限公司 已认证 已被撤销创新券资格" in testing
    assert "撤销资格的项目 2026年度上海市科技创新券" in testing
    assert "已被撤销" not in search
    assert 'id="category-valuation"' not in html  # no service of that category: no empty heading

    only = await page(client, "/services?category=tech_search")
    assert 'id="category-tech_search"' in only and 'id="category-testing"' not in only
    everything = await page(client, "/services?category=")  # the filter's "all categories"
    assert 'id="category-testing"' in everything
    refused = await page(client, "/services?category=magic", status=400)
    assert "请求格式有误" in refused


async def test_open_data_page_documents_every_column_and_links_the_real_endpoints(
    client: httpx.AsyncClient, app: Any
) -> None:
    html = await page(client, "/open-data")
    columns = section_table(html, "open-data-columns")
    assert [name for name, _ in columns] == list(EXPORT_COLUMNS)
    assert list(EXPORT_COLUMNS[: len(CSV_COLUMNS)]) == list(CSV_COLUMNS)  # the machine columns first
    assert all(meaning for _, meaning in columns), "every CSV column is explained"
    links = set(re.findall(r'href="(/api/v1/[^"]*)"', html))
    assert {f"/api/v1/open-data/listings?format={f}" for f in ("csv", "xlsx", "jsonl")} <= links
    ops = await operator(client, app)
    await announced_listing(client, await verified(client, ops, "university"), ops)
    for link in sorted(links):
        answer = await client.get(link.replace("&amp;", "&"))
        assert answer.status_code == 200, (link, answer.text)
    csv = await client.get("/api/v1/open-data/listings?format=csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].split(",") == list(EXPORT_COLUMNS)
    assert csv.headers["x-next-cursor"] != "0"
    assert "X-Next-Cursor" in html and "since" in html and "使用条款" in html


def section_table(html: str, table_id: str) -> list[tuple[str, str]]:
    table = html[html.index(f'id="{table_id}"') : html.index("</table>", html.index(f'id="{table_id}"'))]
    return [
        (name, text_of(meaning).strip())
        for name, meaning in re.findall(r"<tr><th scope=\"row\"><code>([^<]+)</code></th><td>(.*?)</td></tr>", table)
    ]
