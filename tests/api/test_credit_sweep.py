"""The daily recomputation of credit scores, on both databases, by moving the clock: a demonstration
institution whose ratings aged below grade A loses its designation at the next Beijing day's sweep
and is told; an upheld complaint's penalty counts for its 730 days and, once its window closed, the
sweep raises the score back without any new rating; a second sweep the same day recomputes nothing.
The provider's profile page shows its grade, score, ratings and 示范机构 as they stand."""

from __future__ import annotations

from datetime import timedelta

from tests.api.test_credit_journey import completed, rating, score, told
from tests.helpers import assert_problem
from tests.trading_helpers import advance
from tests.voucher_helpers import API, cast, service, top_up

STEP = "credit-scores"


async def test_the_daily_sweep_ages_scores_lapses_designations_and_lifts_expired_penalties(client, app):
    c = await cast(client, app)
    ent, prov, ops = c.ent, c.prov, c.ops
    await top_up(app, ent.org_id, 50_000_000)
    testing = await service(client, prov, "testing", 1_000_000)
    orders = [await completed(client, ent, prov, testing["id"]) for _ in range(5)]
    for o in orders:
        rated = await client.post(f"{API}/credit/ratings", json=rating(o["id"]), headers=ent.headers)
        assert rated.status_code == 201, rated.text
    designated = await client.post(f"{API}/credit/providers/{prov.org_id}/demonstration", headers=ops.headers)
    assert designated.status_code == 200, designated.text
    fresh = await score(client, prov.org_id)
    assert (fresh["score"], fresh["grade"], fresh["demonstration"]) == (85.9, "A", True)
    profile = (await client.get(f"/orgs/{prov.org_id}", headers={"accept": "text/html"})).text
    assert "信用 A 级" in profile and "示范机构" in profile and "85.9" in profile and "5 条评价" in profile
    assert f'href="/credit/providers/{prov.org_id}"' in profile
    # An enterprise's profile carries no credit.
    assert "信用评价" not in (await client.get(f"/orgs/{ent.org_id}", headers={"accept": "text/html"})).text

    # Later the same Beijing day: computed today already, nothing to recompute.
    parties = (ent, prov, ops)
    assert (await advance(app, client, timedelta(hours=2), *parties))[STEP] == 0

    # 60 days on, without any new rating: the ratings' weights decayed to 0.89 each → 84.9, grade B.
    # The sweep stores it, and the designation lapses by its published criteria; the provider is told.
    assert (await advance(app, client, timedelta(days=60), *parties))[STEP] == 1
    aged = await score(client, prov.org_id)
    assert (aged["score"], aged["grade"], aged["demonstration"]) == (84.9, "B", False)
    assert "grade A is required" in aged["demonstration_end_reason"]
    (ended,) = await told(app, "credit_demonstration.ended")
    assert ended.audience["orgs"] == [prov.org_id]
    assert (await advance(app, client, timedelta(hours=1), *parties))[STEP] == 0  # once a day
    profile = (await client.get(f"/orgs/{prov.org_id}", headers={"accept": "text/html"})).text
    assert "信用 B 级" in profile and "84.9" in profile and "示范机构" not in profile

    # An upheld complaint: 10 points off for 730 days.
    filed = await client.post(
        f"{API}/credit/complaints",
        json={"kind": "service_order", "engagement_id": orders[0]["id"], "reason": "报告数据有误"},
        headers=ent.headers,
    )
    upheld = await client.post(
        f"{API}/credit/complaints/{filed.json()['id']}/uphold", json={"reason": "属实"}, headers=ops.headers
    )
    assert upheld.status_code == 200, upheld.text
    assert (await score(client, prov.org_id))["score"] == 74.9
    refused = await client.post(f"{API}/credit/providers/{prov.org_id}/demonstration", headers=ops.headers)
    assert_problem(refused, 422, "demonstration-criteria-not-met", "grade")

    # 729 days on: still counted, and the ratings decayed further (base 72.7) → 62.7, grade C.
    assert (await advance(app, client, timedelta(days=729), *parties))[STEP] == 1
    late = await score(client, prov.org_id)
    assert (late["score"], late["grade"]) == (62.7, "C")
    assert [p["kind"] for p in late["breakdown"]["penalties"]] == ["upheld_complaint"]
    # Two days more: its window closed — the sweep raises the score back by the 10 points, less two days' decay.
    assert (await advance(app, client, timedelta(days=2), *parties))[STEP] == 1
    lifted = await score(client, prov.org_id)
    assert (lifted["score"], lifted["grade"], lifted["breakdown"]["penalties"]) == (72.6, "B", [])
    assert lifted["ratings"] == 5
