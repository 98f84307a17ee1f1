"""Brokerage paid partly with vouchers (SPEC §4: programs may cover ``brokerage``): the buyer-side
exchange fee, and a technology broker's commission owed by the buyer.

Trading calls ``BrokerageFeeVouchers.pay_fee`` inside its settlement transaction and charges the
rest in cash. The voucher part comes from the buyer's programs that cover ``brokerage`` and are
active, the one expiring first first, and all together pay at most coverage × the amount (each
program pays up to its own coverage less what the earlier ones paid). The exchange's fee goes to
``exchange:vouchers_received``; a commission to its service provider's
``org:<id>:vouchers_received``, which the provider redeems as its service orders' vouchers — not
from a program that revoked it, and nothing when the buyer and the provider are one or related.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.vouchers.domain import Category, fee_voucher_share
from exchange.vouchers.models import FeePayment, VoucherProgram, VoucherWallet
from exchange.vouchers.orders import add_spent, is_revoked
from exchange.vouchers.programs import are_related, move_wallet


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
        recipient_org_id: uuid.UUID | None = None,
        ref: str = "",
        entries: list[str] | None = None,
    ) -> int:
        """Fen of ``fee`` paid with vouchers (posted ``org:<buyer>:vouchers → exchange:vouchers_received``,
        or ``→ org:<recipient>:vouchers_received`` for a leg owed to a service provider, ``ref``
        naming the leg). The ids of the ledger entries that paid it are appended to ``entries``.

        Joins the caller's transaction. A deal paid in instalments pays the buyer's fee in parts, one
        per ``instalment``. Once vouchers paid part of an instalment's fee (or leg), paying it again
        returns the same figure and moves nothing.
        """
        if fee <= 0:
            return 0
        earlier = (
            await session.execute(
                select(FeePayment.amount, FeePayment.entry_id).where(
                    FeePayment.deal_id == deal_id, FeePayment.instalment == instalment, FeePayment.ref == ref
                )
            )
        ).all()
        if earlier:
            if entries is not None:
                entries += [str(entry_id) for _, entry_id in earlier]
            return sum(int(amount) for amount, _ in earlier)
        if recipient_org_id is not None and (
            recipient_org_id == buyer_org_id or await are_related(session, buyer_org_id, recipient_org_id)
        ):
            return 0
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
                # The wallets as they stand now: an earlier payment in this transaction moved them.
                .execution_options(populate_existing=True)
            )
        ).all()
        eligible = [(p, w) for p, w in rows if Category.BROKERAGE.value in p.categories]
        if not eligible:
            return 0
        if recipient_org_id is None:
            received, why = chart.EXCHANGE_VOUCHERS_RECEIVED, "exchange fee paid with innovation vouchers"
        else:
            received, why = chart.org_vouchers_received(recipient_org_id), "brokerage paid with innovation vouchers"
        paid = 0
        for program, wallet in eligible:
            share = fee_voucher_share(fee, program.coverage_bp, paid, wallet.available)
            if share <= 0 or (recipient_org_id is not None and await is_revoked(session, program.id, recipient_org_id)):
                continue
            if not await move_wallet(session, program.id, buyer_org_id, spent=share):
                continue
            paid_to = (chart.org_vouchers(buyer_org_id), received)
            meta = {"deal_id": str(deal_id), "program_id": str(program.id)}
            if ref:
                meta["ref"] = ref
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
                    recipient_org_id=recipient_org_id,
                    ref=ref,
                    created_at=now,
                )
            )
            if entries is not None:
                entries.append(str(entry.id))
            paid += share
        await session.flush()
        return paid
