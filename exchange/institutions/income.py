"""An institution's income from the deals its transfer processes implemented (收益分配, its first half).

A deal counts when its listing is the listing of one of the institution's processes
(``transfer_processes.listing_id``, set at 实施 implementation). When a payment of such a deal
settles, trading tells the observers the composition root gave it (``IncomeReceipts``), inside the
settlement's own transaction: the receipt is written with it or not at all. The receipt's amount is
the institution's net income of the payment — what went to its cash plus what was held for its
inventors (``org:<id>:inventor_rewards``) — and ``reward_held`` the part held. The office is told.

Trading is not imported here (import-linter): the observer reads the settled payment through the
``SettledPayment`` protocol below, which trading's dataclass of the same name satisfies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.config import office_user_ids
from exchange.institutions.models import DistributionPlan, IncomeReceipt, TransferProcess
from exchange.parties.domain import Principal
from exchange.platform.outbox import Audience, Kind, Subject, notify
from kernel.db import is_postgres
from kernel.errors import NotFound, found
from kernel.time import rfc3339


class SettledPayment(Protocol):
    """What the institution reads of a settled payment (trading's ``SettledPayment``)."""

    @property
    def deal_id(self) -> uuid.UUID: ...
    @property
    def listing_id(self) -> uuid.UUID: ...
    @property
    def seller_org_id(self) -> uuid.UUID: ...
    @property
    def seq(self) -> int: ...
    @property
    def seller_proceeds(self) -> int: ...
    @property
    def inventor_reward(self) -> int: ...
    @property
    def settled_at(self) -> datetime: ...


class IncomeReceipts:
    """Trading's settlement observer: a receipt for each settled payment of a deal whose listing
    one of the seller's processes implemented; other deals are not the institutions' business."""

    async def on_payment_settled(self, session: AsyncSession, payment: SettledPayment) -> None:
        process = await session.scalar(
            select(TransferProcess).where(
                TransferProcess.listing_id == payment.listing_id, TransferProcess.org_id == payment.seller_org_id
            )
        )
        if process is None:
            return
        known = await session.scalar(
            select(IncomeReceipt.id).where(IncomeReceipt.deal_id == payment.deal_id, IncomeReceipt.seq == payment.seq)
        )
        if known is not None:  # a payment settles once; never count it twice
            return
        now = payment.settled_at
        receipt = IncomeReceipt(
            org_id=process.org_id,
            process_id=process.id,
            deal_id=payment.deal_id,
            seq=payment.seq,
            amount=payment.seller_proceeds + payment.inventor_reward,
            reward_held=payment.inventor_reward,
            received_at=now,
        )
        session.add(receipt)
        await session.flush()
        notify(
            session,
            Kind.INCOME_RECEIVED,
            to=Audience(users=await office_user_ids(session, process.org_id)),
            now=now,
            subject=Subject("income_receipt", receipt.id),
            data={
                "amount_fen": receipt.amount,
                "reward_held_fen": receipt.reward_held,
                "deal_id": str(payment.deal_id),
                "process_id": str(process.id),
                "received_at": rfc3339(now),
            },
        )


async def get_receipt(session: AsyncSession, receipt_id: uuid.UUID, *, lock: bool = False) -> IncomeReceipt:
    query = select(IncomeReceipt).where(IncomeReceipt.id == receipt_id)
    if lock and is_postgres(session):
        query = query.with_for_update()
    return found(await session.scalar(query), NotFound(f"income receipt {receipt_id} not found"))


async def visible_receipt(session: AsyncSession, caller: Principal, receipt_id: uuid.UUID) -> IncomeReceipt:
    """The institution's members and operators see a receipt; to anyone else it does not exist."""
    receipt = await get_receipt(session, receipt_id)
    if receipt.org_id != caller.org_id and not caller.is_operator:
        raise NotFound(f"income receipt {receipt_id} not found")
    return receipt


async def list_receipts(
    session: AsyncSession, caller: Principal, org_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 20
) -> list[IncomeReceipt]:
    """The institution's receipts, newest first (keyset by id)."""
    caller.require_member_of(org_id, operators_too=True)
    query = select(IncomeReceipt).where(IncomeReceipt.org_id == org_id).order_by(IncomeReceipt.id.desc()).limit(limit)
    if after is not None:
        query = query.where(IncomeReceipt.id < after)
    return list((await session.scalars(query)).all())


async def plans_of(session: AsyncSession, receipt_id: uuid.UUID) -> list[DistributionPlan]:
    rows = await session.scalars(
        select(DistributionPlan).where(DistributionPlan.receipt_id == receipt_id).order_by(DistributionPlan.id)
    )
    return list(rows.all())
