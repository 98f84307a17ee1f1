"""The whole voucher journey over HTTP, on both databases: a program is funded and grants vouchers;
an enterprise buys a service paying half in vouchers; the provider is paid on acceptance and
redeems the vouchers for cash after a public notice; the rest expires. Exact VCH and CNY balances
after each step, and the program's invariants after every step."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import assert_problem, relogin
from tests.voucher_helpers import (
    API,
    act,
    balance,
    cast,
    check_invariants,
    create_program,
    key,
    order,
    service,
    top_up,
    vch_out,
)


async def test_voucher_journey(client, app):
    c = await cast(client, app)
    ent, prov, gov, ops = c.ent, c.prov, c.gov, c.ops
    program = await create_program(client, app, gov)
    pid = program["id"]
    assert program["per_org_cap"] == 30_000_000 and program["coverage_bp"] == 5000  # the defaults
    ent_vch, ent_cny = f"org:{ent.org_id}:vouchers", f"org:{ent.org_id}:cash"
    prov_vch, prov_cny = f"org:{prov.org_id}:vouchers_received", f"org:{prov.org_id}:cash"
    funding = f"program:{pid}:funding"
    holders = [ent_vch, prov_vch]

    async def step(expected: dict[str, tuple[int, int]]) -> dict:
        for code, want in expected.items():
            assert await balance(app, code) == want, code
        report = await check_invariants(client, gov, pid, holders)
        assert report["figures"]["outstanding"] == await vch_out(app, holders)
        return report

    # Funding, recorded by an operator, replayed with the same key.
    headers = {**ops.headers, **key()}
    body = {"amount": 50_000_000, "bank_reference": "ICBC-20260302-0001"}
    first = await client.post(f"{API}/voucher-programs/{pid}/fund", json=body, headers=headers)
    again = await client.post(f"{API}/voucher-programs/{pid}/fund", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    await step({funding: (50_000_000, 0)})

    # A grant: the key is required; a replay grants nothing more; the same key for another grant is refused.
    grant_url = f"{API}/voucher-programs/{pid}/grants"
    missing = await client.post(grant_url, json={"org_id": ent.org_id, "amount": 20_000_000}, headers=gov.headers)
    assert_problem(missing, 400, "idempotency-key-required")
    headers = {**gov.headers, **key()}
    granted = await client.post(grant_url, json={"org_id": ent.org_id, "amount": 20_000_000}, headers=headers)
    assert granted.status_code == 201, granted.text
    replay = await client.post(grant_url, json={"org_id": ent.org_id, "amount": 20_000_000}, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json()["id"] == granted.json()["id"]
    reused = await client.post(grant_url, json={"org_id": ent.org_id, "amount": 1}, headers=headers)
    assert_problem(reused, 409, "idempotency-key-reused")
    await step({ent_vch: (20_000_000, 0)})
    wallet = (await client.get(f"{API}/wallet", headers=ent.headers)).json()["balances"]
    assert {"unit": "VCH", "posted": 20_000_000, "held": 0, "available": 20_000_000} in wallet

    # The catalogue: public search by category.
    testing = await service(client, prov, "testing", 10_000_000)
    await service(client, prov, "valuation", 3_000_000)
    found = (await client.get(f"{API}/services", params={"category": "testing"})).json()["items"]
    assert [s["id"] for s in found] == [testing["id"]]

    # An order paid half in vouchers, half in cash; the provider confirms: both held.
    await top_up(app, ent.org_id, 8_000_000)
    placed = await order(client, ent, testing["id"], 5_000_000)
    assert placed.status_code == 201, placed.text
    first_order = placed.json()
    assert (first_order["voucher_amount"], first_order["cash_amount"], first_order["program_id"]) == (
        5_000_000,
        5_000_000,
        pid,
    )
    await step({ent_vch: (20_000_000, 0), ent_cny: (8_000_000, 0)})
    confirmed = await act(client, prov, first_order["id"], "confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    await step({ent_vch: (20_000_000, 5_000_000), ent_cny: (8_000_000, 5_000_000), prov_vch: (0, 0), prov_cny: (0, 0)})

    # Delivered; the provider may not accept for the enterprise; the enterprise accepts: both post.
    delivered = await act(client, prov, first_order["id"], "deliver", {"results_summary": "检测报告 No. 2026-031"})
    assert delivered.json()["state"] == "delivered"
    assert_problem(await act(client, prov, first_order["id"], "accept"), 403, "forbidden")
    accepted = await act(client, ent, first_order["id"], "accept")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    report = await step(
        {ent_vch: (15_000_000, 0), ent_cny: (3_000_000, 0), prov_vch: (5_000_000, 0), prov_cny: (5_000_000, 0)}
    )
    assert report["figures"]["spent"] == 5_000_000

    # A second order, confirmed then cancelled: both holds voided.
    cheap = await service(client, prov, "testing", 4_000_000)
    second = (await order(client, ent, cheap["id"], 2_000_000)).json()
    assert (await act(client, prov, second["id"], "confirm")).status_code == 200
    await step({ent_vch: (15_000_000, 2_000_000), ent_cny: (3_000_000, 2_000_000)})
    cancelled = await act(client, ent, second["id"], "cancel", {"reason": "需求变更"})
    assert cancelled.json()["state"] == "cancelled"
    await step({ent_vch: (15_000_000, 0), ent_cny: (3_000_000, 0), prov_vch: (5_000_000, 0)})
    assert_problem(await act(client, ent, second["id"], "accept"), 409, "invalid-state")

    # Redemption: a public notice first; approval only after it closes.
    claimed = await client.post(f"{API}/redemptions", json={"order_ids": [first_order["id"]]}, headers=prov.headers)
    assert claimed.status_code == 201, claimed.text
    redemption = claimed.json()
    assert redemption["state"] == "noticed" and redemption["amount"] == 5_000_000
    notice = (await client.get(f"{API}/notices/{redemption['notice_id']}")).json()
    assert notice["kind"] == "voucher_redemption"
    double = await client.post(f"{API}/redemptions", json={"order_ids": [first_order["id"]]}, headers=prov.headers)
    assert_problem(double, 409, "already-redeemed", field="order_ids")
    early = await client.post(f"{API}/redemptions/{redemption['id']}/approve", headers=gov.headers)
    assert_problem(early, 409, "notice-open")
    await step({prov_vch: (5_000_000, 0), funding: (50_000_000, 0)})

    app.state.clock.advance(timedelta(days=8))  # five working days and a weekend
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await relogin(client, ent, prov, gov, ops)
    assert (await client.get(f"{API}/redemptions/{redemption['id']}", headers=prov.headers)).json()["state"] == "ready"
    approved = await client.post(f"{API}/redemptions/{redemption['id']}/approve", headers=gov.headers)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    report = await step(
        {prov_vch: (0, 0), prov_cny: (10_000_000, 0), funding: (45_000_000, 0), ent_vch: (15_000_000, 0)}
    )
    assert report["figures"]["redeemed"] == 5_000_000
    assert_problem(
        await client.post(f"{API}/redemptions/{redemption['id']}/approve", headers=gov.headers), 409, "invalid-state"
    )
    again = await client.post(f"{API}/redemptions", json={"order_ids": [first_order["id"]]}, headers=prov.headers)
    assert_problem(again, 409, "already-redeemed")

    # A third order still open when the program ends: its held vouchers expire once it is cancelled.
    third = (await order(client, ent, cheap["id"], 2_000_000)).json()
    assert (await act(client, prov, third["id"], "confirm")).status_code == 200
    app.state.clock.advance(timedelta(days=60))
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await relogin(client, ent, prov, gov, ops)
    report = await step({ent_vch: (2_000_000, 2_000_000), ent_cny: (3_000_000, 2_000_000)})
    assert report["figures"]["expired"] == 13_000_000
    late = await order(client, ent, cheap["id"], 1_000_000)
    assert_problem(late, 422, "program-not-active")
    assert (await act(client, ent, third["id"], "cancel")).status_code == 200
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    report = await step({ent_vch: (0, 0), ent_cny: (3_000_000, 0), prov_vch: (0, 0), funding: (45_000_000, 0)})
    figures = report["figures"]
    assert figures == {
        "budget": 100_000_000,
        "funded": 50_000_000,
        "issued": 20_000_000,
        "spent": 5_000_000,
        "redeemed": 5_000_000,
        "expired": 15_000_000,
        "revoked": 0,
        "outstanding": 0,
        "broken_invariants": [],
    }
    assert report["enterprises"] == [
        {
            "org_id": ent.org_id,
            "granted": 20_000_000,
            "held": 0,
            "spent": 5_000_000,
            "expired": 15_000_000,
            "available": 0,
        }
    ]
    assert report["providers"] == [
        {"org_id": prov.org_id, "orders": 3, "received": 5_000_000, "claimed": 0, "redeemed": 5_000_000, "revoked": 0}
    ]
    stats = (await client.get(f"{API}/stats", params={"year": 2026})).json()["vouchers"]
    assert stats["programs"] == 1 and stats["redeemed"] == 5_000_000 and stats["outstanding"] == 0
