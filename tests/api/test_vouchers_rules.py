"""Voucher rules over HTTP: bad input is a 4xx problem naming the rule and writes nothing;
revocation of a provider; who may see and do what."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from exchange.vouchers.models import ServiceOrder, VoucherGrant
from tests.helpers import assert_problem, register, relogin, verified
from tests.voucher_helpers import (
    API,
    act,
    balance,
    cast,
    check_invariants,
    create_program,
    fund,
    grant,
    key,
    order,
    program_body,
    service,
    top_up,
    vch_out,
)


async def count(app, model) -> int:
    async with app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_bad_grants_are_refused_and_write_nothing(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov, budget=40_000_000, per_org_cap=30_000_000)
    url = f"{API}/voucher-programs/{program['id']}/grants"

    async def attempt(body, party=c.gov):
        return await client.post(url, json=body, headers={**party.headers, **key()})

    await grant(client, c.gov, program["id"], c.ent.org_id, 25_000_000)
    assert_problem(await attempt({"org_id": c.ent.org_id, "amount": 5_000_001}), 422, "grant-over-cap", "amount")
    other = await verified(client, c.ops, "enterprise")
    assert_problem(await attempt({"org_id": other.org_id, "amount": 15_000_001}), 422, "grant-over-budget", "amount")
    negative = await attempt({"org_id": other.org_id, "amount": -100})
    assert negative.status_code == 400 and "amount" in negative.text
    assert (await attempt({"org_id": other.org_id, "amount": 0})).status_code == 400
    assert_problem(await attempt({"org_id": c.prov.org_id, "amount": 100}), 422, "not-an-enterprise", "org_id")
    unverified = await register(client, "enterprise")
    assert_problem(await attempt({"org_id": unverified.org_id, "amount": 100}), 403, "org-not-verified")
    # Only the program's own government organisation grants.
    other_gov = await verified(client, c.ops, "government")
    assert_problem(await attempt({"org_id": other.org_id, "amount": 100}, other_gov), 403, "forbidden")
    assert_problem(await attempt({"org_id": other.org_id, "amount": 100}, c.ent), 403, "forbidden")
    assert await count(app, VoucherGrant) == 1
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (25_000_000, 0)
    assert await balance(app, f"org:{other.org_id}:vouchers") == (0, 0)
    await check_invariants(client, c.gov, program["id"], [])


async def test_programs_are_created_by_government_organisations_with_consistent_terms(client, app):
    c = await cast(client, app)
    refused = await client.post(f"{API}/voucher-programs", json=program_body(app), headers=c.ent.headers)
    assert_problem(refused, 403, "forbidden")
    now = app.state.clock.now()
    backwards = program_body(app, valid_until=(now - timedelta(days=2)).isoformat())
    answer = await client.post(f"{API}/voucher-programs", json=backwards, headers=c.gov.headers)
    assert_problem(answer, 422, "invalid-program", "valid_until")
    unknown = await client.post(
        f"{API}/voucher-programs", json=program_body(app, categories=["astrology"]), headers=c.gov.headers
    )
    assert unknown.status_code == 400
    assert (await client.get(f"{API}/voucher-programs")).json()["items"] == []


async def test_bad_orders_are_refused_and_write_nothing(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov, categories=["testing"])
    await grant(client, c.gov, program["id"], c.ent.org_id, 3_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    valuation = await service(client, c.prov, "valuation", 4_000_000)
    assert_problem(await order(client, c.ent, testing["id"], 2_000_001), 422, "voucher-over-coverage", "voucher_amount")
    assert_problem(await order(client, c.ent, valuation["id"], 1_000), 422, "category-not-eligible", "service_id")
    explicit = await order(client, c.ent, valuation["id"], 1_000, program_id=program["id"])
    assert_problem(explicit, 422, "category-not-eligible")
    assert (await order(client, c.ent, testing["id"], -1)).status_code == 400
    # More vouchers than the enterprise has.
    big = await service(client, c.prov, "testing", 10_000_000)
    assert_problem(await order(client, c.ent, big["id"], 4_000_000), 409, "insufficient-funds", "voucher_amount")
    # Declared related parties may not trade vouchers with each other.
    declared = await client.post(
        f"{API}/related-parties", json={"org_id": c.prov.org_id, "note": "同一实际控制人"}, headers=c.ent.headers
    )
    assert declared.status_code == 201, declared.text
    assert_problem(await order(client, c.ent, testing["id"], 1_000), 422, "related-parties")
    # Providers and governments do not order.
    assert_problem(await order(client, c.prov, testing["id"], 0), 403, "forbidden")
    assert await count(app, ServiceOrder) == 0


async def test_expired_programs_and_cash_shortfalls(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await grant(client, c.gov, program["id"], c.ent.org_id, 3_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    placed = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    # No cash for the other half: the confirmation fails whole, no voucher is held either.
    assert_problem(await act(client, c.prov, placed["id"], "confirm"), 409, "insufficient-funds")
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (3_000_000, 0)
    assert (await client.get(f"{API}/service-orders/{placed['id']}", headers=c.ent.headers)).json()[
        "state"
    ] == "ordered"
    await top_up(app, c.ent.org_id, 2_000_000)
    # Only the provider confirms; another enterprise cannot even see the order.
    assert_problem(await act(client, c.ent, placed["id"], "confirm"), 403, "forbidden")
    stranger = await verified(client, c.ops, "enterprise")
    assert_problem(await client.get(f"{API}/service-orders/{placed['id']}", headers=stranger.headers), 403, "forbidden")
    app.state.clock.advance(timedelta(days=61))
    await relogin(client, c.ent, c.prov, c.gov)
    assert_problem(await act(client, c.prov, placed["id"], "confirm"), 422, "program-not-active")
    assert_problem(await order(client, c.ent, testing["id"], 1), 422, "program-not-active")
    late = await client.post(
        f"{API}/voucher-programs/{program['id']}/grants",
        json={"org_id": c.ent.org_id, "amount": 1},
        headers={**c.gov.headers, **key()},
    )
    assert_problem(late, 422, "program-not-active")
    # A cash-only order needs no program.
    cash_only = await order(client, c.ent, testing["id"], 0)
    assert cash_only.status_code == 201 and cash_only.json()["program_id"] is None


async def test_revoking_a_provider_voids_its_unredeemed_vouchers(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    pid = program["id"]
    await fund(client, c.ops, pid, 10_000_000)
    await grant(client, c.gov, pid, c.ent.org_id, 10_000_000)
    await top_up(app, c.ent.org_id, 10_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    holders = [f"org:{c.ent.org_id}:vouchers", f"org:{c.prov.org_id}:vouchers_received"]

    async def accepted_order(amount):
        placed = (await order(client, c.ent, testing["id"], amount)).json()
        assert (await act(client, c.prov, placed["id"], "confirm")).status_code == 200
        assert (await act(client, c.prov, placed["id"], "deliver", {"results_summary": "报告"})).status_code == 200
        assert (await act(client, c.ent, placed["id"], "accept")).status_code == 200
        return placed

    first = await accepted_order(2_000_000)
    second = await accepted_order(1_000_000)
    claim = await client.post(f"{API}/redemptions", json={"order_ids": [second["id"]]}, headers=c.prov.headers)
    assert claim.status_code == 201
    open_order = (await order(client, c.ent, testing["id"], 1_500_000)).json()
    assert (await act(client, c.prov, open_order["id"], "confirm")).status_code == 200
    assert await balance(app, f"org:{c.prov.org_id}:vouchers_received") == (3_000_000, 0)

    url = f"{API}/voucher-programs/{pid}/revoke-provider"
    body = {"provider_org_id": c.prov.org_id, "reason": "虚构服务合同骗取创新券"}
    assert_problem(await client.post(url, json=body, headers=c.ent.headers), 403, "forbidden")
    revoked = await client.post(url, json=body, headers=c.gov.headers)
    assert revoked.status_code == 201, revoked.text
    record = revoked.json()
    assert (record["vouchers_revoked"], record["orders_cancelled"], record["redemptions_rejected"]) == (3_000_000, 1, 1)
    assert_problem(await client.post(url, json=body, headers=c.gov.headers), 409, "already-revoked")
    # The provider's received vouchers went back to the program; the open order's hold was voided.
    assert await balance(app, f"org:{c.prov.org_id}:vouchers_received") == (0, 0)
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (7_000_000, 0)
    assert await balance(app, f"org:{c.ent.org_id}:cash") == (10_000_000 - 2_000_000 - 3_000_000, 0)
    report = await check_invariants(client, c.gov, pid, holders)
    assert report["figures"]["revoked"] == 3_000_000
    assert report["figures"]["outstanding"] == await vch_out(app, holders) == 7_000_000
    shown = (await client.get(f"{API}/redemptions/{claim.json()['id']}", headers=c.prov.headers)).json()
    assert shown["state"] == "rejected"
    # No more voucher orders with this provider; no claims for revoked orders; the record stays visible.
    assert_problem(await order(client, c.ent, testing["id"], 1_000), 422, "provider-revoked")
    again = await client.post(f"{API}/redemptions", json={"order_ids": [first["id"]]}, headers=c.prov.headers)
    assert_problem(again, 422, "provider-revoked")
    records = (await client.get(f"{API}/voucher-revocations", headers=c.gov.headers)).json()["items"]
    assert [r["provider_org_id"] for r in records] == [c.prov.org_id]
    assert_problem(await client.get(f"{API}/voucher-revocations", headers=c.ent.headers), 403, "forbidden")


async def test_rejected_claims_free_their_orders_and_objections_suspend_them(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    pid = program["id"]
    await fund(client, c.ops, pid, 10_000_000)
    await grant(client, c.gov, pid, c.ent.org_id, 10_000_000)
    await top_up(app, c.ent.org_id, 10_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    placed = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    for party, action, body in [(c.prov, "confirm", None), (c.prov, "deliver", {"results_summary": "报告"})]:
        assert (await act(client, party, placed["id"], action, body)).status_code == 200
    assert (await act(client, c.ent, placed["id"], "accept")).status_code == 200
    claim = (await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)).json()
    assert_problem(
        await client.post(
            f"{API}/redemptions/{claim['id']}/reject", json={"reason": "材料不全"}, headers=c.prov.headers
        ),
        403,
        "forbidden",
    )
    rejected = await client.post(
        f"{API}/redemptions/{claim['id']}/reject", json={"reason": "材料不全"}, headers=c.gov.headers
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert (await client.get(f"{API}/notices/{claim['notice_id']}")).json()["status"] == "cancelled"
    # Claimed again, objected to: the notice is suspended at its end and cannot be approved.
    claim = (await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)).json()
    objection = await client.post(
        f"{API}/notices/{claim['notice_id']}/objections",
        json={"reason": "该检测服务实际并未提供, 报告为伪造。"},
        headers=c.ent.headers,
    )
    assert objection.status_code == 201, objection.text
    app.state.clock.advance(timedelta(days=8))
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await relogin(client, c.prov, c.gov, c.ops)
    assert (await client.get(f"{API}/redemptions/{claim['id']}", headers=c.prov.headers)).json()["state"] == "suspended"
    assert_problem(
        await client.post(f"{API}/redemptions/{claim['id']}/approve", headers=c.gov.headers), 409, "notice-open"
    )
    assert await balance(app, f"org:{c.prov.org_id}:vouchers_received") == (2_000_000, 0)
    # An operator upholds the objection: the claim is rejected and its order may be claimed again.
    upheld = await client.post(
        f"{API}/objections/{objection.json()['id']}/resolve",
        json={"decision": "upheld", "note": "核实服务未实际提供"},
        headers=c.ops.headers,
    )
    assert upheld.status_code == 200, upheld.text
    shown = (await client.get(f"{API}/redemptions/{claim['id']}", headers=c.prov.headers)).json()
    assert shown["state"] == "rejected" and "objection upheld" in shown["reason"]
    again = await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)
    assert again.status_code == 201, again.text


async def test_the_catalogue_lists_services_by_category_page_by_page(client, app):
    c = await cast(client, app)
    made = [await service(client, c.prov, "testing", 1_000_000 + i) for i in range(3)]
    await service(client, c.prov, "valuation")
    brokerage = await client.post(
        f"{API}/services",
        json={"category": "brokerage", "title": "技术经纪", "description": "交易所经纪服务", "price": 500_000},
        headers=c.ops.headers,
    )
    assert brokerage.status_code == 201, brokerage.text
    other = await client.post(
        f"{API}/services",
        json={"category": "testing", "title": "检测", "description": "", "price": 500_000},
        headers=c.ops.headers,
    )
    assert_problem(other, 422, "voucher-rule-broken", "category")
    assert_problem(
        await client.post(
            f"{API}/services",
            json={"category": "testing", "title": "检测", "description": "", "price": 500_000},
            headers=c.ent.headers,
        ),
        403,
        "forbidden",
    )
    first = (await client.get(f"{API}/services", params={"category": "testing", "limit": 2})).json()
    assert first["next_cursor"] is not None
    rest = (
        await client.get(f"{API}/services", params={"category": "testing", "limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [s["id"] for s in first["items"] + rest["items"]] == [s["id"] for s in reversed(made)]
    assert rest["next_cursor"] is None
    assert [
        s["category"] for s in (await client.get(f"{API}/services", params={"category": "brokerage"})).json()["items"]
    ] == ["brokerage"]


async def test_the_program_lists_its_grants_to_its_own_org(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    made = [await grant(client, c.gov, program["id"], c.ent.org_id, amount) for amount in (1_000, 2_000, 3_000)]
    url = f"{API}/voucher-programs/{program['id']}/grants"
    first = (await client.get(url, params={"limit": 2}, headers=c.gov.headers)).json()
    rest = (await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=c.ops.headers)).json()
    assert [g["amount"] for g in first["items"] + rest["items"]] == [1_000, 2_000, 3_000]
    assert [g["id"] for g in first["items"] + rest["items"]] == [g["id"] for g in made]
    assert_problem(await client.get(url, headers=c.ent.headers), 403, "forbidden")


async def test_a_suspended_provider_is_not_paid(client, app):
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await fund(client, c.ops, program["id"], 10_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 2_000_000)
    await top_up(app, c.ent.org_id, 2_000_000)
    testing = await service(client, c.prov, "testing", 4_000_000)
    placed = (await order(client, c.ent, testing["id"], 2_000_000)).json()
    for party, action, body in [
        (c.prov, "confirm", None),
        (c.prov, "deliver", {"results_summary": "报告"}),
        (c.ent, "accept", None),
    ]:
        assert (await act(client, party, placed["id"], action, body)).status_code == 200
    claim = (await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)).json()
    app.state.clock.advance(timedelta(days=8))
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await relogin(client, c.gov, c.ops)
    suspended = await client.post(f"{API}/orgs/{c.prov.org_id}/suspend", json={"note": "调查中"}, headers=c.ops.headers)
    assert suspended.status_code == 200
    refused = await client.post(f"{API}/redemptions/{claim['id']}/approve", headers=c.gov.headers)
    assert_problem(refused, 403, "org-suspended")
    assert await balance(app, f"program:{program['id']}:funding") == (10_000_000, 0)
    assert await balance(app, f"org:{c.prov.org_id}:vouchers_received") == (2_000_000, 0)
