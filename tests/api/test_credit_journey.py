"""The credit evaluation over HTTP, on both databases: a service order is completed, the client rates
the provider once, the provider answers once, the client complains and an operator upholds it — the
score and grade drop, both sides are told; a voucher program requiring a minimum grade refuses the
provider's service; a demonstration institution is refused naming the unmet criterion, designated
once the criteria are met, and its designation lapses when a complaint against it is upheld."""

from __future__ import annotations

from sqlalchemy import select

from exchange.credit import grade_counts
from exchange.platform.outbox import OutboxEvent
from exchange.stats.white_paper.sections import service_institutions
from tests.helpers import assert_problem, verified
from tests.page_helpers import browser_of, htmx_post
from tests.voucher_helpers import API, act, cast, create_program, fund, grant, key, order, service, top_up


async def told(app, kind: str) -> list[OutboxEvent]:
    async with app.state.db.read() as session:
        query = select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)
        return list((await session.scalars(query)).all())


async def completed(client, ent, prov, service_id: str, voucher_amount: int = 0) -> dict:
    placed = await order(client, ent, service_id, voucher_amount)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    assert (await act(client, prov, order_id, "confirm")).status_code == 200
    assert (await act(client, prov, order_id, "deliver", {"results_summary": "检测报告"})).status_code == 200
    accepted = await act(client, ent, order_id, "accept")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    return accepted.json()


def rating(order_id: str, marks: tuple[int, int, int] = (5, 5, 5), **changes) -> dict:
    q, t, p = marks
    body = {"kind": "service_order", "engagement_id": order_id, "quality": q, "timeliness": t, "professionalism": p}
    return {**body, "comment": "报告专业，交付及时", **changes}


async def score(client, org_id: str) -> dict:
    response = await client.get(f"{API}/credit/providers/{org_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_ratings_and_an_upheld_complaint_move_the_score(client, app):
    c = await cast(client, app)
    ent, prov, gov, ops = c.ent, c.prov, c.gov, c.ops
    program = await create_program(client, app, gov)
    await fund(client, ops, program["id"], 50_000_000)
    await grant(client, gov, program["id"], ent.org_id, 20_000_000)
    await top_up(app, ent.org_id, 50_000_000)
    testing = await service(client, prov, "testing", 4_000_000)

    # Not finished yet: no rating; a complete order (half in vouchers) is rated by its client only, once.
    placed = (await order(client, ent, testing["id"], 0)).json()
    early = await client.post(f"{API}/credit/ratings", json=rating(placed["id"]), headers=ent.headers)
    assert_problem(early, 409, "engagement-not-finished", "engagement_id")
    done = await completed(client, ent, prov, testing["id"], 2_000_000)
    by_provider = await client.post(f"{API}/credit/ratings", json=rating(done["id"]), headers=prov.headers)
    assert_problem(by_provider, 403, "forbidden")
    bad = await client.post(f"{API}/credit/ratings", json=rating(done["id"], (6, 5, 5)), headers=ent.headers)
    assert_problem(bad, 400, "validation-error", "quality")
    rated = await client.post(f"{API}/credit/ratings", json=rating(done["id"], (5, 4, 5)), headers=ent.headers)
    assert rated.status_code == 201, rated.text
    again = await client.post(f"{API}/credit/ratings", json=rating(done["id"]), headers=ent.headers)
    assert_problem(again, 409, "already-rated", "engagement_id")
    first = await score(client, prov.org_id)
    # (3.5 × 3 + 14/3) / 4 = 3.7917 → 69.8: grade C; how it was made is public.
    assert (first["score"], first["grade"], first["ratings"]) == (69.8, "C", 1)
    assert first["breakdown"]["prior_weight"] == 3.0 and first["breakdown"]["penalties"] == []
    assert [e.audience["orgs"] for e in await told(app, "credit_rating.received")] == [[prov.org_id]]

    # The provider answers once; the score does not move.
    rating_id = rated.json()["id"]
    answer = await client.post(
        f"{API}/credit/ratings/{rating_id}/answer", json={"answer": "感谢评价"}, headers=prov.headers
    )
    assert answer.status_code == 200 and answer.json()["answer"] == "感谢评价"
    twice = await client.post(f"{API}/credit/ratings/{rating_id}/answer", json={"answer": "再次"}, headers=prov.headers)
    assert_problem(twice, 409, "already-answered", "answer")
    assert (await score(client, prov.org_id))["score"] == 69.8
    listed = (await client.get(f"{API}/credit/providers/{prov.org_id}/ratings")).json()["items"]
    assert [(r["quality"], r["answer"]) for r in listed] == [(5, "感谢评价")]

    # Five more good ratings: (3.5 × 3 + 14/3 + 25) / 9 = 4.463 → 86.6, grade A.
    for _ in range(5):
        more = await completed(client, ent, prov, testing["id"])
        response = await client.post(f"{API}/credit/ratings", json=rating(more["id"]), headers=ent.headers)
        assert response.status_code == 201, response.text
    good = await score(client, prov.org_id)
    assert good["grade"] == "A" and good["score"] == 86.6 and good["ratings"] == 6

    # A complaint; operators only decide it, with a reason; upheld: 10 points off, grade B; both told.
    filed = await client.post(
        f"{API}/credit/complaints",
        json={"kind": "service_order", "engagement_id": done["id"], "reason": "报告数据有误"},
        headers=ent.headers,
    )
    assert filed.status_code == 201, filed.text
    complaint = filed.json()
    pending = await client.post(
        f"{API}/credit/complaints",
        json={"kind": "service_order", "engagement_id": done["id"], "reason": "再次投诉"},
        headers=ent.headers,
    )
    assert_problem(pending, 409, "complaint-open", "engagement_id")
    url = f"{API}/credit/complaints/{complaint['id']}"
    assert_problem(await client.post(f"{url}/uphold", json={"reason": "成立"}, headers=prov.headers), 403, "forbidden")
    upheld = await client.post(f"{url}/uphold", json={"reason": "检测数据与原始记录不符"}, headers=ops.headers)
    assert upheld.status_code == 200 and upheld.json()["status"] == "upheld"
    assert_problem(
        await client.post(f"{url}/dismiss", json={"reason": "x"}, headers=ops.headers), 409, "complaint-decided"
    )
    after = await score(client, prov.org_id)
    assert after["score"] == 76.6 and after["grade"] == "B"
    assert [p["kind"] for p in after["breakdown"]["penalties"]] == ["upheld_complaint"]
    decided = await told(app, "credit_complaint.decided")
    assert [sorted(e.audience["orgs"]) for e in decided] == [sorted([ent.org_id, prov.org_id])]
    assert decided[0].data["status"] == "upheld" and decided[0].data["reason"] == "检测数据与原始记录不符"
    mine = (await client.get(f"{API}/credit/complaints", headers=ent.headers)).json()["items"]
    assert [k["status"] for k in mine] == ["upheld"]

    # A program that requires grade A refuses the provider's service, naming the field.
    strict = await create_program(client, app, gov, name="示范机构专项创新券", min_provider_grade="A")
    assert strict["min_provider_grade"] == "A"
    await fund(client, ops, strict["id"], 10_000_000)
    await grant(client, gov, strict["id"], ent.org_id, 5_000_000)
    refused = await order(client, ent, testing["id"], 1_000_000, program_id=strict["id"])
    problem = assert_problem(refused, 422, "provider-grade-too-low", "service_id")
    assert problem["min_provider_grade"] == "A" and problem["provider_grade"] == "B"
    # The public record in the catalogue carries the credit.
    providers = (await client.get(f"{API}/service-providers")).json()["items"]
    assert [(p["grade"], p["score"], p["ratings"], p["demonstration"]) for p in providers] == [("B", 76.6, 6, False)]


async def test_demonstration_institutions_by_the_published_criteria(client, app):
    c = await cast(client, app)
    ent, prov, ops = c.ent, c.prov, c.ops
    await top_up(app, ent.org_id, 50_000_000)
    testing = await service(client, prov, "testing", 1_000_000)
    designate = f"{API}/credit/providers/{prov.org_id}/demonstration"

    # Two engagements rated 5: grade B and too few engagements — refused naming the first unmet criterion.
    orders = [await completed(client, ent, prov, testing["id"]) for _ in range(2)]
    for o in orders:
        assert (
            await client.post(f"{API}/credit/ratings", json=rating(o["id"]), headers=ent.headers)
        ).status_code == 201
    assert_problem(await client.post(designate, headers=prov.headers), 403, "forbidden")
    refused = assert_problem(
        await client.post(designate, headers=ops.headers), 422, "demonstration-criteria-not-met", "grade"
    )
    assert refused["criteria"] == ["grade", "engagements"]

    # Five engagements rated 5: grade A — designated; the white paper's counts see it.
    for _ in range(3):
        o = await completed(client, ent, prov, testing["id"])
        orders.append(o)
        assert (
            await client.post(f"{API}/credit/ratings", json=rating(o["id"]), headers=ent.headers)
        ).status_code == 201
    designated = await client.post(designate, headers=ops.headers)
    assert designated.status_code == 200, designated.text
    assert designated.json()["demonstration"] is True and designated.json()["grade"] == "A"
    assert_problem(await client.post(designate, headers=ops.headers), 409, "conflict", "provider_org_id")
    async with app.state.db.read() as session:
        counts = await grade_counts(session)
    assert counts == {"A": 1, "B": 0, "C": 0, "D": 0, "unrated": 0, "demonstration": 1}
    async with app.state.db.read() as session:  # the white paper's service institutions, by grade
        by_grade = await service_institutions(session, 2026)
    assert by_grade.row("A 级")["机构数"] == 1 and by_grade.total == ("合计", 1) and "示范机构 1 家" in by_grade.note
    assert (await client.get(f"{API}/credit/providers/grades")).json() == counts
    assert [e.audience["orgs"] for e in await told(app, "credit_demonstration.designated")] == [[prov.org_id]]
    page = await client.get("/services")
    assert "示范机构" in page.text and "信用 A 级" in page.text

    # An upheld complaint: the criteria lapse at the recomputation, the designation ends, the provider is told.
    filed = await client.post(
        f"{API}/credit/complaints",
        json={"kind": "service_order", "engagement_id": orders[0]["id"], "reason": "逾期交付"},
        headers=ent.headers,
    )
    await client.post(
        f"{API}/credit/complaints/{filed.json()['id']}/uphold", json={"reason": "属实"}, headers=ops.headers
    )
    lapsed = await score(client, prov.org_id)
    assert lapsed["demonstration"] is False and "complaint" in lapsed["demonstration_end_reason"]
    assert [e.audience["orgs"] for e in await told(app, "credit_demonstration.ended")] == [[prov.org_id]]


async def test_a_provider_that_cancels_a_confirmed_order_misses_a_delivery(client, app):
    c = await cast(client, app)
    ent, prov = c.ent, c.prov
    other = await verified(client, c.ops, "enterprise", "苏州智造装备有限公司")
    await top_up(app, ent.org_id, 10_000_000)
    testing = await service(client, prov, "testing", 1_000_000)
    done = await completed(client, ent, prov, testing["id"])
    async with browser_of(app, ent) as buyer, browser_of(app, prov) as provider, browser_of(app, c.ops) as console:
        # The client rates on the order's page; the provider answers on its credit page, which says how
        # its score was made; the operators' console lists the providers' credit.
        page = (await buyer.get(f"/workspace/orders/{done['id']}")).text
        assert "提交评价" in page and "投诉服务机构" in page
        marks = {"quality": "5", "timeliness": "5", "professionalism": "5", "comment": "很好"}
        form = {"kind": "service_order", "engagement_id": done["id"], **marks}
        rated = await htmx_post(buyer, "/workspace/credit/ratings", **form)
        assert rated.status_code == 200 and "评价已提交" in rated.text
        bad = await htmx_post(buyer, "/workspace/credit/ratings", **{**form, "quality": "9"})
        assert bad.status_code == 400 and "服务质量" in bad.text
        mine = (await provider.get("/workspace/credit")).text
        assert "我的信用评分是如何得出的" in mine and "71.9" in mine and "回复（只能回复一次）" in mine
        rating_id = (await client.get(f"{API}/credit/providers/{prov.org_id}/ratings")).json()["items"][0]["id"]
        answered = await htmx_post(provider, f"/workspace/credit/ratings/{rating_id}/answer", answer="谢谢")
        assert answered.status_code == 200 and "回复已发布" in answered.text
        assert "服务机构回复" in (await buyer.get(f"/workspace/orders/{done['id']}")).text
        assert "上海知识产权服务中心" in (await console.get("/console/credit")).text
        public = (await client.get(f"/credit/providers/{prov.org_id}")).text
        assert "信用 B 级" in public and "谢谢" in public
    before = (await score(client, prov.org_id))["score"]
    # The buyer's own cancellation is no fault of the provider's; the provider's after confirming is.
    mine = (await order(client, ent, testing["id"], 0)).json()
    await act(client, ent, mine["id"], "cancel", {"reason": "需求变更"})
    assert (await score(client, prov.org_id))["score"] == before
    taken = (await order(client, ent, testing["id"], 0)).json()
    await act(client, prov, taken["id"], "confirm")
    cancelled = await client.post(
        f"{API}/service-orders/{taken['id']}/cancel", json={"reason": "人手不足"}, headers={**prov.headers, **key()}
    )
    assert cancelled.status_code == 200, cancelled.text
    after = await score(client, prov.org_id)
    assert after["score"] == before - 5 and [p["kind"] for p in after["breakdown"]["penalties"]] == ["missed_delivery"]
    # A stranger to the engagement cannot rate or complain about it.
    stranger = await client.post(f"{API}/credit/complaints", json={"kind": "service_order", "engagement_id": done["id"],
                                 "reason": "无关"}, headers=other.headers)  # fmt: skip
    assert_problem(stranger, 403, "forbidden")
