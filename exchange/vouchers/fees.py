"""Buyer-side exchange fees paid partly with vouchers (SPEC §4: the exchange sells brokerage).

Trading calls ``BrokerageFeeVouchers.pay_fee`` inside its settlement transaction and charges the
rest of the fee in cash. The voucher part comes from the buyer's programs that cover
``brokerage`` and are active, the one expiring first first, and all together pay at most
coverage × fee (each program pays up to its own coverage less what the earlier ones paid).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.vouchers.domain import Category, fee_voucher_share
from exchange.vouchers.models import FeePayment, VoucherProgram, VoucherWallet
from exchange.vouchers.orders import add_spent
from exchange.vouchers.programs import move_wallet


class BrokerageFeeVouchers:
    """What trading needs of vouchers: ``await fees.pay_fee(session, buyer_org_id=…, fee=…, deal_id=…, now=…)``."""

    async def pay_fee(
        self,
        session: AsyncSession,
        *,
        buyer_org_id: uuid.UUID,
        fee: int,
        deal_id: uuid.UUID,
        now: datetime,
        instalment: int = 0,
    ) -> int:
        """Fen of ``fee`` paid with vouchers (posted ``org:<buyer>:vouchers → exchange:vouchers_received``).

        Joins the caller's transaction. A deal paid in instalments pays the buyer's fee in parts, one
        per ``instalment``. Once vouchers paid part of an instalment's fee, paying that fee again
        returns the same figure and moves nothing.
        """
        if fee <= 0:
            return 0
        count, earlier = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(FeePayment.amount), 0)).where(
                    FeePayment.deal_id == deal_id, FeePayment.instalment == instalment
                )
            )
        ).one()
        if count:
            return int(earlier)
        rows = (
            await session.execute(
                select(VoucherProgram, VoucherWallet)
                .join(VoucherWallet, VoucherWallet.program_id == VoucherProgram.id)
                .where(
                    VoucherWallet.org_id == buyer_org_id,
                    VoucherProgram.valid_from <= now,
                    VoucherProgram.valid_until > now,
                )
                .order_by(VoucherProgram.valid_until, VoucherProgram.id)
                .with_for_update(of=VoucherWallet)
            )
        ).all()
        eligible = [(p, w) for p, w in rows if Category.BROKERAGE.value in p.categories]
        if not eligible:
            return 0
        paid = 0
        for program, wallet in eligible:
            share = fee_voucher_share(fee, program.coverage_bp, paid, wallet.available)
            if share <= 0 or not await move_wallet(session, program.id, buyer_org_id, spent=share):
                continue
            paid_to = (chart.org_vouchers(buyer_org_id), chart.EXCHANGE_VOUCHERS_RECEIVED)
            meta = {"deal_id": str(deal_id), "program_id": str(program.id)}
            why = "exchange fee paid with innovation vouchers"
            entry = await chart.move(
                session, *paid_to, share, kind="voucher_fee", now=now, metadata=meta, description=why
            )
            await add_spent(session, program.id, share)
            session.add(
                FeePayment(
                    deal_id=deal_id,
                    instalment=instalment,
                    program_id=program.id,
                    buyer_org_id=buyer_org_id,
                    fee=fee,
                    amount=share,
                    entry_id=entry.id,
                    created_at=now,
                )
            )
            paid += share
        await session.flush()
        return paid
