"""The caller's wallet: its organisation's ledger accounts, one per unit.

``org:<id>:cash`` holds CNY and ``org:<id>:vouchers`` innovation vouchers (VCH). An account that
does not exist yet reads as zero.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from exchange.accounting import chart, exports
from exchange.accounting.schemas import StatementPage
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from kernel.exports import ExportOperation
from ledger import service as ledger


class UnitBalance(msgspec.Struct):
    unit: str
    posted: int  # the posted balance
    held: int  # reserved by holds (deposits, pending payments)
    available: int  # posted − held


class WalletOut(msgspec.Struct):
    org_id: str
    balances: list[UnitBalance]


class WalletController(Controller):
    path = "/wallet"
    tags = ["wallet"]

    @get("/", security=BEARER, summary="Balances of the caller's organisation per unit")
    async def balances(self, trader: Caller, db: Db) -> WalletOut:
        balances = []
        async with db.read() as session:
            for unit in chart.WALLET_UNITS:
                account = await chart.find_account(session, chart.wallet(trader.org_id, unit))
                if account is None:
                    balances.append(UnitBalance(unit=unit, posted=0, held=0, available=0))
                else:
                    balances.append(
                        UnitBalance(
                            unit=unit, posted=account.balance, held=account.pending_outflow, available=account.available
                        )
                    )
        return WalletOut(org_id=str(trader.org_id), balances=balances)

    @get(
        "/entries",
        security=BEARER,
        summary="The statement of the caller's organisation, newest first (JSON, or a spreadsheet with ?format)",
        operation_class=ExportOperation,
    )
    async def entries(
        self,
        trader: Caller,
        db: Db,
        clock: Now,
        unit: Annotated[Literal["CNY", "VCH"], QueryParameter(description="which wallet account")] = "CNY",
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="lines of a JSON page")] = 20,
        cursor: Annotated[str | None, QueryParameter(min_length=1, max_length=500)] = None,
        format: Annotated[
            Literal["json", "csv", "xlsx"],
            QueryParameter(
                description="json (default, a page of `limit` lines), or the whole statement from `cursor` on as csv"
                f" or xlsx (at most {exports.MAX_LINES:,} lines; X-Next-Cursor continues it)"
            ),
        ] = "json",
    ) -> Response[StatementPage]:
        async with db.read() as session:
            account = await chart.find_account(session, chart.wallet(trader.org_id, unit))
            if format != "json":
                rows, next_cursor = await exports.statement_rows(session, account.id, cursor) if account else ([], None)
                export = exports.statement_export(rows, trader.org_name, unit, clock.now())
                return export.response(format, headers={"X-Next-Cursor": next_cursor} if next_cursor else None)
            if account is None:
                return Response(StatementPage(items=[], next_cursor=None))
            page = await ledger.statement(session, account.id, limit=limit, cursor=cursor)
        return Response(StatementPage(page.items, page.next_cursor))
