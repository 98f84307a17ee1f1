"""The service catalogue and service orders paid partly with vouchers, partly in cash.

An order's money moves only from confirmation on: the provider's confirmation places a VCH hold
and a CNY hold in one atomic ledger batch; the enterprise's acceptance posts both to the
provider; a cancellation before acceptance voids both.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import credit
from exchange.accounting import chart
from exchange.parties.domain import OrgKind, Principal
from exchange.parties.models import Org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.vouchers.domain import (
    ORDERS,
    Category,
    CategoryNotEligible,
    OrderAction,
    OrderSide,
    OrderState,
    ProviderRecord,
    ProviderRevoked,
    VoucherRuleBroken,
    check_not_related,
    next_order_state,
    split_price,
)
from exchange.vouchers.models import ProviderRevocation, Service, ServiceOrder, VoucherProgram, VoucherWallet
from exchange.vouchers.programs import are_related, get_program, move_wallet, org_names, rules_of
from kernel.errors import Forbidden, InsufficientFunds, NotFound, found
from ledger import EntrySpec
from ledger import service as ledger

# -- catalogue ---------------------------------------------------------------------------------------


async def publish_service(
    session: AsyncSession,
    caller: Principal,
    *,
    category: Category,
    title: str,
    description: str,
    price: int,
    now: datetime,
) -> Service:
    """Verified service providers publish services; the exchange's operator org publishes brokerage."""
    caller.require_active_verified()
    if caller.org_kind is OrgKind.OPERATOR:
        if category is not Category.BROKERAGE:
            raise VoucherRuleBroken("the exchange publishes brokerage services only", field="category")
    else:
        caller.require_kind(OrgKind.SERVICE_PROVIDER, OrgKind.OPERATOR)
    service = Service(
        provider_org_id=caller.org_id,
        provider_name=caller.org_name,
        category=category.value,
        title=title,
        description=description,
        price=price,
        created_at=now,
    )
    session.add(service)
    await session.flush()
    return service


async def get_service(session: AsyncSession, service_id: uuid.UUID) -> Service:
    return found(
        await session.get(Service, service_id), NotFound(f"service {service_id} not found", field="service_id")
    )


async def list_services(
    session: AsyncSession,
    *,
    category: Category | None,
    provider_id: uuid.UUID | None,
    limit: int,
    after: uuid.UUID | None,
) -> list[Service]:
    query = select(Service).order_by(Service.id.desc()).limit(limit)
    if category is not None:
        query = query.where(Service.category == category.value)
    if provider_id is not None:
        query = query.where(Service.provider_org_id == provider_id)
    if after is not None:
        query = query.where(Service.id < after)
    return list((await session.scalars(query)).all())


async def provider_records(session: AsyncSession, org_ids: list[uuid.UUID]) -> list[ProviderRecord]:
    """The public records of these providers, in the order given (four statements for any number)."""
    if not org_ids:
        return []
    orgs = {o.id: o for o in (await session.scalars(select(Org).where(Org.id.in_(org_ids)))).all()}
    services = {
        org_id: count
        for org_id, count in await session.execute(
            select(Service.provider_org_id, func.count())
            .where(Service.provider_org_id.in_(org_ids))
            .group_by(Service.provider_org_id)
        )
    }
    completed = {
        org_id: count
        for org_id, count in await session.execute(
            select(ServiceOrder.provider_org_id, func.count())
            .where(ServiceOrder.provider_org_id.in_(org_ids), ServiceOrder.state == OrderState.ACCEPTED.value)
            .group_by(ServiceOrder.provider_org_id)
        )
    }
    revoked: dict[uuid.UUID, list[str]] = {}
    rows = await session.execute(
        select(ProviderRevocation.provider_org_id, VoucherProgram.name)
        .join(VoucherProgram, VoucherProgram.id == ProviderRevocation.program_id)
        .where(ProviderRevocation.provider_org_id.in_(org_ids))
        .order_by(ProviderRevocation.created_at)
    )
    for org_id, program in rows:
        revoked.setdefault(org_id, []).append(program)
    standing = await credit.standings(session, org_ids)
    return [
        ProviderRecord(
            org_id=org.id,
            name=org.name,
            verified=org.verified,
            services=int(services.get(org.id, 0)),
            completed_orders=int(completed.get(org.id, 0)),
            revoked_by=revoked.get(org.id, []),
            grade=standing[org.id].grade,
            score=standing[org.id].score,
            ratings=standing[org.id].ratings,
            demonstration=standing[org.id].demonstration,
        )
        for org_id in org_ids
        if (org := orgs.get(org_id)) is not None
    ]


async def list_providers(session: AsyncSession, *, limit: int, after: uuid.UUID | None) -> list[ProviderRecord]:
    """The organisations that have published a service, by id, with their public records."""
    query = select(Service.provider_org_id).distinct().order_by(Service.provider_org_id).limit(limit)
    if after is not None:
        query = query.where(Service.provider_org_id > after)
    return await provider_records(session, list((await session.scalars(query)).all()))


# -- orders ------------------------------------------------------------------------------------------


async def is_revoked(session: AsyncSession, program_id: uuid.UUID, provider_org_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(ProviderRevocation.id).where(
            ProviderRevocation.program_id == program_id, ProviderRevocation.provider_org_id == provider_org_id
        )
    )
    return found is not None


async def _check_program(
    session: AsyncSession, program: VoucherProgram, buyer: uuid.UUID, service: Service, amount: int, now: datetime
) -> None:
    rules = rules_of(program)
    rules.require_active(now)
    rules.check_order(category=Category(service.category), price=service.price, voucher_amount=amount)
    if await is_revoked(session, program.id, service.provider_org_id):
        raise ProviderRevoked("the program has revoked this provider: it accepts no voucher orders", field="service_id")
    grade = await credit.grade_of_provider(session, service.provider_org_id)
    credit.require_grade(program.min_provider_grade, grade, service.provider_org_id, field="service_id")
    wallet = await session.get(VoucherWallet, (program.id, buyer))
    available = wallet.available if wallet else 0
    if available < amount:
        raise _short_of_vouchers(
            f"{available} vouchers of program {program.id} are available; the order needs {amount}",
            buyer,
            available,
            amount,
        )


def _short_of_vouchers(
    detail: str, org_id: uuid.UUID, available: int, needed: int, field: str | None = "voucher_amount"
) -> InsufficientFunds:
    """The ledger's refusal, said before the ledger is asked: the enterprise's vouchers of the
    program an order draws on (its wallet row) are fewer than ``voucher_amount``."""
    account = chart.org_vouchers(org_id)
    return InsufficientFunds(
        detail, account=account.code, unit=account.unit, available=available, needed=needed, field=field
    )


async def _choose_program(
    session: AsyncSession, buyer: uuid.UUID, service: Service, amount: int, now: datetime
) -> VoucherProgram:
    """The buyer's program that can pay: the one expiring first among those that cover the order."""
    programs = (
        await session.scalars(
            select(VoucherProgram)
            .join(VoucherWallet, VoucherWallet.program_id == VoucherProgram.id)
            .where(VoucherWallet.org_id == buyer)
            .order_by(VoucherProgram.valid_until, VoucherProgram.id)
        )
    ).all()
    if not programs:
        raise _short_of_vouchers("the enterprise holds no vouchers", buyer, 0, amount)
    covering = [p for p in programs if service.category in p.categories]
    if not covering:
        raise CategoryNotEligible(
            f"none of the enterprise's voucher programs covers '{service.category}'", field="service_id"
        )
    first_problem: Exception | None = None
    for program in covering:
        try:
            await _check_program(session, program, buyer, service, amount, now)
        except (VoucherRuleBroken, InsufficientFunds, credit.ProviderGradeTooLow) as problem:
            first_problem = first_problem or problem
            continue
        return program
    assert first_problem is not None
    raise first_problem


async def place_order(
    session: AsyncSession,
    caller: Principal,
    *,
    service_id: uuid.UUID,
    voucher_amount: int,
    program_id: uuid.UUID | None,
    now: datetime,
) -> ServiceOrder:
    caller.require_active_verified()
    caller.require_kind(OrgKind.ENTERPRISE)
    service = await get_service(session, service_id)
    buyer, provider = str(caller.org_id), str(service.provider_org_id)
    declared = await are_related(session, caller.org_id, service.provider_org_id)
    check_not_related(buyer, provider, {frozenset((buyer, provider))} if declared else set())
    voucher_part, cash_part = split_price(service.price, voucher_amount)
    chosen: uuid.UUID | None = None
    if program_id is not None:
        program = await get_program(session, program_id)
        await _check_program(session, program, caller.org_id, service, voucher_part, now)
        chosen = program.id
    elif voucher_part > 0:
        chosen = (await _choose_program(session, caller.org_id, service, voucher_part, now)).id
    order = ServiceOrder(
        service_id=service.id,
        buyer_org_id=caller.org_id,
        provider_org_id=service.provider_org_id,
        program_id=chosen,
        category=service.category,
        price=service.price,
        voucher_amount=voucher_part,
        cash_amount=cash_part,
        state=ORDERS.initial.value,
        results_summary="",
        cancel_reason="",
        redeemed=False,
        revoked=False,
        created_by=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    await tell_order(session, order, now, to=(order.provider_org_id,), service=service)
    return order


async def tell_order(
    session: AsyncSession,
    order: ServiceOrder,
    now: datetime,
    *,
    to: tuple[uuid.UUID, ...],
    service: Service | None = None,
) -> None:
    """``service_order.updated``: the order's new state, told to the side that did not take the step."""
    service = service or await session.get(Service, order.service_id)
    data = {
        "order_id": str(order.id),
        "service_id": str(order.service_id),
        "service_title": service.title if service is not None else "",
        "state": order.state,
        "price_fen": order.price,
        "voucher_amount_fen": order.voucher_amount,
        "cash_amount_fen": order.cash_amount,
    }
    if order.cancel_reason:
        data["reason"] = order.cancel_reason
    notify(
        session,
        Kind.SERVICE_ORDER_UPDATED,
        to=Audience.of_orgs(*to),
        now=now,
        subject=Subject("service_order", order.id),
        data=data,
    )


async def get_order(
    session: AsyncSession, caller: Principal, order_id: uuid.UUID, *, lock: bool = False
) -> ServiceOrder:
    query = select(ServiceOrder).where(ServiceOrder.id == order_id)
    if lock:
        query = query.with_for_update()
    order = await session.scalar(query)
    if order is None:
        raise NotFound(f"service order {order_id} not found")
    caller.require_member_of(order.buyer_org_id, order.provider_org_id, operators_too=True)
    return order


async def list_orders(
    session: AsyncSession,
    caller: Principal,
    *,
    limit: int,
    after: uuid.UUID | None,
    side: OrderSide | None = None,
) -> list[ServiceOrder]:
    """The caller's orders, newest first: as buyer or provider, or on one ``side`` only."""
    bought = ServiceOrder.buyer_org_id == caller.org_id
    provided = ServiceOrder.provider_org_id == caller.org_id
    mine = {OrderSide.BUYER: bought, OrderSide.PROVIDER: provided}.get(side, bought | provided)  # type: ignore[arg-type]
    query = select(ServiceOrder).where(mine).order_by(ServiceOrder.id.desc()).limit(limit)
    if after is not None:
        query = query.where(ServiceOrder.id < after)
    return list((await session.scalars(query)).all())


async def order_names(
    session: AsyncSession, rows: list[ServiceOrder]
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """The titles of the orders' services and the names of their parties (two statements), so that
    a page names what was ordered and by whom rather than showing ids."""
    service_ids = {o.service_id for o in rows}
    org_ids = {o.buyer_org_id for o in rows} | {o.provider_org_id for o in rows}
    titles: dict[uuid.UUID, str] = {}
    if service_ids:
        query = select(Service.id, Service.title).where(Service.id.in_(service_ids))
        titles = {service_id: title for service_id, title in await session.execute(query)}
    return titles, await org_names(session, org_ids)


def _require_side(caller: Principal, org_id: uuid.UUID, who: str, action: str) -> None:
    caller.require_active_verified()
    if caller.org_id != org_id:
        raise Forbidden(f"only the {who} may {action} a service order")


async def _move(order: ServiceOrder, action: OrderAction, now: datetime) -> None:
    order.state = next_order_state(order.state, action).value
    order.updated_at = now


async def confirm(session: AsyncSession, caller: Principal, order_id: uuid.UUID, now: datetime) -> ServiceOrder:
    order = await get_order(session, caller, order_id, lock=True)
    _require_side(caller, order.provider_org_id, "provider", "confirm")
    await _move(order, OrderAction.CONFIRM, now)
    entries: list[EntrySpec] = []
    meta = {"order_id": str(order.id)}
    if order.voucher_amount > 0:
        assert order.program_id is not None
        program = await get_program(session, order.program_id, share=True)
        rules_of(program).require_active(now)
        if await is_revoked(session, program.id, order.provider_org_id):
            raise ProviderRevoked("the program has revoked this provider: it accepts no voucher orders")
        if not await move_wallet(session, program.id, order.buyer_org_id, held=order.voucher_amount):
            wallet = await session.get(VoucherWallet, (program.id, order.buyer_org_id), populate_existing=True)
            available = wallet.available if wallet else 0
            raise _short_of_vouchers(
                f"{available} vouchers of program {program.id} are available; the order needs {order.voucher_amount}",
                order.buyer_org_id,
                available,
                order.voucher_amount,
                field=None,
            )
        payer = await chart.open_account(session, chart.org_vouchers(order.buyer_org_id), now)
        payee = await chart.open_account(session, chart.org_vouchers_received(order.provider_org_id), now)
        entries.append(
            EntrySpec.transfer(
                payer.id,
                payee.id,
                order.voucher_amount,
                unit=chart.VCH,
                kind="voucher_order_hold",
                metadata={**meta, "program_id": str(program.id)},
                pending=True,
            )
        )
    if order.cash_amount > 0:
        payer = await chart.open_account(session, chart.org_cash(order.buyer_org_id), now)
        payee = await chart.open_account(session, chart.org_cash(order.provider_org_id), now)
        entries.append(
            EntrySpec.transfer(
                payer.id,
                payee.id,
                order.cash_amount,
                unit=chart.CNY,
                kind="service_order_hold",
                metadata=meta,
                pending=True,
            )
        )
    result = await ledger.post_batch(session, entries, atomic=True, now=now)
    held = [item.entry for item in result.results]
    for entry in held:
        assert entry is not None
        if entry.unit == chart.VCH:
            order.voucher_hold_id = entry.id
        else:
            order.cash_hold_id = entry.id
    await tell_order(session, order, now, to=(order.buyer_org_id,))
    return order


async def deliver(
    session: AsyncSession, caller: Principal, order_id: uuid.UUID, summary: str, now: datetime
) -> ServiceOrder:
    order = await get_order(session, caller, order_id, lock=True)
    _require_side(caller, order.provider_org_id, "provider", "deliver")
    await _move(order, OrderAction.DELIVER, now)
    order.results_summary = summary
    await tell_order(session, order, now, to=(order.buyer_org_id,))
    return order


async def add_spent(session: AsyncSession, program_id: uuid.UUID, amount: int) -> None:
    await session.execute(
        update(VoucherProgram)
        .where(VoucherProgram.id == program_id)
        .values(spent=VoucherProgram.spent + amount)
        .execution_options(synchronize_session=False)
    )


async def accept(session: AsyncSession, caller: Principal, order_id: uuid.UUID, now: datetime) -> ServiceOrder:
    order = await get_order(session, caller, order_id, lock=True)
    _require_side(caller, order.buyer_org_id, "enterprise that ordered", "accept")
    await _move(order, OrderAction.ACCEPT, now)
    for hold_id in (order.voucher_hold_id, order.cash_hold_id):
        if hold_id is not None:
            await ledger.post_hold(session, hold_id, now=now, description=f"service order {order.id} accepted")
    if order.voucher_amount > 0:
        assert order.program_id is not None
        moved = await move_wallet(
            session, order.program_id, order.buyer_org_id, held=-order.voucher_amount, spent=order.voucher_amount
        )
        assert moved, "a confirmed order's vouchers are held"
        await add_spent(session, order.program_id, order.voucher_amount)
    await tell_order(session, order, now, to=(order.provider_org_id,))
    return order


async def release(
    session: AsyncSession, order: ServiceOrder, reason: str, now: datetime, *, by_org: uuid.UUID | None = None
) -> None:
    """Cancel an order that is not accepted: both holds voided, the vouchers back in the wallet.
    The other side than ``by_org`` is told (both sides when the exchange or a program cancels it)."""
    confirmed = order.state in (OrderState.CONFIRMED.value, OrderState.DELIVERED.value)
    await _move(order, OrderAction.CANCEL, now)
    order.cancel_reason = reason[:500]
    order.cancelled_by_org_id = by_org
    sides = (order.buyer_org_id, order.provider_org_id)
    await tell_order(session, order, now, to=tuple(o for o in sides if o != by_org))
    if not confirmed:
        return
    for hold_id in (order.voucher_hold_id, order.cash_hold_id):
        if hold_id is not None:
            await ledger.void_hold(session, hold_id, now=now, description=f"service order {order.id} cancelled")
    if order.voucher_amount > 0:
        assert order.program_id is not None
        moved = await move_wallet(session, order.program_id, order.buyer_org_id, held=-order.voucher_amount)
        assert moved, "a confirmed order's vouchers are held"


async def cancel(
    session: AsyncSession,
    caller: Principal,
    order_id: uuid.UUID,
    reason: str,
    now: datetime,
    *,
    credit_context: credit.CreditContext,
) -> ServiceOrder:
    """Either side cancels an order not yet accepted. A provider that cancels an order it confirmed
    has missed a delivery: its credit score is recomputed (docs/credit.md)."""
    order = await get_order(session, caller, order_id, lock=True)
    caller.require_active_verified()
    caller.require_member_of(order.buyer_org_id, order.provider_org_id)
    confirmed = order.state in (OrderState.CONFIRMED.value, OrderState.DELIVERED.value)
    await release(session, order, reason, now, by_org=caller.org_id)
    if confirmed and caller.org_id == order.provider_org_id:
        await credit.recompute(session, credit_context, order.provider_org_id, now)
    return order
