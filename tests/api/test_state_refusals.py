"""Status changes over HTTP go through their machines' tables: a move a state does not allow is 409
naming the current state and the action, and changes nothing (both databases)."""

from __future__ import annotations

import uuid

from tests.helpers import assert_problem, operator, verified
from tests.trading_helpers import announced, fund, intent, wallet
from tests.voucher_helpers import API, act, cast, create_program, grant, order, service, top_up
from tests.voucher_helpers import fund as fund_program


async def test_a_decided_withdrawal_is_not_decided_again(client, app):
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    await fund(app, buyer, 100_000)
    made = []
    for _ in range(2):
        requested = await client.post(
            f"{API}/withdrawals",
            json={"amount": 10_000, "payee": "招商银行 6225 **** 0001"},
            headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert requested.status_code == 201, requested.text
        assert requested.json()["status"] == "requested"
        made.append(requested.json()["id"])
    paid, refused = made
    done = await client.post(
        f"{API}/withdrawals/{paid}/complete", json={"bank_reference": f"OUT-{paid[-8:]}"}, headers=ops.headers
    )
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    no = await client.post(f"{API}/withdrawals/{refused}/reject", json={"reason": "户名不符"}, headers=ops.headers)
    assert no.status_code == 200 and no.json()["status"] == "rejected", no.text

    for wid, action, body, state in [
        (paid, "reject", {"reason": "late"}, "completed"),
        (paid, "complete", {"bank_reference": "OUT-AGAIN-1"}, "completed"),
        (refused, "complete", {"bank_reference": "OUT-AGAIN-2"}, "rejected"),
        (refused, "reject", {"reason": "again"}, "rejected"),
    ]:
        problem = assert_problem(
            await client.post(f"{API}/withdrawals/{wid}/{action}", json=body, headers=ops.headers),
            409,
            "withdrawal-decided",
        )
        assert (problem["state"], problem["action"]) == (state, action), problem
    assert await wallet(client, buyer) == {"posted": 90_000, "held": 0, "available": 90_000}


async def test_an_ended_intent_is_not_withdrawn_but_may_be_registered_again(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", "复旦大学")
    buyer = await verified(client, ops)
    await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops)
    mine = await intent(client, buyer, listing["id"])
    assert mine["status"] == "active"
    first = await client.delete(f"{API}/intents/{mine['id']}", headers=buyer.headers)
    assert first.status_code == 200 and first.json()["status"] == "withdrawn", first.text
    problem = assert_problem(
        await client.delete(f"{API}/intents/{mine['id']}", headers=buyer.headers), 409, "listing-not-announced"
    )
    assert (problem["state"], problem["action"]) == ("withdrawn", "withdraw"), problem
    again = await intent(client, buyer, listing["id"])
    assert (again["id"], again["status"]) == (mine["id"], "active")


async def test_a_rejected_claim_is_neither_rejected_nor_approved_again(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await fund_program(client, c.ops, program["id"], 10_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 10_000_000)
    await top_up(app, c.ent.org_id, 10_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    placed = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    for party, action, body in [(c.prov, "confirm", None), (c.prov, "deliver", {"results_summary": "报告"})]:
        assert (await act(client, party, placed["id"], action, body)).status_code == 200
    assert (await act(client, c.ent, placed["id"], "accept")).status_code == 200
    problem = assert_problem(await act(client, c.ent, placed["id"], "cancel", {"reason": "晚了"}), 409, "invalid-state")
    assert (problem["state"], problem["action"]) == ("accepted", "cancel"), problem

    claim = await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)
    assert claim.status_code == 201 and claim.json()["state"] == "noticed", claim.text
    url = f"{API}/redemptions/{claim.json()['id']}"
    rejected = await client.post(f"{url}/reject", json={"reason": "材料不全"}, headers=c.gov.headers)
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected", rejected.text
    for action, body in [("reject", {"reason": "再次"}), ("approve", None)]:
        problem = assert_problem(
            await client.post(f"{url}/{action}", json=body, headers=c.gov.headers), 409, "invalid-state"
        )
        assert (problem["state"], problem["action"]) == ("rejected", action), problem
    assert (await client.get(url, headers=c.prov.headers)).json()["state"] == "rejected"
