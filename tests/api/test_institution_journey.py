"""A university's transfer process end to end over HTTP, on both databases, with no shortcut: every
act through the API, the clock moved and the sweeper run for every period. (1) A disclosure through
the seven steps to an auction listing at the exchange that sells and settles; its income receipt,
the default distribution plan, its notice with an objection dismissed by the office, the extra
approval and the payout exact to the fen. (2) A 协议定价 decision whose signed contract becomes a
negotiated listing, the counterparty's deal at the contract's amount with its negotiated-price
notice, the signatures and the contract registration. (3) An objection to the transfer notice
upheld by the office back to 评估: a new appraisal, expert review, decision and notice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from exchange.accounting import chart
from tests.api.test_institution_income import pay, plan_of, propose, receipts
from tests.api.test_institution_notice import IP_WITH_EXPIRY, notice_of, object_to, process_of, resolve
from tests.api.test_trading_flows import offer, sign_both
from tests.helpers import Party, assert_problem, verified
from tests.institution_helpers import (
    API,
    University,
    act,
    decision_body,
    evaluation_body,
    expert_review_body,
    to_decision,
    university,
)
from tests.trading_helpers import (
    advance,
    assert_ledger_sound,
    balance,
    bid,
    fund,
    intent,
    key,
    past_notice,
    to_auction_opening,
    to_end_of_announcement,
    wallet,
)

FUNDS = 300_000_000  # ¥3,000,000 for each buyer
APPRAISED, FLOOR = 100_000_000, 120_000_000  # evaluation_body's appraisal, decision_body's floor price
STEPS = ["initiate", "first_review", "evaluation", "expert_review", "decision", "notice", "implementation"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def people(uni: University, *others: Party) -> tuple[Party, ...]:
    return (uni.ops, uni.office, uni.inventor, uni.evaluator, uni.panel, uni.board, *others)


async def submitted_and_approved(client: Any, uni: University, listing_id: str) -> dict[str, Any]:
    """The implementation's listing draft submitted by the university and approved by an operator:
    its announcement runs."""
    submitted = await client.post(f"{API}/listings/{listing_id}/submit", headers=uni.office.headers)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(
        f"{API}/listings/{listing_id}/review", json={"decision": "approve"}, headers=uni.ops.headers
    )
    assert approved.status_code == 200, approved.text
    listing = approved.json()
    assert listing["status"] == "announced", listing["status"]
    return listing  # type: ignore[no-any-return]


async def test_a_disclosure_becomes_an_auction_that_settles_and_its_income_is_paid_to_the_inventors(
    client, app
) -> None:
    uni = await university(client, app)
    a = await verified(client, uni.ops, "enterprise", "上海氢能装备有限公司")
    b = await verified(client, uni.ops, "enterprise", "宁德新能")
    objector = await verified(client, uni.ops, "enterprise", "异议企业")
    everyone = people(uni, a, b, objector)
    for buyer in (a, b):
        await fund(app, buyer, FUNDS)

    # 发起 → 初审 → 评估 → 论证 → 决策: an auction, the floor above the appraisal.
    process = await to_decision(client, uni)
    pid = process["id"]
    assert [e["step"] for e in process["history"]] == STEPS[:5]
    assert {e["outcome"] for e in process["history"]} == {"completed"}
    assert process["decision"]["pricing"] == "auction" and process["decision"]["floor_price"] == FLOOR >= APPRAISED

    # 公示: the institution's notice on the board; the period ends and the sweeper completes the step.
    nid = process["notice_id"]
    board = (await client.get(f"{API}/notices", params={"kind": "institution_transfer"})).json()["items"]
    assert [n["id"] for n in board] == [nid]
    await past_notice(app, client, nid, *everyone)
    assert (await notice_of(client, nid))["status"] == "closed"
    assert (await process_of(client, uni.office, pid))["step"] == "implementation"

    # 实施: the listing draft carries the decision; the university submits it, an operator approves.
    done = await act(client, uni.office, pid, "implementation", {"ip_assets": IP_WITH_EXPIRY})
    assert done["status"] == "finished"
    assert [e["step"] for e in done["history"]] == STEPS
    lid = done["listing_id"]
    listing = await submitted_and_approved(client, uni, lid)
    assert listing["pricing"]["mode"] == "auction" and listing["pricing"]["asking_price"] == FLOOR
    assert listing["pricing"]["appraised_value"] == APPRAISED and listing["inventor_reward_bp"] == 7_000
    announcement = await client.get(f"{API}/notices/{listing['announcement']['notice_id']}")
    assert announcement.status_code == 200 and announcement.json()["kind"] == "listing_announcement"

    # Two buyers register their intent, each with its deposit held.
    deposits = {p.org_id: (await intent(client, p, lid))["deposit"] for p in (a, b)}
    deposit = deposits[a.org_id]
    assert deposit > 0 and deposits[b.org_id] == deposit
    assert await wallet(client, a) == {"posted": FUNDS, "held": deposit, "available": FUNDS - deposit}

    # The auction opens after the announcement, takes the bids and closes.
    await to_end_of_announcement(app, client, listing, *everyone)
    await to_auction_opening(app, client, listing, *everyone)
    auction = (await client.get(f"{API}/listings/{lid}/auction", headers=a.headers)).json()
    assert auction["minimum_next_bid"] == FLOOR
    step = auction["increment"]
    await bid(client, a, auction["id"], FLOOR)
    await bid(client, b, auction["id"], FLOOR + step)
    await bid(client, a, auction["id"], FLOOR + 2 * step)
    price = FLOOR + 2 * step
    ends = moment((await client.get(f"{API}/auctions/{auction['id']}", headers=a.headers)).json()["ends_at"])
    await advance(app, client, ends + timedelta(minutes=1) - app.state.clock.now(), *everyone)
    closed = (await client.get(f"{API}/auctions/{auction['id']}", headers=a.headers)).json()
    assert closed["status"] == "closed" and closed["deal_id"]
    assert await wallet(client, b) == {"posted": FUNDS, "held": 0, "available": FUNDS}

    # The result notice, both signatures, the buyer's payment: settled.
    deal = (await client.get(f"{API}/deals/{closed['deal_id']}", headers=a.headers)).json()
    assert deal["state"] == "result_notice" and deal["price"] == price and deal["notice_kind"] == "deal_result"
    await past_notice(app, client, deal["notice_id"], *everyone)
    signed = await sign_both(client, deal["id"], a, uni.office)
    assert signed["state"] == "awaiting_payment"
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**a.headers, **key()})
    assert paid.status_code == 200, paid.text
    fees = paid.json()["fees"]
    assert paid.json()["state"] == "settled" and fees["inventor_reward_bp"] == 7_000
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "sold"

    # The settlement wrote the income receipt: the seller's net plus the inventors' share held.
    office = uni.office
    cash_code, rewards_code = chart.org_cash(office.org_id).code, chart.org_inventor_rewards(office.org_id).code
    proceeds, held = await balance(app, cash_code), await balance(app, rewards_code)
    assert (proceeds, held) == (fees["seller_proceeds"], fees["inventor_reward"])
    (receipt,) = await receipts(client, uni)
    amount = receipt["amount"]
    assert (receipt["deal_id"], receipt["process_id"]) == (deal["id"], pid)
    assert amount == price - fees["seller_fee"] == proceeds + held and receipt["reward_held"] == held

    # The default plan and its own notice; a third party objects; the office dismisses it.
    proposed = await propose(client, office, receipt["id"])
    assert proposed.status_code == 201, proposed.text
    plan = proposed.json()
    assert plan["status"] == "noticed" and sum(p["amount"] for p in plan["payouts"]) == amount
    inventors = [p for p in plan["payouts"] if p["kind"] == "inventor"]
    institution = [p for p in plan["payouts"] if p["kind"] != "inventor"]
    assert [p["name"] for p in inventors] == ["张发明", "李创新"]
    assert plan["inventors_total"] == sum(p["amount"] for p in inventors) == -(-amount * 7_000 // 10_000)
    plan_notice = await notice_of(client, plan["notice_id"])
    assert plan_notice["kind"] == "distribution_plan" and plan_notice["status"] == "open"
    oid = await object_to(client, plan["notice_id"], objector)
    listed = await client.get(f"{API}/objections", params={"side": "resolver"}, headers=office.headers)
    assert oid in [o["id"] for o in listed.json()["items"]]
    dismissed = await client.post(
        f"{API}/objections/{oid}/resolve", json={"decision": "dismissed", "note": "贡献比例经核实无误"},
        headers=office.headers,
    )  # fmt: skip
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed", dismissed.text
    assert (await plan_of(client, office, plan["id"]))["status"] == "noticed"

    # The notice closes; the plan is approved.
    await past_notice(app, client, plan["notice_id"], *everyone)
    assert (await notice_of(client, plan["notice_id"]))["status"] == "closed"
    assert (await plan_of(client, office, plan["id"]))["status"] == "approved"

    # Identity checks, then the higher meeting's approval where a payout passes ¥300,000.
    accounts = (
        await client.get(f"{API}/institutions/{office.org_id}/inventor-accounts", headers=office.headers)
    ).json()["items"]
    ids = {acct["name"]: acct["id"] for acct in accounts}
    assert set(ids) == {"张发明", "李创新"}
    for name, account_id in ids.items():
        body = {"user_id": uni.inventor.user_id} if name == "张发明" else {}
        checked = await client.post(
            f"{API}/inventor-accounts/{account_id}/identity-check", json={**body, "note": "身份已核验"},
            headers=office.headers,
        )  # fmt: skip
        assert checked.status_code == 200, checked.text
    # Both inventors' payouts pass ¥300,000: not paid without the higher meeting's minutes.
    assert [p["amount"] > 30_000_000 for p in inventors] == [True, True] and plan["extra_approval_needed"]
    refused = assert_problem(await pay(client, office, plan["id"]), 409, "invalid-state")
    assert refused["rule"] == "extra-approval-above-threshold"
    approved = await client.post(
        f"{API}/distribution-plans/{plan['id']}/extra-approval", json={"minutes": "学校党委常委会2026年第9次会议纪要"},
        headers=office.headers,
    )  # fmt: skip
    assert approved.status_code == 200, approved.text
    assert await balance(app, rewards_code) == held  # nothing moved yet

    # Paid: every inventor's account holds the plan's payout, the reward account is emptied, the
    # institution keeps its parts, the ledger verifies.
    paid_plan = await pay(client, office, plan["id"])
    assert paid_plan.status_code == 200 and paid_plan.json()["status"] == "paid", paid_plan.text
    for payout in inventors:
        assert await balance(app, chart.inventor_cash(ids[payout["name"]]).code) == payout["amount"]
    assert await balance(app, rewards_code) == 0
    assert await balance(app, cash_code) == sum(p["amount"] for p in institution) == amount - plan["inventors_total"]
    shown = (await client.get(f"{API}/inventor-accounts/{ids['张发明']}", headers=uni.inventor.headers)).json()
    assert shown["balance"] == inventors[0]["amount"]
    await assert_ledger_sound(app)


async def test_a_negotiated_price_reaches_the_exchanges_negotiated_price_notice(client, app) -> None:
    uni = await university(client, app)
    counterparty = await verified(client, uni.ops, "enterprise", "上海氢能装备有限公司")
    everyone = people(uni, counterparty)
    await fund(app, counterparty, FUNDS)
    amount = 125_000_000

    # 决策: 协议定价 with the named counterparty; 公示 runs its period.
    process = await to_decision(
        client, uni, pricing="negotiated", counterparty="上海氢能装备有限公司", related_inventors=["李创新"],
        related_party_declaration="李创新兼任该公司技术顾问。",
    )  # fmt: skip
    pid = process["id"]
    assert process["decision"]["counterparty"] == "上海氢能装备有限公司"
    await past_notice(app, client, process["notice_id"], *everyone)
    assert (await process_of(client, uni.office, pid))["step"] == "implementation"

    # 实施 with the signed contract: the negotiated listing draft at the contract's amount.
    contract = {"amount": amount, "terms": "专利权转让，一次性付款。", "signed_on": "2026-03-18"}
    done = await act(client, uni.office, pid, "implementation", {"ip_assets": IP_WITH_EXPIRY, "contract": contract})
    assert done["status"] == "finished" and done["contract"]["counterparty_org_id"] == counterparty.org_id
    lid = done["listing_id"]
    listing = await submitted_and_approved(client, uni, lid)
    assert listing["pricing"]["mode"] == "negotiated" and listing["pricing"]["asking_price"] == amount

    # The counterparty registers its intent; after the announcement it offers the contract's amount.
    await intent(client, counterparty, lid)
    await to_end_of_announcement(app, client, listing, *everyone)
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "negotiating"
    started = await client.post(f"{API}/listings/{lid}/negotiations", json=offer(amount), headers=counterparty.headers)
    assert started.status_code == 201, started.text
    thread = started.json()
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=uni.office.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    assert deal["price"] == amount and deal["notice_kind"] == "negotiated_price" and deal["related_party"] is True

    # Its negotiated-price notice on the board: 15 days for a public institution.
    board = (await client.get(f"{API}/notices", params={"kind": "negotiated_price"})).json()["items"]
    assert [n["id"] for n in board] == [deal["notice_id"]]
    notice = await notice_of(client, deal["notice_id"])
    body = notice["content"]["body"]
    assert (body["price"], body["buyer"], body["related_party"]) == (amount, "上海氢能装备有限公司", True)
    assert moment(notice["closes_at"]) - moment(notice["opens_at"]) >= timedelta(days=15)
    url = f"{API}/deals/{deal['id']}/sign"
    assert (await client.post(url, headers=counterparty.headers)).status_code == 409  # not while it runs

    # After it: both sign, and the office records the contract's registration for the deal.
    await past_notice(app, client, deal["notice_id"], *everyone)
    signed = await sign_both(client, deal["id"], counterparty, uni.office)
    assert signed["state"] == "awaiting_payment"
    registration = {
        "contract_number": "2026310000000456",
        "registry_name": "上海市技术合同登记处",
        "registered_on": app.state.clock.now().date().isoformat(),
        "certified_amount": amount,
    }
    recorded = await client.post(
        f"{API}/deals/{deal['id']}/contract-registration", json=registration, headers=uni.office.headers
    )
    assert recorded.status_code == 201, recorded.text
    shown = await client.get(f"{API}/deals/{deal['id']}/contract-registration", headers=counterparty.headers)
    assert shown.status_code == 200 and shown.json()["certified_amount"] == amount


async def test_an_objection_upheld_sends_the_process_back_to_evaluation_for_a_new_pass_and_a_new_notice(
    client, app
) -> None:
    uni = await university(client, app)
    objector = await verified(client, uni.ops, "enterprise", "异议企业")
    process = await to_decision(client, uni)
    pid, first_notice = process["id"], process["notice_id"]

    oid = await object_to(client, first_notice, objector)
    upheld = await resolve(client, uni.office, pid, oid, decision="upheld", return_to="evaluation")
    assert upheld.status_code == 200, upheld.text
    back = upheld.json()
    assert (back["step"], back["pass_no"]) == ("evaluation", 2)
    assert (await notice_of(client, first_notice))["status"] == "cancelled"
    # The decision noticed is no longer in force: the new pass decides again.
    board = (await client.get(f"{API}/notices", params={"kind": "institution_transfer"})).json()["items"]
    assert first_notice not in [n["id"] for n in board if n["status"] == "open"]

    # The second pass: a new appraisal, a new expert review, a new decision, a new notice.
    appraisal = evaluation_body(appraised_value=110_000_000, report_number="东洲评报字[2026]第0202号")
    evaluated = await act(client, uni.evaluator, pid, "evaluation", appraisal)
    assert evaluated["evaluation"]["appraised_value"] == 110_000_000 and evaluated["step"] == "expert_review"
    await act(client, uni.panel, pid, "expert-review", expert_review_body(("approve", "approve", "abstain")))
    decided = await act(client, uni.board, pid, "decision", decision_body(floor_price=115_000_000))
    second_notice = decided["notice_id"]
    assert decided["step"] == "notice" and second_notice not in (None, first_notice)
    second = await notice_of(client, second_notice)
    assert second["status"] == "open"
    assert second["content"]["body"]["appraisal"]["appraised_value"] == 110_000_000
    assert second["content"]["body"]["decision"]["floor_price"] == 115_000_000

    # The history holds both passes, the first one's acts and its return as they were.
    history = [(e["step"], e["pass_no"], e["outcome"]) for e in decided["history"]]
    assert history == [
        ("initiate", 1, "completed"),
        ("first_review", 1, "completed"),
        ("evaluation", 1, "completed"),
        ("expert_review", 1, "completed"),
        ("decision", 1, "completed"),
        ("notice", 1, "returned"),
        ("evaluation", 2, "completed"),
        ("expert_review", 2, "completed"),
        ("decision", 2, "completed"),
    ]
    first_evaluation = next(e for e in decided["history"] if e["step"] == "evaluation")
    assert first_evaluation["record"]["appraised_value"] == 100_000_000
    assert decided["history"][5]["returned_to"] == "evaluation"

    # The new notice runs its period and the process goes on to 实施.
    await past_notice(app, client, second_notice, *people(uni, objector))
    assert (await process_of(client, uni.office, pid))["step"] == "implementation"
    assert (await notice_of(client, first_notice))["status"] == "cancelled"


async def accept_standing(client: Any, party: Party, thread: dict[str, Any]) -> Any:
    url = f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept"
    return await client.post(url, headers=party.headers)


async def test_a_processs_listing_forms_a_deal_only_as_the_institution_decided(client, app) -> None:
    # The exchange's negotiation lets a seller accept any buyer at any price; the listing of a
    # transfer process keeps to the decision: the named counterparty at the contract's amount.
    uni = await university(client, app)
    counterparty = await verified(client, uni.ops, "enterprise", "上海氢能装备有限公司")
    other = await verified(client, uni.ops, "enterprise", "另一家公司")
    everyone = people(uni, counterparty, other)
    for buyer in (counterparty, other):
        await fund(app, buyer, FUNDS)
    process = await to_decision(client, uni, pricing="negotiated", counterparty="上海氢能装备有限公司")
    await past_notice(app, client, process["notice_id"], *everyone)
    contract = {"amount": 125_000_000, "terms": "专利权转让，一次性付款。", "signed_on": "2026-03-18"}
    done = await act(
        client, uni.office, process["id"], "implementation", {"ip_assets": IP_WITH_EXPIRY, "contract": contract}
    )
    lid = done["listing_id"]
    listing = await submitted_and_approved(client, uni, lid)
    for buyer in (counterparty, other):
        await intent(client, buyer, lid)
    await to_end_of_announcement(app, client, listing, *everyone)
    theirs = await client.post(f"{API}/listings/{lid}/negotiations", json=offer(130_000_000), headers=other.headers)
    low = await client.post(f"{API}/listings/{lid}/negotiations", json=offer(90_000_000), headers=counterparty.headers)
    assert theirs.status_code == 201 and low.status_code == 201, (theirs.text, low.text)

    refused = assert_problem(await accept_standing(client, uni.office, theirs.json()), 409, "invalid-state")
    assert refused["rule"] == "decided-counterparty"
    refused = assert_problem(await accept_standing(client, uni.office, low.json()), 409, "invalid-state")
    assert refused["rule"] == "contract-amount"
    # Nothing was written: no deal, both threads still open, the listing still negotiating.
    assert (await client.get(f"{API}/deals", headers=uni.office.headers)).json()["items"] == []
    for thread in (theirs.json(), low.json()):
        shown = await client.get(f"{API}/negotiations/{thread['id']}", headers=uni.office.headers)
        assert shown.json()["status"] == "open"
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "negotiating"

    # The office counters at the contract's amount; the counterparty accepts: the deal forms.
    countered = await client.post(
        f"{API}/negotiations/{low.json()['id']}/offers", json=offer(125_000_000), headers=uni.office.headers
    )
    assert countered.status_code == 201, countered.text
    accepted = await accept_standing(client, counterparty, countered.json())
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["price"] == 125_000_000 and accepted.json()["buyer_org_id"] == counterparty.org_id


async def test_a_listed_decision_forms_no_deal_below_its_floor_price(client, app) -> None:
    uni = await university(client, app)
    buyer = await verified(client, uni.ops, "enterprise", "宁德新能")
    everyone = people(uni, buyer)
    await fund(app, buyer, FUNDS)
    process = await to_decision(client, uni, pricing="listed")
    await past_notice(app, client, process["notice_id"], *everyone)
    done = await act(client, uni.office, process["id"], "implementation", {"ip_assets": IP_WITH_EXPIRY})
    listing = await submitted_and_approved(client, uni, done["listing_id"])
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, *everyone)
    # One intent: the listed price stands as the seller's opening offer; the buyer counters below it.
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    lower = await client.post(
        f"{API}/negotiations/{thread['id']}/offers", json=offer(FLOOR - 100_000), headers=buyer.headers
    )
    assert lower.status_code == 201, lower.text
    refused = assert_problem(await accept_standing(client, uni.office, lower.json()), 409, "invalid-state")
    assert refused["rule"] == "decided-floor-price"
    assert (await client.get(f"{API}/deals", headers=buyer.headers)).json()["items"] == []
