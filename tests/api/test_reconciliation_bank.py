"""Reconciling a bank statement with the ledger: each kind of difference, resolution, a clean re-run."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.api.test_payments_bank import top_up
from tests.helpers import assert_problem, operator, verified

API = "/api/v1"
DAY = "2026-03-02"  # the test clock's day in China


@pytest.fixture
async def books(client, app):
    """Two operators, a buyer, three recorded transfers and one paid withdrawal on DAY."""
    maker = await operator(client, app)
    checker = await operator(client, app)
    buyer = await verified(client, maker)
    await top_up(client, maker, buyer, 10_000, "A1")
    await top_up(client, maker, buyer, 5_000, "A2")
    await top_up(client, maker, buyer, 700, "A3")
    requested = await client.post(
        f"{API}/withdrawals", json={"amount": 3_000, "payee": "acct"}, headers={**buyer.headers, "Idempotency-Key": "w"}
    )
    paid = await client.post(
        f"{API}/withdrawals/{requested.json()['id']}/complete", json={"bank_reference": "W1"}, headers=maker.headers
    )
    assert paid.status_code == 200, paid.text
    return maker, checker, buyer


CLEAN = f"date,amount,reference\n{DAY},100.00,A1\n{DAY},50.00,A2\n{DAY},7.00,A3\n{DAY},-30.00,W1\n"
# A2 is off by one fen, B9 came in unrecorded, A3 is not on the statement, line 6 is unreadable,
# and a row of another day is outside the period.
DIFFERENT = (
    f"Date,Amount,Reference\n{DAY},100.00,A1\n{DAY},50.01,A2\n{DAY},-30.00,W1\n{DAY},20.00,B9\n"
    "yesterday,1.00,C1\n2026-03-03,9.00,D1\n"
)


async def reconcile(client, ops, statement: str, **extra) -> dict:
    response = await client.post(
        f"{API}/reconciliations",
        json={"provider": "bank_transfer", "period_from": DAY, "period_to": DAY, "statement": statement},
        headers={**ops.headers, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def summary(report: dict) -> dict:
    return {k: (v["count"], v["ledger_amount"], v["provider_amount"]) for k, v in report["totals"].items()}


async def test_a_statement_that_agrees_reconciles_clean(client, books):
    maker, _, _ = books
    report = await reconcile(client, maker, CLEAN)
    assert report["status"] == "completed" and report["clean"] is True
    assert summary(report)["matched"] == (4, 12_700, 12_700)
    assert report["differences"] == [] and report["row_errors"] == []


async def test_each_kind_of_difference_is_reported_exactly_then_resolved(client, books):
    maker, checker, buyer = books
    report = await reconcile(client, maker, DIFFERENT)
    assert report["clean"] is False
    differences = {
        (d["outcome"], d["reference"], d["ledger_amount"], d["provider_amount"]) for d in report["differences"]
    }
    assert differences == {
        ("amount_mismatch", "A2", 5_000, 5_001),
        ("missing_in_ledger", "B9", None, 2_000),
        ("missing_at_provider", "A3", 700, None),
    }
    assert summary(report) == {
        "matched": (2, 7_000, 7_000),
        "amount_mismatch": (1, 5_000, 5_001),
        "missing_in_ledger": (1, 0, 2_000),
        "missing_at_provider": (1, 700, 0),
    }
    assert report["row_errors"] == [{"line": 6, "message": "date 'yesterday' is not YYYY-MM-DD"}]
    buyer_name = (await client.get(f"{API}/orgs/{buyer.org_id}", headers=buyer.headers)).json()["name"]
    a3 = next(d for d in report["differences"] if d["reference"] == "A3")
    assert a3["entry_id"]

    # Running it again changes nothing and reports the same.
    again = await reconcile(client, maker, DIFFERENT)
    assert again["id"] != report["id"]
    assert summary(again) == summary(report) and again["differences"] == report["differences"]

    as_csv = await client.get(f"{API}/reconciliations/{report['id']}?format=csv", headers=maker.headers)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert {(r["结果代码"], r["参考号"]) for r in rows if r["类别"] == "差异"} == {
        ("amount_mismatch", "A2"),
        ("missing_in_ledger", "B9"),
        ("missing_at_provider", "A3"),
    }
    assert next(r for r in rows if r["类别"] == "合计" and r["结果代码"] == "matched")["笔数"] == "2"
    a2 = next(r for r in rows if r["参考号"] == "A2")
    assert a2["结果"] == "金额不符" and a2["差额（元）"] == "0.01" and a2["差额（分）"] == "1"
    assert a2["相关机构"] == buyer_name  # the report names the organisation, not only the entry
    assert (
        "attachment;" in as_csv.headers["content-disposition"]
        and "filename*=UTF-8''" in as_csv.headers["content-disposition"]
    )
    as_xlsx = await client.get(f"{API}/reconciliations/{report['id']}?format=xlsx", headers=maker.headers)
    header, *cells = list(openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active.iter_rows(values_only=True))
    assert list(header) == list(rows[0].keys()) and len(cells) == len(rows)
    a2_cells = dict(zip(header, next(c for c in cells if c[header.index("参考号")] == "A2"), strict=True))
    assert a2_cells["渠道金额（分）"] == 5_001 and a2_cells["账簿金额（分）"] == 5_000

    cash = f"org:{buyer.org_id}:cash"
    resolutions = []
    for reference in ("A2", "B9", "A3"):
        proposed = await client.post(
            f"{API}/reconciliations/{report['id']}/resolutions",
            json={"reference": reference, "counter_account": cash, "reason": f"对账差异 {reference}"},
            headers=maker.headers,
        )
        assert proposed.status_code == 201, proposed.text
        resolutions.append(proposed.json())
    assert [r["amount"] for r in resolutions] == [1, 2_000, -700]
    twice = await client.post(
        f"{API}/reconciliations/{again['id']}/resolutions",
        json={"reference": "A2", "counter_account": cash, "reason": "again"},
        headers=checker.headers,
    )
    assert_problem(twice, 409, "already-resolving")

    own = await client.post(
        f"{API}/reconciliations/{report['id']}/resolutions/{resolutions[0]['id']}/approve", headers=maker.headers
    )
    assert_problem(own, 403, "maker-cannot-approve")
    still = await reconcile(client, maker, DIFFERENT)
    assert summary(still) == summary(report)  # proposed is not posted

    for resolution in resolutions:
        approved = await client.post(
            f"{API}/reconciliations/{report['id']}/resolutions/{resolution['id']}/approve", headers=checker.headers
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved" and approved.json()["entry_id"]

    clean = await reconcile(client, maker, DIFFERENT)
    assert clean["clean"] is True, clean["differences"]
    # A3 and its reversing adjustment cancel out; B9 and the fen on A2 are now in the ledger.
    assert summary(clean)["matched"] == (4, 14_001, 14_001)
    wallet = (await client.get(f"{API}/wallet", headers=buyer.headers)).json()
    cny = next(b for b in wallet["balances"] if b["unit"] == "CNY")
    assert cny["posted"] == 10_000 + 5_000 + 700 - 3_000 + 1 + 2_000 - 700


async def test_statements_that_cannot_be_read_and_bad_periods(client, books):
    maker, _, buyer = books
    body = {"provider": "bank_transfer", "period_from": DAY, "period_to": DAY}
    wrong = await client.post(
        f"{API}/reconciliations", json={**body, "statement": "when,how much\n2026-03-02,1\n"}, headers=maker.headers
    )
    assert_problem(wrong, 422, "invalid-statement", field="statement")
    missing = await client.post(f"{API}/reconciliations", json=body, headers=maker.headers)
    assert_problem(missing, 422, "invalid-statement", field="statement")
    backwards = await client.post(
        f"{API}/reconciliations",
        json={**body, "period_from": "2026-03-05", "statement": CLEAN},
        headers=maker.headers,
    )
    assert_problem(backwards, 422, "invalid-period", field="period_to")
    by_user = await client.post(f"{API}/reconciliations", json={**body, "statement": CLEAN}, headers=buyer.headers)
    assert_problem(by_user, 403, "forbidden")
    listed = await client.get(f"{API}/reconciliations", headers=maker.headers)
    assert listed.json()["items"] == []


async def test_the_same_key_replays_the_run(client, books):
    maker, _, _ = books
    first = await reconcile(client, maker, CLEAN, **{"Idempotency-Key": "rec-1"})
    second = await client.post(
        f"{API}/reconciliations",
        json={"provider": "bank_transfer", "period_from": DAY, "period_to": DAY, "statement": CLEAN},
        headers={**maker.headers, "Idempotency-Key": "rec-1"},
    )
    assert second.status_code == 201 and second.headers.get("Idempotent-Replayed") == "true"
    assert second.json()["id"] == first["id"]


async def test_the_report_as_csv_neutralises_statement_text_that_would_run_as_a_formula(client, books):
    maker, _, _ = books
    # References are read trimmed, so a tab or CR cannot start one (the writer's own test covers those).
    hostile = ['=HYPERLINK("http://evil.example","A1")', "+B1", "-C1", "@D1"]
    rows = "".join(f'{DAY},1.00,"{reference}"\n' for reference in [r.replace('"', '""') for r in hostile])
    report = await reconcile(client, maker, CLEAN + rows + "not-a-date,1.00,=1+1\n")
    assert {d["reference"] for d in report["differences"]} == set(hostile)
    as_csv = await client.get(f"{API}/reconciliations/{report['id']}?format=csv", headers=maker.headers)
    table = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"), newline="")))
    references = {r["参考号"] for r in table if r["类别"] == "差异"}
    assert references == {"'" + r for r in hostile}
    # Amounts stay numbers, negative ones included; a row error quoting the statement stays text.
    withdrawal = next(r for r in table if r["类别"] == "合计" and r["结果代码"] == "matched")
    assert withdrawal["账簿金额（分）"] == "12700" and withdrawal["笔数"] == "4"
    assert withdrawal["账簿金额（元）"] == "127.00" and withdrawal["结果"] == "一致"
    assert all(int(r["渠道金额（分）"]) == 100 for r in table if r["类别"] == "差异")
    assert [r["说明"] for r in table if r["类别"] == "对账单行错误"] == ["date 'not-a-date' is not YYYY-MM-DD"]
