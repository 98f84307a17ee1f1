"""The live auction page: what the public and a participant see, a bid from the page accepted or
refused in Chinese through the same service as the API, and the page's stream that anonymises
every bidder for the public."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import timedelta

import httpx
import pytest

from tests.api.test_auction_stream import ASKING, STEP, bid, closed_auction, parse
from tests.api.test_deal_suspension import deal_awaiting_signatures
from tests.helpers import verified
from tests.page_helpers import browser_of
from tests.trading_helpers import API, advance, open_auction_with_two_bidders

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def form_key(page: str) -> str:
    found = re.search(r'name="key" id="bid-key" value="([0-9a-f]+)"', page)
    assert found, "the page has no bid form"
    return found.group(1)


async def bid_from_page(visitor: httpx.AsyncClient, auction_id: str, amount: str, key: str) -> httpx.Response:
    return await visitor.post(
        f"/auctions/{auction_id}/bids",
        data={"amount": amount, "key": key},
        headers={"HX-Request": "true", "X-CSRFToken": visitor.cookies["techx_csrf"]},
    )


async def test_the_public_watches_an_open_auction_with_every_bidder_anonymised(client, app):
    auction, _, a, b = await open_auction_with_two_bidders(client, app)
    await bid(client, a, auction["id"], ASKING)
    await bid(client, b, auction["id"], ASKING + STEP)
    # The JSON API stays for participants only.
    assert (await client.get(f"{API}/auctions/{auction['id']}")).status_code == 401

    async with browser_of(app) as public:
        page = await public.get(f"/auctions/{auction['id']}")
    assert page.status_code == 200
    text = page.text
    assert "竞价中" in text
    assert "¥505,000.00" in text  # the high bid
    assert "¥510,000.00" in text  # the next minimum bid, first of the grid
    assert "¥530,000.00" in text  # the fifth amount of the grid
    assert "竞买人 1" in text and "竞买人 2" in text and "您" not in re.sub(r"您的|您为|请您", "", text)
    assert 'data-countdown="' in text and "+08:00" in text  # Beijing time for the countdown
    assert 'id="bid-form"' not in text
    assert f"/login?next=/auctions/{auction['id']}" in text
    assert page.headers["cache-control"] == "private, max-age=0, must-revalidate"  # kept until the next bid


async def test_a_participant_sees_its_own_bids_as_yours_and_the_bid_form(client, app):
    auction, _, a, _ = await open_auction_with_two_bidders(client, app)
    await bid(client, a, auction["id"], ASKING)
    async with browser_of(app, a) as bidder:
        page = await bidder.get(f"/auctions/{auction['id']}")
    assert "<td>您</td>" in page.text
    assert 'id="bid-form"' in page.text and 'id="bid-amount"' in page.text
    assert 'value="505000"' in page.text  # the minimum, in yuan, ready in the form


async def test_a_signed_in_outsider_only_watches(client, app):
    auction, seller, _, _ = await open_auction_with_two_bidders(client, app)
    async with browser_of(app, seller) as visitor:
        page = await visitor.get(f"/auctions/{auction['id']}")
    assert page.status_code == 200
    assert 'id="bid-form"' not in page.text
    assert "只能观看竞价" in page.text


async def test_a_bid_from_the_page_is_accepted_and_a_too_low_one_refused_in_chinese(client, app):
    auction, _, a, b = await open_auction_with_two_bidders(client, app)
    async with browser_of(app, a) as bidder:
        page = await bidder.get(f"/auctions/{auction['id']}")
        key = form_key(page.text)
        accepted = await bid_from_page(bidder, auction["id"], "500,000", key)
        assert accepted.status_code == 201, accepted.text
        assert "出价已受理：¥500,000.00" in accepted.text
        new_key = form_key(accepted.text)  # the form's next key, swapped in out of band
        assert new_key != key

        # The same submission again (a double click) is the same bid, not a second one.
        again = await bid_from_page(bidder, auction["id"], "500,000", key)
        assert again.status_code == 201 and "重复提交" in again.text

        too_low = await bid_from_page(bidder, auction["id"], "500000", new_key)
        assert too_low.status_code == 422
        assert "出价须不低于 ¥505,000.00" in too_low.text
        assert "fen" not in too_low.text  # the refusal in Chinese and yuan only
        off_grid = await bid_from_page(bidder, auction["id"], "505,001.50", new_key)
        assert off_grid.status_code == 422 and "加价幅度 ¥5,000.00 的整数倍" in off_grid.text
        not_yuan = await bid_from_page(bidder, auction["id"], "五十万", new_key)
        assert not_yuan.status_code == 400 and "以元为单位" in not_yuan.text
        corrected = await bid_from_page(bidder, auction["id"], "505000", new_key)  # the key a refusal left free
        assert corrected.status_code == 201 and "出价已受理：¥505,000.00" in corrected.text

    bids = (await client.get(f"{API}/auctions/{auction['id']}/bids", headers=b.headers)).json()["items"]
    assert [(x["amount"], x["bidder"]) for x in bids] == [(ASKING + STEP, "bidder 1"), (ASKING, "bidder 1")]

    async with browser_of(app) as public:
        await public.get(f"/auctions/{auction['id']}")  # the page that sets the CSRF cookie
        refused = await bid_from_page(public, auction["id"], "510000", "k1")
    assert refused.status_code == 401 and "请先登录" in refused.text


async def test_a_bid_after_the_end_is_refused_in_chinese(client, app):
    auction, _, a, _ = await open_auction_with_two_bidders(client, app)
    async with browser_of(app, a) as bidder:
        key = form_key((await bidder.get(f"/auctions/{auction['id']}")).text)
        app.state.clock.advance(timedelta(minutes=40))  # past the end, not the sweep: still open in the database
        late = await bid_from_page(bidder, auction["id"], "500000", key)
    assert late.status_code == 409 and "竞价已结束" in late.text


async def test_the_public_stream_labels_every_bidder_and_a_closed_page_shows_the_result(client, app):
    auction_id, _, _, b = await closed_auction(client, app)
    async with browser_of(app) as public:
        response = await asyncio.wait_for(public.get(f"/auctions/{auction_id}/live"), 10)
        assert response.status_code == 200
        events = parse(response.content)
        page = await public.get(f"/auctions/{auction_id}")
    assert [name for _, name, _ in events] == ["snapshot", "closed"]
    snapshot, closed = events[0][2], events[1][2]
    assert snapshot["high_bidder"] == "bidder 2" and closed["winner"] == "bidder 2"
    assert "竞价已结束：成交价 ¥505,000.00，买受人 竞买人 2" in page.text
    assert 'id="bid-form"' not in page.text

    # A participant's page stream still names its own bids "you"; resumed, it replays what was missed.
    async with browser_of(app, b) as winner:
        response = await asyncio.wait_for(winner.get(f"/auctions/{auction_id}/live?after=0.1"), 10)
    seen = parse(response.content)
    assert [(i, name) for i, name, _ in seen] == [
        (None, "snapshot"),
        ("1", "bid"),
        ("2", "bid"),
        ("2.1", "extended"),
        ("2.2", "closed"),
    ]
    assert [d["bidder"] for _, name, d in seen if name == "bid"] == ["bidder 1", "you"]
    assert seen[-1][2]["winner"] == "you"


async def test_an_unknown_auction_is_a_chinese_404(client):
    page = await client.get("/auctions/00000000-0000-0000-0000-000000000001", headers={"accept": "text/html"})
    assert page.status_code == 404 and "页面不存在" in page.text
    stream = await client.get("/auctions/00000000-0000-0000-0000-000000000001/live")
    assert stream.status_code == 404


async def test_deal_results_list_the_published_results_and_a_certificate_is_for_the_parties(client, app):
    deal, ops, seller, buyer = await deal_awaiting_signatures(client, app)
    async with browser_of(app) as public:
        open_results = await public.get("/deals/results")
        closed_results = await public.get("/deals/results?status=closed&from=singlemessage")
        bad = await public.get("/deals/results?status=nonsense", headers={"accept": "text/html"})
        anonymous = await public.get(f"/deals/{deal['id']}/certificate")
    assert "暂无公示中的成交结果" in open_results.text  # the result notice has closed
    assert closed_results.status_code == 200
    assert f'href="/notices/{deal["notice_id"]}"' in closed_results.text
    assert "¥500,000.00" in closed_results.text and "网络竞价" in closed_results.text
    assert bad.status_code == 400 and "请求" in bad.text
    assert anonymous.status_code == 401 and "请先登录" in anonymous.text

    async with browser_of(app, buyer) as party:
        unsigned = await party.get(f"/deals/{deal['id']}/certificate")
        assert unsigned.status_code == 409
        for signer in (seller, buyer):
            signed = await client.post(f"{API}/deals/{deal['id']}/sign", json={}, headers=signer.headers)
            assert signed.status_code == 200, signed.text
        page = await party.get(f"/deals/{deal['id']}/certificate")
    certificate = (await client.get(f"{API}/deals/{deal['id']}/certificate", headers=buyer.headers)).json()
    assert page.status_code == 200
    assert f'data-signature="{certificate["signature"]}"' in page.text
    assert f'data-key-id="{certificate["key_id"]}"' in page.text
    signed_text = re.search(r'<pre class="signed" id="signed-content" tabindex="0">(.*?)</pre>', page.text, re.S)
    assert signed_text and html.unescape(signed_text.group(1)) == certificate["signed_content"]
    assert "成交价</dt><dd>¥500,000.00" in page.text and "离线验证方法" in page.text

    async with browser_of(app, await verified(client, ops)) as outsider:
        assert (await outsider.get(f"/deals/{deal['id']}/certificate")).status_code == 404


async def test_the_auction_of_a_withdrawn_listing_is_no_longer_watched_by_the_public(client, app):
    auction, seller, a, b = await open_auction_with_two_bidders(client, app)
    await advance(app, client, timedelta(minutes=40), seller, a, b)  # closed without a bid: unsold
    withdrawn = await client.post(f"{API}/listings/{auction['listing_id']}/withdraw", json={}, headers=seller.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    async with browser_of(app) as public:
        assert (await public.get(f"/auctions/{auction['id']}")).status_code == 404
        assert (await public.get(f"/auctions/{auction['id']}/live")).status_code == 404
    for party in (seller, a):  # the API's readers still see it
        async with browser_of(app, party) as reader:
            page = await reader.get(f"/auctions/{auction['id']}")
        assert page.status_code == 200 and "无人出价，本次竞价流拍" in page.text
