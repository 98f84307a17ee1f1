"""Tracking after the deal: a settled deal gets its schedule of implementation reports from the
sweeper; the buyer is reminded 14 days before a report is due and on the day; a report not filed
is overdue the day after, told to the buyer, the seller and operators, and listed in the console;
an abandoned implementation needs its reason; the seller sees the latest status of what it
transferred, and the institution's annual report counts it."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import func, select

from exchange.notifications.domain import link_path
from exchange.platform.outbox import Kind
from exchange.tracking.models import TrackingReport
from listings.domain import add_months
from tests.helpers import Party, join, operator, relogin, verified
from tests.notification_helpers import orgs, outbox_rows, to_operators
from tests.page_helpers import browser_of, post_form
from tests.trading_helpers import announced, fund, intent, key, past_notice, sweep, to_end_of_announcement

API = "/api/v1"
BEIJING = ZoneInfo("Asia/Shanghai")
REPORT = {"status": "in_production", "products": "储氢罐 H-200", "revenue_band": "1m_10m", "jobs_created": 12,
          "further_ip_count": 1, "further_ip": "一种储氢罐的密封结构（申请号 202610000001.X）"}  # fmt: skip


async def settled(client: Any, app: Any) -> tuple[dict[str, Any], Party, Party, Party, Party]:
    """A university's listing sold by negotiation to an enterprise, signed and paid."""
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", "华东示范大学")
    buyer = await verified(client, ops, "enterprise", "宁德新能")
    await fund(app, buyer, 200_000_000)
    listing = await announced(client, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['offers'][0]['id']}/accept", headers=buyer.headers
    )
    deal = accepted.json()
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    for party in (seller, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.json()["state"] == "settled", paid.text
    return paid.json(), ops, seller, buyer, await join(client, buyer, name="项目经理")


async def to_day(app: Any, client: Any, day: date, *parties: Party, hour: int = 9) -> dict[str, int]:
    """The clock at ``hour`` o'clock Beijing time on ``day``, swept."""
    app.state.clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING).astimezone(ZoneInfo("UTC")))
    counts = await sweep(app)
    await relogin(client, *parties)
    return counts


async def side(client: Any, party: Party, which: str) -> list[dict[str, Any]]:
    shown = await client.get(f"{API}/tracking/deals", params={"side": which}, headers=party.headers)
    assert shown.status_code == 200, shown.text
    return shown.json()["items"]  # type: ignore[no-any-return]


async def file(client: Any, party: Party, report_id: str, **body: Any) -> Any:
    return await client.post(f"{API}/tracking/reports/{report_id}", json=body, headers=party.headers)


async def test_a_settled_deals_reports_are_scheduled_reminded_filed_and_overdue(client, app):
    deal, ops, seller, buyer, member = await settled(client, app)
    parties = (ops, seller, buyer, member)
    await sweep(app)
    await sweep(app)  # the catch-up is idempotent: one schedule however often it runs
    async with app.state.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(TrackingReport)) == 4

    (mine,) = await side(client, buyer, "buyer")
    settled_on = datetime.fromisoformat(deal["settled_at"].replace("Z", "+00:00")).astimezone(BEIJING).date()
    dues = [add_months(settled_on, m) for m in (6, 12, 24, 36)]
    assert mine["deal_id"] == deal["id"] and mine["seller_name"] == "华东示范大学"
    assert [r["due_on"] for r in mine["reports"]] == [d.isoformat() for d in dues]
    assert [r["state"] for r in mine["reports"]] == ["upcoming"] * 4
    first, second = mine["reports"][0]["id"], mine["reports"][1]["id"]
    assert await side(client, seller, "buyer") == []

    # Not yet open: refused, nothing written.
    early = await file(client, member, first, **REPORT)
    assert early.status_code == 409 and early.json()["state"] == "upcoming", early.text

    # 14 days before: the buyer is reminded once, whatever the number of passes.
    await to_day(app, client, dues[0] - timedelta(days=14), *parties)
    await sweep(app)
    (reminder,) = await outbox_rows(app.state.db, Kind.TRACKING_REPORT_DUE)
    assert orgs(reminder) == {buyer.org_id} and reminder.data["days_left"] == 14
    # On the day: once more.
    await to_day(app, client, dues[0], *parties)
    reminders = await outbox_rows(app.state.db, Kind.TRACKING_REPORT_DUE)
    assert [r.data["days_left"] for r in reminders] == [14, 0]

    # An abandoned implementation needs its reason: 422 naming it, nothing filed.
    refused = await file(client, member, first, status="abandoned", revenue_band="none")
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["reason"]
    assert (await side(client, buyer, "buyer"))[0]["reports"][0]["filed_at"] is None
    # The seller does not file.
    assert (await file(client, seller, first, **REPORT)).status_code == 403

    filed = await file(client, member, first, **REPORT)
    assert filed.status_code == 200, filed.text
    assert filed.json()["state"] == "filed" and filed.json()["jobs_created"] == 12
    (sold,) = await side(client, seller, "seller")
    assert sold["latest_status"] == "in_production" and sold["overdue"] == 0 and sold["buyer_name"] == "宁德新能"
    # The seller is told what the buyer reported, with a link to its page of what it transferred.
    (told,) = await outbox_rows(app.state.db, Kind.TRACKING_REPORT_FILED)
    assert orgs(told) == {seller.org_id} and not to_operators(told)
    assert told.data["report_id"] == first and told.data["corrected"] is False
    assert (told.data["status_label"], told.data["jobs_created"], told.data["buyer_name"]) == ("已投产", 12, "宁德新能")
    assert link_path(told.subject_type, str(told.subject_id)) == f"/workspace/tracking/transferred#deal-{deal['id']}"
    # A correction, while the next report is not yet due, tells it again as a correction.
    fixed = await file(client, member, first, **{**REPORT, "jobs_created": 15})
    assert fixed.status_code == 200 and fixed.json()["corrected_at"], fixed.text
    told_again = (await outbox_rows(app.state.db, Kind.TRACKING_REPORT_FILED))[-1]
    assert told_again.data["corrected"] is True and told_again.data["jobs_created"] == 15

    # The second report is not filed: the day after its due date it is overdue, told once to the
    # buyer, the seller and operators, listed in the console and flagged on the seller's page.
    await to_day(app, client, dues[1] + timedelta(days=1), *parties)
    await sweep(app)
    (overdue,) = await outbox_rows(app.state.db, Kind.TRACKING_REPORT_OVERDUE)
    assert orgs(overdue) == {buyer.org_id, seller.org_id} and to_operators(overdue)
    assert overdue.data["report_id"] == second
    listed = (await client.get(f"{API}/tracking/overdue", headers=ops.headers)).json()["items"]
    assert [(o["report"]["id"], o["days_overdue"], o["buyer_name"]) for o in listed] == [(second, 1, "宁德新能")]
    assert (await client.get(f"{API}/tracking/overdue", headers=seller.headers)).status_code == 403
    (sold,) = await side(client, seller, "seller")
    assert sold["overdue"] == 1 and sold["latest_status"] == "in_production"
    # The first report can no longer be corrected (the second came due); the late one is still filed.
    late_fix = await file(client, member, first, **{**REPORT, "jobs_created": 20})
    assert late_fix.status_code == 409, late_fix.text
    assert (
        await file(client, member, second, status="abandoned", reason="市场需求变化，项目终止。")
    ).status_code == 200
    assert (await client.get(f"{API}/tracking/overdue", headers=ops.headers)).json()["items"] == []
    (sold,) = await side(client, seller, "seller")
    assert sold["latest_status"] == "abandoned" and sold["overdue"] == 0

    # The university's annual report counts what it transferred, by the year the reports were due.
    reports = {}
    for year in (dues[0].year, dues[1].year):
        shown = await client.get(f"{API}/institutions/{seller.org_id}/annual-reports/{year}", headers=seller.headers)
        assert shown.status_code == 200, shown.text
        reports[year] = shown.json()["tracking"]
    first_year = reports[dues[0].year]
    assert first_year["deals"] == 1 and first_year["reports_due"] == 1 and first_year["reports_filed"] == 1, reports
    assert first_year["by_status"]["in_production"] == 1 and first_year["jobs"] == 15
    assert first_year["by_revenue_band"]["1m_10m"] == 1
    later = reports[dues[1].year]
    assert later["reports_due"] == 1 and later["reports_filed"] == 1 and later["by_status"]["abandoned"] == 1
    # Its spreadsheet has the same section, one row per figure.
    xlsx = await client.get(
        f"{API}/institutions/{seller.org_id}/annual-reports/{dues[0].year}",
        params={"format": "xlsx"},
        headers=seller.headers,
    )
    assert xlsx.status_code == 200, xlsx.text
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    section = {r[1]: r[2] for r in rows if r[0] == "七、成果转化跟踪"}
    assert (section["跟踪的成交"], section["已填报"], section["逾期未报"], section["新增就业（人）"]) == (1, 1, 0, 15)
    assert section["最近报告：已投产"] == 1 and section["收入100万–1000万元"] == 1
    async with browser_of(app, seller) as visitor:
        page = await visitor.get(f"/workspace/transfers/annual-report?year={dues[0].year}")
    assert page.status_code == 200 and "七、成果转化跟踪" in page.text and "已投产" in page.text


async def test_the_pages_show_the_buyer_its_form_and_the_seller_its_status(client, app):
    _, ops, seller, buyer, member = await settled(client, app)
    await sweep(app)
    (mine,) = await side(client, buyer, "buyer")
    due = date.fromisoformat(mine["reports"][0]["due_on"])
    await to_day(app, client, due - timedelta(days=3), ops, seller, buyer, member)
    report_id = mine["reports"][0]["id"]

    async with browser_of(app, member) as visitor:
        page = await visitor.get("/workspace/tracking")
        assert page.status_code == 200 and f"/workspace/tracking/reports/{report_id}" in page.text
        path = f"/workspace/tracking/reports/{report_id}"
        refused = await post_form(visitor, path, status="abandoned", revenue_band="none", jobs_created="0")
        assert refused.status_code == 422 and "须说明终止原因" in refused.text
        done = await post_form(visitor, path, status="in_development", revenue_band="none", jobs_created="3",
                               products="中试线")  # fmt: skip
        assert done.status_code == 303, done.text
    async with browser_of(app, seller) as visitor:
        seller_page = await visitor.get("/workspace/tracking/transferred")
    assert seller_page.status_code == 200 and "研发中" in seller_page.text and "宁德新能" in seller_page.text
    async with browser_of(app, ops) as visitor:
        console = await visitor.get("/console/tracking")
    assert console.status_code == 200 and "没有逾期未报" in console.text
