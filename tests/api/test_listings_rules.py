"""Bad input and authorisation over HTTP: every refusal is problem+json naming the field or rule,
and nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select

from listings.models import Listing, Notice, Objection
from tests.helpers import (
    announced_listing,
    assert_problem,
    create_listing,
    listing_body,
    operator,
    register,
    relogin,
    verified,
)

API = "/api/v1"


async def count(app, model) -> int:
    async with app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_bad_listings_are_refused_with_the_field_named_and_nothing_written(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    patent_without_expiry = [{"kind": "invention_patent", "number": "ZL1", "title": "方法"}]
    cases = [
        (listing_body(field="astrology"), 400, "validation-error", "field"),
        (listing_body(deal={"type": "lease"}), 400, "validation-error", "deal.type"),
        (listing_body(pricing={"mode": "listed", "asking_price": 0}), 400, "validation-error", "pricing.asking_price"),
        (listing_body(pricing={"mode": "listed", "asking_price": -1}), 400, "validation-error", "pricing.asking_price"),
        (listing_body(title="长" * 201), 400, "validation-error", "title"),
        (listing_body(summary="x" * 5001), 400, "validation-error", "summary"),
        (listing_body(confidential_details="x" * 20_001), 400, "validation-error", "confidential_details"),
        (listing_body(unexpected=1), 400, "validation-error", None),
        (listing_body(ip_assets=patent_without_expiry), 422, "invalid-listing", "ip_assets.0.expires_on"),
        (
            listing_body("license", deal={"type": "license", "term_months": 240}),
            422,
            "invalid-listing",
            "deal.term_months",
        ),
        (
            listing_body(pricing={"mode": "listed", "asking_price": 1_000_000, "deposit": 300_001}),
            422,
            "invalid-listing",
            "pricing.deposit",
        ),
        (
            listing_body("equity", pricing={"mode": "negotiated", "asking_price": 1_000_000}),
            422,
            "invalid-listing",
            "pricing.appraised_value",
        ),
        (
            listing_body(mode="auction", pricing={"mode": "auction", "asking_price": 100, "appraised_value": 200}),
            422,
            "invalid-listing",
            "pricing.asking_price",
        ),
    ]
    for body, status, problem_type, field in cases:
        response = await client.post(f"{API}/listings", json=body, headers=seller.headers)
        assert_problem(response, status, problem_type, field)
    assert await count(app, Listing) == 0


async def test_who_may_list_edit_and_review(client, app):
    ops = await operator(client, app)
    unverified = await register(client, "enterprise")
    assert_problem(
        await client.post(f"{API}/listings", json=listing_body(), headers=unverified.headers), 403, "org-not-verified"
    )
    provider = await verified(client, ops, "service_provider")
    assert_problem(
        await client.post(f"{API}/listings", json=listing_body(), headers=provider.headers), 403, "forbidden"
    )
    assert_problem(await client.post(f"{API}/listings", json=listing_body()), 401, "unauthorized")
    assert await count(app, Listing) == 0

    seller = await verified(client, ops, "enterprise")
    draft = await create_listing(client, seller)
    stranger = await verified(client, ops, "enterprise")
    # A draft is invisible to others: 404, not 403.
    assert_problem(
        await client.patch(f"{API}/listings/{draft['id']}", json={"title": "改"}, headers=stranger.headers),
        404,
        "not-found",
    )
    assert_problem(
        await client.post(f"{API}/listings/{draft['id']}/submit", headers=stranger.headers), 404, "not-found"
    )
    edited = await client.patch(f"{API}/listings/{draft['id']}", json={"title": "新型固态电池"}, headers=seller.headers)
    assert edited.status_code == 200 and edited.json()["title"] == "新型固态电池" and edited.json()["version"] == 2
    # Review is for operators, and only of a listing under review.
    review = f"{API}/listings/{draft['id']}/review"
    assert_problem(await client.post(review, json={"decision": "approve"}, headers=seller.headers), 403, "forbidden")
    body = assert_problem(
        await client.post(review, json={"decision": "approve"}, headers=ops.headers), 409, "invalid-state"
    )
    assert body["state"] == "draft" and "draft" in body["detail"]
    await client.post(f"{API}/listings/{draft['id']}/submit", headers=seller.headers)
    assert_problem(
        await client.patch(f"{API}/listings/{draft['id']}", json={"title": "审核中修改"}, headers=seller.headers),
        409,
        "invalid-state",
    )
    assert_problem(
        await client.post(review, json={"decision": "reject"}, headers=ops.headers), 422, "invalid-request", "note"
    )
    rejected = await client.post(review, json={"decision": "reject", "note": "缺少评估报告"}, headers=ops.headers)
    assert rejected.json()["status"] == "rejected"
    # The seller corrects it and submits again.
    revised = await client.post(f"{API}/listings/{draft['id']}/revise", headers=seller.headers)
    assert revised.json()["status"] == "draft"

    # Once announced, the listing is public, and others may still not change it.
    announced = await announced_listing(client, seller, ops)
    assert_problem(
        await client.patch(f"{API}/listings/{announced['id']}", json={"title": "改"}, headers=stranger.headers),
        403,
        "forbidden",
    )
    assert_problem(
        await client.post(f"{API}/listings/{announced['id']}/withdraw", headers=stranger.headers), 403, "forbidden"
    )
    unchanged = await client.get(f"{API}/listings/{announced['id']}")
    assert unchanged.json()["title"] == "固态锂电池制备方法" and unchanged.json()["version"] == 1
    # The transition log is for the seller and operators.
    assert_problem(
        await client.get(f"{API}/listings/{announced['id']}/transitions", headers=stranger.headers), 403, "forbidden"
    )
    log = await client.get(f"{API}/listings/{announced['id']}/transitions", headers=ops.headers)
    rows = log.json()["items"]
    assert [r["action"] for r in rows] == ["create", "submit", "approve"]
    assert rows[2]["actor_user_id"] == ops.user_id and rows[2]["from_status"] == "under_review"
    # Inventors' related-party declarations are not public.
    public = (await client.get(f"{API}/listings/{announced['id']}")).json()
    assert [i["related_to_buyer"] for i in public["inventors"]] == [None, None]
    own = (await client.get(f"{API}/listings/{announced['id']}", headers=seller.headers)).json()
    assert own["inventors"][1]["related_to_buyer"] == ["91310000MA1FL0000N"]


async def test_withdrawing_cancels_the_notice_and_objections_lapse(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    notice_id = announced["announcement"]["notice_id"]
    objector = await register(client)
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": "请核实专利有效性与缴费情况"}, headers=objector.headers
    )
    withdrawn = await client.post(
        f"{API}/listings/{announced['id']}/withdraw", json={"reason": "技术路线调整"}, headers=seller.headers
    )
    assert withdrawn.json()["status"] == "withdrawn"
    notice = (await client.get(f"{API}/notices/{notice_id}")).json()
    assert notice["status"] == "cancelled" and notice["pending_objection_count"] == 0
    mine = (await client.get(f"{API}/objections/{filed.json()['id']}", headers=objector.headers)).json()
    assert mine["status"] == "lapsed"
    assert_problem(
        await client.post(f"{API}/listings/{announced['id']}/withdraw", headers=seller.headers), 409, "invalid-state"
    )
    assert_problem(
        await client.post(f"{API}/listings/{announced['id']}/relist", headers=seller.headers), 409, "invalid-state"
    )
    # Someone else's objection is not a stranger's to see; the seller reads it, never its objector.
    stranger = await register(client)
    assert_problem(
        await client.get(f"{API}/objections/{filed.json()['id']}", headers=stranger.headers), 404, "not-found"
    )
    seen = (await client.get(f"{API}/objections/{filed.json()['id']}", headers=seller.headers)).json()
    assert seen["status"] == "lapsed" and not {"objector_user_id", "objector_org_id"} & set(seen)
    assert await count(app, Objection) == 1


async def test_relisting_rules(client, app, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    announced = await announced_listing(
        client,
        seller,
        ops,
        mode="auction",
        pricing={"mode": "auction", "asking_price": 1_000_000, "appraised_value": 1_000_000},
    )
    assert_problem(
        await client.post(f"{API}/listings/{announced['id']}/relist", headers=seller.headers), 409, "invalid-state"
    )
    clock.set(clock.now().replace(month=4, day=1))
    await app.state.sweeper.run_once(app.state.db, clock.now())
    await relogin(client, seller)
    relist = f"{API}/listings/{announced['id']}/relist"
    assert_problem(
        await client.post(relist, json={"working_days": 4}, headers=seller.headers),
        422,
        "invalid-listing",
        "working_days",
    )
    too_cheap = {"mode": "auction", "asking_price": 899_999, "appraised_value": 1_000_000}
    assert_problem(
        await client.post(relist, json={"pricing": too_cheap}, headers=seller.headers),
        422,
        "invalid-listing",
        "pricing.asking_price",
    )
    floor = {"mode": "auction", "asking_price": 900_000, "appraised_value": 1_000_000}
    relisted = await client.post(relist, json={"pricing": floor, "working_days": 10}, headers=seller.headers)
    assert relisted.status_code == 200, relisted.text
    body = relisted.json()
    assert body["status"] == "announced" and body["pricing"]["asking_price"] == 900_000
    assert body["announcement"]["round"] == 2 and body["announcement"]["working_days"] == 10
    assert body["pricing"]["deposit"] == 90_000 and body["pricing"]["increment"] == 10_000
    assert await count(app, Notice) == 2


async def test_options_lists_every_method_and_unknown_query_parameters_are_refused(client):
    listings = await client.options(f"{API}/listings")
    assert listings.status_code == 204 and listings.headers["allow"] == "GET, OPTIONS, POST"
    one = await client.options(f"{API}/listings/01900000-0000-7000-8000-000000000001")
    assert one.headers["allow"] == "GET, OPTIONS, PATCH"
    assert_problem(await client.get(f"{API}/notices", params={"sort": "asc"}), 400, "validation-error", "sort")
    repeated = await client.get(f"{API}/notices?status=open&status=closed")
    assert_problem(repeated, 400, "validation-error", "status")
    assert (await client.get(f"{API}/notices", params={"status": "closed"})).status_code == 200
