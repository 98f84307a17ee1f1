"""The buyer's workspace and the pages both parties share, in process on SQLite: an intent registered
seeing the deposit and the balance, a negotiation offer by offer ending in a deal, both signatures,
the payment from the wallet, the deposits held and released, the certificate for the parties only."""

from __future__ import annotations

import re

import pytest

from tests.helpers import join, operator, verified
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.trading_helpers import API, announced, fund, intent, past_notice, to_end_of_announcement, wallet

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

START = 10_000_000  # ¥100,000: the deposit fits, the price does not


def deposit_badge(page: str, intent_id: str) -> str:
    row = page.split(f'id="intent-{intent_id}"', 1)[1].split("</tr>", 1)[0]
    found = re.search(r'data-deposit="([a-z]+)"', row)
    assert found, row
    return found.group(1)


async def test_a_buyer_negotiates_signs_and_pays_in_the_browser(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="上海交通大学")
    buyer = await verified(client, ops, name="星河科技")
    rival = await verified(client, ops, name="远景能源")
    stranger = await verified(client, ops, name="路人科技")
    for party in (buyer, rival):
        await fund(app, party, START)
    listing = await announced(client, seller, ops, deal_type="license", mode="negotiated")
    lid, deposit = listing["id"], listing["pricing"]["deposit"]
    assert 0 < deposit < START

    # The listing page shows the deposit to be held and the wallet's available balance before registering.
    async with browser_of(app, buyer) as page:
        shown = (await page.get(f"/listings/{lid}")).text
        assert f'data-deposit="{deposit}"' in shown and f'data-available="{START}"' in shown
        assert "¥100,000.00" in shown
        registered = await post_form(page, f"/listings/{lid}/intent")
        assert registered.status_code == 303
        held = (await page.get("/workspace/wallet")).text
        assert f'data-held="{deposit}"' in held and f'data-available="{START - deposit}"' in held
        assert "上海技术交易所有限公司" in held  # where to transfer, and the reference to quote
        me = (await client.get(f"{API}/me", headers=buyer.headers)).json()
        assert f"<code data-reference>{me['org']['credit_code']}</code>" in held
        # The deposit's line names the listing it is held for, in the page's words, not the ledger's.
        deposit_line = re.search(r'<tr data-entry-kind="deposit_hold"[^>]*>(.*?)</tr>', held, re.S)
        assert deposit_line and listing["title"] in deposit_line.group(1)
    rival_intent = await intent(client, rival, lid)
    await to_end_of_announcement(app, client, listing, ops, seller, buyer, rival)

    async with browser_of(app, buyer) as buyer_page, browser_of(app, seller) as seller_page:
        mine = (await client.get(f"{API}/intents", headers=buyer.headers)).json()["items"][0]
        intents_page = (await buyer_page.get("/workspace/intents")).text
        assert deposit_badge(intents_page, mine["id"]) == "held" and "发起议价" in intents_page
        opened = await post_form(buyer_page, f"/listings/{lid}/negotiations", price="400,000", note="首次报价")
        assert opened.status_code == 303, opened.text
        thread_path = opened.headers["location"].split("?")[0]
        tid = thread_path.rsplit("/", 1)[1]

        # The seller sees the offer waiting for its answer and counters in place.
        seen = (await seller_page.get(thread_path)).text
        assert "¥400,000.00" in seen and "答复对方报价" in seen and "首次报价" in seen
        refused = await htmx_post(seller_page, f"{thread_path}/offers", price="四十八万")
        assert refused.status_code == 400 and "请以元为单位填写报价金额" in refused.text
        countered = await htmx_post(seller_page, f"{thread_path}/offers", price="480000", note="含技术服务")
        assert countered.status_code == 200 and "报价已发出" in countered.text
        assert 'hx-swap-oob="true"' in countered.text and "¥480,000.00" in countered.text
        out_of_turn = await htmx_post(seller_page, f"{thread_path}/offers", price="490000")
        assert out_of_turn.status_code == 409 and "轮到对方答复" in out_of_turn.text

        # The buyer sees whose turn it is on its purchases, and accepts: the deal forms.
        purchases = (await buyer_page.get("/workspace/purchases")).text
        assert f'href="{thread_path}"' in purchases and "待您答复报价" in purchases
        standing = (await client.get(f"{API}/negotiations/{tid}", headers=buyer.headers)).json()["standing_offer_id"]
        accepted = await post_form(buyer_page, f"{thread_path}/offers/{standing}/accept")
        assert accepted.status_code == 303, accepted.text
        deal_path = accepted.headers["location"].split("?")[0]
        deal_id = deal_path.rsplit("/", 1)[1]
        formed = (await buyer_page.get(accepted.headers["location"])).text
        assert "已接受报价，成交已达成" in formed and "成交公示中" in formed and "¥480,000.00" in formed

    # The rival's deposit is released as the deal forms: its intents page and its wallet say so.
    async with browser_of(app, rival) as rival_page:
        assert deposit_badge((await rival_page.get("/workspace/intents")).text, rival_intent["id"]) == "released"
        freed = (await rival_page.get("/workspace/wallet")).text
        assert 'data-held="0"' in freed and f'data-available="{START}"' in freed
        assert 'data-phase="void_pending"' in freed and "冻结解除" in freed

    deal = (await client.get(f"{API}/deals/{deal_id}", headers=buyer.headers)).json()
    bought = (await client.get(f"{API}/deals?side=buyer", headers=buyer.headers)).json()["items"]
    sold = (await client.get(f"{API}/deals?side=seller", headers=buyer.headers)).json()["items"]
    assert [d["id"] for d in bought] == [deal_id] and sold == []
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    member = await join(client, buyer, role="member")

    async with browser_of(app, member) as member_page:
        page = (await member_page.get(deal_path)).text
        assert "待签署" in page and "请联系管理员签署" in page
        refused = await htmx_post(member_page, f"{deal_path}/sign")
        assert refused.status_code == 403 and "只有机构管理员可以签署" in refused.text

    async with browser_of(app, buyer) as buyer_page, browser_of(app, seller) as seller_page:
        signed = await htmx_post(seller_page, f"{deal_path}/sign")
        assert signed.status_code == 200 and "已签署" in signed.text and 'id="deal-panel"' in signed.text
        again = await htmx_post(seller_page, f"{deal_path}/sign")
        assert again.status_code == 409  # the seller's signature stands; nothing to sign twice
        signed = await post_form(buyer_page, f"{deal_path}/sign")
        assert signed.status_code == 303 and signed.headers["location"] == f"{deal_path}?notice=deal-signed"

        # Paying shows the balance first; short of funds, the payment is refused in Chinese.
        page = (await buyer_page.get(deal_path)).text
        assert "从钱包付款" in page and f'data-available="{START - deposit}"' in page and "余额不足" in page
        form_key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
        short = await htmx_post(buyer_page, f"{deal_path}/pay", key=form_key)
        assert short.status_code == 409 and "账户可用余额不足：需要" in short.text
        assert (await client.get(f"{API}/deals/{deal_id}", headers=buyer.headers)).json()["state"] == "awaiting_payment"

        await fund(app, buyer, 50_000_000)
        paid = await htmx_post(buyer_page, f"{deal_path}/pay", key=form_key)
        assert paid.status_code == 200 and "付款已完成" in paid.text and "已结算" in paid.text
        replay = await htmx_post(buyer_page, f"{deal_path}/pay", key=form_key)
        assert replay.status_code == 200  # the same form twice is one payment
        settled = (await client.get(f"{API}/deals/{deal_id}", headers=buyer.headers)).json()
        assert settled["state"] == "settled"
        after = await wallet(client, buyer)
        assert after["held"] == 0
        assert after["posted"] == START + 50_000_000 - settled["price"] - settled["fees"]["buyer_fee"]

        # The deposit went into the price; the certificate is there for both parties.
        mine = (await client.get(f"{API}/intents", headers=buyer.headers)).json()["items"][0]
        assert deposit_badge((await buyer_page.get("/workspace/intents")).text, mine["id"]) == "applied"
        for visitor in (buyer_page, seller_page):
            page = (await visitor.get(deal_path)).text
            assert f'href="/deals/{deal_id}/certificate"' in page and "转让方净收入" in page
            assert (
                f'href="/deals/{deal_id}/certificate/pdf"' in page and f'href="/deals/{deal_id}/settlement/pdf"' in page
            )
            assert (await visitor.get(f"/deals/{deal_id}/certificate")).status_code == 200
        # Notifications link to /deals/{id} and /negotiations/{id}: they lead to these pages.
        link = await buyer_page.get(f"/deals/{deal_id}")
        assert link.status_code == 302 and link.headers["location"] == deal_path
        link = await seller_page.get(f"/negotiations/{tid}")
        assert link.status_code == 302 and link.headers["location"] == thread_path
        history = (await seller_page.get(thread_path)).text
        assert history.count("data-offer=") == 2 and "已接受" in history and f'href="{deal_path}"' in history

    async with browser_of(app, stranger) as outsider:
        assert (await outsider.get(f"/deals/{deal_id}/certificate")).status_code == 404
        assert (await outsider.get(deal_path)).status_code == 404
        assert (await outsider.get(thread_path)).status_code == 404


async def test_withdrawals_from_the_wallet_page_are_for_admins(client, app) -> None:
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    await fund(app, buyer, START)
    member = await join(client, buyer, role="member")

    async with browser_of(app, member) as page:
        shown = (await page.get("/workspace/wallet")).text
        assert "只有机构管理员可以申请提现" in shown and "申请提现</button>" not in shown
        refused = await htmx_post(page, "/workspace/wallet/withdrawals", amount="100", payee="招商银行 6225", key="k1")
        assert refused.status_code == 403 and "只有机构管理员可以申请提现" in refused.text

    async with browser_of(app, buyer) as page:
        shown = (await page.get("/workspace/wallet")).text
        key = re.search(r'id="withdrawal-key" value="([0-9a-f]+)"', shown).group(1)
        missing = await htmx_post(page, "/workspace/wallet/withdrawals", amount="100", payee=" ", key=key)
        assert missing.status_code == 400 and "收款银行账户" in missing.text
        too_much = await htmx_post(
            page, "/workspace/wallet/withdrawals", amount="200,000", payee="招商银行 6225", key=key
        )
        assert too_much.status_code == 409 and "账户可用余额不足" in too_much.text
        asked = await htmx_post(page, "/workspace/wallet/withdrawals", amount="30,000", payee="招商银行 6225", key=key)
        assert asked.status_code == 201 and "提现申请已提交" in asked.text and 'data-held="3000000"' in asked.text
        twice = await htmx_post(page, "/workspace/wallet/withdrawals", amount="30,000", payee="招商银行 6225", key=key)
        assert twice.status_code == 201
        assert await wallet(client, buyer) == {"posted": START, "held": 3_000_000, "available": START - 3_000_000}
        plain = await post_form(page, "/workspace/wallet/withdrawals", amount="10", payee="招商银行 6225", key="k2")
        assert plain.status_code == 303 and plain.headers["location"] == "/workspace/wallet?notice=withdrawal-requested"
        statement = (await page.get("/workspace/wallet")).text
        assert statement.count('data-entry-kind="withdrawal"') == 2 and "待支付" in statement

    async with browser_of(app) as public:
        assert (await public.get("/workspace/wallet")).status_code == 401
