"""公示 and 实施 of a university's transfer process, on both databases: the decision opens the
institution's own notice on the exchange's board; its period ends (the clock moved, the sweeper
run) and 公示 completes; the office implements it as a listing draft at the exchange, or with the
contract signed with the named counterparty. An objection the office upholds sends the process
back (history kept, notice cancelled) and a new decision opens a new notice; a dismissed one lets
the notice run its period; another university's member cannot resolve."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.helpers import Party, assert_problem, verified
from tests.institution_helpers import (
    API,
    act,
    decision_body,
    everyone_again,
    object_to,
    past_period,
    to_decision,
    university,
)

IP_WITH_EXPIRY = [
    {"kind": "invention_patent", "number": "ZL202110000001.X", "title": "储氢合金", "expires_on": "2041-06-30"}
]


async def process_of(client: Any, party: Party, pid: str) -> dict[str, Any]:
    shown = await client.get(f"{API}/transfer-processes/{pid}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    return shown.json()  # type: ignore[no-any-return]


async def notice_of(client: Any, notice_id: str) -> dict[str, Any]:
    shown = await client.get(f"{API}/notices/{notice_id}")
    assert shown.status_code == 200, shown.text
    return shown.json()  # type: ignore[no-any-return]


async def resolve(client: Any, party: Party, pid: str, oid: str, **body: Any) -> Any:
    return await client.post(
        f"{API}/transfer-processes/{pid}/objections/{oid}/resolve", json={"note": "经技术转移中心核查", **body},
        headers=party.headers,
    )  # fmt: skip


async def test_decision_opens_the_notice_its_period_completes_it_and_the_listing_draft_follows(client, app) -> None:
    uni = await university(client, app)
    process = await to_decision(client, uni)
    pid = process["id"]
    assert process["step"] == "notice" and process["notice_id"]
    notice = await notice_of(client, process["notice_id"])
    assert notice["kind"] == "institution_transfer" and notice["status"] == "open"
    # 15 calendar days after Monday 2 March 2026: the end of Tuesday 17 March, Beijing time.
    assert notice["closes_at"].startswith("2026-03-17T16:00:00")
    board = (await client.get(f"{API}/notices", params={"kind": "institution_transfer"})).json()["items"]
    assert [n["id"] for n in board] == [process["notice_id"]]
    # The public sees the institution, the achievement, the inventors, the price and the appraisal.
    body = notice["content"]["body"] if "content" in notice else notice["body"]
    assert body["institution"]["name"] == "华东理工示范大学"
    assert body["achievement"]["title"] == "一种高容量储氢合金及其制备方法"
    assert body["achievement"]["ip_assets"][0]["number"] == "ZL202110000001.X"
    assert [(i["name"], i["share_bp"]) for i in body["inventors"]] == [("张发明", 6000), ("李创新", 4000)]
    assert body["decision"]["pricing"] == "auction" and body["decision"]["floor_price"] == 120_000_000
    assert body["appraisal"]["appraised_value"] == 100_000_000
    assert body["appraisal"]["report_number"] == "东洲评报字[2026]第0101号"

    # Implementation before the notice closed: out of order.
    early = await client.post(f"{API}/transfer-processes/{pid}/implementation", json={}, headers=uni.office.headers)
    assert_problem(early, 409, "invalid-state")

    await past_period(client, app, uni)
    assert (await notice_of(client, process["notice_id"]))["status"] == "closed"
    shown = await process_of(client, uni.office, pid)
    assert shown["step"] == "implementation"
    last = shown["history"][-1]
    assert (last["step"], last["outcome"], last["actor_name"], last["actor_user_id"]) == (
        "notice", "completed", "公示期满", None,
    )  # fmt: skip
    # A correction that does not change what was noticed: the notice that ran stands, 公示 is done.
    await act(client, uni.office, pid, "return", {"to": "decision", "reason": "纪要附件补正"})
    same = await act(client, uni.board, pid, "decision", decision_body(note="附件已补正"))
    assert (same["step"], same["notice_id"]) == ("implementation", process["notice_id"])
    assert [(e["step"], e["outcome"]) for e in same["history"][-3:]] == [
        ("implementation", "returned"), ("decision", "completed"), ("notice", "completed"),
    ]  # fmt: skip
    board = (await client.get(f"{API}/notices", params={"kind": "institution_transfer"})).json()["items"]
    assert board == [] and (await notice_of(client, process["notice_id"]))["status"] == "closed"  # no new notice

    # The exchange raises its least inventors' share (TECHX_INVENTOR_REWARD_BP): an institution on the
    # defaults declares that one, and listings accepts it.
    app.state.listings.rules = replace(app.state.listings.rules, inventor_reward_min_bp=8000)
    settings = await client.get(f"{API}/institutions/{uni.office.org_id}/settings", headers=uni.office.headers)
    assert settings.json()["inventor_share_bp"] == 8000 and settings.json()["configured"] is False
    # Only the office implements; the decision body's secretary may not.
    refused = await client.post(
        f"{API}/transfer-processes/{pid}/implementation", json={"ip_assets": IP_WITH_EXPIRY}, headers=uni.board.headers
    )
    assert_problem(refused, 403, "forbidden")
    # The patent's expiry is the listing's rule: without it listings refuses, naming the field.
    no_expiry = await client.post(f"{API}/transfer-processes/{pid}/implementation", json={}, headers=uni.office.headers)
    assert_problem(no_expiry, 422, "invalid-listing", "ip_assets.0.expires_on")
    done = await act(client, uni.office, pid, "implementation", {"ip_assets": IP_WITH_EXPIRY})
    assert done["status"] == "finished" and done["step"] is None and done["listing_id"]
    listing = (await client.get(f"{API}/listings/{done['listing_id']}", headers=uni.office.headers)).json()
    assert listing["status"] == "draft"
    assert listing["pricing"]["mode"] == "auction" and listing["pricing"]["asking_price"] == 120_000_000
    assert listing["pricing"]["appraised_value"] == 100_000_000
    assert listing["pricing"]["appraisal_report"]["report_number"] == "东洲评报字[2026]第0101号"
    assert listing["inventor_reward_bp"] == 8000
    # The draft keeps the decided floor: edited below it, refused naming the price, nothing written
    # (an auction's bids start at the asking price, so its deal keeps to the floor too).
    pricing = {k: listing["pricing"][k] for k in ("mode", "appraised_value", "deposit", "increment")}
    below = await client.patch(f"{API}/listings/{done['listing_id']}", headers=uni.office.headers,
                               json={"pricing": {**pricing, "asking_price": 119_999_999}})  # fmt: skip
    assert_problem(below, 422, "invalid-listing", "pricing.asking_price")
    again = (await client.get(f"{API}/listings/{done['listing_id']}", headers=uni.office.headers)).json()
    assert (again["pricing"]["asking_price"], again["version"]) == (120_000_000, listing["version"])
    assert [i["name"] for i in listing["inventors"]] == ["张发明", "李创新"]
    assert listing["title"] == "一种高容量储氢合金及其制备方法"
    # Done once: a second implementation is refused.
    again = await client.post(
        f"{API}/transfer-processes/{pid}/implementation", json={"ip_assets": IP_WITH_EXPIRY}, headers=uni.office.headers
    )
    assert_problem(again, 409, "invalid-state")


async def test_an_objection_upheld_returns_the_process_to_decision_and_a_new_decision_opens_a_new_notice(
    client, app
) -> None:
    uni = await university(client, app)
    objector = await verified(client, uni.ops)
    other = await university(client, app)
    process = await to_decision(client, uni)
    pid, first_notice = process["id"], process["notice_id"]
    oid = await object_to(client, first_notice, objector)

    # The office hears of it; the objection is on its resolver list.
    listed = await client.get(f"{API}/objections", params={"side": "resolver"}, headers=uni.office.headers)
    assert [o["id"] for o in listed.json()["items"]] == [oid]
    # Another university's member (its own office) cannot resolve it; nor can a member without the office role.
    assert_problem(await resolve(client, other.office, pid, oid, decision="upheld", return_to="decision"), 403,
                   "forbidden")  # fmt: skip
    assert_problem(await resolve(client, uni.board, pid, oid, decision="upheld", return_to="decision"), 403,
                   "forbidden")  # fmt: skip
    # An upheld objection names where the process goes.
    assert_problem(await resolve(client, uni.office, pid, oid, decision="upheld"), 422, "invalid-step-record",
                   "return_to")  # fmt: skip
    assert_problem(await resolve(client, uni.office, pid, oid, decision="upheld", return_to="implementation"), 422,
                   "invalid-step-record", "return_to")  # fmt: skip
    assert (await notice_of(client, first_notice))["status"] == "open"

    upheld = await resolve(client, uni.office, pid, oid, decision="upheld", return_to="decision")
    assert upheld.status_code == 200, upheld.text
    back = upheld.json()
    assert back["step"] == "decision" and back["pass_no"] == 2
    assert (await notice_of(client, first_notice))["status"] == "cancelled"
    last = back["history"][-1]
    assert (last["step"], last["outcome"], last["returned_to"], last["actor_name"]) == (
        "notice", "returned", "decision", "Admin",
    ) or (last["step"], last["outcome"], last["returned_to"]) == ("notice", "returned", "decision")  # fmt: skip
    # The history is kept: the first decision and its notice's return are still there.
    assert [e["step"] for e in back["history"] if e["step"] == "decision"] == ["decision"]
    objection = (await client.get(f"{API}/objections/{oid}", headers=uni.ops.headers)).json()
    assert objection["status"] == "upheld"

    decided = await act(client, uni.board, pid, "decision", decision_body(floor_price=130_000_000))
    assert decided["step"] == "notice" and decided["notice_id"] not in (None, first_notice)
    second = await notice_of(client, decided["notice_id"])
    assert second["status"] == "open"
    body = second["content"]["body"] if "content" in second else second["body"]
    assert body["decision"]["floor_price"] == 130_000_000


async def test_an_operator_upholding_returns_to_decision_and_the_office_may_stop(client, app) -> None:
    uni = await university(client, app)
    objector = await verified(client, uni.ops)
    process = await to_decision(client, uni)
    pid = process["id"]
    oid = await object_to(client, process["notice_id"], objector)
    upheld = await client.post(
        f"{API}/objections/{oid}/resolve", json={"decision": "upheld", "note": "异议成立"}, headers=uni.ops.headers
    )
    assert upheld.status_code == 200, upheld.text
    shown = await process_of(client, uni.office, pid)
    assert shown["step"] == "decision" and shown["history"][-1]["returned_to"] == "decision"

    decided = await act(client, uni.board, pid, "decision", decision_body())
    # A correction while the notice runs: noticing the same keeps it; a changed floor price supersedes it.
    await act(client, uni.office, pid, "return", {"to": "decision", "reason": "纪要编号补正"})
    assert (await notice_of(client, decided["notice_id"]))["status"] == "open"
    same = await act(client, uni.board, pid, "decision", decision_body(note="同一决定"))
    assert (same["step"], same["notice_id"]) == ("notice", decided["notice_id"])
    await act(client, uni.office, pid, "return", {"to": "decision", "reason": "底价调整"})
    decided = await act(client, uni.board, pid, "decision", decision_body(floor_price=125_000_000))
    assert decided["notice_id"] != same["notice_id"]
    assert (await notice_of(client, same["notice_id"]))["status"] == "cancelled"
    new = await notice_of(client, decided["notice_id"])
    assert new["content"]["supersedes"] == same["notice_id"] and new["content"]["body"]["decision"]["floor_price"] == (
        125_000_000
    )
    oid2 = await object_to(client, decided["notice_id"], objector)
    stopped = await resolve(client, uni.office, pid, oid2, decision="upheld", stop=True)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "stopped" and stopped.json()["history"][-1]["outcome"] == "stopped"
    assert (await notice_of(client, decided["notice_id"]))["status"] == "cancelled"


async def test_a_dismissed_objection_lets_the_notice_close_after_its_period(client, app) -> None:
    uni = await university(client, app)
    objector = await verified(client, uni.ops)
    process = await to_decision(client, uni)
    pid, nid = process["id"], process["notice_id"]
    oid = await object_to(client, nid, objector)
    await past_period(client, app, uni, objector)
    assert (await notice_of(client, nid))["status"] == "suspended"
    assert (await process_of(client, uni.office, pid))["step"] == "notice"
    dismissed = await resolve(client, uni.office, pid, oid, decision="dismissed")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["step"] == "implementation"
    assert (await notice_of(client, nid))["status"] == "closed"


async def test_a_working_day_period_into_a_year_without_calendar_data_writes_nothing(client, app) -> None:
    uni = await university(client, app)
    saved = await client.put(
        f"{API}/institutions/{uni.office.org_id}/settings",
        json={"notice_days": 60, "notice_unit": "working_days"},
        headers=uni.office.headers,
    )
    assert saved.status_code == 200, saved.text
    app.state.clock.set(app.state.clock.now().replace(month=11, day=2))
    await everyone_again(client, uni)
    try:
        await to_decision(client, uni)
    except AssertionError as refused:
        assert "calendar-year-missing" in str(refused)
    else:  # pragma: no cover - the calendar data would have to reach into 2027
        raise AssertionError("a period into 2027 was counted without its calendar")
    processes = await client.get(f"{API}/institutions/{uni.office.org_id}/processes", headers=uni.office.headers)
    [summary] = processes.json()["items"]
    assert summary["step"] == "decision"
    board = (await client.get(f"{API}/notices", params={"kind": "institution_transfer"})).json()["items"]
    assert board == []


async def test_the_negotiated_path_records_the_contract_with_the_verified_counterparty(client, app) -> None:
    uni = await university(client, app)
    buyer = await verified(client, uni.ops, "enterprise", "上海氢能装备有限公司")
    stranger = await verified(client, uni.ops, "enterprise", "另一家公司")
    process = await to_decision(client, uni, pricing="negotiated", counterparty="上海氢能装备有限公司")
    pid = process["id"]
    await past_period(client, app, uni, buyer, stranger)
    url = f"{API}/transfer-processes/{pid}/implementation"
    contract = {"amount": 125_000_000, "terms": "专利权转让，一次性付款。", "signed_on": "2026-03-18"}
    body = {"ip_assets": IP_WITH_EXPIRY}
    assert_problem(await client.post(url, json=body, headers=uni.office.headers), 422, "invalid-step-record",
                   "contract")  # fmt: skip
    low = {**body, "contract": {**contract, "amount": 110_000_000, "counterparty_org_id": buyer.org_id}}
    assert_problem(await client.post(url, json=low, headers=uni.office.headers), 422, "invalid-step-record",
                   "contract.amount")  # fmt: skip
    wrong = {**body, "contract": {**contract, "counterparty_org_id": stranger.org_id}}
    assert_problem(await client.post(url, json=wrong, headers=uni.office.headers), 422, "invalid-step-record",
                   "contract.counterparty_org_id")  # fmt: skip
    assert (await process_of(client, uni.office, pid))["step"] == "implementation"

    done = await act(client, uni.office, pid, "implementation", {**body, "contract": contract})
    assert done["status"] == "finished"
    assert done["contract"]["amount"] == 125_000_000
    assert done["contract"]["counterparty_org_id"] == buyer.org_id
    listing = (await client.get(f"{API}/listings/{done['listing_id']}", headers=uni.office.headers)).json()
    assert listing["status"] == "draft" and listing["pricing"]["mode"] == "negotiated"
    assert listing["pricing"]["asking_price"] == 125_000_000
