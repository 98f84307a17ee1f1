"""`techx demo`: a populated exchange whose tour works, built through the API's own services."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from exchange.demo import build_demo, tour
from exchange.demo.data import CATALOGUE, DEMO_PASSWORD, FUNDED, OPERATOR_EMAIL, ORGS
from exchange.demo.scenes import EXPECTED_STATUSES, NDAS
from exchange.parties.models import Org
from exchange.server.app import create_app
from exchange.server.clock import ManualClock
from exchange.server.ledger_jobs import seal_pending, verify_ledger
from exchange.server.settings import Settings
from listings import Listing, Notice, Objection
from listings.models import ConfidentialRead, ListingNda
from tests.conftest import make_settings, running

PRESENT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.fixture
def demo_settings(backend, keys_dir) -> Settings:
    return make_settings(backend, keys_dir)


async def test_the_demo_seeds_a_realistic_exchange(demo_settings, db, backend):
    lines: list[str] = []
    demo = await build_demo(demo_settings, present=PRESENT, progress=lines.append)
    assert demo.now <= PRESENT
    assert any(line.startswith("[1/") for line in lines) and any("32 listings in all" in line for line in lines)

    async with db.read() as session:
        kinds = Counter((await session.execute(select(Org.kind))).scalars())
        listings = (await session.execute(select(Listing))).scalars().all()
        open_notices = await session.scalar(select(func.count()).select_from(Notice).where(Notice.status == "open"))
        pending = await session.scalar(select(func.count()).select_from(Objection).where(Objection.status == "pending"))
        unverified = await session.scalar(select(func.count()).select_from(Org).where(Org.verified.is_(False)))
        ndas = await session.scalar(select(func.count()).select_from(ListingNda))
        reads = await session.scalar(select(func.count()).select_from(ConfidentialRead))
    assert kinds == {"operator": 1, "university": 2, "research_institute": 1, "enterprise": 6, "service_provider": 3}
    assert unverified == 0
    assert ndas == reads == len(NDAS)
    assert len(listings) == len(CATALOGUE) >= 30
    assert {li.field for li in listings} == {
        "electronic_information", "biomedicine", "advanced_manufacturing", "new_materials",
        "new_energy", "energy_saving_environment", "agriculture", "other",
    }  # fmt: skip
    assert {li.deal_type for li in listings} == {"transfer", "license", "equity"}
    assert {li.pricing_mode for li in listings} == {"negotiated", "listed", "auction"}
    statuses = Counter(li.status for li in listings)
    assert set(statuses) == {s.value for s in EXPECTED_STATUSES}
    assert statuses["announced"] >= 10 and open_notices == statuses["announced"]
    assert pending >= 3  # objections open on the board, and one suspending its listing
    assert all(re.search(r"[\u4e00-\u9fff]", li.title) for li in listings)

    # The exchange as a newcomer meets it: a server on that database at the present moment.
    server_settings = make_settings(backend, demo_settings.keys_dir, login_attempts_per_minute=100)
    app = create_app(server_settings, clock=ManualClock(PRESENT), run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        board = (await client.get("/api/v1/notices", params={"limit": 100})).json()["items"]
        assert len(board) == statuses["announced"]
        assert sum(n["pending_objection_count"] for n in board) >= 2
        found = (await client.get("/api/v1/listings", params={"q": "电池"})).json()["items"]
        assert found and all("电池" in item["title"] or "电池" in str(item) for item in found)
        unsold = (await client.get("/api/v1/listings", params={"status": "unsold"})).json()["items"]
        assert len(unsold) == statuses["unsold"]

        # Every demo login works; the enterprises' wallets hold what they transferred in.
        for email in [OPERATOR_EMAIL, *(o.email for o in ORGS)]:
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
            assert login.status_code == 200, (email, login.text)
            if email in {o.email for o in ORGS if o.key in FUNDED}:
                key = next(o.key for o in ORGS if o.email == email)
                token = login.json()["access_token"]
                wallet = (await client.get("/api/v1/wallet", headers={"authorization": f"Bearer {token}"})).json()
                assert wallet["balances"][0]["available"] == FUNDED[key]

        # The tour's addresses answer.
        for url in re.findall(r"http://\S+", tour(demo_settings)):
            path = url.split(":8000", 1)[1].rstrip("'")
            if "/auth/" in path or "/objections" in path or "/ledger/" in path:
                continue  # need a token or a body; covered above
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text[:200])

    # The demo's money verifies.
    await seal_pending(app.state.db, app.state.keyring, demo_settings, ManualClock(PRESENT))
    report = await verify_ledger(app.state.db, app.state.keyring)
    assert report.ok, report.summary()


async def test_the_demo_refuses_a_database_that_is_not_fresh(demo_settings):
    from exchange.demo import DemoError

    await build_demo(demo_settings, present=PRESENT)
    with pytest.raises(DemoError, match="already has users"):
        await build_demo(demo_settings, present=PRESENT, progress=io.StringIO().write)
