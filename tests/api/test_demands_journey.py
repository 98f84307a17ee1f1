"""Technical demands over HTTP, on both databases: a campaign collecting demands, a demand
published and submitted to it and screened; proposals answering it — one shortlisted and taken to a
negotiation on its listing through trading (the buyer's intent and deposit), one declined with the
feedback its proposer reads, one asked for a new listing drafted from it; the deadline reminder
and the close by the sweeper. Then who sees what: an invited-only demand, the confidential part
behind the NDA, and bad input naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from exchange.platform.outbox import OutboxEvent
from tests.helpers import Party, announced_listing, assert_problem, operator, verified
from tests.trading_helpers import fund, sweep, wallet

API = "/api/v1"
CALL = {"theme": "t", "description": "d", "rules": "r", "kind": "demands"}


def demand_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "车载储氢瓶轻量化材料",
        "description": "需要一种用于70MPa车载储氢瓶的轻量化内胆材料，替代现有铝合金内胆。",
        "performance": "质量储氢密度≥5.5wt%，循环寿命≥15000次",
        "field": "new_materials",
        "ipc_codes": ["F17C 1/06", "c08l"],
        "keywords": ["储氢", "轻量化"],
        "budget_min_fen": 50_000_000,
        "budget_max_fen": 200_000_000,
        "accepted_forms": ["transfer", "commissioned_development"],
        "deadline": "2099-12-31",
        "confidential": "现有内胆供应商：某某铝业；目标成本 ¥1,800/只",
    }
    body.update(changes)
    return body


async def posted(client: Any, owner: Party, **changes: Any) -> dict[str, Any]:
    created = await client.post(f"{API}/demands", json=demand_body(**changes), headers=owner.headers)
    assert created.status_code == 201, created.text
    published = await client.post(f"{API}/demands/{created.json()['id']}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    return published.json()  # type: ignore[no-any-return]


async def kinds_told(app: Any, org_id: str) -> list[str]:
    async with app.state.db.read() as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    return [r.kind for r in rows if org_id in [str(o) for o in (r.audience or {}).get("orgs", [])]]


async def test_a_demand_from_campaign_to_proposals_feedback_and_a_negotiation(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "上海氢能装备有限公司")
    uni = await verified(client, ops, "university", "华东示范大学")
    institute = await verified(client, ops, "research_institute", "材料研究所")
    await fund(app, owner, 100_000_000)

    # A campaign collecting demands, by an operator.
    campaign = await client.post(
        f"{API}/campaigns",
        json={"theme": "氢能产业技术需求征集", "description": "征集氢能领域企业技术需求", "rules": "每家企业不超过3项",
              "kind": "demands", "deadline": "2099-06-30"},
        headers=ops.headers,
    )  # fmt: skip
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["open"] is True

    # A draft is edited, then published; the IPC codes are kept in one form.
    draft = await client.post(f"{API}/demands", json={"title": "储氢瓶材料"}, headers=owner.headers)
    assert draft.status_code == 201, draft.text
    refused = await client.post(f"{API}/demands/{draft.json()['id']}/publish", headers=owner.headers)
    assert_problem(refused, 422, "invalid-demand", "description")
    edited = await client.put(f"{API}/demands/{draft.json()['id']}", json=demand_body(), headers=owner.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["ipc_codes"] == ["F17C 1/06", "C08L"]
    published = await client.post(f"{API}/demands/{draft.json()['id']}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    demand = published.json()
    assert demand["status"] == "published" and demand["deadline_at"] == "2099-12-31T16:00:00Z"
    board = (await client.get(f"{API}/demands")).json()["items"]
    assert [d["id"] for d in board] == [demand["id"]] and board[0]["invited_org_ids"] is None

    # Submitted to the campaign and accepted by its organiser; the owner is told.
    sub = await client.post(
        f"{API}/campaigns/{campaign.json()['id']}/submissions", json={"demand_id": demand["id"]}, headers=owner.headers
    )
    assert sub.status_code == 201, sub.text
    again = await client.post(
        f"{API}/campaigns/{campaign.json()['id']}/submissions", json={"demand_id": demand["id"]}, headers=owner.headers
    )
    assert_problem(again, 409, "conflict")
    no_reason = await client.post(
        f"{API}/campaign-submissions/{sub.json()['id']}/screening", json={"decision": "rejected"}, headers=ops.headers
    )
    assert_problem(no_reason, 422, "invalid-campaign", "reason")
    not_organiser = await client.post(
        f"{API}/campaign-submissions/{sub.json()['id']}/screening", json={"decision": "accepted"}, headers=uni.headers
    )
    assert_problem(not_organiser, 403, "forbidden")
    screened = await client.post(
        f"{API}/campaign-submissions/{sub.json()['id']}/screening", json={"decision": "accepted"}, headers=ops.headers
    )
    assert screened.status_code == 200 and screened.json()["screening"] == "accepted", screened.text

    # The university answers with its announced (negotiated-price) listing; the institute with a new solution.
    listing = await announced_listing(client, uni, ops, mode="negotiated")
    foreign = await announced_listing(client, institute, ops)
    not_its_own = await client.post(
        f"{API}/demands/{demand['id']}/proposals",
        json={"summary": "我校储氢合金", "listing_ids": [foreign["id"]]},
        headers=uni.headers,
    )
    assert_problem(not_its_own, 422, "invalid-proposal", "listing_ids.0")
    own = await client.post(
        f"{API}/demands/{demand['id']}/proposals", json={"summary": "x", "solution": "y"}, headers=owner.headers
    )
    assert_problem(own, 403, "forbidden")
    p1 = await client.post(
        f"{API}/demands/{demand['id']}/proposals",
        json={"summary": "以我校固态储氢材料满足需求", "listing_ids": [listing["id"]], "budget_fen": 150_000_000},
        headers=uni.headers,
    )
    assert p1.status_code == 201, p1.text
    p2 = await client.post(
        f"{API}/demands/{demand['id']}/proposals",
        json={"summary": "碳纤维缠绕新工艺", "solution": "采用T800碳纤维与新型树脂体系"},
        headers=institute.headers,
    )
    assert p2.status_code == 201, p2.text
    received = (await client.get(f"{API}/demands/{demand['id']}/proposals", headers=owner.headers)).json()["items"]
    assert {p["id"] for p in received} == {p1.json()["id"], p2.json()["id"]}
    assert (await client.get(f"{API}/demands/{demand['id']}/proposals", headers=uni.headers)).status_code == 403

    # Shortlist the first; decline the second with a reason its proposer reads as feedback.
    shortlisted = await client.post(f"{API}/proposals/{p1.json()['id']}/shortlist", headers=owner.headers)
    assert shortlisted.json()["status"] == "shortlisted", shortlisted.text
    no_reason = await client.post(
        f"{API}/proposals/{p2.json()['id']}/decline", json={"reason": " "}, headers=owner.headers
    )
    assert_problem(no_reason, 422, "invalid-proposal", "reason")
    declined = await client.post(
        f"{API}/proposals/{p2.json()['id']}/decline", json={"reason": "工艺成本超出预算"}, headers=owner.headers
    )
    assert declined.status_code == 200, declined.text
    mine = (await client.get(f"{API}/proposals", headers=institute.headers)).json()["items"]
    assert [(p["status"], p["feedback"]) for p in mine] == [("declined", "工艺成本超出预算")]
    assert (await client.post(f"{API}/proposals/{p2.json()['id']}/shortlist", headers=owner.headers)).status_code == 409

    # A negotiation on the linked listing: trading registers the owner's intent and holds its deposit.
    wrong = await client.post(
        f"{API}/proposals/{p1.json()['id']}/negotiate", json={"path": "listing", "listing_id": foreign["id"]},
        headers=owner.headers,
    )  # fmt: skip
    assert_problem(wrong, 422, "invalid-proposal", "listing_id")
    before = await wallet(client, owner)
    opened = await client.post(
        f"{API}/proposals/{p1.json()['id']}/negotiate", json={"path": "listing", "listing_id": listing["id"]},
        headers=owner.headers,
    )  # fmt: skip
    assert opened.status_code == 200, opened.text
    record = opened.json()["negotiation"]
    assert opened.json()["status"] == "negotiating" and record["path"] == "listing" and record["kind"] == "intent"
    intent = await client.get(f"{API}/intents/{record['id']}", headers=owner.headers)
    assert intent.status_code == 200, intent.text
    assert (await wallet(client, owner))["held"] == before["held"] + listing["pricing"]["deposit"]

    assert "demand.proposal_received" in await kinds_told(app, owner.org_id)
    assert "proposal.declined" in await kinds_told(app, institute.org_id)
    assert "proposal.shortlisted" in await kinds_told(app, uni.org_id)
    assert "campaign.submission_screened" in await kinds_told(app, owner.org_id)


async def test_a_new_listing_from_a_proposal_and_the_deadline(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "需求企业")
    uni = await verified(client, ops, "university", "应答大学")
    deadline = (app.state.clock.now() + timedelta(days=10)).date().isoformat()
    demand = await posted(client, owner, deadline=deadline)
    proposal = await client.post(
        f"{API}/demands/{demand['id']}/proposals", json={"summary": "新型镁基储氢", "solution": "球磨制备"},
        headers=uni.headers,
    )  # fmt: skip
    # No negotiation asked yet: the proposer may not draft a listing from it.
    early = await client.post(
        f"{API}/proposals/{proposal.json()['id']}/listing", json={"content": {}}, headers=uni.headers
    )
    assert_problem(early, 409, "invalid-state")
    opened = await client.post(
        f"{API}/proposals/{proposal.json()['id']}/negotiate", json={"path": "new_listing"}, headers=owner.headers
    )
    assert opened.status_code == 200 and opened.json()["negotiation"]["listing_id"] is None, opened.text
    incomplete = await client.post(
        f"{API}/proposals/{proposal.json()['id']}/listing", json={"content": {"maturity": 5}}, headers=uni.headers
    )
    assert incomplete.status_code == 422, incomplete.text
    assert incomplete.json()["errors"][0]["field"].startswith("content"), incomplete.text
    content = {
        "maturity": 5,
        "ip_assets": [
            {
                "kind": "invention_patent",
                "number": "ZL202310999999.1",
                "title": "镁基储氢合金",
                "expires_on": "2043-01-01",
            }
        ],
        "deal": {"type": "transfer"},
        "pricing": {"mode": "negotiated", "asking_price": 80_000_000},
    }
    drafted = await client.post(
        f"{API}/proposals/{proposal.json()['id']}/listing", json={"content": content}, headers=uni.headers
    )
    assert drafted.status_code == 201, drafted.text
    listing_id = drafted.json()["negotiation"]["listing_id"]
    listing = (await client.get(f"{API}/listings/{listing_id}", headers=uni.headers)).json()
    assert listing["status"] == "draft" and listing["title"] == "车载储氢瓶轻量化材料解决方案"
    assert listing["field"] == "new_materials"

    # Eight days on, the owner is told the deadline is near (once); after it, the sweeper closes the demand.
    app.state.clock.advance(timedelta(days=8))
    await sweep(app)
    await sweep(app)
    assert (await kinds_told(app, owner.org_id)).count("demand.deadline") == 1
    app.state.clock.advance(timedelta(days=3))
    await sweep(app)
    shown = await client.get(f"{API}/demands/{demand['id']}")
    assert shown.json()["status"] == "closed" and shown.json()["close_reason"] == "deadline"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # rules of reading, no money
async def test_who_sees_a_demand_and_its_confidential_part(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "邀请企业")
    guest = await verified(client, ops, "university", "受邀大学")
    other = await verified(client, ops, "research_institute", "未受邀研究所")
    hidden = await posted(client, owner, visibility="invited", invited_org_ids=[guest.org_id])
    assert (await client.get(f"{API}/demands/{hidden['id']}")).status_code == 404
    assert (await client.get(f"{API}/demands/{hidden['id']}", headers=other.headers)).status_code == 404
    assert (await client.get(f"{API}/demands/{hidden['id']}", headers=guest.headers)).status_code == 200
    assert hidden["id"] not in [d["id"] for d in (await client.get(f"{API}/demands")).json()["items"]]
    refused = await client.post(
        f"{API}/demands/{hidden['id']}/proposals", json={"summary": "a", "solution": "b"}, headers=other.headers
    )
    assert refused.status_code == 404
    seen = await client.get(f"{API}/demands/{hidden['id']}", headers=owner.headers)
    assert seen.json()["invited_org_ids"] == [guest.org_id]

    # The confidential part: the owner reads it; the guest only after accepting the NDA.
    shown = (await client.get(f"{API}/demands/{hidden['id']}", headers=guest.headers)).json()
    assert shown["has_confidential"] and "供应商" not in str(shown)
    assert_problem(
        await client.get(f"{API}/demands/{hidden['id']}/confidential", headers=guest.headers), 403, "nda-required"
    )
    nda = await client.post(f"{API}/demands/{hidden['id']}/nda", headers=guest.headers)
    assert nda.status_code == 201, nda.text
    read = await client.get(f"{API}/demands/{hidden['id']}/confidential", headers=guest.headers)
    assert read.json() == {"demand_id": hidden["id"], "confidential": demand_body()["confidential"], "access": "nda"}
    mine = await client.get(f"{API}/demands/{hidden['id']}/confidential", headers=owner.headers)
    assert mine.json()["access"] == "owner"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_bad_input_names_the_field(client, app) -> None:
    ops = await operator(client, app)
    owner = await verified(client, ops, "enterprise", "输入企业")
    uni = await verified(client, ops, "university", "输入大学")
    cases = [
        ({"ipc_codes": ["H01M", "XYZ"]}, "ipc_codes.1"),
        ({"budget_min_fen": 300_000_000, "budget_max_fen": 100_000_000}, "budget_max_fen"),
        ({"deadline": "2000-01-01"}, "deadline"),
        ({"visibility": "invited", "invited_org_ids": [owner.org_id]}, "invited_org_ids"),
        ({"invited_org_ids": [uni.org_id]}, "invited_org_ids"),
    ]
    for changes, field in cases:
        response = await client.post(f"{API}/demands", json=demand_body(**changes), headers=owner.headers)
        assert_problem(response, 422, "invalid-demand", field)
    for changes, field in [
        ({"accepted_forms": ["gift"]}, "accepted_forms.0"),
        ({"budget_max_fen": -1}, "budget_max_fen"),
    ]:
        # the request's shape, checked before any rule: the API's validation-error, naming the field
        response = await client.post(f"{API}/demands", json=demand_body(**changes), headers=owner.headers)
        assert_problem(response, 400, "validation-error")
        assert field in str(response.json()), response.text
    no_forms = await client.post(f"{API}/demands", json=demand_body(accepted_forms=[]), headers=owner.headers)
    assert_problem(await client.post(f"{API}/demands/{no_forms.json()['id']}/publish", headers=owner.headers),
                   422, "invalid-demand", "accepted_forms")  # fmt: skip
    assert_problem(await client.post(f"{API}/demands", json=demand_body(), headers=uni.headers), 403, "forbidden")
    campaign = await client.post(f"{API}/campaigns", json={**CALL, "deadline": "2099-01-01"}, headers=owner.headers)
    assert_problem(campaign, 403, "forbidden")
    past = await client.post(f"{API}/campaigns", json={**CALL, "deadline": "2001-01-01"}, headers=ops.headers)
    assert_problem(past, 422, "invalid-campaign", "deadline")
