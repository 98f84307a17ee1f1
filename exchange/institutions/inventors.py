"""The inventors an institution pays: one account per person (name and affiliation, unique in the
institution), created on demand for a disclosure's inventors when the office proposes a plan, with
a ledger account of its own (``inventor:<id>:cash``). The office checks the person's identity
before anything is paid to them, and may link the member who is that inventor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.institutions.config import NotAMember, require_office
from exchange.institutions.domain import DisclosedInventor
from exchange.institutions.models import InventorAccount
from exchange.institutions.schemas import IdentityCheckIn, InventorAccountOut
from exchange.parties.domain import Principal
from exchange.parties.models import User
from kernel.errors import NotFound, found


def _norm(text: str) -> str:
    return " ".join(text.split())


async def accounts_for(
    session: AsyncSession, org_id: uuid.UUID, inventors: Sequence[DisclosedInventor], now: datetime
) -> list[InventorAccount]:
    """The accounts of ``inventors`` in their order, each created if the institution has none yet."""
    out: list[InventorAccount] = []
    for inventor in inventors:
        name, affiliation = _norm(inventor.name), _norm(inventor.affiliation)
        account = await session.scalar(
            select(InventorAccount).where(
                InventorAccount.org_id == org_id,
                InventorAccount.name == name,
                InventorAccount.affiliation == affiliation,
            )
        )
        if account is None:
            account = InventorAccount(org_id=org_id, name=name, affiliation=affiliation, created_at=now)
            session.add(account)
            await session.flush()
        out.append(account)
    return out


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> InventorAccount:
    return found(await session.get(InventorAccount, account_id), NotFound(f"inventor account {account_id} not found"))


async def visible_account(session: AsyncSession, caller: Principal, account_id: uuid.UUID) -> InventorAccount:
    """The institution's members and operators see its inventors' accounts."""
    account = await get_account(session, account_id)
    if account.org_id != caller.org_id and not caller.is_operator:
        raise NotFound(f"inventor account {account_id} not found")
    return account


async def check_identity(
    session: AsyncSession, caller: Principal, account_id: uuid.UUID, data: IdentityCheckIn, now: datetime
) -> InventorAccount:
    """The office marks the inventor's identity as checked (again: the later check is kept), and
    links the member who is that inventor when it names one."""
    account = await visible_account(session, caller, account_id)
    await require_office(session, caller, account.org_id, "checks an inventor's identity")
    if data.user_id is not None:
        user = await session.get(User, data.user_id)
        if user is None or user.org_id != account.org_id or user.removed_at is not None:
            raise NotAMember(f"user {data.user_id} is not a member of the institution", field="user_id")
        account.user_id = data.user_id
    account.identity_checked_at, account.identity_checked_by = now, caller.user_id
    await session.flush()
    return account


async def list_accounts(session: AsyncSession, caller: Principal, org_id: uuid.UUID) -> list[InventorAccount]:
    caller.require_member_of(org_id, operators_too=True)
    rows = await session.scalars(
        select(InventorAccount).where(InventorAccount.org_id == org_id).order_by(InventorAccount.id)
    )
    return list(rows.all())


async def account_out(session: AsyncSession, account: InventorAccount) -> InventorAccountOut:
    ledger_account = await chart.find_account(session, chart.inventor_cash(account.id))
    return InventorAccountOut(
        id=account.id,
        org_id=account.org_id,
        name=account.name,
        affiliation=account.affiliation,
        user_id=account.user_id,
        identity_checked_at=account.identity_checked_at,
        identity_checked_by=account.identity_checked_by,
        balance=0 if ledger_account is None else ledger_account.balance,
        created_at=account.created_at,
    )
