"""`techx demo`: a populated exchange whose tour works, built through the API's own services."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from exchange.accounting.jobs import seal_pending, verify_ledger
from exchange.credit import grade_counts
from exchange.parties.models import Org
from exchange.payments.models import BankTransfer, Withdrawal
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.migrate import upgrade_database
from exchange.platform.outbox import OutboxEvent
from exchange.platform.settings import Settings
from exchange.server.app import create_app
from exchange.server.demo import SCENES, build_demo, tour
from exchange.server.demo.credit import EXTRA_ORDERS
from exchange.server.demo.data import CATALOGUE, DEMO_PASSWORD, FUNDED, GRANTS, OPERATOR_EMAIL, ORGS, SERVICES
from exchange.server.demo.institution import MEMBERS, UNIVERSITY
from exchange.server.demo.market import AUCTION_SETTLED, LIVE_AUCTION, NEGOTIATING, RELIST_BIDDERS
from exchange.server.demo.programs import ORDERS
from exchange.server.demo.scenes import EXPECTED_STATUSES, NDAS
from exchange.server.demo.tracking import PAST_DEALS, funding
from exchange.stats.white_paper import white_paper
from exchange.tracking.models import TrackingReport
from exchange.tracking.service import state_of
from exchange.trading.models import Auction, Deal, DealInstalment, Negotiation, Offer
from exchange.vouchers.models import FeePayment, Redemption, ServiceOrder
from exchange.web.formats import yuan
from ledger.history import trial_balance
from listings import Listing, Notice, Objection
from listings.models import ConfidentialRead, ListingNda
from listings.workdays import BEIJING
from tests.conftest import make_settings, running
from tests.page_helpers import post_form

PRESENT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.fixture
def demo_settings(backend, keys_dir) -> Settings:
    return make_settings(backend, keys_dir)


async def test_the_demo_seeds_a_realistic_exchange(demo_settings, db, backend):
    lines: list[str] = []
    demo = await build_demo(demo_settings, present=PRESENT, progress=lines.append)
    assert demo.now <= PRESENT
    assert any(line.startswith("[1/") for line in lines)
    assert any(f"{len(CATALOGUE)} listings in all" in line for line in lines)
    # The demo runs into 2027 (no official data): it loads its fixture through the import and says so.
    assert any("2027" in line and "DEMO FIXTURE, NOT the official schedule" in line for line in lines)

    async with db.read() as session:
        kinds = Counter((await session.execute(select(Org.kind))).scalars())
        listings = (await session.execute(select(Listing))).scalars().all()
        open_notices = Counter((await session.execute(select(Notice.kind).where(Notice.status == "open"))).scalars())
        pending = await session.scalar(select(func.count()).select_from(Objection).where(Objection.status == "pending"))
        unverified = await session.scalar(select(func.count()).select_from(Org).where(Org.verified.is_(False)))
        ndas = await session.scalar(select(func.count()).select_from(ListingNda))
        reads = await session.scalar(select(func.count()).select_from(ConfidentialRead))
        deals = (await session.execute(select(Deal))).scalars().all()
        auctions = (await session.execute(select(Auction))).scalars().all()
        threads = (await session.execute(select(Negotiation))).scalars().all()
        standing = (await session.execute(select(Offer).where(Offer.status == "open"))).scalars().all()
        orders = Counter((await session.execute(select(ServiceOrder.state))).scalars())
        claims = Counter((await session.execute(select(Redemption.state))).scalars())
        fee_vouchers = await session.scalar(select(func.count()).select_from(FeePayment))
        transfers = await session.scalar(select(func.count()).select_from(BankTransfer))
        withdrawals = Counter((await session.execute(select(Withdrawal.status))).scalars())
        balance = await trial_balance(session)
    assert kinds == {
        "operator": 1, "university": 2, "research_institute": 1,
        "enterprise": 6, "service_provider": 3, "government": 1,
    }  # fmt: skip
    assert unverified == 0
    assert ndas == reads == len(NDAS)
    # and the university's listing draft from 实施, and the listings of the deals settled long ago
    assert len(listings) == len(CATALOGUE) + 1 + len(PAST_DEALS) >= 30
    assert {li.field for li in listings} == {
        "electronic_information", "biomedicine", "advanced_manufacturing", "new_materials",
        "new_energy", "energy_saving_environment", "agriculture", "other",
    }  # fmt: skip
    assert {li.deal_type for li in listings} == {"transfer", "license", "equity"}
    assert {li.pricing_mode for li in listings} == {"negotiated", "listed", "auction"}
    statuses = Counter(li.status for li in listings)
    assert set(statuses) == {s.value for s in EXPECTED_STATUSES}
    assert statuses["announced"] >= 10 and open_notices["listing_announcement"] == statuses["announced"]
    assert statuses["sold"] == 2 + len(PAST_DEALS) and statuses["auctioning"] == 1 and statuses["negotiating"] == 1
    assert pending >= 3  # objections open on the board, and one suspending its listing
    assert all(re.search(r"[\u4e00-\u9fff]", li.title) for li in listings)

    # Trading: every state of a deal, auctions closed and one live, negotiations with standing offers.
    by_state = Counter(d.state for d in deals)
    assert by_state == {
        "settled": 2 + len(PAST_DEALS), "paying_instalments": 1, "awaiting_signatures": 1, "result_notice": 1,
        "defaulted": 1, "cancelled": 1,
    }  # fmt: skip
    assert all(d.certificate for d in deals if d.state in ("settled", "paying_instalments", "defaulted"))
    paying = next(d for d in deals if d.state == "paying_instalments")
    async with db.read() as session:
        schedule = (
            await session.execute(
                select(DealInstalment).where(DealInstalment.deal_id == paying.id).order_by(DealInstalment.seq)
            )
        ).scalars()
        assert [(p.due_months, p.status) for p in schedule] == [(0, "settled"), (6, "pending"), (12, "pending")]
    assert {d.concluded_by for d in deals} == {"auction", "negotiation"}
    assert open_notices["negotiated_price"] == 1  # the deal agreed a few hours ago
    closed = [a for a in auctions if a.status == "closed"]
    live = [a for a in auctions if a.status == "open"]
    assert len(closed) == 2 and all(a.deal_id and a.bid_count >= 4 for a in closed)
    assert len(live) == 1 and live[0].listing_id == demo.listings[LIVE_AUCTION] and live[0].bid_count == 3
    assert live[0].ends_at > PRESENT and demo.auction_id == live[0].id
    negotiating = [t for t in threads if t.listing_id == demo.listings[NEGOTIATING]]
    assert len(negotiating) == 2 and {o.negotiation_id for o in standing} >= {t.id for t in negotiating}

    # Vouchers: granted, partly spent on the three providers' services, one claim paid, one under notice.
    # The credit scene's three cash orders of the patent agency, accepted.
    assert orders == Counter(fate for *_, fate in ORDERS.values()) + Counter({"accepted": len(EXTRA_ORDERS)})
    assert claims == {"approved": 1, "noticed": 1} and open_notices["voucher_redemption"] == 1
    assert fee_vouchers >= 1  # buyers' exchange fees paid partly with brokerage vouchers
    assert len({s.provider for s in SERVICES}) == 3
    # Credit: every accepted order rated, the providers graded, the patent agency a demonstration institution.
    async with db.read() as session:
        grades = await grade_counts(session)
    assert sum(grades[g] for g in "ABCD") == 3 and grades["A"] >= 1 and grades["demonstration"] == 1

    # Payments: bank transfers recorded, a withdrawal paid and one waiting.
    assert transfers == len(FUNDED) + len(PAST_DEALS)  # and the past deals' buyers' transfers
    assert withdrawals == {"completed": 1, "requested": 1}

    # The ledger balances to zero in every unit, with nothing left over.
    assert balance.balanced and {u.unit for u in balance.units} == {"CNY", "VCH"}
    for unit in balance.units:
        assert unit.debits_posted == unit.credits_posted and unit.debits_pending == unit.credits_pending

    # The exchange as a newcomer meets it: a server on that database at the present moment.
    server_settings = make_settings(backend, demo_settings.keys_dir, login_attempts_per_minute=100)
    app = create_app(server_settings, clock=ManualClock(PRESENT), run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        board = (await client.get("/api/v1/notices", params={"limit": 100})).json()["items"]
        assert len(board) == sum(open_notices.values())
        assert sum(n["pending_objection_count"] for n in board) >= 2
        found = (await client.get("/api/v1/listings", params={"q": "电池"})).json()["items"]
        assert found and all("电池" in item["title"] or "电池" in str(item) for item in found)
        unsold = (await client.get("/api/v1/listings", params={"status": "unsold"})).json()["items"]
        assert len(unsold) == statuses["unsold"]

        # Every demo login works; the enterprises' wallets hold cash and vouchers.
        tokens: dict[str, str] = {}
        for email in [OPERATOR_EMAIL, *(o.email for o in ORGS)]:
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
            assert login.status_code == 200, (email, login.text)
            tokens[email] = login.json()["access_token"]
        for org in ORGS:
            if org.key in FUNDED:
                headers = {"authorization": f"Bearer {tokens[org.email]}"}
                wallet = (await client.get("/api/v1/wallet", headers=headers)).json()
                units = {b["unit"]: b for b in wallet["balances"]}
                past = sum(funding(p) for p in PAST_DEALS if p.buyer == org.key)
                assert 0 < units["CNY"]["available"] <= FUNDED[org.key] + past
                assert 0 <= units["VCH"]["available"] <= GRANTS[org.key]
        ops = {"authorization": f"Bearer {tokens[OPERATOR_EMAIL]}"}

        # A bidder of the live auction sees it; a settled deal's certificate verifies with GET /keys.
        bidder = next(o for o in ORGS if o.key == RELIST_BIDDERS[0])
        seen = await client.get(
            f"/api/v1/auctions/{demo.auction_id}", headers={"authorization": f"Bearer {tokens[bidder.email]}"}
        )
        assert seen.status_code == 200 and seen.json()["status"] == "open"
        keys = {k["id"]: k["key"] for k in (await client.get("/api/v1/keys")).json()["keys"]}
        settled = next(d for d in deals if d.state == "settled")
        certificate = (await client.get(f"/api/v1/deals/{settled.id}/certificate", headers=ops)).json()
        text = json.dumps(certificate["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[certificate["key_id"]])).verify(
            base64.b64decode(certificate["signature"]), text.encode()
        )

        # The program's report holds its invariants; the period's reconciliation is clean.
        report = (await client.get(f"/api/v1/voucher-programs/{demo.program_id}/report", headers=ops)).json()
        figures = report["figures"]
        assert figures["broken_invariants"] == [] and figures["issued"] == sum(GRANTS.values())
        runs = (await client.get("/api/v1/reconciliations", headers=ops)).json()["items"]
        assert len(runs) == 1 and runs[0]["clean"] is True

        # The tour's addresses answer (as the operator, who may read them all).
        for url in re.findall(r"http://\S+", tour(demo_settings, demo)):
            path = url.split(":8000", 1)[1].rstrip("'")
            if "/auth/" in path or path.endswith("/events") or path.startswith(("/workspace/", "/console/")):
                continue  # a login, covered above; a live stream, covered by the trading tests; a signed-in page
            response = await client.get(path, headers=ops)
            assert response.status_code == 200, (path, response.text[:200])

        # The university runs its transfer process in every step (as its office sees it through the API).
        await the_university_has_a_process_at_every_step(client, tokens, demo)
        # What became of the deals settled long ago, as their seller, a buyer and operators see it.
        await the_deals_settled_long_ago_are_tracked(client, tokens, db)

    # The white paper of the demo's year: its deals, graded providers, and the tracking of the old deals.
    async with db.read() as session:
        paper = await white_paper(session, PRESENT.astimezone(BEIJING).year, PRESENT)
    assert paper.section("by-deal-type").row("合计")["成交笔数"] > 0
    assert paper.section("service-institutions").row("A 级")["机构数"] >= 1
    assert paper.section("tracking").total[1] >= 1

    # The demo's money verifies.
    await seal_pending(app.state.db, app.state.keyring, demo_settings, ManualClock(PRESENT))
    report = await verify_ledger(app.state.db, app.state.keyring)
    assert report.ok, report.summary()


async def the_university_has_a_process_at_every_step(client: httpx.AsyncClient, tokens: dict[str, str], demo) -> None:
    uni = next(o for o in ORGS if o.key == UNIVERSITY)
    headers = {"authorization": f"Bearer {tokens[uni.email]}"}
    org_id = demo.org(UNIVERSITY)
    api = "/api/v1"
    page = await client.get(f"{api}/institutions/{org_id}/processes", params={"limit": 50}, headers=headers)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    open_steps = Counter(p["step"] for p in items if p["status"] == "active")
    assert open_steps == {"first_review": 1, "evaluation": 1, "expert_review": 1, "decision": 2, "notice": 1}
    assert Counter(p["status"] for p in items) == {"active": 6, "finished": 2, "stopped": 1}
    details = {
        p["id"]: (await client.get(f"{api}/transfer-processes/{p['id']}", headers=headers)).json() for p in items
    }

    # Returned once: its history has two passes, the return among its acts.
    returned = [d for d in details.values() if any(h["outcome"] == "returned" for h in d["history"])]
    assert len(returned) == 1 and returned[0]["step"] == "decision"
    assert [h["outcome"] for h in returned[0]["history"]].count("returned") == 1
    assert {h["pass_no"] for h in returned[0]["history"] if h["step"] == "evaluation"} == {1, 2}
    # Stopped by the decision body at 决策.
    stopped = next(d for d in details.values() if d["status"] == "stopped")
    assert stopped["history"][-1]["step"] == "decision" and stopped["history"][-1]["role"] == "decision_body"
    # Under 公示 with an objection pending on the board.
    noticed = next(d for d in details.values() if d["step"] == "notice")
    notice = (await client.get(f"{api}/notices/{noticed['notice_id']}")).json()
    assert notice["kind"] == "institution_transfer" and notice["pending_objection_count"] == 1
    # Implemented: one as the listing draft, one as the listing sold at auction and settled.
    finished = {d["listing_id"]: d for d in details.values() if d["status"] == "finished"}
    assert set(finished) == {str(demo.processes["draft_listing"]), str(demo.listings[AUCTION_SETTLED])}
    draft = (await client.get(f"{api}/listings/{demo.processes['draft_listing']}", headers=headers)).json()
    assert draft["status"] == "draft"

    # The sold one's income: the receipt, its plan noticed and paid to inventors whose identity was checked.
    receipts = (await client.get(f"{api}/institutions/{org_id}/income-receipts", headers=headers)).json()["items"]
    assert len(receipts) == 1 and receipts[0]["process_id"] in {str(i) for i in details}
    plan = receipts[0]["plans"][0]
    assert plan["status"] == "paid" and sum(p["amount"] for p in plan["payouts"]) == receipts[0]["amount"]
    accounts = (await client.get(f"{api}/institutions/{org_id}/inventor-accounts", headers=headers)).json()["items"]
    paid = {p["inventor_account_id"]: p["amount"] for p in plan["payouts"] if p["kind"] == "inventor"}
    assert {a["id"]: a["balance"] for a in accounts} == paid
    assert all(a["identity_checked_at"] for a in accounts) and any(a["user_id"] for a in accounts)

    # The role holders sign in; the annual report of the year carries the office's inputs.
    for member in MEMBERS:
        login = await client.post("/api/v1/auth/login", json={"email": member.email, "password": DEMO_PASSWORD})
        assert login.status_code == 200, (member.email, login.text)
    year = demo.present.astimezone(BEIJING).year
    report = (await client.get(f"{api}/institutions/{org_id}/annual-reports/{year}", headers=headers)).json()
    assert report["inputs"]["contracts"]["development"]["count"] > 0 and report["inputs"]["joint_bodies"]

    # The annual report of the year the income came in holds the figures of the deal and the ledger.
    received_year = datetime.fromisoformat(receipts[0]["received_at"]).astimezone(BEIJING).year
    paid_year = datetime.fromisoformat(plan["paid_at"]).astimezone(BEIJING).year
    url = f"{api}/institutions/{org_id}/annual-reports/{received_year}"
    figures = (await client.get(url, headers=headers)).json()
    assert figures["income"]["received"] == {"count": 1, "amount": receipts[0]["amount"]}
    deal = (await client.get(f"{api}/deals/{demo.deals[AUCTION_SETTLED]}", headers=headers)).json()
    sold = [d for d in figures["process_deals"]["deals"] if d["deal_id"] == deal["id"]]
    assert [d["price"] for d in sold] == [deal["price"]]
    if paid_year == received_year:
        assert figures["income"]["to_inventors"] == sum(a["balance"] for a in accounts)
    # Its page, as the office signed in through the site sees it: the same income, in yuan; its files.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://demo") as site:
        await site.get("/login")
        assert (await post_form(site, "/login", email=uni.email, password=DEMO_PASSWORD)).status_code == 303
        page = await site.get("/workspace/transfers/annual-report", params={"year": received_year})
    row = re.search(r"<th>收到的转化收入</th><td[^>]*>(\d+) 笔</td><td[^>]*>([^<]+)</td>", page.text)
    assert row and row.groups() == ("1", yuan(receipts[0]["amount"])), page.text[:500]
    pdf = await client.get(url, params={"format": "pdf"}, headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "东海理工大学" in text.replace(" ", "")
    xlsx = await client.get(url, params={"format": "xlsx"}, headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row > 5


async def the_deals_settled_long_ago_are_tracked(client: httpx.AsyncClient, tokens: dict[str, str], db) -> None:
    api = "/api/v1"
    email = {o.key: o.email for o in ORGS}
    (seller,) = {p.item.seller for p in PAST_DEALS}
    as_seller = {"authorization": f"Bearer {tokens[email[seller]]}"}
    sold = (await client.get(f"{api}/tracking/deals", params={"side": "seller"}, headers=as_seller)).json()["items"]
    by_title = {d["title"]: d for d in sold}
    old, recent = (by_title[p.item.title] for p in PAST_DEALS)
    assert (old["latest_status"], old["overdue"]) == ("in_development", 1)
    assert [r["state"] for r in old["reports"]] == ["filed", "overdue", "upcoming", "upcoming"]
    assert (recent["latest_status"], recent["overdue"]) == ("in_production", 0)
    assert [r["state"] for r in recent["reports"]] == ["filed", "open", "upcoming", "upcoming"]
    assert recent["next_due_on"] == recent["reports"][1]["due_on"] and recent["reports"][1]["may_file"]
    # The buyer of the recent one sees the report it may file now.
    buyer = {"authorization": f"Bearer {tokens[email[PAST_DEALS[1].buyer]]}"}
    bought = (await client.get(f"{api}/tracking/deals", params={"side": "buyer"}, headers=buyer)).json()["items"]
    (mine,) = [d for d in bought if d["title"] == PAST_DEALS[1].item.title]
    assert [r["may_file"] for r in mine["reports"]] == [True, True, False, False]  # the first still correctable
    # Operators see the overdue one; the seller was told of each report filed, and of the overdue one.
    ops = {"authorization": f"Bearer {tokens[OPERATOR_EMAIL]}"}
    (late,) = (await client.get(f"{api}/tracking/overdue", headers=ops)).json()["items"]
    assert late["title"] == PAST_DEALS[0].item.title and late["days_overdue"] > 60
    async with db.read() as session:
        told = Counter(
            (await session.execute(select(OutboxEvent.kind).where(OutboxEvent.kind.like("tracking.%")))).scalars()
        )
    assert told["tracking.report_filed"] == 2 and told["tracking.report_overdue"] == 1
    assert told["tracking.report_due"] >= 4  # each filed one's reminder, the overdue one's two, the open one's
    # The seller's annual report of the present year counts them, and its spreadsheet too.
    org_id = old["seller_org_id"]
    url = f"{api}/institutions/{org_id}/annual-reports/{PRESENT.astimezone(BEIJING).year}"
    tracking = (await client.get(url, headers=as_seller)).json()["tracking"]
    assert (tracking["deals"], tracking["reports_due"], tracking["reports_filed"], tracking["reports_overdue"]) == (
        2, 3, 2, 1,
    )  # fmt: skip
    assert tracking["by_status"]["in_development"] == tracking["by_status"]["in_production"] == 1
    xlsx = await client.get(url, params={"format": "xlsx"}, headers=as_seller)
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    section = {r[1]: r[2] for r in rows if r[0] == "七、成果转化跟踪"}
    assert (section["跟踪的成交"], section["已填报"], section["逾期未报"]) == (2, 2, 1)


# Around the calendar's long holidays (Spring Festival, National Day, New Year's working Sunday),
# at Beijing midnight and early in the UTC day: the periods the demo counts in working days vary.
PRESENTS = [
    "2026-02-26T09:00", "2026-10-09T03:00", "2026-01-05T00:10", "2026-06-22T02:00", "2026-12-31T16:05",
]  # fmt: skip


@pytest.mark.parametrize("present", PRESENTS)
async def test_the_demo_shows_every_state_whatever_the_day(present, tmp_path):
    moment = datetime.fromisoformat(present).replace(tzinfo=UTC)
    settings = Settings.from_env(
        env={}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'techx.db'}", keys_dir=tmp_path / "keys",
        log_level="WARNING",
    )  # fmt: skip
    await upgrade_database(settings)
    demo = await build_demo(settings, present=moment)
    assert demo.now <= moment and demo.auction_ends_at is not None and demo.auction_ends_at > moment
    database = Database(create_engine(settings.database_url, pool_size=1))
    try:
        async with database.read() as session:
            deals = Counter((await session.execute(select(Deal.state))).scalars())
            statuses = set((await session.execute(select(Listing.status))).scalars())
            claims = Counter((await session.execute(select(Redemption.state))).scalars())
            balance = await trial_balance(session)
            reports = (await session.execute(select(TrackingReport))).scalars().all()
    finally:
        await database.dispose()
    assert deals == {
        "settled": 2 + len(PAST_DEALS), "paying_instalments": 1, "awaiting_signatures": 1, "result_notice": 1,
        "defaulted": 1, "cancelled": 1,
    }  # fmt: skip
    # Tracking: of the deals settled long ago, two reports filed, one overdue and one open, due within
    # a month; every other report (the quarter's two settled deals' too) is still to come.
    states = Counter(state_of(r, moment).value for r in reports)
    assert states == {"filed": 2, "overdue": 1, "open": 1, "upcoming": 4 * (2 + len(PAST_DEALS)) - 4}, states
    (soon,) = [r for r in reports if state_of(r, moment).value == "open"]
    assert 0 < (soon.due_on - moment.astimezone(BEIJING).date()).days <= 30
    assert statuses == {s.value for s in EXPECTED_STATUSES}
    assert claims == {"approved": 1, "noticed": 1}
    assert balance.balanced
    assert "clean" in demo.notes


async def test_the_demo_refuses_a_database_that_is_not_fresh(demo_settings):
    from exchange.server.demo import DemoError

    await build_demo(demo_settings, present=PRESENT)
    with pytest.raises(DemoError, match="already has users"):
        await build_demo(demo_settings, present=PRESENT, progress=io.StringIO().write)


def test_techx_demo_seeds_prints_the_tour_and_its_commands_work(tmp_path):
    """The command as `make run` calls it, then the tour's commands on what it built."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techx.db'}",
        "TECHX_KEYS_DIR": str(tmp_path / "var" / "keys"),
        "TECHX_LOG_LEVEL": "WARNING",
    }

    def techx(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "exchange.server.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)

    began = time.monotonic()
    seeded = techx("demo")
    elapsed = time.monotonic() - began
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    assert elapsed < 60, f"the first `make run` would wait {elapsed:.0f} s"
    out = seeded.stdout
    assert f"[{len(SCENES)}/{len(SCENES)}]" in out and "reconciled: clean" in out and "the auction ends at" in out
    # Its timeline runs into 2027, a year without official data: it says it loaded its own fixture.
    assert "working-day calendar for 2027 from calendar-2027-demo.json — a DEMO FIXTURE, NOT the official" in out
    assert re.search(r"/api/v1/auctions/[0-9a-f-]{36}/events", out)
    assert re.search(r"/api/v1/deals/[0-9a-f-]{36}/certificate", out)
    assert re.search(r"/api/v1/deals/[0-9a-f-]{36} .* \.payment_schedule", out)
    assert re.search(r"/api/v1/voucher-programs/[0-9a-f-]{36}/report", out)
    statement = tmp_path / "var" / "demo-bank-statement.csv"
    assert statement.read_text().startswith("date,amount,reference\n")

    command = re.search(r"techx (reconcile --provider bank_transfer --from \S+ --to \S+) \\\n\s+--statement (\S+)", out)
    assert command, out[-1500:]
    reconciled = techx(*command[1].split(), "--statement", str(statement))
    assert reconciled.returncode == 0 and reconciled.stdout.strip().endswith("clean"), reconciled.stdout
    assert techx("ledger", "seal").returncode == 0
    verified = techx("ledger", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout + verified.stderr
    again = techx("demo")
    assert again.returncode == 1 and "already has users" in again.stderr
