"""The annual report (年度报告) of an institution, on both databases: its figures checked against
what the test builds — disclosures through the API, deals through trading's real services (listed
mode, the opening offer accepted at chosen moments around New Year's Eve in Beijing time), and
income receipts and distribution plans inserted as rows (their services are not on this branch) —
with every total compared to sums the test computes itself from the deals and the tables; the
office's inputs with their refusals; the PDF, the xlsx and the CSV; the operators' summary; the
pages; and who may read what.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from exchange.institutions.models import DistributionPlan, IncomeReceipt, TransferProcess
from exchange.trading.models import Deal
from exchange.web.formats import yuan
from tests.helpers import Party, assert_problem, relogin, verified
from tests.institution_helpers import API, University, disclose, university
from tests.page_helpers import browser_of
from tests.trading_helpers import announced, fund, intent, sweep

BEIJING = ZoneInfo("Asia/Shanghai")
FUNDS = 100_000_000


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)  # type: ignore[misc]


async def accept_opening_offer(client: Any, buyer: Party, listing_id: str) -> dict[str, Any]:
    threads = (await client.get(f"{API}/listings/{listing_id}/negotiations", headers=buyer.headers)).json()["items"]
    (opening,) = threads[0]["offers"]
    accepted = await client.post(
        f"{API}/negotiations/{threads[0]['id']}/offers/{opening['id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    return accepted.json()  # type: ignore[no-any-return]


async def link(app: Any, process_id: str, listing_id: str) -> None:
    """The process's 实施 step names its listing (the implementation step is not on this branch)."""

    async def work(session: Any) -> None:
        await session.execute(
            update(TransferProcess)
            .where(TransferProcess.id == uuid.UUID(process_id))
            .values(listing_id=uuid.UUID(listing_id))
        )

    await app.state.db.transaction(work)


async def receipt(app: Any, uni_org: str, process_id: str, amount: int, at: datetime) -> uuid.UUID:
    row = IncomeReceipt(
        org_id=uuid.UUID(uni_org), process_id=uuid.UUID(process_id), deal_id=uuid.uuid4(), seq=0, amount=amount,
        reward_held=amount * 7 // 10, received_at=at,
    )  # fmt: skip

    async def work(session: Any) -> uuid.UUID:
        session.add(row)
        await session.flush()
        return row.id

    return await app.state.db.transaction(work)  # type: ignore[no-any-return]


async def plan(app: Any, office: Party, receipt_id: uuid.UUID, payouts: list[dict[str, Any]], status: str,
               paid_at: datetime | None) -> None:  # fmt: skip
    amount = sum(p["amount"] for p in payouts)
    row = DistributionPlan(
        receipt_id=receipt_id, org_id=uuid.UUID(office.org_id), status=status, amount=amount, inventor_share_bp=7000,
        payouts=payouts, created_by=uuid.UUID(office.user_id), created_at=paid_at or datetime(2026, 6, 1, tzinfo=UTC),
        paid_at=paid_at,
    )  # fmt: skip

    async def work(session: Any) -> None:
        session.add(row)

    await app.state.db.transaction(work)


def payouts(inventors: list[int], parts: dict[str, int]) -> list[dict[str, Any]]:
    names = ["张发明", "李创新"]
    return [
        *({"kind": "inventor", "name": names[i], "affiliation": "材料学院", "inventor_account_id": None, "amount": a}
          for i, a in enumerate(inventors)),
        *({"kind": "institution", "name": n, "affiliation": "", "inventor_account_id": None, "amount": a}
          for n, a in parts.items()),
    ]  # fmt: skip


class Built:
    """What ``build`` made: the university, its buyer, the processes and the deals' ids."""

    def __init__(self, uni: University, buyer: Party, processes: list[str], deals: dict[str, dict[str, Any]]) -> None:
        self.uni, self.buyer, self.processes, self.deals = uni, buyer, processes, deals


async def build(client: Any, app: Any) -> Built:
    uni = await university(client, app)
    ops, office = uni.ops, uni.office
    buyer = await verified(client, ops, name="星河储能科技")
    await fund(app, buyer, FUNDS)
    # 2026: three disclosures — 3 IP assets of the first kind, two government-funded, three forms.
    p1 = (await disclose(client, uni.inventor))["id"]
    software = [
        {"kind": "utility_model", "number": "ZL202120000002.1", "title": "电池箱"},
        {"kind": "software_copyright", "number": "2023SR000003", "title": "管理软件"},
    ]
    p2 = (await disclose(client, uni.inventor, title="一种储能电池管理软件", intended_form="license",
                         ip_assets=software, funding=[{"kind": "other", "funder": "企业横向课题"}]))["id"]  # fmt: skip
    patents = [
        {"kind": "invention_patent", "number": "ZL202110000004.X", "title": "电解质"},
        {"kind": "invention_patent", "number": "ZL202110000005.X", "title": "制备方法"},
    ]
    mixed = [
        {"kind": "other", "funder": "学校自筹"},
        {"kind": "government", "funder": "科技部", "project_number": "2022YFB01"},
    ]
    p3 = (await disclose(client, uni.office, title="固态电解质", intended_form="equity", ip_assets=patents,
                         funding=mixed))["id"]  # fmt: skip

    # Income: a receipt in June (its plan paid in July), one at 23:59 on New Year's Eve (its plan
    # not paid yet), one at 00:00 on New Year's Day 2027 (the new year's, its plan paid in 2027).
    r1 = await receipt(app, office.org_id, p1, 100_000_001, beijing(2026, 6, 1, 10))
    await plan(app, office, r1, payouts([42_000_001, 28_000_000], {"学校": 18_000_000, "材料学院": 12_000_000}),
               "paid", beijing(2026, 7, 1, 10))  # fmt: skip
    r2 = await receipt(app, office.org_id, p1, 5_000_000, beijing(2026, 12, 31, 23, 59))
    await plan(app, office, r2, payouts([3_500_000], {"学校": 1_500_000}), "noticed", None)
    r3 = await receipt(app, office.org_id, p2, 7_000_000, beijing(2027, 1, 1, 0, 0))
    await plan(app, office, r3, payouts([4_900_000], {"学校": 2_100_000}), "paid", beijing(2027, 1, 2, 10))

    # Deals: three listings announced together at the end of November 2026.
    app.state.clock.set(beijing(2026, 11, 30, 9))
    await relogin(client, ops, office, buyer, uni.inventor)
    a = await announced(client, office, ops, mode="listed", deal_type="transfer")
    cheaper = {"mode": "listed", "asking_price": 30_000_000, "appraised_value": 25_000_000}
    dearer = {"mode": "listed", "asking_price": 80_000_000, "appraised_value": 70_000_000}
    b = await announced(client, office, ops, mode="listed", deal_type="license", pricing=cheaper)
    c = await announced(client, office, ops, mode="listed", deal_type="equity", pricing=dearer)
    for listing in (a, b, c):
        await intent(client, buyer, listing["id"])
    await link(app, p1, a["id"])  # A is p1's listing; B is p2's; C is a listing of no process
    await link(app, p2, b["id"])
    closes = datetime.fromisoformat(a["announcement"]["closes_at"].replace("Z", "+00:00"))
    assert closes + timedelta(days=6) > beijing(2027, 1, 1, 0, 10)  # the opening offers are still standing then
    app.state.clock.set(closes + timedelta(minutes=1))
    await sweep(app)
    deals = {}
    for name, listing, moment in (
        ("c", c, beijing(2026, 12, 29, 10)),
        ("a", a, beijing(2026, 12, 31, 23, 30)),  # New Year's Eve in Beijing (15:30 UTC): 2026's
        ("b", b, beijing(2027, 1, 1, 0, 10)),  # already 2027 in Beijing (still 2026 in UTC)
    ):
        app.state.clock.set(moment)
        await relogin(client, ops, office, buyer, uni.inventor)
        deals[name] = await accept_opening_offer(client, buyer, listing["id"])
    # A disclosure of 2027 does not count in 2026.
    await disclose(client, uni.inventor, title="二〇二七年的成果")
    return Built(uni, buyer, [p1, p2, p3], deals)


async def get_report(client: Any, party: Party, org_id: str, year: int, **params: str) -> Any:
    return await client.get(f"{API}/institutions/{org_id}/annual-reports/{year}", params=params, headers=party.headers)


async def independent_sums(app: Any, org_id: str, year: int) -> dict[str, Any]:
    """The year's figures computed here from the tables, without the report's code."""
    org = uuid.UUID(org_id)
    async with app.state.db.read() as session:
        deals = (await session.scalars(select(Deal).where(Deal.seller_org_id == org))).all()
        listings = set(
            (await session.scalars(select(TransferProcess.listing_id).where(TransferProcess.org_id == org))).all()
        )
        receipts = (await session.scalars(select(IncomeReceipt).where(IncomeReceipt.org_id == org))).all()
        plans = (await session.scalars(select(DistributionPlan).where(DistributionPlan.org_id == org))).all()
    in_year = [d for d in deals if d.created_at.astimezone(BEIJING).year == year and d.state != "cancelled"]
    paid = [p for p in plans if p.status == "paid" and p.paid_at and p.paid_at.astimezone(BEIJING).year == year]
    return {
        "seller": (len(in_year), sum(d.price for d in in_year)),
        "process": (
            len([d for d in in_year if d.listing_id in listings]),
            sum(d.price for d in in_year if d.listing_id in listings),
        ),
        "received": sum(r.amount for r in receipts if r.received_at.astimezone(BEIJING).year == year),
        "to_inventors": sum(x["amount"] for p in paid for x in p.payouts if x["kind"] == "inventor"),
        "retained": sum(x["amount"] for p in paid for x in p.payouts if x["kind"] == "institution"),
    }


async def test_the_report_counts_the_year_in_beijing_time_and_matches_the_tables(client, app):
    built = await build(client, app)
    uni, deals = built.uni, built.deals
    response = await get_report(client, uni.office, uni.office.org_id, 2026)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["org_name"] == "华东理工示范大学" and report["year"] == 2026

    found = report["achievements"]
    assert found["disclosures"] == 3 and found["ip_assets"] == 5
    assert found["by_ip_kind"] == {"invention_patent": 3, "software_copyright": 1, "utility_model": 1}
    assert found["by_funding"] == {"government": 2, "other": 1}
    assert found["by_form"] == {"transfer": 1, "license": 1, "equity": 1, "keep": 0}

    # The deal at 23:30 on New Year's Eve counts in 2026; the one ten minutes past midnight in 2027.
    process = report["process_deals"]
    assert [d["deal_id"] for d in process["deals"]] == [deals["a"]["id"]]
    assert process["by_type"]["transfer"] == {"count": 1, "amount": 50_000_000}
    assert process["by_type"]["license"] == {"count": 0, "amount": 0}
    seller = report["seller_deals"]
    assert [d["deal_id"] for d in seller["deals"]] == [deals["c"]["id"], deals["a"]["id"]]
    assert seller["by_type"]["equity"] == {"count": 1, "amount": 80_000_000}
    assert seller["deals"][1]["title"] == "固态锂电池制备方法"

    income = report["income"]
    assert income["received"] == {"count": 2, "amount": 105_000_001}
    assert income["plans_paid"] == 1 and income["to_inventors"] == 70_000_001 and income["retained"] == 30_000_000
    assert income["retained_by_part"] == {"学校": 18_000_000, "材料学院": 12_000_000}

    sums = await independent_sums(app, uni.office.org_id, 2026)
    assert (seller["total"]["count"], seller["total"]["amount"]) == sums["seller"] == (2, 130_000_000)
    assert (process["total"]["count"], process["total"]["amount"]) == sums["process"]
    assert income["received"]["amount"] == sums["received"]
    assert (income["to_inventors"], income["retained"]) == (sums["to_inventors"], sums["retained"])

    # 2027 has the deal past midnight (p2's listing), the New Year's Day receipt and its plan.
    later = (await get_report(client, uni.office, uni.office.org_id, 2027)).json()
    assert [d["deal_id"] for d in later["process_deals"]["deals"]] == [deals["b"]["id"]]
    assert later["process_deals"]["by_type"]["license"] == {"count": 1, "amount": 30_000_000}
    assert later["income"]["received"] == {"count": 1, "amount": 7_000_000}
    assert (later["income"]["to_inventors"], later["income"]["retained"]) == (4_900_000, 2_100_000)
    assert later["achievements"]["disclosures"] == 1
    sums = await independent_sums(app, uni.office.org_id, 2027)
    assert (later["seller_deals"]["total"]["count"], later["seller_deals"]["total"]["amount"]) == sums["seller"]

    # The files say the same: the PDF in Chinese with the totals in yuan, the xlsx with typed cells.
    pdf = await get_report(client, uni.office, uni.office.org_id, 2026, format="pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    for fact in ("华东理工示范大学", "2026", yuan(130_000_000), yuan(50_000_000), yuan(105_000_001), yuan(70_000_001),
                 yuan(30_000_000), "固态锂电池制备方法"):  # fmt: skip
        assert fact in text, (fact, text)
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("CJK" in font for font in fonts), fonts

    xlsx = await get_report(client, uni.office, uni.office.org_id, 2026, format="xlsx")
    assert xlsx.status_code == 200, xlsx.text
    assert "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("板块", "项目", "数量", "金额（元）", "金额（分）")
    totals = {(r[0], r[1]): r for r in rows[1:]}
    seller_total = totals[("二、转化（作为卖方的全部成交）", "合计")]
    assert seller_total[2] == 2 and isinstance(seller_total[2], int)
    assert float(seller_total[3]) == 1_300_000.00 and seller_total[4] == 130_000_000
    received = totals[("三、收入与分配", "收到的转化收入")]
    assert (received[2], received[4]) == (2, 105_000_001) and abs(float(received[3]) - 1_050_000.01) < 1e-6
    detail = [r for r in rows if r[0] == "二、转化（作为卖方的全部成交）明细"]
    assert [r[5] for r in detail][-1] == datetime(2026, 12, 31, 23, 30)  # Beijing wall-clock time

    # The tracking of what it transferred (七、成果转化跟踪) as the JSON has it: none of its deals has
    # a report due in 2026 (they formed in December), so each figure is 0; tests/api/test_tracking.py
    # reads the section of a year with reports filed.
    t = report["tracking"]
    section = {r[1]: r[2] for r in rows[1:] if r[0] == "七、成果转化跟踪"}
    assert section == {
        "跟踪的成交": t["deals"], "本年度到期的报告": t["reports_due"], "已填报": t["reports_filed"],
        "逾期未报": t["reports_overdue"], "新增就业（人）": t["jobs"],
        "最近报告：研发中": 0, "最近报告：已投产": 0, "最近报告：已终止": 0, "最近报告：尚未报告": 0,
        "收入无": 0, "收入100万元以下": 0, "收入100万–1000万元": 0, "收入1000万–1亿元": 0, "收入1亿元以上": 0,
    } and t["deals"] == 0  # fmt: skip

    csv = await get_report(client, uni.office, uni.office.org_id, 2026, format="csv")
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert '三、收入与分配,收到的转化收入,2,"1,050,000.01",105000001' in csv.content.decode("utf-8")
    assert "七、成果转化跟踪,逾期未报,0," in csv.content.decode("utf-8")


async def test_the_office_types_its_inputs_and_bad_ones_are_refused_naming_the_field(client, app):
    uni = await university(client, app)
    path = f"{API}/institutions/{uni.office.org_id}/annual-reports/2026/inputs"
    body = {
        "contracts": {
            "development": {"count": 12, "amount": 3_600_000_00},
            "service": {"count": 3, "amount": 45_000_00},
        },
        "joint_bodies": [{"name": "储能材料联合实验室", "partner": "宁德新能", "founded_on": "2025-09-01"}],
        "problems": "专业化转化人才不足。",
        "plans": "建设概念验证中心。",
    }
    saved = await client.put(path, json=body, headers=uni.office.headers)
    assert saved.status_code == 200, saved.text
    inputs = saved.json()["inputs"]
    assert inputs["contracts"]["development"] == {"count": 12, "amount": 360_000_000}
    assert inputs["contracts"]["consulting"] == {"count": 0, "amount": 0}
    assert inputs["contracts_total"] == {"count": 15, "amount": 364_500_000}
    assert inputs["joint_bodies"][0]["name"] == "储能材料联合实验室" and inputs["problems"] == "专业化转化人才不足。"
    # Saved whole: a second save replaces the first.
    again = await client.put(path, json={**body, "joint_bodies": []}, headers=uni.office.headers)
    assert again.json()["inputs"]["joint_bodies"] == []
    # A member granted the office role types them too; an inventor does not.
    refused = await client.put(path, json=body, headers=uni.inventor.headers)
    assert_problem(refused, 403, "forbidden")

    def bad(**changes: Any) -> dict[str, Any]:
        return {**body, **changes}

    cases = [
        (bad(contracts={"development": {"count": -1, "amount": 0}}), "contracts.development.count"),
        (bad(contracts={"service": {"count": 1, "amount": -5}}), "contracts.service.amount"),
        (bad(contracts={"service": {"count": 1, "amount": 10**16}}), "contracts.service.amount"),
        (bad(contracts={"consulting": {"count": 0, "amount": 100}}), "contracts.consulting.amount"),
        (bad(joint_bodies=[{"name": "实验室", "founded_on": "2027-03-01"}]), "joint_bodies.0.founded_on"),
        (bad(joint_bodies=[{"name": "实验室"}, {"name": " 实验室 "}]), "joint_bodies.1.name"),
        (bad(joint_bodies=[{"name": "  "}]), "joint_bodies.0.name"),
        (bad(problems="问" * 5001), "problems"),
    ]
    for wrong, field in cases:
        assert_problem(
            await client.put(path, json=wrong, headers=uni.office.headers), 422, "invalid-annual-report", field
        )
    far = await client.put(f"{API}/institutions/{uni.office.org_id}/annual-reports/1999/inputs", json=body,
                           headers=uni.office.headers)  # fmt: skip
    assert_problem(far, 422, "invalid-annual-report", "year")
    # Nothing half-written: the report still shows the second save.
    shown = (await get_report(client, uni.office, uni.office.org_id, 2026)).json()["inputs"]
    assert shown["joint_bodies"] == [] and shown["contracts_total"] == {"count": 15, "amount": 364_500_000}


async def test_who_reads_the_report_and_the_summary(client, app):
    uni = await university(client, app)
    stranger = await verified(client, uni.ops, name="无关企业")
    org = uni.office.org_id
    assert (await get_report(client, uni.inventor, org, 2026)).status_code == 200  # any member
    assert (await get_report(client, uni.ops, org, 2026)).status_code == 200  # operators
    assert_problem(await get_report(client, stranger, org, 2026), 403, "forbidden")
    assert_problem(await get_report(client, stranger, org, 2026, format="pdf"), 403, "forbidden")
    assert_problem(await get_report(client, uni.ops, stranger.org_id, 2026), 404, "not-found")
    assert_problem(await get_report(client, uni.office, org, 1999), 422, "invalid-annual-report", "year")
    put = await client.put(f"{API}/institutions/{org}/annual-reports/2026/inputs", json={}, headers=stranger.headers)
    assert_problem(put, 403, "forbidden")
    summary = f"{API}/institutions/annual-reports/2026"
    assert_problem(await client.get(summary, headers=uni.office.headers), 403, "forbidden")
    assert (await client.get(summary, headers=uni.ops.headers)).status_code == 200


async def test_the_operators_summary_adds_up_every_institution(client, app):
    built = await build(client, app)
    uni = built.uni
    institute = await verified(client, uni.ops, "research_institute", name="示范材料研究所")
    p = (await disclose(client, institute, title="一种新型催化剂"))["id"]
    await receipt(app, institute.org_id, p, 2_500_000, beijing(2026, 3, 1, 9))
    await client.put(
        f"{API}/institutions/{institute.org_id}/annual-reports/2026/inputs",
        json={"contracts": {"consulting": {"count": 2, "amount": 1_000_000}}}, headers=institute.headers,
    )  # fmt: skip
    await relogin(client, uni.ops)
    response = await client.get(f"{API}/institutions/annual-reports/2026", headers=uni.ops.headers)
    assert response.status_code == 200, response.text
    summary = response.json()
    rows = {r["name"]: r for r in summary["items"]}
    assert set(rows) == {"华东理工示范大学", "示范材料研究所"}
    assert rows["华东理工示范大学"]["seller_deals"] == {"count": 2, "amount": 130_000_000}
    assert rows["华东理工示范大学"]["received"] == 105_000_001
    assert rows["示范材料研究所"]["contracts"] == {"count": 2, "amount": 1_000_000}
    assert rows["示范材料研究所"]["disclosures"] == 0  # disclosed in 2027 (the clock is past New Year)
    totals = summary["totals"]
    assert totals["org_id"] is None
    for key in ("disclosures", "ip_assets", "received", "to_inventors", "retained", "joint_bodies"):
        assert totals[key] == sum(r[key] for r in summary["items"]), key
    assert totals["received"] == 105_000_001 + 2_500_000
    xlsx = await client.get(f"{API}/institutions/annual-reports/2026?format=xlsx", headers=uni.ops.headers)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    last = list(sheet.iter_rows(values_only=True))[-1]
    assert last[0] == "合计" and last[11] == 107_500_001 and isinstance(last[1], int)

    # The pages: the institution's, with its downloads, and the operators' summary.
    async with browser_of(app, uni.office) as office:
        page = await office.get("/workspace/transfers/annual-report?year=2026")
        assert page.status_code == 200, page.text
        assert "华东理工示范大学 2026 年度科技成果转化报告" in page.text
        assert yuan(130_000_000) in page.text and "2026年12月31日 23:30" in page.text
        assert "/workspace/transfers/annual-report/download?year=2026&amp;format=xlsx" in page.text
        download = await office.get("/workspace/transfers/annual-report/download?year=2026&format=xlsx")
        assert download.status_code == 200 and download.content[:2] == b"PK"
    async with browser_of(app, uni.ops) as ops:
        page = await ops.get("/console/institutions/annual-reports?year=2026")
        assert page.status_code == 200, page.text
        assert "示范材料研究所" in page.text and yuan(107_500_001) in page.text
        one = await ops.get(f"/console/institutions/{uni.office.org_id}/annual-report?year=2026")
        assert one.status_code == 200 and yuan(105_000_001) in one.text
    async with browser_of(app, institute) as other:
        assert (await other.get("/console/institutions/annual-reports?year=2026")).status_code in (403, 404)
