"""Statements and reports as spreadsheets: a wallet's statement, and the names of the
organisations and listings a ledger entry is about, which every report shows next to its ids.

An entry is about the owners of the accounts it moves money between (``org:<id>:cash``,
``listing:<id>:deposits``…, see chart.py) and about those its metadata names (``org_id``,
``listing_id``); the names are read in two queries for a whole report.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties.models import Org
from exchange.web.labels import zh
from kernel.db import among
from kernel.exports import BEIJING, Column, Export, Kind, column, money
from ledger import service as ledger
from listings.models import Listing

# An export carries at most this many lines; X-Next-Cursor continues after them.
MAX_LINES = 10_000
_PAGE = 500


@dataclass
class Parties:
    """Who an entry is about, by name."""

    orgs: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)


def _owner(code: str) -> tuple[str, uuid.UUID] | None:
    """``("org", id)`` for ``org:<id>:cash``; None for an account without an owner."""
    parts = code.split(":")
    if len(parts) < 3 or parts[0] not in ("org", "listing"):
        return None
    try:
        return parts[0], uuid.UUID(parts[1])
    except ValueError:
        return None


def _metadata_ids(metadata: dict[str, Any]) -> Iterable[tuple[str, uuid.UUID]]:
    for key, kind in (("org_id", "org"), ("listing_id", "listing")):
        try:
            yield kind, uuid.UUID(str(metadata[key]))
        except (KeyError, ValueError):
            continue


async def names_of(session: AsyncSession, orgs: set[uuid.UUID], listings: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Organisation names and listing titles by id (unknown ids are left out)."""
    conn = await session.connection()
    names: dict[uuid.UUID, str] = {}
    if orgs:
        names.update((await conn.execute(select(Org.id, Org.name).where(among(Org.id, list(orgs), conn)))).all())
    if listings:
        query = select(Listing.id, Listing.title).where(among(Listing.id, list(listings), conn))
        names.update((await conn.execute(query)).all())
    return names


async def entry_parties(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID], *, besides: uuid.UUID | None = None
) -> dict[uuid.UUID, Parties]:
    """The organisations and listings each entry is about, by name; ``besides`` is an account to
    leave out (a wallet's own, whose owner every line of its statement is about)."""
    if not entry_ids:
        return {}
    conn = await session.connection()
    views = await ledger.fetch_entries(conn, list(dict.fromkeys(entry_ids)), links=False)
    account_ids = {p.account_id for v in views.values() for p in v.postings if p.account_id != besides}
    codes = await ledger.account_codes(session, list(account_ids))
    about: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {}
    for entry_id, view in views.items():
        owners = [_owner(codes.get(p.account_id, "")) for p in view.postings if p.account_id != besides]
        found = [o for o in owners if o is not None] + list(_metadata_ids(view.metadata))
        about[entry_id] = list(dict.fromkeys(found))
    wanted = [o for found in about.values() for o in found]
    names = await names_of(session, {i for k, i in wanted if k == "org"}, {i for k, i in wanted if k == "listing"})
    parties: dict[uuid.UUID, Parties] = {}
    for entry_id, found in about.items():
        out = Parties()
        for kind, owner in found:
            if owner in names:
                target = out.orgs if kind == "org" else out.listings
                if names[owner] not in target:
                    target.append(names[owner])
        parties[entry_id] = out
    return parties


# -- a wallet's statement -------------------------------------------------------------------------


@dataclass
class StatementRow:
    line: Any  # ledger.StatementLine
    parties: Parties

    @property
    def signed(self) -> int:
        # A wallet is a liability of the exchange: a credit is money in, a debit money out.
        return self.line.amount if self.line.side == "credit" else -self.line.amount


def _joined(names: list[str]) -> str:
    return "；".join(names)


STATEMENT_COLUMNS: list[Column] = [
    column("记账时间（北京时间）", Kind.MOMENT, lambda r: r.line.created_at),
    column("业务类型", Kind.TEXT, lambda r: zh(r.line.kind, "entry_kind")),
    column("状态", Kind.TEXT, lambda r: zh(r.line.phase, "entry_phase")),
    column("收支", Kind.TEXT, lambda r: "收入" if r.signed > 0 else "支出"),
    *money("金额（元）", lambda r: r.signed),
    *money("余额（元）", lambda r: r.line.balance),
    *money("可用余额（元）", lambda r: r.line.available),
    column("相关机构", Kind.TEXT, lambda r: _joined(r.parties.orgs)),
    column("相关项目", Kind.TEXT, lambda r: _joined(r.parties.listings)),
    column("摘要", Kind.TEXT, lambda r: r.line.description),
    column("外部参考号", Kind.TEXT, lambda r: r.line.external_ref),
    column("业务代码", Kind.RAW, lambda r: r.line.kind),
    column("分录 ID", Kind.RAW, lambda r: str(r.line.entry_id)),
]


async def statement_rows(
    session: AsyncSession, account_id: uuid.UUID, cursor: str | None
) -> tuple[list[StatementRow], str | None]:
    """The account's statement from ``cursor`` on (newest first), up to ``MAX_LINES`` lines."""
    lines: list[Any] = []
    next_cursor = cursor
    while len(lines) < MAX_LINES:
        page = await ledger.statement(session, account_id, limit=min(_PAGE, MAX_LINES - len(lines)), cursor=next_cursor)
        lines.extend(page.items)
        next_cursor = page.next_cursor
        if next_cursor is None:
            break
    parties = await entry_parties(session, [line.entry_id for line in lines], besides=account_id)
    return [StatementRow(line, parties.get(line.entry_id, Parties())) for line in lines], next_cursor


async def wallet_statement(
    session: AsyncSession, org_id: uuid.UUID, org_name: str, unit: str, cursor: str | None, now: datetime
) -> tuple[Export, str | None]:
    """The organisation's statement in ``unit`` as a spreadsheet, from ``cursor`` on, and the cursor
    that continues it: what ``GET /wallet/entries?format=csv|xlsx`` and the wallet page's download answer."""
    account = await chart.find_account(session, chart.wallet(org_id, unit))
    rows, next_cursor = await statement_rows(session, account.id, cursor) if account else ([], None)
    return statement_export(rows, org_name, unit, now), next_cursor


def statement_export(rows: list[StatementRow], org_name: str, unit: str, now: datetime) -> Export:
    day = now.astimezone(BEIJING).strftime("%Y%m%d")
    return Export(
        STATEMENT_COLUMNS,
        rows,
        filename=f"钱包流水-{org_name}-{unit}-{day}",
        fallback=f"wallet-statement-{unit}-{day}",
        sheet=f"钱包流水 {unit}",
    )
