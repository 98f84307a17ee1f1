"""The achievement library in a real browser, on the demo exchange: a Chinese search, a filter whose
address reopens the same results, a listing with its IP assets and its seller's profile."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Visit
from tests.e2e.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DEMO_TITLE = "高镍三元正极材料表面包覆改性技术"  # the demo's first listing (东海理工大学)


def result_titles(visit: Visit) -> list[str]:
    return visit.page.locator("ol.results h3 a").all_inner_texts()


def shown_total(visit: Visit) -> int:
    return int(visit.page.locator("[data-total]").inner_text())


def search(visit: Visit, words: str) -> None:
    visit.open("/listings")
    visit.page.get_by_label("关键词").fill(words)
    with visit.page.expect_navigation():
        visit.page.get_by_role("button", name="检索").click()


def test_a_chinese_search_finds_the_demo_listing_as_the_api_does(visit: Visit, api: Api) -> None:
    search(visit, "正极材料")
    titles = result_titles(visit)
    assert DEMO_TITLE in titles
    expected = api.ok("GET", "/api/v1/listings", params={"q": "正极材料", "count": "true", "limit": 100})
    assert shown_total(visit) == expected["total"] == len(titles)
    assert set(titles) == {item["title"] for item in expected["items"]}
    assert "q=%E6%AD%A3%E6%9E%81%E6%9D%90%E6%96%99" in visit.page.url  # the words are in the address


def test_a_filter_narrows_the_results_and_its_address_reopens_them(visit: Visit) -> None:
    visit.open("/listings")
    everything = shown_total(visit)
    visit.page.get_by_label("技术领域").select_option("new_energy")
    visit.page.get_by_label("排序").select_option("price_desc")
    with visit.page.expect_navigation():
        visit.page.get_by_role("button", name="检索").click()
    narrowed = result_titles(visit)
    assert 0 < shown_total(visit) < everything
    assert DEMO_TITLE in narrowed
    cards = visit.page.locator("ol.results li")
    assert all("新能源" in text for text in cards.all_inner_texts())
    # Shared through a messenger, which adds its own parameters: the same results, in the same order.
    address = urlsplit(visit.page.url)
    assert "field=new_energy" in address.query and "order=price_desc" in address.query
    visit.open(f"{address.path}?{address.query}&from=singlemessage&isappinstalled=0")
    assert result_titles(visit) == narrowed
    assert visit.page.get_by_label("技术领域").input_value() == "new_energy"


def test_a_listing_shows_its_ip_assets_and_links_its_seller(visit: Visit) -> None:
    search(visit, "正极材料")
    with visit.page.expect_navigation():
        visit.page.get_by_role("link", name=DEMO_TITLE).click()
    assert visit.page.locator("h1").inner_text() == DEMO_TITLE
    assets = visit.page.locator("table:has(caption:has-text('知识产权')) tbody tr")
    assert assets.count() >= 1
    first = assets.first.inner_text()
    assert "发明专利" in first and "年" in first  # kind and expiry date in Chinese
    assert visit.page.locator("td.ip-number").first.inner_text().strip() != ""
    assert visit.page.locator("ol.timeline li a[href^='/notices/']").count() >= 1  # its announcement
    assert visit.axe_violations() == []
    with visit.page.expect_navigation():
        visit.page.locator("a.seller").click()
    assert visit.page.locator("h1").inner_text() == "东海理工大学技术转移中心"
    assert "高等院校" in visit.page.locator("main").inner_text()
    assert visit.page.locator("ol.results li").count() >= 1  # its public listings
    assert visit.axe_violations() == []


def test_the_library_has_no_serious_accessibility_violation(visit: Visit) -> None:
    visit.open("/listings?q=电池&field=new_energy")
    assert visit.axe_violations() == []
    visit.open("/listings?min_wan=abc")
    assert visit.axe_violations() == []


def test_the_library_and_a_listing_fit_a_phone(phone: Visit) -> None:
    phone.open("/listings")
    assert phone.horizontal_overflow() <= 0
    link = phone.page.locator("ol.results h3 a").first
    with phone.page.expect_navigation():
        link.click()
    assert phone.horizontal_overflow() <= 0
    with phone.page.expect_navigation():
        phone.page.locator("a.seller").click()
    assert phone.horizontal_overflow() <= 0
