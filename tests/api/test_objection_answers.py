"""The seller's answer to an objection (异议答复) over HTTP, on both databases: the seller's side
reads the reason but never who objected, answers once while the objection is pending, the answer
goes to the objector and the operators (who see it beside the objection when they resolve it);
nobody else may answer, and a stranger does not learn that the objection exists."""

from __future__ import annotations

import uuid

from exchange.platform.outbox import Kind
from listings.models import Objection
from tests.api.test_documents import PDF
from tests.api.test_trading_flows import _auction_deal
from tests.helpers import announced_listing, assert_problem, join, operator, register, verified
from tests.notification_helpers import only, orgs, outbox_rows, to_operators, users

API = "/api/v1"
REASON = "该专利已于去年未缴年费而终止，请核实权利状态。"
ANSWER = "该专利年费已于期限内补缴，权利状态有效，附国家知识产权局缴费凭证。"
IDENTITY = {"objector_user_id", "objector_org_id", "objector", "email"}


async def _objected(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await announced_listing(client, seller, ops)
    notice_id = listing["announcement"]["notice_id"]
    objector = await verified(client, ops)
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": REASON}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    return ops, seller, objector, listing, filed.json()


async def _stored(app, objection_id: str) -> Objection:
    async with app.state.db.read() as session:
        row = await session.get(Objection, uuid.UUID(objection_id))
        assert row is not None
        return row


async def test_the_seller_reads_the_reason_without_the_objector_and_answers_once(client, app):
    ops, seller, objector, _listing, objection = await _objected(client, app)
    oid = objection["id"]

    # The seller's side (any member of its organisation) lists the objections against its notices.
    colleague = await join(client, seller)
    page = await client.get(f"{API}/objections", params={"side": "seller"}, headers=colleague.headers)
    assert page.status_code == 200, page.text
    [seen] = page.json()["items"]
    assert seen["id"] == oid and seen["reason"] == REASON and seen["answer"] is None
    assert not IDENTITY & set(seen)
    assert objector.email not in page.text and objector.org_id not in page.text and objector.user_id not in page.text
    shown = await client.get(f"{API}/objections/{oid}", headers=seller.headers)
    assert shown.status_code == 200 and objector.org_id not in shown.text and objector.user_id not in shown.text
    # Without ``side`` the seller gets its own objections and those against its notices together.
    assert [o["id"] for o in (await client.get(f"{API}/objections", headers=seller.headers)).json()["items"]] == [oid]
    # ... and the objector does not see the seller's side as its own.
    mine = await client.get(f"{API}/objections", params={"side": "seller"}, headers=objector.headers)
    assert mine.json()["items"] == []

    # Too short (after trimming) is refused naming the field, nothing written.
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json={"answer": "不成立"}, headers=seller.headers),
        400,
        "validation-error",
        "answer",
    )
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json={"answer": "   不成立      "}, headers=seller.headers),
        422,
        "invalid-request",
        "answer",
    )
    assert (await _stored(app, oid)).answer is None
    assert await outbox_rows(app.state.db, Kind.OBJECTION_ANSWERED) == []

    answered = await client.post(
        f"{API}/objections/{oid}/answer", json={"answer": f"  {ANSWER}  "}, headers=colleague.headers
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["answer"] == ANSWER and body["answered_at"] and body["status"] == "pending"
    stored = await _stored(app, oid)
    assert (stored.answer, str(stored.answered_by)) == (ANSWER, colleague.user_id)

    # Final once given: a second answer is refused and the first stands.
    again = await client.post(
        f"{API}/objections/{oid}/answer", json={"answer": "补充说明：缴费凭证编号见附件。"}, headers=seller.headers
    )
    assert_problem(again, 409, "objection-answered")
    assert (await _stored(app, oid)).answer == ANSWER

    # The objector and operators are told, with the answer; the seller's organisation is not the audience.
    row = await only(app.state.db, Kind.OBJECTION_ANSWERED)
    assert users(row) == {objector.user_id} and to_operators(row) and orgs(row) == set()
    assert (row.data["answer"], row.data["reason"], row.subject_id) == (ANSWER, REASON, oid)
    assert seller.user_id not in str(row.data) and colleague.user_id not in str(row.data)

    # The objector reads the answer; operators see it beside the objection in their queue.
    theirs = (await client.get(f"{API}/objections/{oid}", headers=objector.headers)).json()
    assert theirs["answer"] == ANSWER
    queue = (await client.get(f"{API}/objections", params={"status": "pending"}, headers=ops.headers)).json()
    assert [(o["id"], o["answer"]) for o in queue["items"]] == [(oid, ANSWER)]


async def test_only_the_sellers_side_answers_and_only_while_pending(client, app):
    ops, seller, objector, _listing, objection = await _objected(client, app)
    oid = objection["id"]
    body = {"answer": ANSWER}
    # A stranger does not learn that the objection exists; the objector and operators see it but do not answer it.
    stranger = await verified(client, ops)
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json=body, headers=stranger.headers), 404, "not-found"
    )
    assert_problem(await client.get(f"{API}/objections/{oid}", headers=stranger.headers), 404, "not-found")
    assert (await client.get(f"{API}/objections", params={"side": "seller"}, headers=stranger.headers)).json()[
        "items"
    ] == []
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json=body, headers=objector.headers), 403, "forbidden"
    )
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json=body, headers=ops.headers), 403, "forbidden"
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(
        await client.post(f"{API}/objections/{missing}/answer", json=body, headers=seller.headers), 404, "not-found"
    )
    anonymous = await client.post(f"{API}/objections/{oid}/answer", json=body)
    assert anonymous.status_code == 401

    # Resolved: no answer any more.
    resolved = await client.post(
        f"{API}/objections/{oid}/resolve", json={"decision": "dismissed", "note": "理由不成立"}, headers=ops.headers
    )
    assert resolved.status_code == 200, resolved.text
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json=body, headers=seller.headers), 409, "invalid-state"
    )
    assert (await _stored(app, oid)).answer is None
    assert await outbox_rows(app.state.db, Kind.OBJECTION_ANSWERED) == []
    # The seller still reads it, resolved, without an answer.
    after = (await client.get(f"{API}/objections", params={"side": "seller"}, headers=seller.headers)).json()
    assert [(o["status"], o["answer"]) for o in after["items"]] == [("dismissed", None)]


async def test_the_deals_seller_answers_objections_to_its_result_notice_and_the_buyer_does_not(client, app):
    _ops, seller, buyers, _listing, deal = await _auction_deal(client, app, "enterprise", 2)
    outsider = await register(client)
    filed = await client.post(
        f"{API}/notices/{deal['notice_id']}/objections", json={"reason": REASON}, headers=outsider.headers
    )
    assert filed.status_code == 201, filed.text
    oid = filed.json()["id"]
    listed = (await client.get(f"{API}/objections", params={"side": "seller"}, headers=seller.headers)).json()
    assert [o["id"] for o in listed["items"]] == [oid]
    # The buyer is a party of the deal but not the side that answers for it.
    assert_problem(
        await client.post(f"{API}/objections/{oid}/answer", json={"answer": ANSWER}, headers=buyers[0].headers),
        404,
        "not-found",
    )
    answered = await client.post(f"{API}/objections/{oid}/answer", json={"answer": ANSWER}, headers=seller.headers)
    assert answered.status_code == 200, answered.text
    row = await only(app.state.db, Kind.OBJECTION_ANSWERED)
    assert users(row) == {outsider.user_id} and to_operators(row) and row.data["notice_kind"] == "deal_result"
    # The objector's evidence is read by whoever reads the objection: the deal's seller, not its buyer.
    evidence = await client.post(
        f"{API}/objections/{oid}/documents",
        files={"file": ("证据.pdf", PDF, "application/pdf")},
        data={"kind": "evidence"},
        headers=outsider.headers,
    )
    assert evidence.status_code == 201, evidence.text
    listed = await client.get(f"{API}/objections/{oid}/documents", headers=seller.headers)
    assert [d["id"] for d in listed.json()["items"]] == [evidence.json()["id"]]
    assert_problem(await client.get(f"{API}/objections/{oid}/documents", headers=buyers[0].headers), 404, "not-found")
