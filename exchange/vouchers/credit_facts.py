"""What the credit evaluation reads of service orders (``exchange.credit``'s ``Engagements``, wired
by the composition root): an order's parties and whether it is finished (accepted), how many
orders a provider finished, and the provider's penalties this module records — the programs that
revoked it (``ProviderRevocation``) and its missed deliveries: orders it cancelled itself after
confirming them (``cancelled_by_org_id`` the provider's, a hold placed at confirmation)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.credit import EngagementFacts, EngagementKind, PenaltyFact, PenaltyKind
from exchange.vouchers.domain import OrderState
from exchange.vouchers.models import ProviderRevocation, Service, ServiceOrder, VoucherProgram


def order_facts(order: ServiceOrder, title: str) -> EngagementFacts:
    return EngagementFacts(
        kind=EngagementKind.SERVICE_ORDER,
        id=order.id,
        client_org_id=order.buyer_org_id,
        provider_org_id=order.provider_org_id,
        finished=order.state == OrderState.ACCEPTED.value,
        title=title,
        link=f"/workspace/orders/{order.id}",
    )


class CreditOrders:
    kind = EngagementKind.SERVICE_ORDER

    async def engagement(self, session: AsyncSession, engagement_id: uuid.UUID) -> EngagementFacts | None:
        row = (
            await session.execute(
                select(ServiceOrder, Service.title)
                .join(Service, Service.id == ServiceOrder.service_id)
                .where(ServiceOrder.id == engagement_id)
            )
        ).first()
        return order_facts(row[0], row[1]) if row else None

    async def finished_count(self, session: AsyncSession, provider_org_id: uuid.UUID) -> int:
        query = select(func.count()).where(
            ServiceOrder.provider_org_id == provider_org_id, ServiceOrder.state == OrderState.ACCEPTED.value
        )
        return int(await session.scalar(query) or 0)

    async def penalties(self, session: AsyncSession, provider_org_id: uuid.UUID) -> list[PenaltyFact]:
        revocations = await session.execute(
            select(ProviderRevocation.program_id, ProviderRevocation.created_at, VoucherProgram.name)
            .join(VoucherProgram, VoucherProgram.id == ProviderRevocation.program_id)
            .where(ProviderRevocation.provider_org_id == provider_org_id)
        )
        found = [
            PenaltyFact(PenaltyKind.REVOCATION, at, ref=str(program_id), note=name)
            for program_id, at, name in revocations
        ]
        missed = await session.execute(
            select(ServiceOrder.id, ServiceOrder.updated_at, ServiceOrder.cancel_reason).where(
                ServiceOrder.provider_org_id == provider_org_id,
                ServiceOrder.state == OrderState.CANCELLED.value,
                ServiceOrder.cancelled_by_org_id == provider_org_id,
                or_(ServiceOrder.voucher_hold_id.is_not(None), ServiceOrder.cash_hold_id.is_not(None)),
            )
        )
        found += [
            PenaltyFact(PenaltyKind.MISSED_DELIVERY, at, ref=str(order_id), note=reason[:200])
            for order_id, at, reason in missed
        ]
        return found
