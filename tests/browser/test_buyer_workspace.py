"""A negotiation in a real browser, on the demo exchange: the buyer finds the seller's counter-offer
waiting on its purchases, answers with a counter-offer of its own in place, and the seller sees it
waiting for an answer. Every page passes axe's WCAG 2.1 A/AA checks and fits a phone."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.server.demo.data import DEMO_PASSWORD
from tests.browser.conftest import EMAILS, Visit
from tests.e2e.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ANSWER_MS = 5_000


def token(api: Api, who: str) -> str:
    return api.login(EMAILS[who], DEMO_PASSWORD)


@pytest.fixture(scope="module")
def thread(api: Api) -> dict[str, Any]:
    """The demo's negotiation of 固能 (buyer) with 新讯 (seller), the seller's counter-offer standing."""
    buyer = token(api, "guneng")
    for listing in api.ok("GET", "/listings", params={"status": "negotiating"})["items"]:
        for found in api.ok("GET", f"/listings/{listing['id']}/negotiations", buyer)["items"]:
            standing = next(o for o in found["offers"] if o["id"] == found["standing_offer_id"])
            if standing["side"] == "seller":
                return found
    raise AssertionError("the demo has no negotiation waiting for 固能's answer")


def test_a_buyer_counters_in_place_and_the_seller_sees_it_waiting(
    visit: Visit, phone: Visit, api: Api, thread: dict[str, Any]
) -> None:
    path = f"/workspace/negotiations/{thread['id']}"
    visit.sign_in("guneng")
    visit.open("/workspace/purchases")
    assert "待您答复报价" in visit.page.locator("main").inner_text()
    assert visit.axe_violations() == []
    visit.page.click(f"a[href='{path}']")
    visit.page.wait_for_load_state()
    assert visit.page.locator("h1").inner_text().startswith("议价：")
    offers_before = visit.page.locator("tr[data-offer]").count()
    assert visit.axe_violations() == []

    # A price that is not yuan is refused in place, in Chinese; a good one is answered in place.
    visit.page.fill("#counter-price", "九十万")
    visit.page.click("form[hx-post] button[type=submit]")
    visit.page.wait_for_selector("#offer-answer [data-problem='amount-not-yuan']", timeout=ANSWER_MS)
    assert "请以元为单位填写报价金额" in visit.page.locator("#offer-answer").inner_text()
    visit.page.fill("#counter-price", "870,000")
    visit.page.fill("#counter-note", "首付比例可提高到40%")
    visit.page.click("form[hx-post] button[type=submit]")
    visit.page.wait_for_selector("#offer-answer [data-answer='accepted']", timeout=ANSWER_MS)
    assert "报价已发出" in visit.page.locator("#offer-answer").inner_text()
    assert visit.page.locator("tr[data-offer]").count() == offers_before + 1
    assert "¥870,000.00" in visit.page.locator("#negotiation-panel").inner_text()
    assert visit.page.locator("#counter-price").count() == 0  # now the seller's turn
    assert visit.axe_violations() == []

    shown = api.ok("GET", f"/negotiations/{thread['id']}", token(api, "xinxun"))
    assert shown["offers"][-1]["price"] == 87_000_000 and shown["offers"][-1]["side"] == "buyer"

    phone.sign_in("xinxun")
    phone.open(path)
    text = phone.page.locator("main").inner_text()
    assert "答复对方报价：¥870,000.00" in text and "首付比例可提高到40%" in text
    assert phone.axe_violations() == []
    assert phone.horizontal_overflow() == 0
