"""The portal's frame in a real browser: Chinese, keyboard-reachable, offline, on a phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_home_renders_chinese_with_a_cjk_font_and_no_foreign_requests(visit: Visit) -> None:
    response = visit.open("/")
    assert response.status == 200
    assert visit.page.get_attribute("html", "lang") == "zh-CN"
    assert visit.page.locator("header nav").get_by_role("link", name="公示公告").is_visible()
    # The portal's own stylesheet applies (the header takes the brand colour).
    assert visit.page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor") == (
        "rgb(11, 79, 156)"
    )
    # A CJK glyph is drawn with a real width (a missing font draws empty boxes of another width).
    width = visit.page.evaluate(
        "() => { const c = document.createElement('canvas').getContext('2d'); c.font = '20px sans-serif';"
        " return c.measureText('公示').width; }"
    )
    assert width > 30


def test_signing_in_and_out_through_the_form(visit: Visit) -> None:
    visit.sign_in("zhizao")
    assert visit.page.locator("header .org").inner_text() == "苏州智造装备股份有限公司"
    visit.page.click("header button:has-text('退出')")
    visit.page.wait_for_load_state()
    assert visit.page.locator("header").get_by_role("link", name="登录").is_visible()


def test_a_wrong_password_is_told_in_chinese(visit: Visit) -> None:
    visit.open("/login")
    visit.page.fill("#email", "tech@zhizao.demo.cn")
    visit.page.fill("#password", "not-the-password")
    visit.page.click("form[action='/login'] button[type=submit]")
    assert "邮箱或密码不正确" in visit.page.locator("[role=alert]").inner_text()


def test_unknown_page_is_a_chinese_404(visit: Visit) -> None:
    response = visit.open("/no-such-page")
    assert response.status == 404
    assert visit.page.locator("h1").inner_text() == "页面不存在"


def test_frame_has_no_serious_accessibility_violation(visit: Visit) -> None:
    visit.open("/")
    assert visit.axe_violations() == []
    visit.open("/login")
    assert visit.axe_violations() == []


def test_phone_viewport_does_not_scroll_sideways(phone: Visit) -> None:
    phone.open("/")
    assert phone.horizontal_overflow() <= 0
