"""An inventor paid by a distribution plan withdraws from their own account (``inventor:<id>:cash``)
as an organisation withdraws from its wallet, on both databases: held on request, refused before
the identity and the bank account are checked or above the balance, completed by an operator,
reconciled by its bank debit; the inventor is told of the payout; nobody outside the institution
sees the account. Every balance exact to the fen and the ledger verified."""

from __future__ import annotations

from sqlalchemy import select

from exchange.accounting import chart
from exchange.payments.domain import china_day
from exchange.platform.outbox import OutboxEvent
from tests.helpers import assert_problem, relogin, verified
from tests.institution_helpers import (
    API,
    PAYEE,
    account,
    paid_inventors,
    university,
    withdraw,
)
from tests.trading_helpers import assert_ledger_sound, balance


async def test_an_inventor_withdraws_what_a_plan_paid_and_an_operator_pays_it(client, app) -> None:
    uni = await university(client, app)
    ids, buyer, plan = await paid_inventors(client, app, uni)
    zhang = ids["张发明"]
    code = chart.inventor_cash(zhang).code
    earned = next(p["amount"] for p in plan["payouts"] if p["name"] == "张发明")
    assert earned > 0 and await balance(app, code) == earned

    # Told of the payout: the linked member, and only them.
    async with app.state.db.read() as session:
        told = (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "inventor.paid"))).all()
    assert [(e.subject_id, e.data["amount_fen"], e.audience["users"]) for e in told] == [
        (zhang, earned, [uni.inventor.user_id])
    ]

    # More than the balance: the ledger's refusal; nothing held.
    over = assert_problem(await withdraw(client, uni.inventor, zhang, earned + 1), 409, "insufficient-funds")
    assert over["available"] == earned
    # Another bank account than the one on record: refused, named.
    assert_problem(
        await withdraw(client, uni.inventor, zhang, 100, payee="工商银行 9999"), 422, "invalid-payee", "payee"
    )
    # 李创新 is checked but has no bank account on record.
    refused = assert_problem(await withdraw(client, uni.office, ids["李创新"], 100), 409, "invalid-state")
    assert refused["rule"] == "payee-on-record"
    # A stranger, another institution and a member who is neither the inventor nor the office do
    # not see the account (its balance and bank account are the inventor's own).
    other = await verified(client, uni.ops, "university", "另一所大学")
    for outsider in (buyer, other):
        assert_problem(await withdraw(client, outsider, zhang, 100), 404, "not-found")
        assert (await client.get(f"{API}/inventor-accounts/{zhang}", headers=outsider.headers)).status_code == 404
        listed = await client.get(f"{API}/withdrawals", params={"payer": f"inventor:{zhang}"}, headers=outsider.headers)
        assert listed.status_code == 404
    await relogin(client, uni.evaluator)
    assert_problem(await withdraw(client, uni.evaluator, zhang, 100), 404, "not-found")
    assert (await client.get(f"{API}/inventor-accounts/{zhang}", headers=uni.evaluator.headers)).status_code == 404
    assert await balance(app, code) == earned
    assert (await account(client, uni.inventor, zhang))["held"] == 0

    # The inventor withdraws part: held on their account, paid to the bank account on record.
    amount = earned // 3
    asked = await withdraw(client, uni.inventor, zhang, amount)
    assert asked.status_code == 201, asked.text
    withdrawal = asked.json()
    assert withdrawal["status"] == "requested" and withdrawal["payee"] == PAYEE
    assert withdrawal["payer"] == f"inventor:{zhang}" and withdrawal["org_id"] == uni.office.org_id
    shown = await account(client, uni.inventor, zhang)
    assert (shown["balance"], shown["held"], shown["available"]) == (earned, amount, earned - amount)
    # The rest of the balance can be withdrawn, not a fen more.
    assert_problem(await withdraw(client, uni.inventor, zhang, earned - amount + 1), 409, "insufficient-funds")

    # It is the inventor's, not the institution's wallet's: listed by payer, not among the org's.
    mine = await client.get(f"{API}/withdrawals", params={"payer": f"inventor:{zhang}"}, headers=uni.inventor.headers)
    assert [w["id"] for w in mine.json()["items"]] == [withdrawal["id"]]
    ours = await client.get(f"{API}/withdrawals", headers=uni.office.headers)
    assert ours.json()["items"] == []
    seen = await client.get(f"{API}/withdrawals/{withdrawal['id']}", headers=uni.inventor.headers)
    assert seen.status_code == 200
    assert (await client.get(f"{API}/withdrawals/{withdrawal['id']}", headers=buyer.headers)).status_code == 404

    # The operator pays it as any withdrawal.
    waiting = await client.get(f"{API}/withdrawals", params={"status": "requested"}, headers=uni.ops.headers)
    assert [w["id"] for w in waiting.json()["items"]] == [withdrawal["id"]]
    day = china_day(app.state.clock.now()).isoformat()
    settlement_before = await balance(app, chart.BANK_SETTLEMENT.code)
    done = await client.post(
        f"{API}/withdrawals/{withdrawal['id']}/complete",
        json={"bank_reference": "INV-W1", "paid_on": day},
        headers=uni.ops.headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    assert await balance(app, code) == earned - amount
    assert await balance(app, chart.BANK_SETTLEMENT.code) == settlement_before - amount
    shown = await account(client, uni.inventor, zhang)
    assert (shown["balance"], shown["held"], shown["available"]) == (earned - amount, 0, earned - amount)
    async with app.state.db.read() as session:
        paid_told = (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "withdrawal.paid"))).all()
    assert [e.audience["users"] for e in paid_told] == [[uni.inventor.user_id]]

    # The statement of the account: the payout in, the withdrawal out.
    lines = (await client.get(f"{API}/inventor-accounts/{zhang}/entries", headers=uni.inventor.headers)).json()
    shown_lines = [(line["kind"], line["amount"], line["balance"]) for line in lines["items"]]
    assert shown_lines[0] == ("withdrawal", amount, earned - amount)
    assert shown_lines[-1] == ("inventor_distribution", earned, earned)

    # Reconciliation matches its bank debit as any withdrawal's.
    report = await client.post(
        f"{API}/reconciliations",
        json={
            "provider": "bank_transfer",
            "period_from": day,
            "period_to": day,
            "statement": f"date,amount,reference\n{day},-{amount / 100:.2f},INV-W1\n",
        },
        headers=uni.ops.headers,
    )
    assert report.status_code == 201, report.text
    assert report.json()["totals"]["matched"]["count"] == 1
    assert report.json()["totals"]["matched"]["ledger_amount"] == -amount
    assert all(d["reference"] != "INV-W1" for d in report.json()["differences"])
    await assert_ledger_sound(app)


async def test_a_rejected_inventor_withdrawal_frees_the_hold_and_the_office_may_ask_for_the_inventor(
    client, app
) -> None:
    uni = await university(client, app)
    ids, _, plan = await paid_inventors(client, app, uni)
    zhang = ids["张发明"]
    earned = next(p["amount"] for p in plan["payouts"] if p["name"] == "张发明")
    asked = await withdraw(client, uni.office, zhang, earned)
    assert asked.status_code == 201, asked.text
    assert (await account(client, uni.inventor, zhang))["available"] == 0
    rejected = await client.post(
        f"{API}/withdrawals/{asked.json()['id']}/reject", json={"reason": "户名与账号不符"}, headers=uni.ops.headers
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected", rejected.text
    shown = await account(client, uni.inventor, zhang)
    assert (shown["balance"], shown["held"], shown["available"]) == (earned, 0, earned)
    await assert_ledger_sound(app)
