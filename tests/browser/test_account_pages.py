"""A forgotten password in a real browser: from the sign-in page's link, through the mailed link, to
signing in with the new password."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import Visit
from tests.e2e.conftest import Api, ServerProcess
from tests.helpers import PASSWORD, mailed_token_at, sign_up_body

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NEW_PASSWORD = "a-new-staircase-lamp"


def test_a_forgotten_password_is_reset_from_the_sign_in_page(
    visit: Visit, api: Api, demo_server: ServerProcess
) -> None:
    email = f"reset-{uuid.uuid4().hex[:8]}@example.cn"
    api.sign_up(sign_up_body(email, name="找回密码测试机构"))

    visit.open("/login")
    visit.page.get_by_role("link", name="忘记密码？").click()
    visit.page.wait_for_load_state()
    assert visit.page.url.endswith("/password-reset")
    assert visit.axe_violations() == []
    visit.page.fill("#email", email)
    visit.page.get_by_role("button", name="发送重置链接").click()
    assert "如果该邮箱已注册，我们已发送重置链接" in visit.page.locator("[role=status]").inner_text()

    token = mailed_token_at(demo_server.database_url, "account.password_reset", email)
    visit.open(f"/password-reset?token={token}")
    assert visit.axe_violations() == []
    visit.page.fill("#new_password", NEW_PASSWORD)
    visit.page.fill("#new_password_again", NEW_PASSWORD)
    visit.page.get_by_role("button", name="设置新密码").click()
    visit.page.wait_for_load_state()
    assert "/login" in visit.page.url
    assert "所有设备上的登录均已退出" in visit.page.locator("[role=status]").inner_text()

    visit.page.fill("#email", email)
    visit.page.fill("#password", PASSWORD)  # the old one no longer opens the account
    visit.page.click("form[action='/login'] button[type=submit]")
    assert "邮箱或密码不正确" in visit.page.locator("[role=alert]").inner_text()
    visit.page.fill("#email", email)
    visit.page.fill("#password", NEW_PASSWORD)
    visit.page.click("form[action='/login'] button[type=submit]")
    visit.page.wait_for_load_state()
    assert visit.page.locator("header .org").inner_text() == "找回密码测试机构"
