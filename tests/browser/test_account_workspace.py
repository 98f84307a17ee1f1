"""The account pages in a real browser, on the demo exchange: an admin invites a colleague in place,
the last admin's stepping down is refused in Chinese in place; the members and the sessions pages
pass axe and fit a phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NEWCOMER = "newcomer@qinghuan.demo.cn"


def test_an_admin_invites_and_the_last_admin_stays(visit: Visit, phone: Visit) -> None:
    visit.sign_in("qinghuan")
    visit.open("/workspace/members")
    assert visit.page.get_by_role("heading", name="成员", exact=True).is_visible()
    assert "黄蕾" in visit.page.locator("table.members").inner_text()
    assert visit.axe_violations() == []

    visit.page.fill("#invite-email", NEWCOMER)
    visit.page.select_option("#invite-role", "member")
    visit.page.get_by_role("button", name="发送邀请").click()
    visit.page.get_by_text("邀请已发送到对方邮箱。").wait_for()
    assert NEWCOMER in visit.page.locator("table.invitations").inner_text()  # the list redrawn in place
    assert visit.axe_violations() == []

    visit.page.get_by_role("button", name="卸任管理员").click()  # the only admin
    refusal = visit.page.locator("table.members [role=alert]")
    refusal.wait_for()
    assert "机构至少要保留一位管理员" in refusal.inner_text()
    assert "管理员" in visit.page.locator("table.members tbody tr").first.inner_text()

    phone.sign_in("qinghuan")
    for path in ("/workspace/members", "/workspace/sessions"):
        phone.open(path)
        assert phone.horizontal_overflow() == 0, path
        assert phone.axe_violations() == [], path
    assert phone.page.locator("tr[data-current=true]").get_by_text("当前设备").is_visible()
