"""What the exchange tells whom about vouchers, service orders, withdrawals and reconciliation
(issue 17): outbox rows on both databases, reminders told once however often the sweeper passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from exchange.platform.outbox import Kind
from tests.api.test_payments_bank import top_up as bank_top_up
from tests.api.test_reconciliation_bank import CLEAN, DIFFERENT, reconcile
from tests.helpers import operator, relogin, verified
from tests.notification_helpers import only, orgs, outbox_rows, to_operators, users
from tests.voucher_helpers import act, cast, create_program, fund, grant, order, service, top_up

API = "/api/v1"
OBJECTION = "检测报告与服务内容不符，请核实兑付材料。"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def sweep(app):
    return await app.state.sweeper.run_once(app.state.db, app.state.clock.now())


async def test_vouchers_granted_ordered_redeemed_and_expiring(client, app):
    db = app.state.db
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    pid = program["id"]
    await fund(client, c.ops, pid, 50_000_000)
    await grant(client, c.gov, pid, c.ent.org_id, 20_000_000)
    granted = await only(db, Kind.VOUCHER_GRANTED)
    assert orgs(granted) == {c.ent.org_id} and granted.data["amount_fen"] == 20_000_000
    assert granted.data["program_name"] == program["name"] and granted.data["expires_at"] == program["valid_until"]

    # Each step of a service order is told to the other side.
    testing = await service(client, c.prov, "testing", 10_000_000)
    await top_up(app, c.ent.org_id, 8_000_000)
    placed = (await order(client, c.ent, testing["id"], 5_000_000)).json()
    assert (await act(client, c.prov, placed["id"], "confirm")).status_code == 200
    assert (await act(client, c.prov, placed["id"], "deliver", {"results_summary": "报告"})).status_code == 200
    assert (await act(client, c.ent, placed["id"], "accept")).status_code == 200
    steps = await outbox_rows(db, Kind.SERVICE_ORDER_UPDATED, subject_id=placed["id"])
    assert [(r.data["state"], orgs(r)) for r in steps] == [
        ("ordered", {c.prov.org_id}),
        ("confirmed", {c.ent.org_id}),
        ("delivered", {c.ent.org_id}),
        ("accepted", {c.prov.org_id}),
    ]
    assert steps[0].data["service_title"] == testing["title"] and steps[0].data["voucher_amount_fen"] == 5_000_000
    cheap = await service(client, c.prov, "testing", 4_000_000)
    second = (await order(client, c.ent, cheap["id"], 2_000_000)).json()
    assert (await act(client, c.ent, second["id"], "cancel", {"reason": "需求变更"})).status_code == 200
    cancelled = (await outbox_rows(db, Kind.SERVICE_ORDER_UPDATED, subject_id=second["id"]))[-1]
    assert cancelled.data["state"] == "cancelled" and orgs(cancelled) == {c.prov.org_id}
    assert cancelled.data["reason"] == "需求变更"

    # The redemption's notice: an objection is told to the provider and operators, then dismissed.
    claimed = await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)
    assert claimed.status_code == 201, claimed.text
    redemption = claimed.json()
    objector = await verified(client, c.ops)
    filed = await client.post(
        f"{API}/notices/{redemption['notice_id']}/objections", json={"reason": OBJECTION}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    row = await only(db, Kind.OBJECTION_FILED)
    assert orgs(row) == {c.prov.org_id} and users(row) == {objector.user_id}
    assert to_operators(await only(db, Kind.OBJECTION_TO_RESOLVE))
    dismissed = await client.post(
        f"{API}/objections/{filed.json()['id']}/resolve",
        json={"decision": "dismissed", "note": "材料齐全"},
        headers=c.ops.headers,
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (await only(db, Kind.OBJECTION_RESOLVED)).data["decision"] == "dismissed"

    app.state.clock.advance(timedelta(days=8))
    await sweep(app)
    await relogin(client, c.ops, c.gov, c.ent, c.prov, objector)
    approved = await client.post(f"{API}/redemptions/{redemption['id']}/approve", headers=c.gov.headers)
    assert approved.status_code == 200, approved.text
    redeemed = await only(db, Kind.VOUCHER_REDEEMED)
    assert orgs(redeemed) == {c.prov.org_id, c.ent.org_id} and redeemed.data["amount_fen"] == 5_000_000

    # Thirty days before the program ends, the enterprise holding vouchers is told, once.
    assert await outbox_rows(db, Kind.VOUCHER_EXPIRING) == []
    app.state.clock.set(at(program["valid_until"]) - timedelta(days=29))
    await sweep(app)
    await sweep(app)
    expiring = await only(db, Kind.VOUCHER_EXPIRING)
    assert orgs(expiring) == {c.ent.org_id} and expiring.data["available_fen"] == 15_000_000
    assert expiring.data["expires_at"] == program["valid_until"]
    app.state.clock.advance(timedelta(days=10))
    await sweep(app)
    assert len(await outbox_rows(db, Kind.VOUCHER_EXPIRING)) == 1


async def test_withdrawals_are_waiting_for_operators_then_paid_or_rejected(client, app):
    db = app.state.db
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    await bank_top_up(client, ops, buyer, 100_000)
    ids = []
    for n, amount in enumerate((60_000, 10_000)):
        requested = await client.post(
            f"{API}/withdrawals",
            json={"amount": amount, "payee": "招商银行 6225 **** 0001"},
            headers={**buyer.headers, "Idempotency-Key": f"w-{n}"},
        )
        assert requested.status_code == 201, requested.text
        ids.append(requested.json()["id"])
    waiting = await outbox_rows(db, Kind.WITHDRAWALS_WAITING)
    assert [(to_operators(r), r.data["amount_fen"]) for r in waiting] == [(True, 60_000), (True, 10_000)]
    assert waiting[0].data["org_id"] == buyer.org_id
    paid = await client.post(
        f"{API}/withdrawals/{ids[0]}/complete", json={"bank_reference": "OUT-1"}, headers=ops.headers
    )
    assert paid.status_code == 200, paid.text
    row = await only(db, Kind.WITHDRAWAL_PAID)
    assert orgs(row) == {buyer.org_id} and (row.data["amount_fen"], row.data["bank_reference"]) == (60_000, "OUT-1")
    rejected = await client.post(f"{API}/withdrawals/{ids[1]}/reject", json={"reason": "户名不符"}, headers=ops.headers)
    assert rejected.status_code == 200, rejected.text
    row = await only(db, Kind.WITHDRAWAL_REJECTED)
    assert orgs(row) == {buyer.org_id} and (row.data["amount_fen"], row.data["reason"]) == (10_000, "户名不符")


async def test_a_reconciliation_with_differences_tells_operators(client, app):
    db = app.state.db
    maker = await operator(client, app)
    buyer = await verified(client, maker)
    for amount, reference in ((10_000, "A1"), (5_000, "A2"), (700, "A3")):
        await bank_top_up(client, maker, buyer, amount, reference)
    requested = await client.post(
        f"{API}/withdrawals", json={"amount": 3_000, "payee": "acct"}, headers={**buyer.headers, "Idempotency-Key": "w"}
    )
    done = await client.post(
        f"{API}/withdrawals/{requested.json()['id']}/complete", json={"bank_reference": "W1"}, headers=maker.headers
    )
    assert done.status_code == 200, done.text
    clean = await reconcile(client, maker, CLEAN)
    assert clean["clean"] is True and await outbox_rows(db, Kind.RECONCILIATION_DIFFERENCES) == []
    report = await reconcile(client, maker, DIFFERENT)
    row = await only(db, Kind.RECONCILIATION_DIFFERENCES)
    assert to_operators(row) and row.subject_id == report["id"]
    assert row.data["differences"] == {"amount_mismatch": 1, "missing_in_ledger": 1, "missing_at_provider": 1}
    assert (row.data["difference_count"], row.data["row_errors"]) == (3, 1)
