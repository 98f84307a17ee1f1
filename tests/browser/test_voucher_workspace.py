"""Vouchers in a real browser, on the demo exchange: an enterprise orders a testing service paid half
with its vouchers (a refusal first, in Chinese, in place), and the provider confirms the order on a
phone. The enterprise's page passes axe."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SERVICE = "新材料力学与热学性能检测"  # ¥60,000 by 长三角检验检测认证中心, in the demo


def test_an_enterprise_orders_with_vouchers_and_the_provider_confirms(visit: Visit, phone: Visit) -> None:
    visit.sign_in("guneng")
    visit.open("/workspace/vouchers")
    assert visit.page.get_by_role("heading", name="我的创新券", exact=True).is_visible()
    assert "东海市科技创新券（演示）" in visit.page.locator("#wallets-title + .table-wrap").inner_text()
    assert visit.axe_violations() == []

    visit.page.select_option(
        "#order-service", label=visit.page.locator("#order-service option", has_text=SERVICE).first.inner_text()
    )
    visit.page.fill("#order-voucher", "40,000")  # over half the price: refused in place
    visit.page.get_by_role("button", name="下单").click()
    refusal = visit.page.locator("#order-answer [role=alert]")
    refusal.wait_for()
    assert "创新券支付金额超过项目规定的比例" in refusal.inner_text()

    visit.page.fill("#order-voucher", "30,000")
    visit.page.get_by_role("button", name="下单").click()
    visit.page.get_by_text("订单已提交，等待服务机构确认。").wait_for()
    assert "/workspace/orders/" in visit.page.url  # the order's own address, pushed by htmx
    order_path = visit.page.url.split(visit.base_url, 1)[1]
    assert "待服务机构确认" in visit.page.locator("#work").inner_text()
    assert visit.axe_violations() == []

    phone.sign_in("jianyan")
    phone.open(order_path)
    phone.page.get_by_role("button", name="确认订单").click()
    phone.page.get_by_text("订单已确认").wait_for()
    assert phone.page.get_by_role("button", name="提交交付").is_visible()
    assert phone.horizontal_overflow() == 0
