"""The working-day calendar operators maintain: a year loaded, corrected, seen by every process;
periods counting into a year without data refused; /ready, the metric and the notification from
1 November. The 2027 data is tests/fixtures/calendar-2027-fixture.json — a test fixture, NOT the
official schedule — loaded through the import as an operator would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from exchange.platform.outbox import Kind
from exchange.server.app import create_app
from listings import Listing, Notice
from listings.models import CalendarChange, CalendarDay, CalendarYear
from listings.workdays import BEIJING
from tests.api.test_ops_metrics import gauges
from tests.calendar_helpers import FIXTURE_2027
from tests.conftest import running
from tests.helpers import assert_problem, create_listing, operator, verified
from tests.notification_helpers import outbox_rows

OPENS_2027 = datetime(2027, 1, 25, 1, 0, tzinfo=UTC)  # Monday 25 January 2027, 09:00 Beijing
YEARS = "/api/v1/calendar/years"


def fixture() -> dict:
    return json.loads(FIXTURE_2027.read_text(encoding="utf-8"))


async def submitted(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await create_listing(client, seller)
    response = await client.post(f"/api/v1/listings/{listing['id']}/submit", headers=seller.headers)
    assert response.status_code == 200, response.text
    return ops, listing


async def approve(client, ops, listing):
    return await client.post(
        f"/api/v1/listings/{listing['id']}/review", json={"decision": "approve"}, headers=ops.headers
    )


async def count(app, model) -> int:
    async with app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_2027_announcement_skips_spring_festival_and_counts_make_up_saturdays(client, app, clock):
    clock.set(OPENS_2027)
    ops, listing = await submitted(client, app)
    loaded = await client.post(YEARS, json=fixture(), headers=ops.headers)
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["year"] == 2027 and loaded.json()["days_off"] == 29
    approved = await approve(client, ops, listing)
    assert approved.status_code == 200, approved.text
    closes = datetime.fromisoformat(approved.json()["announcement"]["closes_at"])
    # 20 working days: 26-29 January, Saturday 30 January (worked), 1-4 February, 15-19 February,
    # Saturday 20 February (worked), 22-26 February; 5-13 February are Spring Festival.
    # Counted Monday to Friday it would have closed with 22 February.
    assert closes.astimezone(BEIJING) == datetime(2027, 2, 27, tzinfo=BEIJING)
    notice = (await client.get(f"/api/v1/notices/{approved.json()['announcement']['notice_id']}")).json()
    assert "correction" in notice["content"]["period_rule"]


async def test_without_data_opening_a_2027_period_is_409_and_nothing_is_written(client, app, clock):
    clock.set(datetime(2026, 12, 14, 1, 0, tzinfo=UTC))  # 20 working days from here run into 2027
    ops, listing = await submitted(client, app)
    notices_before = await count(app, Notice)
    refused = await approve(client, ops, listing)
    body = assert_problem(refused, 409, "calendar-year-missing")
    assert body["year"] == 2027 and "2027" in body["detail"]
    shown = (await client.get(f"/api/v1/listings/{listing['id']}", headers=ops.headers)).json()
    assert shown["status"] == "under_review"
    assert await count(app, Notice) == notices_before
    # A period that stays within 2026 is counted as before.
    clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    ops, listing = await submitted(client, app)
    assert (await approve(client, ops, listing)).status_code == 200


async def test_an_import_is_seen_by_another_server_process_without_a_restart(client, app, clock, settings):
    clock.set(datetime(2026, 12, 14, 1, 0, tzinfo=UTC))
    ops, listing = await submitted(client, app)
    assert_problem(await approve(client, ops, listing), 409, "calendar-year-missing")  # this process cached 2026
    other = create_app(settings, clock=clock, run_background_tasks=False)
    import httpx

    async with running(other), httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://o") as c2:
        assert (await c2.post(YEARS, json=fixture(), headers=ops.headers)).status_code == 201
    approved = await approve(client, ops, listing)
    assert approved.status_code == 200, approved.text
    closes = datetime.fromisoformat(approved.json()["announcement"]["closes_at"]).astimezone(BEIJING)
    # 15-31 December 2026 (13 working days), 1-3 January 2027 off in the fixture, then 4-12 January.
    assert closes == datetime(2027, 1, 13, tzinfo=BEIJING)


async def test_a_correction_changes_only_the_periods_opened_after_it(client, app, clock):
    clock.set(OPENS_2027)
    ops, first = await submitted(client, app)
    _, second = await submitted(client, app)
    assert (await client.post(YEARS, json=fixture(), headers=ops.headers)).status_code == 201
    before = (await approve(client, ops, first)).json()["announcement"]["closes_at"]
    # The State Council moves a make-up day: Saturday 20 February is no longer worked.
    corrected = await client.put(
        "/api/v1/calendar/days/2027-02-20",
        json={"kind": "normal", "notice": "国办发明电〔2026〕99号 (test)", "reason": "the make-up day was withdrawn"},
        headers=ops.headers,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == {
        "date": "2027-02-20", "kind": "normal", "name": "", "notice": "国办发明电〔2026〕99号 (test)"
    }  # fmt: skip
    after = (await approve(client, ops, second)).json()["announcement"]["closes_at"]
    assert datetime.fromisoformat(after).astimezone(BEIJING) == datetime(2027, 3, 2, tzinfo=BEIJING)
    # The period already running keeps the end it was announced with.
    shown = (await client.get(f"/api/v1/listings/{first['id']}", headers=ops.headers)).json()
    assert shown["announcement"]["closes_at"] == before
    async with app.state.db.read() as session:
        stored = await session.get(Listing, __import__("uuid").UUID(first["id"]))
        notice = await session.get(Notice, stored.notice_id)
    assert notice.closes_at == datetime.fromisoformat(before)


async def test_every_change_is_logged_with_who_and_when(client, app, clock):
    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    ops = await operator(client, app)
    assert (await client.post(YEARS, json=fixture(), headers=ops.headers)).status_code == 201
    clock.advance(timedelta(minutes=30))
    day = {"kind": "off", "name": "春节 (corrected)", "notice": "test correction", "reason": "one more day off"}
    assert (await client.put("/api/v1/calendar/days/2027-02-15", json=day, headers=ops.headers)).status_code == 200
    log = await client.get("/api/v1/calendar/changes", params={"year": 2027}, headers=ops.headers)
    assert log.status_code == 200, log.text
    correct, imported = log.json()["items"]
    assert imported["action"] == "import" and imported["user_id"] == ops.user_id
    assert imported["changed_at"] == "2026-12-02T02:00:00Z" and imported["details"]["days_off"] == 29
    assert correct["action"] == "correct" and correct["user_id"] == ops.user_id
    assert correct["changed_at"] == "2026-12-02T02:30:00Z"
    assert correct["details"]["before"] == {"kind": "normal"} and correct["details"]["after"]["kind"] == "off"
    assert ops.user_id in correct["changed_by"]
    year = (await client.get(f"{YEARS}/2027")).json()
    assert year["loaded_by"] == imported["changed_by"] and year["updated_at"] == "2026-12-02T02:30:00Z"
    assert {"date": "2027-02-15", "kind": "off", "name": "春节 (corrected)", "notice": "test correction"} in year[
        "days"
    ]
    # The seeded years are there, and say where they come from.
    years = (await client.get(YEARS, params={"limit": 100})).json()["items"]
    assert [y["year"] for y in years] == list(range(2027, 2003, -1))
    assert "chinese-calendar" in years[1]["notice"]


async def test_loading_a_loaded_year_again_needs_replace(client, app, clock):
    ops = await operator(client, app)
    assert (await client.post(YEARS, json=fixture(), headers=ops.headers)).status_code == 201
    assert_problem(await client.post(YEARS, json=fixture(), headers=ops.headers), 409, "calendar-year-loaded")
    changed = {**fixture(), "notice": "国办发明电〔2026〕2号 (test)", "make_up_workdays": []}
    replaced = await client.post(YEARS, params={"replace": "true"}, json=changed, headers=ops.headers)
    assert replaced.status_code == 201 and replaced.json()["make_up_workdays"] == 0
    log = (await client.get("/api/v1/calendar/changes", params={"year": 2027}, headers=ops.headers)).json()
    assert log["items"][0]["action"] == "replace" and log["items"][0]["details"]["replaced_notice"].startswith("TEST")


async def test_only_operators_change_the_calendar(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    days = await count(app, CalendarDay)
    assert_problem(await client.post(YEARS, json=fixture(), headers=seller.headers), 403, "forbidden")
    assert_problem(await client.post(YEARS, json=fixture()), 401, "unauthorized")
    day = {"kind": "off", "name": "x", "notice": "n", "reason": "r"}
    refused = await client.put("/api/v1/calendar/days/2026-03-02", json=day, headers=seller.headers)
    assert_problem(refused, 403, "forbidden")
    assert_problem(await client.get("/api/v1/calendar/changes", headers=seller.headers), 403, "forbidden")
    # A day of a year without data cannot be corrected: the year is loaded first.
    no_year = await client.put("/api/v1/calendar/days/2028-01-03", json=day, headers=ops.headers)
    assert_problem(no_year, 409, "calendar-year-missing")
    assert await count(app, CalendarDay) == days
    assert (await client.get(f"{YEARS}/2026")).json()["days_off"] > 0  # the public may read it
    assert_problem(await client.get(f"{YEARS}/2028"), 404, "not-found")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"days_off": [{"date": "2027-02-30", "name": "春节"}]}, "days_off.0.date"),
        ({"days_off": [{"date": "2026-12-31", "name": "元旦"}]}, "days_off.0.date"),
        (
            {"days_off": [{"date": "2027-02-08", "name": "春节"}, {"date": "2027-02-08", "name": "春节"}]},
            "days_off.1.date",
        ),
        ({"make_up_workdays": [{"date": "2027-02-06", "name": "调休"}]}, "make_up_workdays.0.date"),
    ],
)
async def test_a_bad_import_is_422_naming_the_field_and_writes_nothing(client, app, change, field):
    ops = await operator(client, app)
    years, days, log = await count(app, CalendarYear), await count(app, CalendarDay), await count(app, CalendarChange)
    body = {**fixture(), **change}
    if "make_up_workdays" in change:  # 6 February is a day off in the fixture: both off and worked
        body["make_up_workdays"] = change["make_up_workdays"]
    assert_problem(await client.post(YEARS, json=body, headers=ops.headers), 422, "invalid-calendar", field)
    assert (await count(app, CalendarYear), await count(app, CalendarDay), await count(app, CalendarChange)) == (
        years, days, log
    )  # fmt: skip


async def test_ready_reports_the_missing_next_year_from_1_november(client, app, clock):
    clock.set(datetime(2026, 10, 31, 15, 59, tzinfo=UTC))  # 23:59 on 31 October in Beijing
    assert (await client.get("/ready")).json() == {"status": "ok"}
    clock.set(datetime(2026, 10, 31, 16, 0, tzinfo=UTC))  # 1 November
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "calendar": {"missing_next_year": 2027}}
    assert (await gauges(client, app))[("techx_calendar_next_year_missing", ())] == 2027
    # Operators are told once, however often the sweeper passes.
    ops = await operator(client, app)
    assert (await app.state.sweeper.run_once(app.state.db, clock.now()))["calendar-watch"] == 1
    assert (await app.state.sweeper.run_once(app.state.db, clock.now()))["calendar-watch"] == 0
    told = (await client.get("/api/v1/calendar/notifications", headers=ops.headers)).json()["items"]
    assert len(told) == 1 and told[0]["year"] == 2027 and "calendar import" in told[0]["message"]
    (row,) = await outbox_rows(app.state.db, Kind.CALENDAR_YEAR_MISSING)
    assert row.audience["operators"] is True and row.data["year"] == 2027
    # Once the year is loaded, all is quiet again.
    assert (await client.post(YEARS, json=fixture(), headers=ops.headers)).status_code == 201
    assert (await client.get("/ready")).json() == {"status": "ok"}
    assert (await gauges(client, app))[("techx_calendar_next_year_missing", ())] == 0
