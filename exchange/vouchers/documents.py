"""The rule of a service order's documents (the provider's delivery reports), for the documents
module: the composition root registers ``ServiceOrderDocuments`` as the rule of owner kind
``service_order`` (vouchers and documents do not import each other)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.vouchers.domain import OrderState
from exchange.vouchers.models import ServiceOrder, VoucherProgram
from kernel.errors import NotFound, Unauthorized

# The provider attaches and removes delivery documents until the enterprise accepts the delivery.
OPEN_ORDER_STATES = frozenset({OrderState.ORDERED.value, OrderState.CONFIRMED.value, OrderState.DELIVERED.value})


@dataclass(frozen=True)
class OrderDocumentAccess:
    uploader_side: bool
    editable: bool
    confidential_basis: str | None


class ServiceOrderDocuments:
    """To the order's parties (buyer and provider), the administrators of the program paying for it
    and operators; attached by the provider."""

    async def access(self, session: AsyncSession, caller: Principal | None, owner_id: uuid.UUID) -> OrderDocumentAccess:
        if caller is None:
            raise Unauthorized("a service order's documents need a bearer token from POST /api/v1/auth/login")
        order = await session.get(ServiceOrder, owner_id)
        if order is None:
            raise NotFound(f"service order {owner_id} not found")
        provider = caller.org_id == order.provider_org_id
        if provider:
            basis = "provider"
        elif caller.org_id == order.buyer_org_id:
            basis = "buyer"
        elif caller.is_operator:
            basis = "operator"
        elif order.program_id is not None and (program := await session.get(VoucherProgram, order.program_id)):
            if program.owner_org_id != caller.org_id:
                raise NotFound(f"service order {owner_id} not found")
            basis = "program"
        else:
            raise NotFound(f"service order {owner_id} not found")
        return OrderDocumentAccess(provider, order.state in OPEN_ORDER_STATES, basis)
