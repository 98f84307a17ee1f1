"""Fraud controls and the end of a program: revoking a provider, expiring unspent vouchers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import credit
from exchange.accounting import chart
from exchange.parties.domain import OrgKind, Principal
from exchange.parties.models import Org
from exchange.platform.db import Database
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.reminders import Reminder, remind_once
from exchange.vouchers.domain import OPEN_REDEMPTION_STATES, ORDERS, AlreadyRevoked, OrderAction, OrderState
from exchange.vouchers.models import ProviderRevocation, Redemption, ServiceOrder, VoucherProgram, VoucherWallet
from exchange.vouchers.orders import is_revoked, release
from exchange.vouchers.programs import get_program, move_wallet, require_program_admin
from exchange.vouchers.redemptions import end
from kernel.errors import NotFound
from kernel.sweeping import PASS_ONLY, RowLog, sweep_rows
from kernel.time import rfc3339


async def revoke_provider(
    session: AsyncSession,
    caller: Principal,
    program_id: uuid.UUID,
    provider_org_id: uuid.UUID,
    reason: str,
    now: datetime,
    *,
    credit_context: credit.CreditContext,
) -> ProviderRevocation:
    """Void the provider's unredeemed vouchers of this program back to it; open orders are cancelled,
    open claims rejected; the credit record stays, and the provider's credit score is recomputed
    with the revocation's penalty (docs/credit.md)."""
    program = await get_program(session, program_id, lock=True)
    require_program_admin(caller, program)
    if await session.get(Org, provider_org_id) is None:
        raise NotFound(f"organisation {provider_org_id} not found", field="provider_org_id")
    if await is_revoked(session, program.id, provider_org_id):
        raise AlreadyRevoked("the program has already revoked this provider", field="provider_org_id")
    note = f"provider revoked by the program: {reason}"
    claims = (
        await session.scalars(
            select(Redemption)
            .where(
                Redemption.program_id == program.id,
                Redemption.provider_org_id == provider_org_id,
                Redemption.state.in_([s.value for s in OPEN_REDEMPTION_STATES]),
            )
            .with_for_update()
        )
    ).all()
    for claim in claims:
        await end(session, claim, note, now, caller.user_id)
    orders = (
        await session.scalars(
            select(ServiceOrder)
            .where(
                ServiceOrder.program_id == program.id,
                ServiceOrder.provider_org_id == provider_org_id,
                ServiceOrder.voucher_amount > 0,
            )
            .order_by(ServiceOrder.id)
            .with_for_update()
        )
    ).all()
    cancelled = 0
    voided = 0
    for order in orders:
        if ORDERS.allows(order.state, OrderAction.CANCEL):
            await release(session, order, note, now)
            cancelled += 1
        elif order.state == OrderState.ACCEPTED.value and not order.redeemed and not order.revoked:
            order.revoked = True
            voided += order.voucher_amount
    if voided:
        back = (chart.org_vouchers_received(provider_org_id), chart.program_issuance(program.id))
        meta = {"program_id": str(program.id), "provider_org_id": str(provider_org_id)}
        why = "unredeemed vouchers voided back to the program"
        await chart.move(session, *back, voided, kind="voucher_revocation", now=now, metadata=meta, description=why)
    program.revoked += voided
    record = ProviderRevocation(
        program_id=program.id,
        provider_org_id=provider_org_id,
        reason=reason,
        vouchers_revoked=voided,
        orders_cancelled=cancelled,
        redemptions_rejected=len(claims),
        revoked_by=caller.user_id,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    await credit.recompute(session, credit_context, provider_org_id, now)
    return record


async def credit_records(
    session: AsyncSession, caller: Principal, provider_org_id: uuid.UUID | None
) -> list[ProviderRevocation]:
    """Every program's revocations: program administrators (government orgs) and operators read them."""
    if not caller.is_operator:
        caller.require_kind(OrgKind.GOVERNMENT)
    query = select(ProviderRevocation).order_by(ProviderRevocation.created_at.desc()).limit(100)
    if provider_org_id is not None:
        query = query.where(ProviderRevocation.provider_org_id == provider_org_id)
    return list((await session.scalars(query)).all())


# -- expiry ------------------------------------------------------------------------------------------------


async def expire_wallet(session: AsyncSession, program_id: uuid.UUID, org_id: uuid.UUID, now: datetime) -> int:
    """Return a wallet's available vouchers of an ended program to it. Held ones stay until their order resolves."""
    wallet = await session.scalar(
        select(VoucherWallet)
        .where(VoucherWallet.program_id == program_id, VoucherWallet.org_id == org_id)
        .with_for_update()
    )
    program = await session.get(VoucherProgram, program_id)
    if wallet is None or program is None or program.valid_until > now:
        return 0
    amount = wallet.available
    if amount <= 0 or not await move_wallet(session, program_id, org_id, expired=amount):
        return 0
    back = (chart.org_vouchers(org_id), chart.program_issuance(program_id))
    meta = {"program_id": str(program_id), "org_id": str(org_id)}
    why = f"vouchers of program {program.name} expired"[:500]
    await chart.move(session, *back, amount, kind="voucher_expiry", now=now, metadata=meta, description=why)
    await session.execute(
        update(VoucherProgram)
        .where(VoucherProgram.id == program_id)
        .values(expired=VoucherProgram.expired + amount)
        .execution_options(synchronize_session=False)
    )
    return amount


class _Wallet(NamedTuple):
    """A wallet as a row of the sweep: ``program_id:org_id``."""

    program_id: uuid.UUID
    org_id: uuid.UUID

    def __str__(self) -> str:
        return f"{self.program_id}:{self.org_id}"

    @classmethod
    def parse(cls, text: str) -> _Wallet:
        program_id, _, org_id = text.partition(":")
        return cls(uuid.UUID(program_id), uuid.UUID(org_id))


class VoucherExpirySweep:
    """The sweeper's step: unspent vouchers of ended programs go back to their program.

    A wallet is a row ``program_id:org_id``; each in its own transaction, and one that fails is
    reported to ``rows`` while the others are processed.
    """

    name = "voucher-expiry"

    def __init__(self, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.limit = limit
        self.rows = rows

    async def run(self, db: Database, now: datetime) -> int:
        due: list[_Wallet] = []

        async def attempt(skip: set[_Wallet], claimed: list[_Wallet]) -> bool | None:
            if not due:
                async with db.read() as session:
                    due.extend(
                        _Wallet(p, o)
                        for p, o in await session.execute(
                            select(VoucherWallet.program_id, VoucherWallet.org_id)
                            .join(VoucherProgram, VoucherProgram.id == VoucherWallet.program_id)
                            .where(
                                VoucherProgram.valid_until <= now,
                                VoucherWallet.granted - VoucherWallet.held - VoucherWallet.spent - VoucherWallet.expired
                                > 0,
                            )
                            .order_by(VoucherWallet.program_id, VoucherWallet.org_id)
                            .limit(self.limit + len(skip))
                        )
                        if (p, o) not in skip
                    )
                    if not due:
                        return None
            wallet = due.pop(0)
            claimed.append(wallet)
            program_id, org_id = wallet
            # A second sweeper finds nothing left and moves nothing.
            return bool(await db.transaction(lambda s: expire_wallet(s, program_id, org_id, now)))

        return await sweep_rows(db, self.rows, self.name, now, attempt, parse=_Wallet.parse, limit=self.limit)


# -- reminders -----------------------------------------------------------------------------------------

EXPIRY_REMINDER = timedelta(days=30)


async def remind_expiring(session: AsyncSession, program_id: uuid.UUID, org_id: uuid.UUID, now: datetime) -> bool:
    """Tell an enterprise, once, that its available vouchers of a program expire within 30 days."""
    program = await session.get(VoucherProgram, program_id)
    wallet = await session.get(VoucherWallet, (program_id, org_id), populate_existing=True)
    if program is None or wallet is None or wallet.available <= 0:
        return False
    if not now < program.valid_until <= now + EXPIRY_REMINDER:
        return False
    if not await remind_once(session, Kind.VOUCHER_EXPIRING, str(_Wallet(program_id, org_id)), now):
        return False
    data = {
        "program_id": str(program_id),
        "program_name": program.name,
        "available_fen": wallet.available,
        "expires_at": rfc3339(program.valid_until),
    }
    subject = Subject("voucher_program", program_id)
    notify(session, Kind.VOUCHER_EXPIRING, to=Audience.of_orgs(org_id), now=now, subject=subject, data=data)
    return True


class VoucherExpiringSweep:
    """The sweeper's step: enterprises holding available vouchers of a program that ends within 30
    days are told once (``voucher.expiring``; a ``notification_reminders`` row per wallet)."""

    name = "voucher-expiring"

    def __init__(self, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.limit = limit
        self.rows = rows

    async def run(self, db: Database, now: datetime) -> int:
        due: list[_Wallet] = []
        loaded = False

        async def attempt(skip: set[_Wallet], claimed: list[_Wallet]) -> bool | None:
            nonlocal loaded
            if not loaded:
                loaded = True
                async with db.read() as session:
                    told = set(
                        (
                            await session.scalars(
                                select(Reminder.subject_key).where(Reminder.kind == Kind.VOUCHER_EXPIRING.value)
                            )
                        ).all()
                    )
                    rows = await session.execute(
                        select(VoucherWallet.program_id, VoucherWallet.org_id)
                        .join(VoucherProgram, VoucherProgram.id == VoucherWallet.program_id)
                        .where(
                            VoucherProgram.valid_until > now,
                            VoucherProgram.valid_until <= now + EXPIRY_REMINDER,
                            VoucherWallet.granted - VoucherWallet.held - VoucherWallet.spent - VoucherWallet.expired
                            > 0,
                        )
                        .order_by(VoucherWallet.program_id, VoucherWallet.org_id)
                    )
                    due.extend(w for w in (_Wallet(p, o) for p, o in rows) if w not in skip and str(w) not in told)
            if not due:
                return None
            wallet = due.pop(0)
            claimed.append(wallet)
            program_id, org_id = wallet
            return await db.transaction(lambda s: remind_expiring(s, program_id, org_id, now))

        return await sweep_rows(db, self.rows, self.name, now, attempt, parse=_Wallet.parse, limit=self.limit)
