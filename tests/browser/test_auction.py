"""The live auction and the deals' pages in a real browser, on the demo exchange.

A bid placed by another client appears on an open page within a second; a bid from the page by a
signed-in intent holder is answered in place (accepted, or refused in Chinese); a certificate's
signature verifies in the browser and a tampered one fails. The tests that move the server's clock
(an anti-sniping extension, the close) come last: the demo's auction is live in real time.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from exchange.server.demo.data import DEMO_PASSWORD
from listings.workdays import BEIJING
from tests.browser.conftest import EMAILS, Visit
from tests.e2e.conftest import Api, parse_time

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ANSWER_MS = 5_000  # how long a page may take to answer a form (a refusal, an acceptance)


def token(api: Api, who: str) -> str:
    return api.login(EMAILS[who], DEMO_PASSWORD)


@pytest.fixture(scope="module")
def auction_id(api: Api) -> str:
    """The demo's live auction, open for bids (on a day without one, the clock moves to its opening)."""
    (listing,) = api.ok("GET", "/listings", params={"status": "auctioning"})["items"][:1]
    bidder = token(api, "xinxun")
    auction = api.ok("GET", f"/listings/{listing['id']}/auction", bidder)
    if auction["status"] == "scheduled":
        api.advance_past(token(api, "ops"), auction["starts_at"])
    return str(auction["id"])


def auction_now(api: Api, auction_id: str, who: str = "xinxun") -> dict[str, Any]:
    return api.ok("GET", f"/auctions/{auction_id}", token(api, who))


def bid_by_api(api: Api, auction_id: str, who: str) -> dict[str, Any]:
    """A bid at the minimum by another client, through the JSON API."""
    bidder = token(api, who)
    minimum = api.ok("GET", f"/auctions/{auction_id}", bidder)["minimum_next_bid"]
    return api.ok(
        "POST",
        f"/auctions/{auction_id}/bids",
        bidder,
        json={"amount": minimum},
        headers={"Idempotency-Key": f"browser-{who}-{minimum}"},
        status=201,
    )


def open_live(visit: Visit, auction_id: str) -> None:
    visit.open(f"/auctions/{auction_id}")
    visit.page.wait_for_selector("#auction[data-live='yes']", timeout=5_000)


def test_a_bid_by_another_client_appears_on_the_open_page_within_a_second(visit: Visit, api: Api, auction_id: str):
    open_live(visit, auction_id)
    assert visit.page.locator("h1").inner_text()
    assert visit.page.locator("#auction-status").inner_text() == "竞价中"
    assert "登录" in visit.page.locator("#bidding").inner_text()  # the public watches: no form
    assert visit.page.locator("#bid-form").count() == 0

    placed = bid_by_api(api, auction_id, "xinxun")
    started = time.monotonic()
    row = visit.page.locator(f"#bids tr[data-seq='{placed['seq']}']")
    row.wait_for(timeout=1_000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    # Anonymised for the public, in yuan, and the figures follow.
    cells = row.locator("td").all_inner_texts()
    assert cells[1].startswith("竞买人 ")
    amount = f"¥{placed['amount'] // 100:,}.{placed['amount'] % 100:02d}"
    assert cells[2] == amount
    assert visit.page.locator("#high-amount").inner_text() == amount
    increment = auction_now(api, auction_id)["increment"]
    following = placed["amount"] + increment
    assert visit.page.locator("#minimum-bid").inner_text() == f"¥{following // 100:,}.{following % 100:02d}"


def test_an_intent_holder_bids_from_the_page_and_a_too_low_bid_is_refused_in_chinese(
    visit: Visit, api: Api, auction_id: str
):
    visit.sign_in("zhizao")
    open_live(visit, auction_id)
    visit.page.on("dialog", lambda dialog: dialog.accept())  # the confirmation of the amount
    shown = auction_now(api, auction_id, "zhizao")

    too_low = shown["high_amount"] or shown["asking_price"] - shown["increment"]
    visit.page.fill("#bid-amount", str(too_low // 100))
    visit.page.click("#bid-form button[type=submit]")
    refusal = visit.page.locator("#bid-answer [role=alert]")
    refusal.wait_for(timeout=ANSWER_MS)
    assert "出价须不低于" in refusal.inner_text()

    visit.page.click("#grid button >> nth=0")  # the minimum, from the increment grid
    visit.page.click("#bid-form button[type=submit]")
    visit.page.locator("#bid-answer [data-answer=accepted]").wait_for(timeout=ANSWER_MS)
    minimum = shown["minimum_next_bid"]
    assert f"¥{minimum // 100:,}" in visit.page.locator("#bid-answer").inner_text()
    # The page's own bid comes back through the stream, as "您".
    mine = visit.page.locator(f"#bids tr[data-seq='{shown['bid_count'] + 1}'] td >> nth=1")
    mine.wait_for(timeout=1_000)
    assert mine.inner_text() == "您"
    assert auction_now(api, auction_id, "zhizao")["high_bidder"] == "you"


def certified_deal(api: Api) -> str:
    ops = token(api, "ops")
    for deal in api.ok("GET", "/deals", ops, params={"limit": 50})["items"]:
        if api.request("GET", f"/deals/{deal['id']}/certificate", ops).status_code == 200:
            return str(deal["id"])
    raise AssertionError("the demo has no deal with a certificate")


def test_a_certificate_verifies_in_the_browser_and_a_tampered_one_fails(visit: Visit, api: Api):
    deal_id = certified_deal(api)
    visit.open(f"/deals/{deal_id}/certificate")
    assert "请先登录" in visit.page.locator("main").inner_text()  # the parties' and operators' page
    visit.sign_in("ops")
    visit.open(f"/deals/{deal_id}/certificate")
    block = visit.page.locator("[data-verify]")
    visit.page.wait_for_selector("[data-verify][data-verified]", timeout=5_000)
    assert block.get_attribute("data-verified") == "yes"
    assert "签名有效" in block.inner_text()
    assert visit.axe_violations() == []

    visit.page.evaluate(
        "() => { const pre = document.getElementById('signed-content');"
        ' pre.textContent = pre.textContent.replace(/"price":\\s*(\\d)/, \'"price":9$1\'); }'
    )
    visit.page.evaluate("() => TechX.verify(document.querySelector('[data-verify]'))")
    visit.page.wait_for_selector("[data-verify][data-verified='no']", timeout=5_000)
    assert "签名无效" in block.inner_text()


def test_the_deal_results_list_the_published_results(visit: Visit):
    visit.open("/deals/results?status=closed")
    rows = visit.page.locator("main table tbody tr")
    assert rows.count() >= 1
    assert "¥" in rows.first.inner_text()
    assert visit.page.locator("header nav a[aria-current=page]").inner_text() == "成交结果"
    assert visit.axe_violations() == []


def test_the_auction_page_has_no_serious_accessibility_violation(visit: Visit, auction_id: str):
    visit.open(f"/auctions/{auction_id}")
    assert visit.axe_violations() == []
    visit.sign_in("guneng")
    visit.open(f"/auctions/{auction_id}")
    assert visit.page.locator("#bid-form").count() == 1
    assert visit.axe_violations() == []


def test_the_pages_fit_a_phone(phone: Visit, auction_id: str):
    for path in (f"/auctions/{auction_id}", "/deals/results?status=closed"):
        phone.open(path)
        assert phone.horizontal_overflow() <= 0, path
    phone.sign_in("xinxun")
    phone.open(f"/auctions/{auction_id}")
    assert phone.horizontal_overflow() <= 0


# -- these move the server's clock: last in the module ----------------------------------------------


def test_a_late_bid_extends_the_auction_and_the_countdown_moves(visit: Visit, api: Api, auction_id: str):
    ops = token(api, "ops")
    before = auction_now(api, auction_id)
    to_last_minutes = int((parse_time(before["ends_at"]) - api.now(ops)).total_seconds()) - 120
    if to_last_minutes > 0:
        api.advance(ops, seconds=to_last_minutes)  # two minutes before the end
    open_live(visit, auction_id)
    countdown = visit.page.locator("#countdown")
    shown_end = countdown.get_attribute("data-countdown")
    assert parse_time(shown_end) == parse_time(before["ends_at"])
    assert visit.page.locator("#extended").is_hidden()

    bid_by_api(api, auction_id, "guneng")
    notice = visit.page.locator("#extended")
    notice.wait_for(state="visible", timeout=1_000)
    after = auction_now(api, auction_id)
    assert parse_time(after["ends_at"]) > parse_time(before["ends_at"])
    assert parse_time(countdown.get_attribute("data-countdown")) == parse_time(after["ends_at"])
    beijing = parse_time(after["ends_at"]).astimezone(BEIJING)
    assert notice.inner_text() == f"竞价延时至 {beijing:%H:%M:%S}"


def test_the_close_shows_the_result_without_a_reload(visit: Visit, api: Api, auction_id: str):
    open_live(visit, auction_id)
    visit.page.evaluate("() => { window.stillTheSamePage = true; }")
    ops = token(api, "ops")
    api.advance_past(ops, auction_now(api, auction_id)["ends_at"])  # the sweeper closes it
    result = visit.page.locator("#result .answer")
    result.wait_for(timeout=5_000)
    closed = api.ok("GET", f"/auctions/{auction_id}", token(api, "guneng"))
    assert closed["status"] == "closed"
    amount = closed["high_amount"]
    assert f"成交价 ¥{amount // 100:,}.{amount % 100:02d}" in result.inner_text()
    assert "买受人 竞买人 " in result.inner_text()
    assert visit.page.locator("#auction-status").inner_text() == "已结束"
    assert visit.page.locator("#countdown").inner_text() == "已结束"
    assert visit.page.locator("#bidding").count() == 0
    assert visit.page.evaluate("() => window.stillTheSamePage === true")
