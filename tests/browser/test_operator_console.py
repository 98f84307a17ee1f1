"""The operators' review queue in a real browser: a listing a university submitted is approved from
the queue, the answer shown in place; the page passes axe and fits a phone."""

from __future__ import annotations

import pytest

from exchange.server.demo.data import DEMO_PASSWORD
from tests.browser.conftest import EMAILS, Visit
from tests.e2e.conftest import Api
from tests.helpers import listing_body

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TITLE = "低温等离子体废气处理装置"


def test_an_operator_approves_a_submitted_listing_from_the_review_queue(visit: Visit, phone: Visit, api: Api) -> None:
    seller = api.login(EMAILS["donghai"], DEMO_PASSWORD)
    listing = api.ok("POST", "/listings", seller, json=listing_body(title=TITLE))
    api.ok("POST", f"/listings/{listing['id']}/submit", seller)

    visit.sign_in("ops")
    visit.open("/console/reviews")
    card = visit.page.locator(f"[data-listing-id='{listing['id']}']")
    assert TITLE in card.inner_text() and "东海理工大学技术转移中心" in card.inner_text()
    assert visit.page.locator(".workspace-nav a[aria-current='page']").inner_text() == "挂牌审核"
    assert visit.axe_violations() == []

    card.get_by_role("button", name="审核通过").click()
    answer = card.locator("[role=status]")
    answer.wait_for()
    assert "挂牌已审核通过" in answer.inner_text()
    assert visit.page.url.endswith("/console/reviews")  # answered in place, no navigation
    assert api.ok("GET", f"/listings/{listing['id']}")["status"] == "announced"

    phone.sign_in("ops")
    phone.open("/console/reviews")
    assert phone.horizontal_overflow() == 0
    assert phone.axe_violations() == []
