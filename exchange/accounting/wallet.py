"""The caller's wallet: its organisation's ledger accounts, one per unit.

``org:<id>:cash`` holds CNY and ``org:<id>:vouchers`` innovation vouchers (VCH). An account that
does not exist yet reads as zero.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart, exports
from exchange.accounting.schemas import StatementPage
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from kernel.exports import ExportOperation
from ledger import service as ledger
from ledger.views import Page


class UnitBalance(msgspec.Struct):
    unit: str
    posted: int  # the posted balance
    held: int  # reserved by holds (deposits, pending payments)
    available: int  # posted − held


class WalletOut(msgspec.Struct):
    org_id: str
    balances: list[UnitBalance]


async def balances_of(session: AsyncSession, org_id: uuid.UUID) -> list[UnitBalance]:
    """The organisation's balance in every wallet unit (zero where no account exists yet): what
    ``GET /wallet`` answers and the pages show before money is held or spent."""
    balances = []
    for unit in chart.WALLET_UNITS:
        account = await chart.find_account(session, chart.wallet(org_id, unit))
        if account is None:
            balances.append(UnitBalance(unit=unit, posted=0, held=0, available=0))
        else:
            balances.append(
                UnitBalance(
                    unit=unit, posted=account.balance, held=account.pending_outflow, available=account.available
                )
            )
    return balances


async def cash_of(session: AsyncSession, org_id: uuid.UUID) -> UnitBalance:
    """The organisation's balance in yuan (``CNY``): deposits and deal payments come out of it."""
    return next(b for b in await balances_of(session, org_id) if b.unit == chart.CNY)


async def statement_of(session: AsyncSession, org_id: uuid.UUID, unit: str, limit: int, cursor: str | None) -> Page:
    """A page of the organisation's statement in ``unit``, newest first (an empty page before its
    account exists)."""
    return await account_statement(session, chart.wallet(org_id, unit), limit, cursor)


async def account_statement(session: AsyncSession, spec: chart.AccountSpec, limit: int, cursor: str | None) -> Page:
    """A page of one account's statement, newest first (an empty page before the account exists):
    a wallet's, or an inventor's account (``inventor:<id>:cash``)."""
    account = await chart.find_account(session, spec)
    if account is None:
        return Page(items=[], next_cursor=None)
    return await ledger.statement(session, account.id, limit=limit, cursor=cursor)


class WalletController(Controller):
    path = "/wallet"
    tags = ["wallet"]

    @get("/", security=BEARER, summary="Balances of the caller's organisation per unit")
    async def balances(self, trader: Caller, db: Db) -> WalletOut:
        async with db.read() as session:
            balances = await balances_of(session, trader.org_id)
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
            if format != "json":
                export, next_cursor = await exports.wallet_statement(
                    session, trader.org_id, trader.org_name, unit, cursor, clock.now()
                )
                return export.response(format, headers={"X-Next-Cursor": next_cursor} if next_cursor else None)
            page = await statement_of(session, trader.org_id, unit, limit, cursor)
        return Response(StatementPage(page.items, page.next_cursor))
