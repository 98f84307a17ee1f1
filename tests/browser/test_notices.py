"""The notice board in a real browser on the demo exchange: the board, a notice's signature verified
(and a tampered one failing) with WebCrypto, objections through the page, accessibility, phones."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.server.demo.data import DEMO_PASSWORD
from tests.browser.conftest import EMAILS, Visit
from tests.e2e.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def quiet_notice(api: Api) -> dict[str, Any]:
    """An open listing announcement nobody has objected to yet (so no organisation has used its objections)."""
    board = api.ok("GET", "/notices", params={"kind": "listing_announcement", "limit": 100})["items"]
    quiet = [n for n in board if n["objection_count"] == 0]
    assert quiet, "the demo has an open announcement without objections"
    return max(quiet, key=lambda n: n["closes_at"])


def verified_state(visit: Visit) -> str:
    visit.page.wait_for_selector("#verify[data-verified]")
    return str(visit.page.get_attribute("#verify", "data-verified"))


def test_the_board_shows_open_notices_in_chinese(visit: Visit, api: Api) -> None:
    open_ids = {n["id"] for n in api.ok("GET", "/notices", params={"limit": 100})["items"]}
    assert open_ids, "the demo has open notices"
    response = visit.open("/notices?status=open&from=singlemessage")
    assert response.status == 200
    rows = visit.page.locator("#notice-board tbody tr")
    shown = {rows.nth(i).get_attribute("data-notice-id") for i in range(rows.count())}
    assert shown and shown <= open_ids
    assert "公示中" in rows.first.inner_text() and "个工作日" in visit.page.locator("#notice-board").inner_text()
    # The filter form works without scripts: choose a kind, submit, the URL carries it.
    visit.page.select_option("#f-kind", "listing_announcement")
    visit.page.click("form.filters button[type=submit]")
    visit.page.wait_for_load_state()
    assert "kind=listing_announcement" in visit.page.url
    kinds = visit.page.locator("#notice-board tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"挂牌公告"}


def test_a_notice_signature_verifies_in_the_browser_and_a_tampered_one_fails(
    visit: Visit, quiet_notice: dict[str, Any]
) -> None:
    visit.open(f"/notices/{quiet_notice['id']}")
    assert verified_state(visit) == "yes"
    assert "签名有效" in visit.page.locator("[data-verify-status]").inner_text()

    # The signed text changed by one character: the same check fails, in red.
    visit.page.evaluate(
        "async () => { const pre = document.getElementById('signed-content');"
        ' pre.textContent = pre.textContent.replace(\'"title":"\', \'"title":"改\'); '
        " await TechX.verify(document.querySelector('[data-verify]')); }"
    )
    assert visit.page.get_attribute("#verify", "data-verified") == "no"
    assert "签名无效" in visit.page.locator("[data-verify-status]").inner_text()
    assert "bad" in (visit.page.get_attribute("#verify", "class") or "")

    # The text intact but another signature: fails as well.
    visit.open(f"/notices/{quiet_notice['id']}")
    assert verified_state(visit) == "yes"
    visit.page.evaluate(
        "async () => { const block = document.querySelector('[data-verify]');"
        " const sig = block.getAttribute('data-signature');"
        " block.setAttribute('data-signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));"
        " await TechX.verify(block); }"
    )
    assert visit.page.get_attribute("#verify", "data-verified") == "no"
    assert "签名无效" in visit.page.locator("[data-verify-status]").inner_text()


def test_an_objection_through_the_page_is_accepted_and_a_fourth_is_refused(
    visit: Visit, api: Api, quiet_notice: dict[str, Any]
) -> None:
    notice_id = quiet_notice["id"]
    visit.open(f"/notices/{notice_id}")
    assert visit.page.locator("#objection").get_by_role("link", name="登录").is_visible()  # anonymous: sign in

    visit.sign_in("zhizao")
    visit.open(f"/notices/{notice_id}")
    visit.page.fill("#reason", "该专利与我司在先申请的技术方案高度相似，请核查权属。")
    visit.page.click("#objection form button[type=submit]")
    answer = visit.page.wait_for_selector("#objection-answer [data-answer=accepted]")
    assert "异议已提交" in answer.inner_text()
    assert visit.page.url.endswith(f"/notices/{notice_id}")  # shown in place, no reload

    # The organisation objects twice more (each dismissed by an operator in between).
    ops = api.login(EMAILS["ops"], DEMO_PASSWORD)
    zhizao = api.login(EMAILS["zhizao"], DEMO_PASSWORD)

    def dismiss_pending() -> None:
        mine = api.ok("GET", "/objections", zhizao, params={"notice_id": notice_id, "status": "pending"})["items"]
        assert len(mine) == 1
        api.ok("POST", f"/objections/{mine[0]['id']}/resolve", ops, json={"decision": "dismissed", "note": "不成立"})

    for _ in range(2):
        dismiss_pending()
        api.ok("POST", f"/notices/{notice_id}/objections", zhizao, json={"reason": "再次提出异议，理由同上。"})
    dismiss_pending()

    visit.open(f"/notices/{notice_id}")
    assert "共 3 项异议" in visit.page.locator("#objection-counts").inner_text()
    visit.page.fill("#reason", "第四次提出异议，理由同上。")
    visit.page.click("#objection form button[type=submit]")
    refused = visit.page.wait_for_selector("#objection-answer [role=alert]")
    assert "同一机构对一则公示最多提出 3 次异议" in refused.inner_text()


def test_board_and_notice_have_no_serious_accessibility_violation(visit: Visit, quiet_notice: dict[str, Any]) -> None:
    visit.open("/notices")
    assert visit.axe_violations() == []
    visit.open(f"/notices/{quiet_notice['id']}")
    verified_state(visit)
    assert visit.axe_violations() == []


def test_phone_shows_the_board_and_a_notice_without_sideways_scrolling(
    phone: Visit, quiet_notice: dict[str, Any]
) -> None:
    phone.open("/notices")
    assert phone.horizontal_overflow() <= 0
    phone.open(f"/notices/{quiet_notice['id']}")
    assert verified_state(phone) == "yes"
    assert phone.horizontal_overflow() <= 0
