"""SPEC §10, one answer for one refusal: every route that can run out of money answers 409
``insufficient-funds`` with the same body — the account (its code), the unit, what is available
and what is needed, as integers of the unit's smallest amount — on both databases.

The ledger says it for any ``no_overdraft`` account; a module that checks a balance of its own
first (the vouchers of one program in an enterprise's wallet) says the same. A batch adds the
entry it refused (``index``), a pre-check the request field that asked for too much (``errors``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.helpers import assert_problem, operator, relogin, verified
from tests.ledger_helpers import entry_body
from tests.trading_helpers import API, announced, fund, intent, key, past_notice, to_end_of_announcement
from tests.voucher_helpers import act, cast, create_program, grant, order, service, top_up
from tests.voucher_helpers import fund as fund_program

DEPOSIT = 5_000_000  # the deposit of the default listing (10% of ¥500,000)
PRICE = 50_000_000
BODY = {"type", "title", "status", "detail", "account", "unit", "available", "needed"}
POINTERS = {"errors", "index"}


async def account_id(client: Any, ops: Any, code: str) -> str:
    found = await client.get(f"{API}/ledger/accounts", params={"code_prefix": code}, headers=ops.headers)
    assert found.status_code == 200, found.text
    (account,) = [a for a in found.json()["items"] if a["code"] == code]
    return account["id"]


async def trading_and_payments(client: Any, app: Any) -> list[tuple[str, Any, tuple[str, str, int, int]]]:
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute", name="中科院上海硅酸盐研究所")
    buyer, poor = await verified(client, ops, name="宁德新能"), await verified(client, ops, name="小微企业")
    await fund(app, buyer, DEPOSIT)  # the deposit, not the price
    await fund(app, poor, DEPOSIT - 1)
    poor_cash, buyer_cash = f"org:{poor.org_id}:cash", f"org:{buyer.org_id}:cash"
    listing = await announced(client, seller, ops, mode="listed")
    cases = []

    deposit = await client.post(f"{API}/listings/{listing['id']}/intents", headers=poor.headers)
    cases.append(("intent deposit", deposit, (poor_cash, "CNY", DEPOSIT - 1, DEPOSIT)))

    withdrawal = await client.post(
        f"{API}/withdrawals", json={"amount": DEPOSIT, "payee": "招商银行 6225 0001"}, headers={**poor.headers, **key()}
    )
    cases.append(("withdrawal", withdrawal, (poor_cash, "CNY", DEPOSIT - 1, DEPOSIT)))

    wallet, bank = await account_id(client, ops, poor_cash), await account_id(client, ops, "bank:settlement")
    adjustment = await client.post(
        f"{API}/ledger/adjustments",
        json={"entry": entry_body(wallet, bank, DEPOSIT, kind="adjustment"), "reason": "退回多收的款项"},
        headers={**ops.headers, **key()},
    )
    cases.append(("ledger adjustment", adjustment, (poor_cash, "CNY", DEPOSIT - 1, DEPOSIT)))

    # The buyer holds the deposit and nothing more: its deal cannot be paid.
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    (opening,) = thread["offers"]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{opening['id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    assert deal["price"] == PRICE
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    payment = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    cases.append(("deal payment", payment, (buyer_cash, "CNY", 0, PRICE - DEPOSIT)))
    return cases


async def vouchers(client: Any, app: Any) -> list[tuple[str, Any, tuple[str, str, int, int]]]:
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await fund_program(client, c.ops, program["id"], 1_000_000)  # less than it will be asked to pay
    await grant(client, c.gov, program["id"], c.ent.org_id, 3_000_000)
    ent_vouchers, ent_cash = f"org:{c.ent.org_id}:vouchers", f"org:{c.ent.org_id}:cash"
    testing = await service(client, c.prov, "testing", 4_000_000)
    cases = []

    big = await service(client, c.prov, "testing", 10_000_000)
    too_many = await order(client, c.ent, big["id"], 4_000_000)
    assert_problem(too_many, 409, "insufficient-funds", field="voucher_amount")
    cases.append(("service order", too_many, (ent_vouchers, "VCH", 3_000_000, 4_000_000)))

    first = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    second = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    no_cash = await act(client, c.prov, first["id"], "confirm")
    cases.append(("confirmation, cash short", no_cash, (ent_cash, "CNY", 0, 2_000_000)))

    await top_up(app, c.ent.org_id, 4_000_000)
    assert (await act(client, c.prov, first["id"], "confirm")).status_code == 200
    no_vouchers = await act(client, c.prov, second["id"], "confirm")
    cases.append(("confirmation, vouchers short", no_vouchers, (ent_vouchers, "VCH", 1_000_000, 2_000_000)))

    for party, action, body in [(c.prov, "deliver", {"results_summary": "检测报告"}), (c.ent, "accept", None)]:
        done = await act(client, party, first["id"], action, body)
        assert done.status_code == 200, done.text
    claim = await client.post(f"{API}/redemptions", json={"order_ids": [first["id"]]}, headers=c.prov.headers)
    assert claim.status_code == 201, claim.text
    app.state.clock.advance(timedelta(days=8))  # past the notice of five working days
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await relogin(client, c.gov)
    approval = await client.post(f"{API}/redemptions/{claim.json()['id']}/approve", headers=c.gov.headers)
    cases.append(("redemption approval", approval, (f"program:{program['id']}:funding", "CNY", 1_000_000, 2_000_000)))
    return cases


async def test_every_route_that_runs_out_of_money_answers_409_with_the_same_body(client, app):
    cases = await trading_and_payments(client, app) + await vouchers(client, app)
    titles = set()
    for route, response, (account, unit, available, needed) in cases:
        body = assert_problem(response, 409, "insufficient-funds")
        assert set(body) - POINTERS == BODY, (route, body)
        assert (body["account"], body["unit"], body["available"], body["needed"]) == (
            account,
            unit,
            available,
            needed,
        ), (
            route,
            body,
        )
        assert all(type(body[name]) is int for name in ("status", "available", "needed")), (route, body)
        titles.add(body["title"])
    assert len(titles) == 1, titles
    assert [route for route, _, _ in cases] == [
        "intent deposit",
        "withdrawal",
        "ledger adjustment",
        "deal payment",
        "service order",
        "confirmation, cash short",
        "confirmation, vouchers short",
        "redemption approval",
    ]
