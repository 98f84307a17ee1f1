"""Technical demands in a real browser, on the demo exchange: an enterprise (上海固能新材料) posts a
demand through its workspace form — a missing budget refused first, in Chinese, next to its input —
and publishes it; the university (东海理工大学) finds it on the demand board and answers it with
one of its listings ticked from a list; the enterprise declines the proposal with a reason, and the
university reads that reason as feedback on its proposals page. The pages pass axe."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TITLE = "钠离子电池硬碳负极量产工艺"


def as_(visit: Visit, who: str) -> None:
    visit.context.clear_cookies()
    visit.sign_in(who)


def test_a_demand_posted_answered_declined_and_the_feedback_read(visit: Visit) -> None:
    page = visit.page
    as_(visit, "guneng")
    visit.open("/workspace/demands")
    page.fill("#demand-title", TITLE)
    page.fill("#demand-description", "硬碳负极首效低、批次一致性差，需要可量产的制备工艺。")
    page.fill("#demand-performance", "首次库伦效率≥90%，比容量≥320mAh/g")
    page.select_option("#demand-field", "new_materials")
    page.fill("#demand-keywords", "硬碳 钠离子电池")
    page.fill("#demand-budget_min_fen", "800,000")
    page.fill("#demand-budget_max_fen", "一百万")
    page.check("input[name=accepted_forms][value=license]")
    page.fill("#demand-deadline", "2099-05-01")
    page.get_by_role("button", name="保存草稿").click()
    refusal = page.locator("#demand-budget_max_fen-error")
    refusal.wait_for()
    assert "请以元为单位填写金额" in refusal.inner_text()
    assert page.input_value("#demand-title") == TITLE  # the form as typed
    assert page.is_checked("input[name=accepted_forms][value=license]")
    page.fill("#demand-budget_max_fen", "1,236,000")
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_text("需求草稿已保存。").wait_for()
    page.get_by_role("button", name="发布需求").click()
    page.get_by_text("需求已发布").wait_for()

    as_(visit, "donghai")
    visit.open("/demands")
    assert visit.axe_violations() == []
    row = page.locator("tr", has_text=TITLE)
    assert "123.6 万元" in row.inner_text() and "2099年5月1日 24:00" in row.inner_text()
    row.get_by_role("link", name=TITLE).click()
    page.wait_for_load_state()
    assert "¥800,000.00 至 ¥1,236,000.00" in page.inner_text("main")
    page.fill("#proposal-summary", "本校硬碳负极技术首效达91%，已完成中试。")
    page.locator("input[name=listing_ids]").first.check()
    assert visit.axe_violations() == []
    page.get_by_role("button", name="提交方案").click()
    page.get_by_text("解决方案已提交").wait_for()

    as_(visit, "guneng")
    visit.open("/workspace/demands")
    page.get_by_role("link", name=TITLE).click()
    page.wait_for_load_state()
    card = page.locator("section.card", has_text="本校硬碳负极技术")
    assert "东海理工大学" in card.inner_text() and "挂牌 " in card.inner_text()
    assert visit.axe_violations() == []
    card.locator("input[name=reason]").fill("比容量未达到320mAh/g")
    card.get_by_role("button", name="婉拒").click()
    page.get_by_text("已婉拒该方案").wait_for()

    as_(visit, "donghai")
    visit.open("/workspace/proposals")
    mine = page.locator("tr", has_text=TITLE)
    assert "未采纳" in mine.inner_text() and "比容量未达到320mAh/g" in mine.inner_text()
