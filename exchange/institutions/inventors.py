"""The inventors an institution pays: one account per person (name and affiliation, unique in the
institution), created on demand for a disclosure's inventors when the office proposes a plan, with
a ledger account of its own (``inventor:<id>:cash``). The office checks the person's identity
before anything is paid to them, and may link the member who is that inventor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.accounting.chart import AccountSpec
from exchange.institutions.config import NotAMember, require_office, roles_of
from exchange.institutions.domain import DisclosedInventor, Role
from exchange.institutions.models import InventorAccount
from exchange.institutions.schemas import IdentityCheckIn, InventorAccountOut
from exchange.parties.domain import Principal
from exchange.parties.models import User
from kernel.errors import InvalidState, NotFound, found


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


async def _sees_accounts(session: AsyncSession, caller: Principal, org_id: uuid.UUID) -> bool:
    """The office and operators see every inventor's account of the institution."""
    return caller.is_operator or (caller.org_id == org_id and Role.OFFICE in await roles_of(session, caller, org_id))


async def visible_account(session: AsyncSession, caller: Principal, account_id: uuid.UUID) -> InventorAccount:
    """A person's account — balance, statement, bank account — is seen by that person (the linked
    member), the institution's office and operators; to anyone else it does not exist."""
    account = await get_account(session, account_id)
    mine = account.user_id is not None and account.user_id == caller.user_id and account.org_id == caller.org_id
    if not mine and not await _sees_accounts(session, caller, account.org_id):
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
    if data.payee.strip():
        account.payee = data.payee.strip()
    account.identity_checked_at, account.identity_checked_by = now, caller.user_id
    await session.flush()
    return account


async def list_accounts(session: AsyncSession, caller: Principal, org_id: uuid.UUID) -> list[InventorAccount]:
    """The institution's inventors' accounts: all of them for the office and operators, a member's own otherwise."""
    caller.require_member_of(org_id, operators_too=True)
    query = select(InventorAccount).where(InventorAccount.org_id == org_id).order_by(InventorAccount.id)
    if not await _sees_accounts(session, caller, org_id):
        query = query.where(InventorAccount.user_id == caller.user_id)
    rows = await session.scalars(query)
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
        held=0 if ledger_account is None else ledger_account.pending_outflow,
        available=0 if ledger_account is None else ledger_account.available,
        payee=account.payee,
    )


# -- the inventor as a payer: withdrawals from ``inventor:<id>:cash`` --------------------------------------

PAYER_KIND = "inventor"


class InventorRefused(InvalidState):
    """409 ``invalid-state`` naming the rule an inventor's withdrawal breaks: ``identity-checked``,
    ``payee-on-record``."""

    def __init__(self, detail: str, *, rule: str, **extra: Any) -> None:
        super().__init__(detail, rule=rule, **extra)


@dataclass(frozen=True)
class InventorPayer:
    """An inventor's account as the payments module draws on it (its ``Payer`` protocol)."""

    ref: str
    account: AccountSpec
    org_id: uuid.UUID
    payee: str


def payer_ref(account_id: uuid.UUID) -> str:
    return f"{PAYER_KIND}:{account_id}"


class InventorPayers:
    """What payments asks of an inventor's account (``payments.PayerAccounts``, wired by the
    composition root): whoever sees the account sees its withdrawals; the linked member (the
    inventor) and the institution's office withdraw, once the office checked the identity and
    recorded the bank account in the inventor's name, to which every withdrawal is paid."""

    async def payer(
        self, session: AsyncSession, caller: Principal, payer_id: uuid.UUID, *, draw: bool
    ) -> InventorPayer:
        account = await visible_account(session, caller, payer_id)
        if draw:
            await may_draw(session, caller, account)
        return InventorPayer(payer_ref(account.id), chart.inventor_cash(account.id), account.org_id, account.payee)


async def may_draw(session: AsyncSession, caller: Principal, account: InventorAccount) -> None:
    """403 unless the caller is the linked inventor or the office; 409 before the identity and the
    bank account are checked."""
    if account.user_id is None or account.user_id != caller.user_id or caller.org_id != account.org_id:
        await require_office(session, caller, account.org_id, "withdraws for an inventor")
    if account.identity_checked_at is None:
        raise InventorRefused(
            f"{account.name}'s identity is not checked: the office checks it before anything is withdrawn "
            f"(POST /inventor-accounts/{account.id}/identity-check)",
            rule="identity-checked", inventor=account.name, inventor_account_id=str(account.id),
        )  # fmt: skip
    if not account.payee:
        raise InventorRefused(
            f"no bank account is on record for {account.name}: the office records it with the identity check "
            f"(POST /inventor-accounts/{account.id}/identity-check {{\"payee\": …}})",
            rule="payee-on-record", inventor=account.name, inventor_account_id=str(account.id),
        )  # fmt: skip
