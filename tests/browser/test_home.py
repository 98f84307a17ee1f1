"""The home page, the figures, the voucher pages and the open-data page in a real browser on the
demo exchange: a live auction ticking, open notices, results, charts drawn with their tables;
accessible, and on a phone without sideways scrolling."""

from __future__ import annotations

import re
from typing import Any

import pytest

from exchange.server.demo.data import DEMO_PASSWORD, OPERATOR_EMAIL, PROGRAM_NAME
from exchange.web.formats import yuan
from tests.browser.conftest import Visit
from tests.e2e.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGES = ["/", "/stats", "/vouchers", "/services", "/open-data"]
CLOCK = re.compile(r"^(\d+ 天 )?\d\d:\d\d:\d\d$")


@pytest.fixture(scope="module")
def live_auction(api: Api) -> dict[str, Any]:
    """The demo's live auction, open now: on a day without work it opens on the next working day,
    so the server's clock is moved to its opening."""
    token = api.login(OPERATOR_EMAIL, DEMO_PASSWORD)
    [auction, *_] = api.ok("GET", "/home")["auctions"]
    if auction["status"] == "scheduled":
        api.advance_past(token, auction["starts_at"], margin_seconds=5)
        [auction, *_] = api.ok("GET", "/home")["auctions"]
    assert auction["status"] == "open"
    return auction


def test_home_shows_a_live_auction_ticking_open_notices_results_and_figures(
    visit: Visit, live_auction: dict[str, Any]
) -> None:
    visit.open("/")
    page = visit.page
    auctions = page.locator("section[aria-labelledby=auctions-heading]")
    card = auctions.locator("li", has=page.locator(f"a[href='/auctions/{live_auction['id']}']"))
    assert card.get_by_role("link", name=live_auction["title"]).is_visible()
    assert "竞价中" in card.inner_text()
    countdown = card.locator("[data-countdown]")
    # The script writes the time left on load (the server's page carries the end, not the count).
    page.wait_for_function("() => /\\d\\d:\\d\\d:\\d\\d$/.test(document.querySelector('[data-countdown]').textContent)")
    first = countdown.inner_text()
    assert CLOCK.match(first), first
    # It ticks on the server's clock: the text changes by itself within a couple of seconds.
    page.wait_for_function("t => document.querySelector('[data-countdown]').textContent !== t", arg=first, timeout=3000)

    notices = page.locator("section[aria-labelledby=notices-heading]")
    assert notices.locator("a[href^='/notices/']").count() >= 1
    assert re.search(r"还剩 \d+ 个工作日|最后 1 个工作日", notices.inner_text())

    results = page.locator("section[aria-labelledby=results-heading] tbody tr")
    assert results.count() >= 1
    assert "万元" in results.first.inner_text()

    figures = page.locator("section[aria-labelledby=figures-heading]")
    chart = figures.get_by_role("img", name=re.compile("各月成交金额"))
    assert chart.is_visible()
    assert figures.locator("rect.bar").count() == 12
    assert figures.locator("table tbody tr").count() == 12


def test_stats_charts_render_beside_their_tables_and_the_year_can_be_chosen(visit: Visit, api: Api) -> None:
    visit.open("/stats")
    page = visit.page
    # The tables hold the API's numbers, in yuan.
    stats = api.ok("GET", "/stats")
    rows = page.locator("#deals-by-month tbody tr").evaluate_all(
        "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )
    assert rows == [
        [f"{int(m['month'][5:])}月", f"{m['count']:,}", yuan(m["value"])] for m in stats["deals"]["by_month"]
    ]
    by_field = page.locator("#deals-by-field tbody tr").evaluate_all(
        "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent.trim()).slice(1))"
    )
    assert by_field == [[f"{d['count']:,}", yuan(d["value"])] for d in stats["deals"]["by_field"].values()]
    figures = page.locator("figure.chart")
    assert figures.count() == 7
    for i in range(figures.count()):
        figure = figures.nth(i)
        title = figure.locator("figcaption").inner_text()
        assert figure.locator("table").is_visible(), title
        drawn = figure.get_by_role("img", name=re.compile(re.escape(title)))  # named after its caption
        if drawn.count():
            assert drawn.is_visible(), title
            box = drawn.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 50, title
    listings = page.locator("#listings-by-month")
    heights = [
        float(h) for h in listings.locator("rect.bar").evaluate_all("rs => rs.map(r => r.getAttribute('height'))")
    ]
    assert len(heights) == 12 and max(heights) > 0  # the demo's listings were announced this year
    # The table is text anyone can select and copy.
    assert listings.locator("tbody tr").count() == 12

    year = int(page.locator("#year").input_value())
    page.select_option("#year", str(year - 1))
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**/stats?year={year - 1}")
    assert page.locator("h1").inner_text() == f"数据统计 · {year - 1}年"


def test_voucher_services_and_open_data_pages_show_the_demo(visit: Visit) -> None:
    visit.open("/vouchers")
    assert PROGRAM_NAME in visit.page.locator("main").inner_text()
    visit.open("/services")
    services = visit.page.locator("main")
    assert "专利检索与查新报告" in services.inner_text() and "已认证" in services.inner_text()
    visit.page.select_option("#category", "testing")
    visit.page.click("form.filters button[type=submit]")
    visit.page.wait_for_url("**/services?category=testing")
    assert visit.page.locator("main h2").all_inner_texts() == ["检验检测"]
    visit.open("/open-data")
    with visit.page.expect_download() as download:
        visit.page.click("a[href='/api/v1/open-data/listings?format=csv']")
    assert download.value.suggested_filename


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(visit: Visit, live_auction: dict[str, Any], path: str) -> None:
    visit.open(path)
    assert visit.axe_violations() == []


@pytest.mark.parametrize("path", PAGES)
def test_phone_does_not_scroll_sideways(phone: Visit, live_auction: dict[str, Any], path: str) -> None:
    phone.open(path)
    assert phone.horizontal_overflow() <= 0
