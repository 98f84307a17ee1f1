"""Voucher figures: per program (with its invariants), per enterprise, per provider, and the
totals that join ``GET /stats``."""

from __future__ import annotations

import uuid

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.vouchers.domain import (
    OPEN_REDEMPTION_STATES,
    EnterpriseFigures,
    OrderState,
    ProgramFigures,
    ProviderFigures,
    VoucherTotals,
)
from exchange.vouchers.models import Redemption, ServiceOrder, VoucherProgram, VoucherWallet
from kernel.shapes import shaped


async def program_figures(session: AsyncSession, program: VoucherProgram) -> ProgramFigures:
    """The program's counters, with ``outstanding`` read from the ledger rather than derived from
    them: vouchers leave the issuance account on grant and return on retirement, expiry and
    revocation, so −balance(issuance) is what is still out. The invariants compare the two."""
    issuance = await chart.find_account(session, chart.program_issuance(program.id))
    outstanding = -issuance.balance if issuance is not None else 0
    return shaped(ProgramFigures, program, outstanding=outstanding)


async def enterprise_figures(session: AsyncSession, program_id: uuid.UUID) -> list[EnterpriseFigures]:
    wallets = (
        await session.scalars(
            select(VoucherWallet).where(VoucherWallet.program_id == program_id).order_by(VoucherWallet.org_id)
        )
    ).all()
    return [EnterpriseFigures(w.org_id, w.granted, w.held, w.spent, w.expired, w.available) for w in wallets]


async def provider_figures(session: AsyncSession, program_id: uuid.UUID) -> list[ProviderFigures]:
    accepted = ServiceOrder.state == OrderState.ACCEPTED.value
    open_claims = select(Redemption.id).where(Redemption.state.in_([s.value for s in OPEN_REDEMPTION_STATES]))

    def total(condition: object) -> object:
        return func.coalesce(func.sum(case((condition, ServiceOrder.voucher_amount), else_=0)), 0)  # type: ignore[arg-type]

    rows = (
        await session.execute(
            select(
                ServiceOrder.provider_org_id,
                func.count(),
                total(accepted),
                total(accepted & ServiceOrder.redemption_id.in_(open_claims) & ~ServiceOrder.redeemed),
                total(accepted & ServiceOrder.redeemed),
                total(accepted & ServiceOrder.revoked),
            )
            .where(ServiceOrder.program_id == program_id)
            .group_by(ServiceOrder.provider_org_id)
            .order_by(ServiceOrder.provider_org_id)
        )
    ).all()
    return [ProviderFigures(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]


async def totals(session: AsyncSession, year: int | None = None) -> VoucherTotals:
    columns = [VoucherProgram.budget, VoucherProgram.funded, VoucherProgram.issued, VoucherProgram.spent]
    columns += [VoucherProgram.redeemed, VoucherProgram.expired, VoucherProgram.revoked]
    query = select(func.count(), *(func.coalesce(func.sum(c), 0) for c in columns))
    if year is not None:
        query = query.where(VoucherProgram.year == year)
    row = (await session.execute(query)).one()
    count, budget, funded, issued, spent, redeemed, expired, revoked = (int(v) for v in row)
    return VoucherTotals(
        count, budget, funded, issued, spent, redeemed, expired, revoked, issued - redeemed - expired - revoked
    )
