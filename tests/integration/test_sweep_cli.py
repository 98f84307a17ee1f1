"""`techx sweep` as a real process: one pass over due deadlines, on each database."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import announced_listing, operator, verified
from tests.integration.test_cli import techx


async def test_techx_sweep_closes_due_announcements_once(backend, keys_dir, client, app, clock):
    clock.set(datetime(2024, 3, 4, 1, tzinfo=UTC))  # long past for the wall clock the command uses
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}

    swept = techx("sweep", env=env)
    assert swept.returncode == 0, swept.stderr
    assert "notices: 1 processed" in swept.stdout
    shown = await client.get(f"/api/v1/listings/{announced['id']}")
    assert shown.json()["status"] == "unsold"
    again = techx("sweep", env=env)
    assert again.returncode == 0 and "notices: 0 processed" in again.stdout
