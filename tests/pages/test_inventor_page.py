"""The inventor's own page on both databases: the member the office linked sees the balance in
yuan, each payout and their withdrawals, and withdraws through the form (once per form key, refused
in Chinese above the balance); a member who is not linked is told so; the entry is in the
institution's navigation."""

from __future__ import annotations

import re

from exchange.web.formats import yuan
from tests.helpers import relogin
from tests.institution_helpers import PAYEE, account, paid_inventors, university
from tests.page_helpers import browser_of, htmx_post, post_form


async def test_the_linked_inventor_sees_the_balance_and_withdraws_from_the_page(client, app) -> None:
    uni = await university(client, app)
    ids, _, plan = await paid_inventors(client, app, uni)
    zhang = ids["张发明"]
    earned = next(p["amount"] for p in plan["payouts"] if p["name"] == "张发明")
    await relogin(client, uni.inventor, uni.evaluator)

    async with browser_of(app, uni.inventor) as page:
        shown = (await page.get("/workspace/inventor")).text
        assert 'href="/workspace/inventor"' in shown and "我的成果收益" in shown
        assert f'data-available="{earned}"' in shown and yuan(earned) in shown and yuan(earned).startswith("¥")
        assert f'data-plan-id="{plan["id"]}"' in shown and PAYEE in shown and "暂无提现" in shown
        form_key = re.search(r'id="withdrawal-key" value="([0-9a-f]+)"', shown).group(1)
        too_much = await htmx_post(
            page, f"/workspace/inventor/{zhang}/withdrawals", amount=f"{earned / 100 + 1:.2f}", key=form_key
        )
        assert too_much.status_code == 409 and "可用余额不足" in too_much.text
        asked = await htmx_post(page, f"/workspace/inventor/{zhang}/withdrawals", amount="1,000", key=form_key)
        assert asked.status_code == 201 and "提现申请已提交" in asked.text, asked.text
        assert 'data-held="100000"' in asked.text and "待支付" in asked.text
        twice = await htmx_post(page, f"/workspace/inventor/{zhang}/withdrawals", amount="1,000", key=form_key)
        assert twice.status_code == 201
        plain = await post_form(page, f"/workspace/inventor/{zhang}/withdrawals", amount="10", key="k2")
        assert plain.status_code == 303
        assert plain.headers["location"] == f"/workspace/inventor?account={zhang}&notice=withdrawal-requested"
    shown = await account(client, uni.inventor, zhang)
    assert (shown["held"], shown["available"]) == (101_000, earned - 101_000)

    # A member who is not linked: told in Chinese, no form; their POST is refused.
    async with browser_of(app, uni.evaluator) as page:
        shown = (await page.get("/workspace/inventor")).text
        assert "您还没有关联的成果完成人账户" in shown and "申请提现</button>" not in shown
        refused = await htmx_post(page, f"/workspace/inventor/{zhang}/withdrawals", amount="1", key="k3")
        assert refused.status_code == 404  # another person's account does not exist for them
