"""A university's transfer process in a real browser, on the demo exchange: the office (the
university's admin) takes the roles of the steps on the settings page, discloses an achievement
through the form, and clicks it through 初审, 评估 and 论证 to an approved 决策 — a floor price
below the appraisal refused first, in Chinese, next to its input. Each page passes axe."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def submit(visit: Visit, button: str, answer: str) -> None:
    visit.page.get_by_role("button", name=button, exact=True).click()
    visit.page.get_by_text(answer).first.wait_for()


def test_a_disclosure_clicked_through_to_an_approved_decision(visit: Visit) -> None:
    page = visit.page
    visit.sign_in("donghai")
    visit.open("/workspace/transfers/settings")
    assert page.get_by_role("heading", name="转化设置", exact=True).is_visible()
    assert visit.axe_violations() == []
    for role, words in (("evaluator", "评估人员"), ("expert_panel", "专家论证组"), ("decision_body", "决策机构")):
        me = page.locator("#grant-user_id option", has_text="陈静").first.get_attribute("value")
        page.select_option("#grant-user_id", me)
        page.select_option("#grant-role", role)
        page.get_by_role("button", name="授予", exact=True).click()
        page.locator("table tr", has_text=words).filter(has_text="陈静").wait_for()  # the demo grants others too
    assert page.locator("table").inner_text().count("陈静") == 4  # the office, and the three granted

    page.get_by_role("link", name="新建披露").click()
    page.wait_for_load_state()
    assert visit.axe_violations() == []
    page.fill("#disclosure-title", "柔性钙钛矿太阳能电池封装技术")
    page.select_option("#disclosure-field", "new_energy")
    page.fill("#disclosure-keywords", "钙钛矿、封装")
    page.select_option("#disclosure-maturity", "4")
    page.select_option("#disclosure-ip_assets-0-kind", "invention_patent")
    page.fill("#disclosure-ip_assets-0-number", "ZL202310777777.1")
    page.fill("#disclosure-ip_assets-0-title", "一种柔性钙钛矿电池的封装方法")
    page.fill("#disclosure-ip_assets-0-expires_on", "2043-08-01")
    page.fill("#disclosure-inventors-0-name", "林海")
    page.fill("#disclosure-inventors-0-affiliation", "能源学院")
    page.fill("#disclosure-inventors-0-share_bp", "60")
    page.fill("#disclosure-inventors-1-name", "韩雪")
    page.fill("#disclosure-inventors-1-affiliation", "能源学院")
    page.fill("#disclosure-inventors-1-share_bp", "30")
    page.get_by_role("button", name="提交披露并发起流程").click()
    refusal = page.locator("#disclosure-inventors-error")
    refusal.wait_for()
    assert "合计须恰好为 100%" in refusal.inner_text()
    assert visit.axe_violations() == []
    page.fill("#disclosure-inventors-1-share_bp", "40")
    submit(visit, "提交披露并发起流程", "披露已提交，转化流程已发起。")
    assert "/workspace/transfers/" in page.url

    page.check("#first_review-complete")
    page.check("#first_review-institution_owns")
    submit(visit, "初审通过", "本环节已办理，流程进入下一环节。")

    page.select_option("#evaluation-kind", "external")
    page.fill("#evaluation-appraised_value", "2,000,000")
    page.fill("#evaluation-appraiser", "申城资产评估事务所")
    page.fill("#evaluation-report_number", "申评报字[2026]第018号")
    page.fill("#evaluation-report_date", "2024-06-01")
    submit(visit, "提交评估结果", "本环节已办理，流程进入下一环节。")
    assert visit.axe_violations() == []

    for i, name in enumerate(("王教授", "赵研究员", "钱总工")):
        page.fill(f"#expert_review-experts-{i}-name", name)
        page.fill(f"#expert_review-experts-{i}-opinion", "技术成熟，市场前景良好。")
        page.select_option(f"#expert_review-experts-{i}-vote", "approve")
    submit(visit, "提交论证结果", "本环节已办理，流程进入下一环节。")

    page.fill("#decision-minutes", "东海理工大学成果转化工作领导小组2026年第3次会议纪要")
    page.fill("#decision-decision_makers-0-name", "陈校长")
    page.select_option("#decision-decision_makers-0-vote", "approve")
    page.fill("#decision-decision_makers-1-name", "刘处长")
    page.select_option("#decision-decision_makers-1-vote", "approve")
    page.select_option("#decision-pricing", "listed")
    page.fill("#decision-floor_price", "1,500,000")
    page.get_by_role("button", name="批准转化").click()
    low = page.locator("#decision-floor_price-error")
    low.wait_for()
    assert "不得低于评估值" in low.inner_text()
    assert page.locator("#decision-floor_price").get_attribute("aria-invalid") == "true"
    assert visit.axe_violations() == []
    page.fill("#decision-floor_price", "2,000,000")
    submit(visit, "批准转化", "本环节已办理，流程进入下一环节。")

    bar = page.locator("ol.stepbar")
    assert bar.locator("li.done").count() == 5
    assert "公示" in bar.locator("li[aria-current=step]").inner_text()
    assert "底价 ¥2,000,000.00" in page.locator("#work").inner_text()
    assert page.locator("#transfer-notice").is_visible()
    assert visit.axe_violations() == []
