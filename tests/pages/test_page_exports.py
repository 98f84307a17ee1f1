"""Downloads from the pages: the API's exports take a bearer token, so the pages link to routes of
their own that read the session and call the same export. Each gives the same file as the API for
the same reader — the BOM, the rows, the download's name — and refuses others as the API does."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_exports import BOM, csv_rows, downloaded_as, xlsx_rows
from tests.api.test_reconciliation_bank import CLEAN
from tests.helpers import operator, verified
from tests.page_helpers import browser_of
from tests.pages.test_operator_console import books, run
from tests.trading_helpers import fund
from tests.voucher_helpers import cast, create_program, grant
from tests.voucher_helpers import fund as fund_program

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

API = "/api/v1"


def same_file(page: httpx.Response, api: httpx.Response) -> None:
    """The page's download is the API's: the same bytes (CSV) or rows (xlsx, whose zip carries the
    moment it was written), the same type and the same download name."""
    assert page.status_code == api.status_code == 200, page.text
    assert page.headers["content-type"] == api.headers["content-type"]
    assert page.headers["content-disposition"] == api.headers["content-disposition"]
    if page.headers["content-type"].startswith("text/csv"):
        assert page.content.startswith(BOM) and page.content == api.content
    else:
        assert xlsx_rows(page)[:2] == xlsx_rows(api)[:2]


async def test_the_wallet_statement_downloads_from_the_wallet_page_as_the_api_gives_it(client, app) -> None:
    ops = await operator(client, app)
    trader = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    await fund(app, trader, 123_600_000)
    day = app.state.clock.now().strftime("%Y%m%d")

    async with browser_of(app, trader) as browser:
        page = (await browser.get("/workspace/wallet")).text
        assert 'href="/workspace/wallet/statement?unit=CNY&amp;format=csv"' in page
        assert 'href="/workspace/wallet/statement?unit=CNY&amp;format=xlsx"' in page
        assert "/api/v1/" not in page.split('id="statement-downloads"')[1].split("</p>")[0]
        for fmt in ("csv", "xlsx"):
            mine = await browser.get("/workspace/wallet/statement", params={"unit": "CNY", "format": fmt})
            api = await client.get(f"{API}/wallet/entries", params={"format": fmt}, headers=trader.headers)
            same_file(mine, api)
            downloaded_as(mine, f"wallet-statement-CNY-{day}.{fmt}", f"钱包流水-上海固能新材料有限公司-CNY-{day}.{fmt}")
        rows = csv_rows(await browser.get("/workspace/wallet/statement", params={"format": "csv"}))
        assert [(r["业务类型"], r["金额（元）"], r["金额（分）"]) for r in rows] == [
            ("充值", "1,236,000.00", "123600000")
        ]
        vouchers = await browser.get("/workspace/wallet/statement", params={"unit": "VCH", "format": "csv"})
        assert csv_rows(vouchers) == []  # no voucher account yet: the header alone
        wrong = await browser.get("/workspace/wallet/statement", params={"format": "pdf"})
        assert wrong.status_code == 400

    async with browser_of(app) as public:
        assert (await public.get("/workspace/wallet/statement", params={"format": "csv"})).status_code == 401
    async with browser_of(app, ops) as console:  # the exchange trades nothing: the API's refusal
        refused = await console.get("/workspace/wallet/statement", params={"format": "csv"})
        api = await client.get(f"{API}/wallet/entries", params={"format": "csv"}, headers=ops.headers)
        assert refused.status_code == api.status_code


async def test_the_program_report_downloads_from_the_program_page_as_the_api_gives_it(client, app) -> None:
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await fund_program(client, c.ops, program["id"], 50_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 12_345_678)
    other_gov = await verified(client, c.ops, "government", "浙江省科学技术厅")
    path = f"/workspace/programs/{program['id']}/report"
    api_path = f"{API}/voucher-programs/{program['id']}/report"
    day = app.state.clock.now().strftime("%Y%m%d")

    async with browser_of(app, c.gov) as admin:
        page = (await admin.get(f"/workspace/programs/{program['id']}")).text
        assert f'href="{path}?format=csv"' in page and f'href="{path}?format=xlsx"' in page
        assert api_path not in page  # the bearer token's route, which a page cannot open
        for fmt in ("csv", "xlsx"):
            mine = await admin.get(path, params={"format": fmt})
            same_file(mine, await client.get(api_path, params={"format": fmt}, headers=c.gov.headers))
            downloaded_as(
                mine, f"voucher-report-{program['id']}-{day}.{fmt}", f"创新券报表-{program['name']}-{day}.{fmt}"
            )
        rows = csv_rows(await admin.get(path, params={"format": "csv"}))
        granted = next(r for r in rows if r["类别"] == "企业" and r["指标"] == "已发放")
        assert granted["名称"] == "上海固能新材料有限公司" and granted["金额（分）"] == "12345678"
        unknown = await admin.get("/workspace/programs/00000000-0000-7000-8000-000000000000/report?format=csv")
        assert unknown.status_code == 404

    for outsider in (c.ent, other_gov):
        async with browser_of(app, outsider) as browser:
            refused = await browser.get(path, params={"format": "csv"})
            api = await client.get(api_path, params={"format": "csv"}, headers=outsider.headers)
            assert refused.status_code == api.status_code == 403
            assert "您没有权限进行此操作" in refused.text
    async with browser_of(app) as public:
        assert (await public.get(path, params={"format": "csv"})).status_code == 401
    async with browser_of(app, c.ops) as console:  # operators read every program's report
        same_file(
            await console.get(path, params={"format": "csv"}),
            await client.get(api_path, params={"format": "csv"}, headers=c.ops.headers),
        )


async def test_the_reconciliation_report_downloads_from_the_console_as_the_api_gives_it(client, app) -> None:
    maker, _, buyer = await books(client, app)
    async with browser_of(app, maker) as console:
        report_path = await run(console, CLEAN)
        run_id = report_path.rsplit("/", 1)[1]
        path = f"/console/reconciliations/{run_id}/report"
        page = (await console.get(report_path)).text
        assert f'href="{path}?format=csv"' in page and f'href="{path}?format=xlsx"' in page
        for fmt in ("csv", "xlsx"):
            mine = await console.get(path, params={"format": fmt})
            api = await client.get(f"{API}/reconciliations/{run_id}", params={"format": fmt}, headers=maker.headers)
            same_file(mine, api)
            assert mine.headers["content-disposition"].startswith("attachment;")
            assert f"-{run_id}.{fmt}" in mine.headers["content-disposition"]
        rows = csv_rows(await console.get(path, params={"format": "csv"}))
        assert {r["类别"] for r in rows} >= {"合计"}
        unknown = await console.get("/console/reconciliations/00000000-0000-7000-8000-000000000000/report?format=csv")
        assert unknown.status_code == 404

    async with browser_of(app, buyer) as member:
        refused = await member.get(path, params={"format": "csv"})
        assert refused.status_code == 403 and "您没有权限进行此操作" in refused.text
    async with browser_of(app) as public:
        assert (await public.get(path, params={"format": "csv"})).status_code == 401
