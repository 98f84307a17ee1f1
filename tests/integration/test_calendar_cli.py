"""`techx calendar import FILE [--replace]` and `techx calendar list`, run as real processes: the
year they load is what a running server counts on, without a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from listings.workdays import BEIJING
from tests.calendar_helpers import FIXTURE_2027
from tests.helpers import assert_problem, create_listing, operator, verified
from tests.integration.test_cli import techx


async def test_a_year_imported_by_the_cli_is_counted_by_the_running_server(backend, keys_dir, client, app, clock):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    clock.set(datetime(2026, 12, 14, 1, 0, tzinfo=UTC))
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await create_listing(client, seller)
    await client.post(f"/api/v1/listings/{listing['id']}/submit", headers=seller.headers)
    review = f"/api/v1/listings/{listing['id']}/review"
    assert_problem(
        await client.post(review, json={"decision": "approve"}, headers=ops.headers), 409, "calendar-year-missing"
    )

    listed = techx("calendar", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith("2026") and "2027" not in listed.stdout

    loaded = techx("calendar", "import", str(FIXTURE_2027), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "2027 loaded from TEST FIXTURE" in loaded.stdout and "NOT the official schedule" in loaded.stdout
    again = techx("calendar", "import", str(FIXTURE_2027), env=env)
    assert again.returncode == 1 and "2027 is loaded already" in again.stderr
    assert techx("calendar", "import", str(FIXTURE_2027), "--replace", env=env).returncode == 0
    assert techx("calendar", "list", env=env).stdout.splitlines()[0].startswith("2027")

    approved = await client.post(review, json={"decision": "approve"}, headers=ops.headers)
    assert approved.status_code == 200, approved.text
    closes = datetime.fromisoformat(approved.json()["announcement"]["closes_at"])
    assert closes.astimezone(BEIJING) == datetime(2027, 1, 13, tzinfo=BEIJING)


def test_a_bad_file_is_refused_naming_the_field_and_loads_nothing(backend, keys_dir, tmp_path):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    body = json.loads(FIXTURE_2027.read_text(encoding="utf-8"))
    body["days_off"][3]["date"] = "2028-02-05"
    bad = tmp_path / "calendar-2027.json"
    bad.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    refused = techx("calendar", "import", str(bad), env=env)
    assert refused.returncode == 2 and "days_off.3.date" in refused.stderr and "not in 2027" in refused.stderr
    assert "2027" not in techx("calendar", "list", env=env).stdout.split("\n")[0]
    missing = techx("calendar", "import", str(tmp_path / "none.json"), env=env)
    assert missing.returncode == 2 and "no calendar file" in missing.stderr
