"""A university's own transfer process over HTTP, on both databases: a disclosure through its
steps by the people who hold each role, with every act in the history; and the refusals — wrong
role, wrong order, bad records — each a problem naming the rule, with nothing written."""

from __future__ import annotations

from sqlalchemy import func, select

from exchange.institutions.models import Disclosure, StepEntry, TransferProcess
from listings import Notice
from tests.helpers import assert_problem, verified
from tests.institution_helpers import (
    API,
    act,
    decision_body,
    disclose,
    disclosure_body,
    evaluation_body,
    expert_review_body,
    first_review_body,
    post,
    to_decision,
    university,
)


async def count(app, model) -> int:
    async with app.state.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_disclosure_goes_through_every_step_to_an_approved_decision(client, app):
    uni = await university(client, app)
    process = await disclose(client, uni.inventor)
    assert process["step"] == "first_review" and process["status"] == "active"
    assert [(h["step"], h["role"], h["actor_name"]) for h in process["history"]] == [("initiate", "inventor", "张发明")]
    assert process["disclosure"]["inventors"][0] == {"name": "张发明", "affiliation": "材料学院", "share_bp": 6000}
    pid = process["id"]
    after = await act(client, uni.office, pid, "first-review", first_review_body(note="材料齐全"))
    assert after["step"] == "evaluation"
    after = await act(client, uni.evaluator, pid, "evaluation", evaluation_body())
    assert after["evaluation"]["appraised_value"] == 100_000_000 and after["step"] == "expert_review"
    after = await act(client, uni.panel, pid, "expert-review", expert_review_body(("approve", "approve", "reject")))
    assert after["history"][-1]["record"]["tally"] == {"approvals": 2, "rejections": 1, "abstentions": 0}
    after = await act(client, uni.board, pid, "decision", decision_body())
    assert after["decision"]["floor_price"] == 120_000_000 and after["decision"]["pricing"] == "auction"
    assert after["decision"]["tally"] == {"approvals": 2, "rejections": 0, "abstentions": 1}
    assert [(h["step"], h["outcome"], h["role"]) for h in after["history"]] == [
        ("initiate", "completed", "inventor"),
        ("first_review", "completed", "office"),
        ("evaluation", "completed", "evaluator"),
        ("expert_review", "completed", "expert_panel"),
        ("decision", "completed", "decision_body"),
    ]
    assert after["history"][1]["note"] == "材料齐全"
    # Listed for the institution, newest first; the step filter finds it.
    listed = await client.get(f"{API}/institutions/{uni.office.org_id}/processes", headers=uni.office.headers)
    assert [(p["id"], p["title"]) for p in listed.json()["items"]] == [(pid, "一种高容量储氢合金及其制备方法")]


async def test_bad_disclosures_are_refused_and_write_nothing(client, app):
    uni = await university(client, app)
    shares = disclosure_body(
        inventors=[
            {"name": "张发明", "affiliation": "材料学院", "share_bp": 6000},
            {"name": "李创新", "affiliation": "材料学院", "share_bp": 3000},
        ]
    )
    assert_problem(
        await post(client, uni.inventor, "/transfer-processes", shares), 422, "invalid-disclosure", "inventors"
    )
    no_number = disclosure_body(funding=[{"kind": "government", "funder": "科技部"}])
    problem = await post(client, uni.inventor, "/transfer-processes", no_number)
    assert_problem(problem, 422, "invalid-disclosure", "funding.0.project_number")
    blank = await post(client, uni.inventor, "/transfer-processes", disclosure_body(keywords=["储氢", " "]))
    assert_problem(blank, 422, "invalid-disclosure", "keywords.1")
    enterprise = await verified(client, uni.ops, "enterprise")
    refused = await post(client, enterprise, "/transfer-processes", disclosure_body())
    assert_problem(refused, 403, "not-an-institution")
    assert await count(app, Disclosure) == 0 and await count(app, TransferProcess) == 0


async def test_steps_are_taken_in_order_by_the_roles_that_hold_them(client, app):
    uni = await university(client, app)
    pid = (await disclose(client, uni.inventor))["id"]
    # The evaluator cannot do the office's first review; the inventor cannot either.
    assert_problem(await post(client, uni.evaluator, f"/transfer-processes/{pid}/first-review", first_review_body()),
                   403, "forbidden")  # fmt: skip
    assert_problem(await post(client, uni.inventor, f"/transfer-processes/{pid}/first-review", first_review_body()),
                   403, "forbidden")  # fmt: skip
    # No skipping: the evaluation waits for the first review.
    skipped = await post(client, uni.evaluator, f"/transfer-processes/{pid}/evaluation", evaluation_body())
    assert assert_problem(skipped, 409, "invalid-state")["rule"] == "steps-in-order"
    # A first review that finds the disclosure incomplete is not completed.
    incomplete = await post(
        client, uni.office, f"/transfer-processes/{pid}/first-review", first_review_body(complete=False)
    )
    assert_problem(incomplete, 422, "invalid-step-record", "complete")
    assert await count(app, StepEntry) == 1
    # Another organisation does not see the process at all.
    stranger = await verified(client, uni.ops, "university")
    assert (await client.get(f"{API}/transfer-processes/{pid}", headers=stranger.headers)).status_code == 404
    assert (await client.get(f"{API}/transfer-processes/{pid}", headers=uni.ops.headers)).status_code == 200


async def test_bad_step_records_are_refused_naming_the_field(client, app):
    uni = await university(client, app)
    pid = (await disclose(client, uni.inventor))["id"]
    await act(client, uni.office, pid, "first-review", first_review_body())
    future = await post(client, uni.evaluator, f"/transfer-processes/{pid}/evaluation",
                        evaluation_body(report_date="2099-01-01"))  # fmt: skip
    assert_problem(future, 422, "invalid-step-record", "report_date")
    await act(client, uni.evaluator, pid, "evaluation", evaluation_body())
    two = {"experts": expert_review_body()["experts"][:2]}
    assert_problem(await post(client, uni.panel, f"/transfer-processes/{pid}/expert-review", two),
                   422, "invalid-step-record", "experts")  # fmt: skip
    failed = expert_review_body(("approve", "reject", "abstain", "approve"))
    assert_problem(await post(client, uni.panel, f"/transfer-processes/{pid}/expert-review", failed),
                   422, "invalid-step-record", "experts")  # fmt: skip
    await act(client, uni.panel, pid, "expert-review", expert_review_body())
    # A public institution's floor price is at least the appraised value.
    low = decision_body(floor_price=99_999_999)
    assert_problem(await post(client, uni.board, f"/transfer-processes/{pid}/decision", low),
                   422, "invalid-step-record", "floor_price")  # fmt: skip
    related = decision_body(pricing="negotiated", counterparty="某某科技有限公司", related_inventors=["张发明"])
    assert_problem(await post(client, uni.board, f"/transfer-processes/{pid}/decision", related),
                   422, "invalid-step-record", "related_party_declaration")  # fmt: skip
    # A decision without the required votes: 1 of the 2 members who did not recuse approves.
    split = decision_body(decision_makers=[{"name": "陈校长", "vote": "approve"}, {"name": "刘处长", "vote": "reject"},
                                           {"name": "黄主任", "recused": True}])  # fmt: skip
    refused = assert_problem(await post(client, uni.board, f"/transfer-processes/{pid}/decision", split),
                             422, "invalid-step-record", "decision_makers")  # fmt: skip
    assert "1 of 2 ballots approve" in refused["detail"]
    process = await client.get(f"{API}/transfer-processes/{pid}", headers=uni.office.headers)
    assert process.json()["step"] == "decision" and process.json()["decision"] is None
    assert await count(app, StepEntry) == 4 and await count(app, Notice) == 0


async def test_a_returned_step_keeps_its_history_and_the_decision_is_frozen_after_it(client, app):
    uni = await university(client, app)
    pid = (await disclose(client, uni.inventor))["id"]
    await act(client, uni.office, pid, "first-review", first_review_body())
    await act(client, uni.evaluator, pid, "evaluation", evaluation_body())
    # The panel sends it back to a new appraisal; the first one stays in the history.
    back = await act(client, uni.panel, pid, "return", {"to": "evaluation", "reason": "评估基准日过早，请重新评估"})
    assert back["step"] == "evaluation" and back["pass_no"] == 2
    assert back["history"][-1]["outcome"] == "returned" and back["history"][-1]["returned_to"] == "evaluation"
    again = await act(client, uni.evaluator, pid, "evaluation", evaluation_body(appraised_value=110_000_000))
    assert again["evaluation"]["appraised_value"] == 110_000_000
    assert [h["record"]["appraised_value"] for h in again["history"] if h["step"] == "evaluation" and h["record"]] == [
        100_000_000, 110_000_000
    ]  # fmt: skip
    await act(client, uni.panel, pid, "expert-review", expert_review_body())
    # The floor is checked against the appraisal of record: the second one.
    low = decision_body(floor_price=105_000_000)
    assert_problem(await post(client, uni.board, f"/transfer-processes/{pid}/decision", low),
                   422, "invalid-step-record", "floor_price")  # fmt: skip
    # A return may only go back; the evaluator cannot stop the process.
    forward = await post(client, uni.office, f"/transfer-processes/{pid}/return", {"to": "notice", "reason": "x"})
    assert assert_problem(forward, 409, "invalid-state")["rule"] == "return-to-earlier-step"
    assert_problem(
        await post(client, uni.evaluator, f"/transfer-processes/{pid}/stop", {"reason": "不转了"}), 403, "forbidden"
    )
    # The decision body may decline: the process stops there.
    stopped = await act(client, uni.board, pid, "stop", {"reason": "领导小组未通过"})
    assert stopped["status"] == "stopped" and stopped["step"] is None
    late = await post(client, uni.board, f"/transfer-processes/{pid}/decision", decision_body())
    assert assert_problem(late, 409, "invalid-state")["rule"] == "process-ended"


async def test_an_institution_configures_its_workflow_and_its_settings_are_checked(client, app):
    uni = await university(client, app)
    url = f"{API}/institutions/{uni.office.org_id}/settings"
    default = (await client.get(url, headers=uni.office.headers)).json()
    assert [s["step"] for s in default["workflow"]] == [
        "initiate", "first_review", "evaluation", "expert_review", "decision", "notice", "implementation"
    ]  # fmt: skip
    assert default["configured"] is False and default["inventor_share_bp"] == 7000
    bad = {"workflow": [{"step": "initiate"}, {"step": "decision"}, {"step": "implementation"}]}
    assert_problem(await client.put(url, json=bad, headers=uni.office.headers), 422, "invalid-workflow", "steps")
    low = {"inventor_share_bp": 5000}
    assert_problem(await client.put(url, json=low, headers=uni.office.headers), 422, "invalid-institution-rules",
                   "inventor_share_bp")  # fmt: skip
    short = {"notice_days": 10}
    assert_problem(await client.put(url, json=short, headers=uni.office.headers), 422, "invalid-institution-rules",
                   "notice_days")  # fmt: skip
    members_cannot = await client.put(url, json={}, headers=uni.inventor.headers)
    assert_problem(members_cannot, 403, "forbidden")
    lean = {
        "workflow": [{"step": s} for s in ("initiate", "evaluation", "decision", "notice", "implementation")],
        "notice_days": 15,
        "notice_unit": "working_days",
    }
    saved = await client.put(url, json=lean, headers=uni.office.headers)
    assert saved.status_code == 200 and saved.json()["configured"] is True
    # A process begun now runs the lean workflow: the evaluation follows 发起 directly.
    pid = (await disclose(client, uni.inventor))["id"]
    after = await act(client, uni.evaluator, pid, "evaluation", evaluation_body())
    assert after["step"] == "decision"
    not_configured = await post(client, uni.panel, f"/transfer-processes/{pid}/expert-review", expert_review_body())
    assert_problem(not_configured, 403, "forbidden")


async def test_roles_are_granted_by_admins_to_members_only(client, app):
    uni = await university(client, app)
    roles = await client.get(f"{API}/institutions/{uni.office.org_id}/roles", headers=uni.office.headers)
    held = {(r["user_id"], r["role"]) for r in roles.json()["items"]}
    assert (uni.office.user_id, "office") in held and (uni.board.user_id, "decision_body") in held
    outsider = await verified(client, uni.ops, "enterprise")
    refused = await post(client, uni.office, f"/institutions/{uni.office.org_id}/roles",
                         {"user_id": outsider.user_id, "role": "evaluator"})  # fmt: skip
    assert_problem(refused, 422, "not-a-member", "user_id")
    by_member = await post(client, uni.inventor, f"/institutions/{uni.office.org_id}/roles",
                           {"user_id": uni.inventor.user_id, "role": "office"})  # fmt: skip
    assert_problem(by_member, 403, "forbidden")
    gone = await client.delete(f"{API}/institutions/{uni.office.org_id}/roles/{uni.board.user_id}/decision_body",
                               headers=uni.office.headers)  # fmt: skip
    assert gone.status_code == 200
    process = await to_decision_ready(client, uni)
    refused = await post(client, uni.board, f"/transfer-processes/{process}/decision", decision_body())
    assert_problem(refused, 403, "forbidden")


async def to_decision_ready(client, uni) -> str:
    pid = (await disclose(client, uni.inventor))["id"]
    await act(client, uni.office, pid, "first-review", first_review_body())
    await act(client, uni.evaluator, pid, "evaluation", evaluation_body())
    await act(client, uni.panel, pid, "expert-review", expert_review_body())
    return pid


async def test_to_decision_helper_reaches_the_notice_step(client, app):
    uni = await university(client, app)
    after = await to_decision(client, uni)
    assert after["step"] == "notice"


async def test_the_disclosure_is_corrected_only_at_initiate_and_the_history_keeps_what_it_replaced(client, app):
    uni = await university(client, app)
    pid = (await disclose(client, uni.inventor))["id"]
    early = await post(client, uni.inventor, f"/transfer-processes/{pid}/disclosure", disclosure_body(title="改名"))
    assert assert_problem(early, 409, "invalid-state")["rule"] == "steps-in-order"
    await act(client, uni.office, pid, "return", {"to": "initiate", "reason": "请补充资助来源的项目编号"})
    bad = await post(client, uni.inventor, f"/transfer-processes/{pid}/disclosure", disclosure_body(funding=[
        {"kind": "government", "funder": "科技部"}]))  # fmt: skip
    assert_problem(bad, 422, "invalid-disclosure", "funding.0.project_number")
    corrected = await act(client, uni.inventor, pid, "disclosure", disclosure_body(title="一种高容量镁基储氢合金"))
    assert corrected["step"] == "first_review" and corrected["pass_no"] == 2
    assert corrected["disclosure"]["title"] == "一种高容量镁基储氢合金"
    assert corrected["history"][-1]["record"]["previous"]["title"] == "一种高容量储氢合金及其制备方法"
    assert await count(app, Disclosure) == 1
