"""收益分配 over HTTP, on both databases: a settled payment of a deal that an institution's process
implemented becomes an income receipt; the office proposes its distribution plan (the default:
the declared share to the inventors, exact to the fen), the plan's own public notice runs, an
objection upheld cancels it, a new plan runs to the end of its notice, the higher meeting approves
a payout above the threshold, and the payout lands in the inventors' accounts — every balance
checked to the fen and the ledger verified. The refusals name the rule and write nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from exchange.accounting import chart
from exchange.institutions.distribution import CASH, REWARDS, payout_moves
from exchange.institutions.domain import inventors_minimum
from exchange.institutions.models import InventorAccount
from exchange.platform.outbox import OutboxEvent
from tests.helpers import assert_problem, relogin, verified
from tests.institution_helpers import (
    API,
    grant,
    pay,
    plan_of,
    propose,
    receipts,
    settled_deal,
    to_decision,
    university,
)
from tests.trading_helpers import (
    assert_ledger_sound,
    balance,
    key,
    past_notice,
)

REASON = "完成人贡献比例与实际不符，请重新核定分配方案。"


async def outbox(app: Any, kind: str) -> list[OutboxEvent]:
    async with app.state.db.read() as session:
        return list((await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind))).all())


def adjusted(amount: int, first: int, second: int) -> dict[str, Any]:
    return {
        "inventors": [
            {"name": "张发明", "affiliation": "材料学院", "amount": first},
            {"name": "李创新", "affiliation": "材料学院", "amount": second},
        ],
        "institution": [{"name": "学校", "amount": amount - first - second}],
        "reason": "张发明为主要完成人，按贡献调整。",
    }


async def test_income_from_a_settled_deal_is_distributed_to_the_inventors_after_its_notice(client, app) -> None:
    uni = await university(client, app)
    await grant(client, uni.office, uni.board, "office")  # a member granted the office role is the office too
    process = await to_decision(client, uni)
    objector = await verified(client, uni.ops, "enterprise", "异议企业")
    deal, buyer = await settled_deal(client, app, uni, process["id"])
    await relogin(client, objector)
    await relogin(client, uni.board)
    office = uni.office
    the_office = sorted([office.user_id, uni.board.user_id])
    cash_code, rewards_code = chart.org_cash(office.org_id).code, chart.org_inventor_rewards(office.org_id).code
    proceeds, held = await balance(app, cash_code), await balance(app, rewards_code)
    assert proceeds > 0 and held > 0

    # The payment's settlement wrote the receipt: the institution's net income of it.
    (receipt,) = await receipts(client, uni)
    amount = receipt["amount"]
    assert receipt["deal_id"] == deal["id"] and receipt["process_id"] == process["id"] and receipt["seq"] == 0
    assert (amount, receipt["reward_held"]) == (proceeds + held, held)
    assert receipt["plans"] == []
    told = await outbox(app, "income.received")
    assert [(e.subject_id, e.data["amount_fen"], sorted(e.audience["users"])) for e in told] == [
        (receipt["id"], amount, the_office)
    ]
    # Another organisation does not see it; a member who is not the office does not propose.
    assert (await client.get(f"{API}/income-receipts/{receipt['id']}", headers=buyer.headers)).status_code == 404
    assert_problem(await propose(client, uni.inventor, receipt["id"]), 403, "forbidden")

    # Plans that break the rules: nothing is written.
    minimum = inventors_minimum(amount, 7_000)
    below = await propose(client, office, receipt["id"], adjusted(amount, minimum // 2, minimum // 2 - 1))
    assert_problem(below, 422, "invalid-distribution", "inventors")
    short = adjusted(amount, minimum, 1)
    short["institution"][0]["amount"] -= 2
    assert_problem(await propose(client, office, receipt["id"], short), 422, "invalid-distribution", "payouts")
    stranger = adjusted(amount, minimum, 0)
    stranger["inventors"][1]["name"] = "王路人"
    assert_problem(
        await propose(client, office, receipt["id"], stranger), 422, "invalid-distribution", "inventors.1.name"
    )
    assert (await receipts(client, uni))[0]["plans"] == []

    # The default plan: the declared 70% to the inventors, rounded up, split 60:40; the rest to 学校.
    first = await propose(client, office, receipt["id"])
    assert first.status_code == 201, first.text
    plan = first.json()
    assert plan["status"] == "noticed" and plan["inventor_share_bp"] == 7_000
    inventors = [p for p in plan["payouts"] if p["kind"] == "inventor"]
    assert plan["inventors_total"] == minimum == sum(p["amount"] for p in inventors)
    assert sum(p["amount"] for p in plan["payouts"]) == amount
    assert [(p["name"], p["affiliation"]) for p in plan["payouts"]] == [
        ("张发明", "材料学院"), ("李创新", "材料学院"), ("学校", ""),
    ]  # fmt: skip
    assert abs(inventors[0]["amount"] - minimum * 6 // 10) <= 1 and abs(inventors[1]["amount"] - minimum * 4 // 10) <= 1
    assert not plan["extra_approval_needed"]
    # One plan in force per receipt.
    assert_problem(await propose(client, office, receipt["id"]), 409, "invalid-state")

    # Its own notice: 15 working days on the exchange's calendar; an objection upheld cancels the plan.
    notice = (await client.get(f"{API}/notices/{plan['notice_id']}")).json()
    assert (notice["kind"], notice["subject_type"], notice["subject_id"]) == (
        "distribution_plan",
        "distribution_plan",
        plan["id"],
    )
    assert notice["content"]["body"]["payouts"][0] == {
        "kind": "inventor",
        "name": "张发明",
        "affiliation": "材料学院",
        "amount": inventors[0]["amount"],
    }
    opens = datetime.fromisoformat(notice["opens_at"].replace("Z", "+00:00"))
    closes = datetime.fromisoformat(notice["closes_at"].replace("Z", "+00:00"))
    assert timedelta(days=19) <= closes - opens <= timedelta(days=30)
    filed = await client.post(
        f"{API}/notices/{plan['notice_id']}/objections", json={"reason": REASON}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    # The office is told (as of an objection to its transfer notice) and answers it there.
    (to_resolve,) = await outbox(app, "operator.objection_to_resolve")
    assert (to_resolve.subject_id, sorted(to_resolve.audience["users"]), to_resolve.audience["operators"]) == (
        filed.json()["id"], the_office, True,
    )  # fmt: skip
    assert to_resolve.data["plan_id"] == plan["id"]
    answer = {"answer": "贡献比例依据项目组书面确认。"}
    answered = await client.post(
        f"{API}/objections/{filed.json()['id']}/answer", json=answer, headers=uni.board.headers
    )
    assert answered.status_code == 200, answered.text
    stranger = await client.post(f"{API}/objections/{filed.json()['id']}/answer", json=answer, headers=buyer.headers)
    assert stranger.status_code == 404  # another organisation neither answers nor learns of it
    assert_problem(
        await client.post(
            f"{API}/objections/{filed.json()['id']}/resolve", json={"decision": "upheld", "note": "x"},
            headers=buyer.headers,
        ),
        403,
        "forbidden",
    )  # fmt: skip
    upheld = await client.post(
        f"{API}/objections/{filed.json()['id']}/resolve",
        json={"decision": "upheld", "note": "经核查，贡献比例需调整"},
        headers=office.headers,
    )
    assert upheld.status_code == 200, upheld.text
    cancelled = await plan_of(client, office, plan["id"])
    assert cancelled["status"] == "cancelled" and "经核查" in cancelled["reason"]
    assert_problem(await pay(client, office, plan["id"]), 409, "invalid-state")

    # A new plan: 张发明 above the ¥300,000 threshold, the inventors more than the reward held.
    above = 30_000_001
    second = minimum - above + 5
    new = await propose(client, office, receipt["id"], adjusted(amount, above, second))
    assert new.status_code == 201, new.text
    plan = new.json()
    total = above + second
    assert plan["extra_approval_needed"] and plan["inventors_total"] == total and total > held
    # Not paid while its notice runs.
    refused = assert_problem(await pay(client, office, plan["id"]), 409, "invalid-state")
    assert refused["rule"] == "notice-closed-first"

    await past_notice(app, client, plan["notice_id"], uni.ops, office, buyer, objector, uni.inventor)
    assert (await plan_of(client, office, plan["id"]))["status"] == "approved"
    refused = assert_problem(await pay(client, office, plan["id"]), 409, "invalid-state")
    assert refused["rule"] == "extra-approval-above-threshold"
    approved = await client.post(
        f"{API}/distribution-plans/{plan['id']}/extra-approval",
        json={"minutes": "学校党委常委会2027年第3次会议纪要"},
        headers=office.headers,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["extra_approval"]["minutes"] == "学校党委常委会2027年第3次会议纪要"

    # Identity: every inventor paid is checked first; the refusal names who is not.
    accounts = (
        await client.get(f"{API}/institutions/{office.org_id}/inventor-accounts", headers=office.headers)
    ).json()["items"]
    ids = {a["name"]: a["id"] for a in accounts}
    assert set(ids) == {"张发明", "李创新"}
    checked = await client.post(
        f"{API}/inventor-accounts/{ids['张发明']}/identity-check",
        json={"user_id": uni.inventor.user_id, "note": "身份证与银行卡已核验"},
        headers=office.headers,
    )
    assert checked.status_code == 200 and checked.json()["user_id"] == uni.inventor.user_id, checked.text
    refused = assert_problem(await pay(client, office, plan["id"]), 409, "invalid-state")
    assert refused["rule"] == "identity-checked" and refused["inventor"] == "李创新"
    assert await balance(app, cash_code) == proceeds  # nothing moved
    await client.post(f"{API}/inventor-accounts/{ids['李创新']}/identity-check", json={}, headers=office.headers)

    # Paid: once, exactly; a replay answers the same, another key is refused.
    payout_key = key()
    paid = await pay(client, office, plan["id"], payout_key)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    replay = await pay(client, office, plan["id"], payout_key)
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == paid.json()
    again = assert_problem(await pay(client, office, plan["id"]), 409, "invalid-state")
    assert again["rule"] == "paid-once"

    assert await balance(app, chart.inventor_cash(ids["张发明"]).code) == above
    assert await balance(app, chart.inventor_cash(ids["李创新"]).code) == second
    assert await balance(app, rewards_code) == 0
    assert await balance(app, cash_code) == proceeds - (total - held) == amount - total
    shown = (await client.get(f"{API}/inventor-accounts/{ids['张发明']}", headers=uni.inventor.headers)).json()
    assert shown["balance"] == above and shown["identity_checked_at"] is not None
    await assert_ledger_sound(app)


async def test_a_plan_giving_the_inventors_less_than_held_returns_the_rest_and_only_the_office_pays(
    client, app
) -> None:
    uni = await university(client, app)
    # A one-day plan notice on calendar days. The listing held 80% for the inventors at settlement;
    # the default plan gives them the declared 70%: the rest goes back to the institution's cash.
    settings = await client.put(
        f"{API}/institutions/{uni.office.org_id}/settings",
        json={"inventor_share_bp": 7_000, "plan_notice_days": 1, "plan_notice_unit": "calendar_days"},
        headers=uni.office.headers,
    )
    assert settings.status_code == 200, settings.text
    process = await to_decision(client, uni)
    _, buyer = await settled_deal(client, app, uni, process["id"], inventor_reward_bp=8_000)
    office = uni.office
    cash_code, rewards_code = chart.org_cash(office.org_id).code, chart.org_inventor_rewards(office.org_id).code
    proceeds, held = await balance(app, cash_code), await balance(app, rewards_code)
    (receipt,) = await receipts(client, uni)
    plan = (await propose(client, office, receipt["id"])).json()
    total = plan["inventors_total"]
    assert 0 < total < held
    await past_notice(app, client, plan["notice_id"], uni.ops, office, buyer, uni.inventor)
    assert (await plan_of(client, office, plan["id"]))["status"] == "approved"
    async with app.state.db.read() as session:
        accounts = (await session.scalars(select(InventorAccount))).all()
    for account in accounts:
        await client.post(f"{API}/inventor-accounts/{account.id}/identity-check", json={}, headers=office.headers)
    assert_problem(await pay(client, uni.inventor, plan["id"]), 403, "forbidden")
    assert_problem(await pay(client, buyer, plan["id"]), 404, "not-found")
    paid = await pay(client, office, plan["id"])
    assert paid.status_code == 200, paid.text
    assert await balance(app, rewards_code) == 0
    assert await balance(app, cash_code) == proceeds + held - total
    assert sum([await balance(app, chart.inventor_cash(a.id).code) for a in accounts]) == total
    await assert_ledger_sound(app)


@given(
    held=st.integers(0, 10**12),
    amounts=st.lists(st.integers(0, 10**11), min_size=1, max_size=8),
)
def test_the_payout_moves_pay_each_inventor_exactly_and_settle_the_reward_held(held, amounts) -> None:
    inventors = [(f"acct{i}", f"完成人{i}", a) for i, a in enumerate(amounts)]
    moves = payout_moves(held, inventors)
    net: dict[str, int] = {}
    for move in moves:
        assert move.amount > 0 and move.debit != move.credit
        net[move.debit] = net.get(move.debit, 0) - move.amount
        net[move.credit] = net.get(move.credit, 0) + move.amount
    for account, _, amount in inventors:
        assert net.get(account, 0) == amount
    assert net.get(REWARDS, 0) == -held
    assert net.get(CASH, 0) == held - sum(amounts)
    # The rewards account never gives more than it holds plus what the cash put in first.
    running = held
    for move in moves:
        running += move.amount if move.credit == REWARDS else -move.amount if move.debit == REWARDS else 0
        assert running >= 0
