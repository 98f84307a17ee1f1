"""A seller makes a listing in steps in a real browser: each step checked with axe, a refused asking
price shown next to its input in Chinese, the draft saved and submitted for review."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_seller_walks_the_listing_steps_and_submits_the_draft(visit: Visit) -> None:
    visit.sign_in("donghai")
    visit.open("/workspace/listings/new")
    page = visit.page
    assert visit.axe_violations() == []
    page.fill("#title", "低温等离子体废气处理装置")
    page.select_option("#field", "energy_saving_environment")
    page.fill("#keywords", "等离子体、废气")
    page.select_option("#maturity", "5")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()

    assert page.locator("h2", has_text="知识产权").count() == 1
    assert visit.axe_violations() == []
    page.select_option("#ip_assets-0-kind", "invention_patent")
    page.fill("#ip_assets-0-number", "ZL202210654321.0")
    page.fill("#ip_assets-0-title", "一种低温等离子体废气处理装置")
    page.fill("#ip_assets-0-expires_on", "2042-06-30")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()

    assert visit.axe_violations() == []
    page.select_option("#deal-type", "transfer")
    page.select_option("#pricing-mode", "negotiated")
    page.fill("#pricing-asking_price", "0")
    page.get_by_role("button", name="保存草稿并继续").click()
    page.wait_for_load_state()
    assert "挂牌价须为大于 0 的金额" in page.locator("#pricing-asking_price-error").inner_text()
    assert page.locator("#pricing-asking_price").get_attribute("aria-invalid") == "true"
    assert visit.axe_violations() == []
    page.fill("#pricing-asking_price", "800,000")
    page.get_by_role("button", name="保存草稿并继续").click()
    page.wait_for_load_state()

    assert "草稿已保存" in page.locator("[role=status]").inner_text()
    assert page.locator("h2", has_text="发明人与奖励").count() == 1
    assert visit.axe_violations() == []
    page.fill("#inventors-0-name", "陈静")
    page.get_by_role("button", name="保存并返回挂牌页").click()
    page.wait_for_load_state()

    assert page.locator("h1").inner_text() == "低温等离子体废气处理装置"
    assert visit.axe_violations() == []
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    assert "审核中" in page.locator(".badge").first.inner_text()
