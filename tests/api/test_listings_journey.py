"""The seller's journey over HTTP, on both databases: create each deal type in each pricing mode,
submit, approval, the signed notice on the board, objections resolved both ways, amendments that
restart the period, and the close on time by the sweeper."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from listings import ListingObserver, ListingStatus
from tests.helpers import announced_listing, assert_problem, create_listing, operator, register, relogin, verified

API = "/api/v1"


async def sweep(app) -> dict[str, int]:
    return await app.state.sweeper.run_once(app.state.db, app.state.clock.now())


async def listing(client, listing_id, headers=None) -> dict:
    response = await client.get(f"{API}/listings/{listing_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


async def notice(client, notice_id) -> dict:
    response = await client.get(f"{API}/notices/{notice_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def actions(client, listing_id, headers) -> list[tuple[str, str | None, str]]:
    response = await client.get(f"{API}/listings/{listing_id}/transitions", headers=headers, params={"limit": 100})
    assert response.status_code == 200, response.text
    return [(t["action"], t["from_status"], t["to_status"]) for t in response.json()["items"]]


def verify_offline(public_key_b64: str, shown: dict) -> None:
    """What anyone can do with the key from GET /keys and the notice, without the exchange."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    recomputed = json.dumps(shown["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert recomputed == shown["signed_content"]
    key.verify(base64.b64decode(shown["signature"]), recomputed.encode("utf-8"))  # raises if forged


@pytest.mark.parametrize("deal_type", ["transfer", "license", "equity"])
@pytest.mark.parametrize("mode", ["negotiated", "listed", "auction"])
async def test_each_deal_type_in_each_mode_is_announced_with_a_signed_notice(client, app, deal_type, mode):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="上海理工大学技术转移中心")
    draft = await create_listing(client, seller, deal_type=deal_type, mode=mode)
    assert draft["status"] == "draft" and draft["deal"]["type"] == deal_type
    assert draft["pricing"]["deposit"] == 5_000_000
    assert draft["pricing"]["increment"] == (None if mode == "negotiated" else 500_000)
    # Drafts are not public.
    assert (await client.get(f"{API}/listings/{draft['id']}")).status_code == 404

    submitted = await client.post(f"{API}/listings/{draft['id']}/submit", headers=seller.headers)
    assert submitted.json()["status"] == "under_review"
    approved = await client.post(
        f"{API}/listings/{draft['id']}/review", json={"decision": "approve", "note": "材料齐全"}, headers=ops.headers
    )
    assert approved.status_code == 200, approved.text
    announced = approved.json()
    assert announced["status"] == "announced"
    # 20 working days from Monday 2 March 2026: to the end of Monday 30 March, Beijing time.
    assert announced["announcement"]["closes_at"] == "2026-03-30T16:00:00Z"

    board = (await client.get(f"{API}/notices")).json()["items"]
    assert [n["subject_id"] for n in board] == [draft["id"]]
    assert board[0]["seconds_remaining"] == 28 * 86400 + 15 * 3600 and board[0]["objection_count"] == 0

    shown = await notice(client, announced["announcement"]["notice_id"])
    assert shown["kind"] == "listing_announcement" and shown["status"] == "open"
    body = shown["content"]["body"]
    assert body["title"] == "固态锂电池制备方法" and body["deal"]["type"] == deal_type
    assert body["pricing"]["asking_price"] == 50_000_000 and body["seller"]["name"] == "上海理工大学技术转移中心"
    assert "confidential_details" not in shown["signed_content"] and "Li7La3Zr2O12" not in shown["signed_content"]

    keys = (await client.get(f"{API}/keys")).json()["keys"]
    key = next(k for k in keys if k["id"] == shown["key_id"])
    verify_offline(key["key"], shown)
    tampered = {**shown["content"], "title": "篡改的标题"}
    tampered_text = json.dumps(tampered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(InvalidSignature):
        verify_offline(key["key"], {**shown, "content": tampered, "signed_content": tampered_text})


async def test_an_upheld_objection_cancels_the_notice_and_rejects_the_listing(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    notice_id = announced["announcement"]["notice_id"]

    objector = await register(client)  # any logged-in user, verified or not
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections",
        json={"reason": "该专利权属存在争议，发明人之一为我单位职工。"},
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text
    objection = filed.json()
    again = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": "重复提交的同一异议内容"}, headers=objector.headers
    )
    assert_problem(again, 409, "objection-pending")
    assert_problem(
        await client.post(f"{API}/notices/{notice_id}/objections", json={"reason": "太短"}, headers=objector.headers),
        400,
        "validation-error",
        "reason",
    )
    padded = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": "短" + " " * 20}, headers=objector.headers
    )
    assert_problem(padded, 422, "invalid-request", "reason")
    assert_problem(
        await client.post(f"{API}/notices/{notice_id}/objections", json={"reason": "匿名异议不被受理的示例"}),
        401,
        "unauthorized",
    )

    board = (await client.get(f"{API}/notices")).json()["items"]
    assert board[0]["objection_count"] == 1 and board[0]["pending_objection_count"] == 1
    assert objector.user_id not in json.dumps(board) and objector.org_id not in json.dumps(board)
    assert objector.user_id not in (await client.get(f"{API}/notices/{notice_id}")).text

    # The seller cannot resolve; the operator can, once.
    resolve = f"{API}/objections/{objection['id']}/resolve"
    assert_problem(await client.post(resolve, json={"decision": "upheld"}, headers=seller.headers), 403, "forbidden")
    upheld = await client.post(resolve, json={"decision": "upheld", "note": "权属争议属实"}, headers=ops.headers)
    assert upheld.status_code == 200 and upheld.json()["status"] == "upheld"
    assert_problem(
        await client.post(resolve, json={"decision": "dismissed"}, headers=ops.headers), 409, "invalid-state"
    )

    assert (await notice(client, notice_id))["status"] == "cancelled"
    assert (await client.get(f"{API}/notices")).json()["items"] == []
    stopped = await listing(client, announced["id"], seller.headers)
    assert stopped["status"] == "rejected"
    assert (await client.get(f"{API}/listings/{announced['id']}")).status_code == 404  # no longer public
    log = await actions(client, announced["id"], seller.headers)
    assert log[-1] == ("uphold_objection", "announced", "rejected")
    mine = await client.get(f"{API}/objections/{objection['id']}", headers=objector.headers)
    assert mine.json()["status"] == "upheld" and mine.json()["resolution_note"] == "权属争议属实"
    # A closed notice takes no objection.
    late = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": "对已撤销公告的异议内容"}, headers=objector.headers
    )
    assert_problem(late, 409, "invalid-state")


async def test_a_pending_objection_suspends_at_the_end_and_dismissal_lets_the_listing_proceed(client, app, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    notice_id = announced["announcement"]["notice_id"]
    objector = await register(client)
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections",
        json={"reason": "成交价格明显低于市场评估价值，请核查。"},
        headers=objector.headers,
    )
    objection_id = filed.json()["id"]

    # A dismissal before the end changes nothing: the period runs on.
    second = await verified(client, ops)
    other = await client.post(
        f"{API}/notices/{notice_id}/objections",
        json={"reason": "第二份异议：专利年费是否缴纳？"},
        headers=second.headers,
    )
    dismissed_early = await client.post(
        f"{API}/objections/{other.json()['id']}/resolve", json={"decision": "dismissed"}, headers=ops.headers
    )
    assert dismissed_early.json()["status"] == "dismissed"
    assert (await notice(client, notice_id))["status"] == "open"

    clock.set(clock.now().replace(year=2026, month=3, day=30, hour=16))  # the period ends
    assert (await sweep(app))["notices"] == 1
    assert (await notice(client, notice_id))["status"] == "suspended"
    assert (await listing(client, announced["id"]))["status"] == "suspended"
    await relogin(client, ops, seller)
    queue = await client.get(f"{API}/objections", params={"status": "pending"}, headers=ops.headers)
    assert [o["id"] for o in queue.json()["items"]] == [objection_id]

    clock.advance(timedelta(days=2))
    await relogin(client, ops)
    dismissed = await client.post(
        f"{API}/objections/{objection_id}/resolve",
        json={"decision": "dismissed", "note": "评估报告合规"},
        headers=ops.headers,
    )
    assert dismissed.json()["status"] == "dismissed"
    assert (await notice(client, notice_id))["status"] == "closed"
    assert (await listing(client, announced["id"]))["status"] == "unsold"  # no trading rules yet: unsold
    log = await actions(client, announced["id"], ops.headers)
    assert log[-3:] == [
        ("suspend", "announced", "suspended"),
        ("end_announcement", "suspended", "closing"),
        ("close_unsold", "closing", "unsold"),
    ]


class Recorder(ListingObserver):
    def __init__(self) -> None:
        self.amendments = []

    async def on_amended(self, session, listing, amendment) -> None:
        self.amendments.append(amendment)


async def test_a_material_amendment_restarts_the_period_and_tells_observers(client, app, clock):
    recorder = Recorder()
    app.state.listings.hooks.add_listing_observer(recorder)
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    first_notice = announced["announcement"]["notice_id"]

    clock.advance(timedelta(days=7))  # Monday 9 March
    await relogin(client, seller)
    small = await client.patch(
        f"{API}/listings/{announced['id']}", json={"summary": "补充：已完成中试。"}, headers=seller.headers
    )
    assert small.status_code == 200, small.text
    assert small.json()["announcement"]["closes_at"] == "2026-03-30T16:00:00Z"  # not material: same end
    second_notice = small.json()["announcement"]["notice_id"]
    assert second_notice != first_notice
    assert (await notice(client, first_notice))["superseded_by_id"] == second_notice

    cheaper = await client.patch(
        f"{API}/listings/{announced['id']}",
        json={
            "pricing": {
                "mode": "listed",
                "asking_price": 40_000_000,
                "appraised_value": 38_000_000,  # a new appraisal of record cites its report
                "appraisal_report": {
                    "report_number": "沪东洲评报字(2026)第0312号",
                    "appraiser": "上海东洲资产评估有限公司",
                    "report_date": "2026-03-06",
                },
            }
        },
        headers=seller.headers,
    )
    assert cheaper.status_code == 200, cheaper.text
    amended = cheaper.json()
    # 20 working days from Monday 9 March, skipping the Qingming holiday (4-6 April): to 7 April.
    assert amended["announcement"]["opens_at"] == "2026-03-09T01:00:00Z"
    assert amended["announcement"]["closes_at"] == "2026-04-07T16:00:00Z"
    assert amended["pricing"]["deposit"] == 4_000_000 and amended["version"] == 3
    current = await notice(client, amended["announcement"]["notice_id"])
    assert current["content"]["body"]["pricing"]["asking_price"] == 40_000_000
    assert current["content"]["supersedes"] == second_notice
    assert [a.material for a in recorder.amendments] == [False, True]
    assert recorder.amendments[1].changed == ("pricing",)
    board = (await client.get(f"{API}/notices")).json()["items"]
    assert [n["id"] for n in board] == [current["id"]]

    # The old end passes: nothing closes; the new end closes it.
    clock.set(clock.now().replace(month=3, day=31))
    assert (await sweep(app))["notices"] == 0
    clock.set(clock.now().replace(month=5, day=1))
    assert (await sweep(app))["notices"] == 1
    assert (await listing(client, announced["id"]))["status"] == "unsold"
    await relogin(client, ops, seller)

    # Deal type and pricing mode are fixed once announced.
    again = await announced_listing(client, seller, ops)
    change = await client.patch(
        f"{API}/listings/{again['id']}",
        json={"deal": {"type": "license", "term_months": 12}, "pricing": {"mode": "auction", "asking_price": 10}},
        headers=seller.headers,
    )
    body = assert_problem(change, 422, "invalid-listing")
    assert {e["field"] for e in body["errors"]} == {"deal.type", "pricing.mode"}


async def test_the_sweeper_closes_the_announcement_on_time(client, app, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute")
    announced = await announced_listing(client, seller, ops)
    closes_at = announced["announcement"]["closes_at"]
    assert closes_at == "2026-03-30T16:00:00Z"

    clock.set(clock.now().replace(day=30, hour=15, minute=59, second=59))
    assert (await sweep(app))["notices"] == 0
    assert (await listing(client, announced["id"]))["status"] == "announced"
    clock.advance(timedelta(seconds=1))
    assert (await sweep(app))["notices"] == 1
    closed = await listing(client, announced["id"])
    assert closed["status"] == "unsold"
    assert (await notice(client, announced["announcement"]["notice_id"]))["status"] == "closed"
    assert (await sweep(app))["notices"] == 0  # processed once

    # A registered close handler decides instead (as trading will).
    async def to_auction(session, listing, now):
        return ListingStatus.AUCTIONING

    app.state.listings.hooks.set_close_handler(to_auction)
    await relogin(client, seller)
    relisted = await client.post(f"{API}/listings/{announced['id']}/relist", json={}, headers=seller.headers)
    assert relisted.status_code == 200, relisted.text
    # Relisting: at least 5 working days, from Monday 30 March 16:00Z = Tuesday 31 March in Beijing.
    assert relisted.json()["announcement"]["closes_at"] == "2026-04-08T16:00:00Z"  # Qingming 4-6 April off
    clock.set(clock.now().replace(month=4, day=9))
    await sweep(app)
    assert (await listing(client, announced["id"]))["status"] == "auctioning"
    await relogin(client, seller)
    log = await actions(client, announced["id"], seller.headers)
    assert [a for a, _, _ in log] == [
        "create",
        "submit",
        "approve",
        "end_announcement",
        "close_unsold",
        "relist",
        "end_announcement",
        "start_auction",
    ]


async def test_the_server_runs_the_sweeper_periodically(client, app, clock, settings):
    from exchange.server.app import periodic_tasks

    task = next(t for t in periodic_tasks(settings) if t.name == "sweep")
    assert task.interval == settings.sweep_interval_seconds
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    clock.set(clock.now().replace(month=4))
    assert (await task.run(app.state))["notices"] == 1
    assert (await listing(client, announced["id"]))["status"] == "unsold"
