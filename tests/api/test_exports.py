"""Exports people open in Excel: every CSV starts with the UTF-8 BOM, shows yuan, 是/否, Beijing
time and names next to the raw fen and ids, neutralises formulas, and comes as xlsx too."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from urllib.parse import quote

import openpyxl

from ledger import service as ledger
from tests.helpers import announced_listing, operator, verified

API = "/api/v1"
BOM = b"\xef\xbb\xbf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVIL = '=HYPERLINK("x")'


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def xlsx_rows(response: Any) -> tuple[list[str], list[tuple[Any, ...]], Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return list(header), rows, sheet


def downloaded_as(response: Any, ascii_name: str, name: str) -> None:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{ascii_name}"' in disposition
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition


async def test_the_wallet_statement_as_csv_and_xlsx_names_listings_and_shows_yuan(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", "上海理工大学")
    listing = await announced_listing(client, seller, ops, title=EVIL)
    trader = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    now = app.state.clock.now()

    async def move_money(session):
        cash = await ledger.get_or_create_account(
            session, f"org:{trader.org_id}:cash", "CNY", "liability", True, now=now
        )
        bank = await ledger.get_or_create_account(session, "bank:settlement", "CNY", "asset", now=now)
        deposits = await ledger.get_or_create_account(
            session, f"listing:{listing['id']}:deposits", "CNY", "liability", now=now
        )
        await ledger.transfer(
            session, bank.id, cash.id, 123_600_000, unit="CNY", kind="bank_transfer", now=now, external_ref="-BANK1"
        )
        await ledger.hold(session, cash.id, deposits.id, 120_000, unit="CNY", kind="deposit_hold", now=now)

    await app.state.db.transaction(move_money)
    url = f"{API}/wallet/entries"
    answer = await client.get(url, params={"format": "csv"}, headers=trader.headers)
    rows = csv_rows(answer)
    day = now.strftime("%Y%m%d")
    downloaded_as(answer, f"wallet-statement-CNY-{day}.csv", f"钱包流水-上海固能新材料有限公司-CNY-{day}.csv")
    assert [r["业务类型"] for r in rows] == ["交易保证金冻结", "银行转账入账"]
    hold, top_up = rows
    assert hold["金额（元）"] == "-1,200.00" and hold["金额（分）"] == "-120000" and hold["收支"] == "支出"
    assert hold["状态"] == "冻结中" and hold["相关项目"] == "'" + EVIL  # named, and neutralised
    assert hold["可用余额（元）"] == "1,234,800.00" and hold["余额（分）"] == "123600000"
    assert top_up["金额（元）"] == "1,236,000.00" and top_up["外部参考号"] == "'-BANK1"
    assert top_up["记账时间（北京时间）"] == "2026-03-02 09:00:00"  # the suite's clock: 01:00 UTC

    book = await client.get(url, params={"format": "xlsx"}, headers=trader.headers)
    downloaded_as(book, f"wallet-statement-CNY-{day}.xlsx", f"钱包流水-上海固能新材料有限公司-CNY-{day}.xlsx")
    header, xrows, sheet = xlsx_rows(book)
    assert header == list(rows[0].keys())
    assert len(xrows) == len(rows)
    cells = dict(zip(header, xrows[0], strict=True))
    assert cells["金额（元）"] == -1200 and cells["金额（分）"] == -120_000  # numbers, not text
    assert cells["相关项目"] == EVIL and sheet.cell(row=2, column=header.index("相关项目") + 1).data_type == "s"
    assert cells["记账时间（北京时间）"] == datetime(2026, 3, 2, 9, 0)
    assert sheet.cell(row=2, column=header.index("金额（元）") + 1).number_format == "#,##0.00"

    # A new wallet exports just its header; JSON pages are as before.
    other = await verified(client, ops)
    assert csv_rows(await client.get(url, params={"format": "csv", "unit": "VCH"}, headers=other.headers)) == []
    page = (await client.get(url, headers=trader.headers)).json()
    assert len(page["items"]) == 2
    bad = await client.get(url, params={"format": "pdf"}, headers=trader.headers)
    assert bad.status_code == 400 and "format" in bad.text


async def test_the_voucher_report_as_csv_and_xlsx_names_the_enterprises(client, app):
    from tests.voucher_helpers import cast, create_program, fund, grant

    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await fund(client, c.ops, program["id"], 50_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 12_345_678)
    url = f"{API}/voucher-programs/{program['id']}/report"
    answer = await client.get(url, params={"format": "csv"}, headers=c.gov.headers)
    rows = csv_rows(answer)
    day = app.state.clock.now().strftime("%Y%m%d")
    downloaded_as(answer, f"voucher-report-{program['id']}-{day}.csv", f"创新券报表-{program['name']}-{day}.csv")
    budget = next(r for r in rows if r["类别"] == "项目合计" and r["指标"] == "预算")
    assert budget["金额（元）"] == "1,000,000.00" and budget["金额（分）"] == "100000000"
    assert budget["名称"] == "上海市科学技术委员会" and budget["创新券项目"] == program["name"]
    granted = next(r for r in rows if r["类别"] == "企业" and r["指标"] == "已发放")
    assert granted["名称"] == "上海固能新材料有限公司" and granted["机构 ID"] == c.ent.org_id
    assert granted["金额（元）"] == "123,456.78" and granted["金额（分）"] == "12345678"

    header, cells, _ = xlsx_rows(await client.get(url, params={"format": "xlsx"}, headers=c.gov.headers))
    assert header == list(rows[0].keys()) and len(cells) == len(rows)
    by_figure = {(r[0], r[2]): dict(zip(header, r, strict=True)) for r in cells}
    assert by_figure[("企业", "已发放")]["金额（分）"] == 12_345_678
    assert float(by_figure[("企业", "已发放")]["金额（元）"]) == 123_456.78
    # The JSON report is as it was; a stranger still gets no report in any format.
    assert (await client.get(url, headers=c.gov.headers)).json()["figures"]["issued"] == 12_345_678
    assert (await client.get(url, params={"format": "csv"}, headers=c.ent.headers)).status_code in (403, 404)
