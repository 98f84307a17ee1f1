"""Redemption (兑付): a provider claims cash for accepted orders; a public ``voucher_redemption``
notice runs; the program admin approves once it closed (VCH retired, CNY paid from the program's
funding) or rejects. An order belongs to at most one open or approved claim."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties.domain import OrgStatus, Principal
from exchange.parties.models import Org
from exchange.platform.outbox import OPERATORS, Audience, Kind, Subject, notify
from exchange.vouchers.domain import (
    OPEN_REDEMPTION_STATES,
    REDEMPTIONS,
    NoticeStillOpen,
    OrderAlreadyClaimed,
    OrderState,
    ProviderRevoked,
    RedemptionAction,
    RedemptionKind,
    RedemptionState,
    VoucherRuleBroken,
    next_redemption_state,
)
from exchange.vouchers.models import FeePayment, Redemption, ServiceOrder, VoucherProgram
from exchange.vouchers.orders import is_revoked
from exchange.vouchers.programs import get_program, require_program_admin
from kernel.errors import NotFound, OrgSuspended, found
from kernel.time import rfc3339
from listings import (
    ListingsContext,
    Notice,
    NoticeHandler,
    NoticeKind,
    Objection,
    cancel_notice,
    get_notice,
    open_notice,
)

SUBJECT = "voucher_redemption"
MAX_ORDERS = 200


class InvalidClaim(VoucherRuleBroken):
    problem_type = "invalid-redemption"
    title = "The redemption claim lists orders that cannot be redeemed together"


async def claim(
    session: AsyncSession,
    ctx: ListingsContext,
    caller: Principal,
    order_ids: list[uuid.UUID],
    now: datetime,
    fee_payment_ids: list[uuid.UUID] | None = None,
) -> Redemption:
    """A provider's claim for accepted service orders, or for the broker commissions it was paid with
    vouchers; or the exchange's for fees paid with vouchers. Fee payments: ``fee_payment_ids``."""
    caller.require_active_verified()
    if fee_payment_ids:
        if order_ids:
            raise InvalidClaim("a claim lists service orders or exchange fee payments, not both", field="order_ids")
        return await _claim_fees(session, ctx, caller, fee_payment_ids, now)
    wanted = sorted(set(order_ids), key=str)
    if not wanted or len(wanted) > MAX_ORDERS:
        raise InvalidClaim(f"a claim lists 1 to {MAX_ORDERS} service orders", field="order_ids")
    orders = list(
        (
            await session.scalars(
                select(ServiceOrder).where(ServiceOrder.id.in_(wanted)).order_by(ServiceOrder.id).with_for_update()
            )
        ).all()
    )
    found = {o.id for o in orders}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound(f"service orders not found: {', '.join(missing)}", field="order_ids")
    for order in orders:
        if order.provider_org_id != caller.org_id:
            raise InvalidClaim(f"order {order.id} was not delivered by your organisation", field="order_ids")
        if order.state != OrderState.ACCEPTED.value or order.voucher_amount == 0 or order.program_id is None:
            raise InvalidClaim(f"order {order.id} is not an accepted order paid with vouchers", field="order_ids")
        if order.redeemed or order.redemption_id is not None:
            raise OrderAlreadyClaimed(f"order {order.id} is already in a redemption claim", field="order_ids")
        if order.revoked:
            raise ProviderRevoked(f"the vouchers of order {order.id} were revoked", field="order_ids")
    program = await _one_program(session, {o.program_id for o in orders}, "order_ids")
    if await is_revoked(session, program.id, caller.org_id):
        raise ProviderRevoked("the program has revoked your organisation")
    redemption = await _open(
        session,
        ctx,
        caller,
        program,
        RedemptionKind.SERVICE_ORDERS,
        [(o.id, o.voucher_amount) for o in orders],
        [
            {"id": str(o.id), "category": o.category, "price": o.price, "voucher_amount": o.voucher_amount}
            for o in orders
        ],
        now,
    )
    for order in orders:
        order.redemption_id = redemption.id
    return redemption


async def _one_program(session: AsyncSession, program_ids: set[uuid.UUID | None], field: str) -> VoucherProgram:
    if len(program_ids) != 1 or None in program_ids:
        raise InvalidClaim("a claim lists vouchers of one program", field=field)
    return await get_program(session, program_ids.pop(), share=True)  # type: ignore[arg-type]


async def _claim_fees(
    session: AsyncSession, ctx: ListingsContext, caller: Principal, ids: list[uuid.UUID], now: datetime
) -> Redemption:
    # The exchange claims its own fees' vouchers; a service provider the commissions paid to it.
    kind = RedemptionKind.EXCHANGE_FEES if caller.is_operator else RedemptionKind.COMMISSIONS
    recipient = None if caller.is_operator else caller.org_id
    wanted = sorted(set(ids), key=str)
    if len(wanted) > MAX_ORDERS:
        raise InvalidClaim(f"a claim lists 1 to {MAX_ORDERS} fee payments", field="fee_payment_ids")
    payments = list(
        (
            await session.scalars(
                select(FeePayment).where(FeePayment.id.in_(wanted)).order_by(FeePayment.id).with_for_update()
            )
        ).all()
    )
    missing = sorted({str(i) for i in wanted} - {str(p.id) for p in payments})
    if missing:
        raise NotFound(f"fee payments not found: {', '.join(missing)}", field="fee_payment_ids")
    for payment in payments:
        if payment.recipient_org_id is None and recipient is not None:
            caller.require_operator()  # the exchange's own fee: operators claim it
        if payment.recipient_org_id != recipient:
            raise InvalidClaim(f"fee payment {payment.id} was not paid to your organisation", field="fee_payment_ids")
        if payment.redeemed or payment.redemption_id is not None:
            raise OrderAlreadyClaimed(
                f"fee payment {payment.id} is already in a redemption claim", field="fee_payment_ids"
            )
    program = await _one_program(session, {p.program_id for p in payments}, "fee_payment_ids")
    if recipient is not None and await is_revoked(session, program.id, recipient):
        raise ProviderRevoked("the program has revoked your organisation")
    redemption = await _open(
        session,
        ctx,
        caller,
        program,
        kind,
        [(p.id, p.amount) for p in payments],
        [{"id": str(p.id), "deal_id": str(p.deal_id), "fee": p.fee, "voucher_amount": p.amount} for p in payments],
        now,
    )
    for payment in payments:
        payment.redemption_id = redemption.id
    return redemption


async def _open(
    session: AsyncSession,
    ctx: ListingsContext,
    caller: Principal,
    program: VoucherProgram,
    kind: RedemptionKind,
    items: list[tuple[uuid.UUID, int]],
    published: list[dict[str, object]],
    now: datetime,
) -> Redemption:
    """The claim and its public notice."""
    amount = sum(value for _, value in items)
    ids = [str(item_id) for item_id, _ in items]
    redemption = Redemption(
        program_id=program.id,
        provider_org_id=caller.org_id,
        amount=amount,
        kind=kind.value,
        order_ids=ids if kind is RedemptionKind.SERVICE_ORDERS else [],
        fee_payment_ids=[] if kind is RedemptionKind.SERVICE_ORDERS else ids,
        state=REDEMPTIONS.initial.value,
        reason="",
        created_by=caller.user_id,
        created_at=now,
    )
    session.add(redemption)
    await session.flush()
    notice = await open_notice(
        session,
        ctx,
        kind=NoticeKind.VOUCHER_REDEMPTION,
        subject_type=SUBJECT,
        subject_id=redemption.id,
        title=f"创新券兑付公示: {caller.org_name}"[:200],
        body={
            "program": {"id": str(program.id), "name": program.name},
            "provider": {"id": str(caller.org_id), "name": caller.org_name},
            "amount": amount,
            kind.value: published,
        },
        now=now,
    )
    redemption.notice_id = notice.id
    return redemption


async def get_redemption(session: AsyncSession, redemption_id: uuid.UUID, *, lock: bool = False) -> Redemption:
    query = select(Redemption).where(Redemption.id == redemption_id)
    if lock:
        query = query.with_for_update()
    return found(await session.scalar(query), NotFound(f"redemption {redemption_id} not found"))


async def visible_redemption(session: AsyncSession, caller: Principal, redemption_id: uuid.UUID) -> Redemption:
    redemption = await get_redemption(session, redemption_id)
    program = await get_program(session, redemption.program_id)
    caller.require_member_of(redemption.provider_org_id, program.owner_org_id, operators_too=True)
    return redemption


async def list_redemptions(
    session: AsyncSession,
    *,
    provider_org_id: uuid.UUID | None = None,
    program_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[Redemption]:
    """Claims, newest first: a provider's own (its workspace) or a program's (its administrators')."""
    query = select(Redemption).order_by(Redemption.created_at.desc(), Redemption.id.desc()).limit(limit)
    if provider_org_id is not None:
        query = query.where(Redemption.provider_org_id == provider_org_id)
    if program_id is not None:
        query = query.where(Redemption.program_id == program_id)
    return list((await session.scalars(query)).all())


async def _release_orders(session: AsyncSession, redemption: Redemption) -> None:
    for table in (ServiceOrder, FeePayment):
        await session.execute(
            update(table)
            .where(table.redemption_id == redemption.id)
            .values(redemption_id=None)
            .execution_options(synchronize_session=False)
        )


async def approve(session: AsyncSession, caller: Principal, redemption_id: uuid.UUID, now: datetime) -> Redemption:
    redemption = await get_redemption(session, redemption_id, lock=True)
    program = await get_program(session, redemption.program_id, lock=True)
    require_program_admin(caller, program)
    if REDEMPTIONS.allows(redemption.state, RedemptionAction.NOTICE_CLOSED):
        raise NoticeStillOpen(
            "the redemption's public notice has not closed (or an objection is pending)",
            state=redemption.state,
            action=RedemptionAction.APPROVE.value,
        )
    approved = next_redemption_state(redemption.state, RedemptionAction.APPROVE)
    provider = await session.get(Org, redemption.provider_org_id)
    if provider is None or provider.status != OrgStatus.ACTIVE.value:
        raise OrgSuspended(f"organisation {redemption.provider_org_id} is suspended: it cannot be paid")
    if redemption.kind == RedemptionKind.EXCHANGE_FEES.value:
        # The exchange's brokerage fee: the vouchers it took are paid into its fee revenue.
        received_spec, cash_spec = chart.EXCHANGE_VOUCHERS_RECEIVED, chart.EXCHANGE_FEES
    else:
        received_spec = chart.org_vouchers_received(redemption.provider_org_id)
        cash_spec = chart.org_cash(redemption.provider_org_id)
    meta = {"redemption_id": str(redemption.id), "program_id": str(program.id)}
    retired = (received_spec, chart.program_issuance(program.id))
    why = "vouchers retired on redemption"
    await chart.move(
        session, *retired, redemption.amount, kind="voucher_retirement", now=now, metadata=meta, description=why
    )
    # The program's funding may be short: the ledger refuses with 409 insufficient-funds.
    paid = (chart.program_funding(program.id), cash_spec)
    why = "voucher redemption paid from program funding"
    await chart.move(
        session, *paid, redemption.amount, kind="voucher_redemption", now=now, metadata=meta, description=why
    )
    redemption.state = approved.value
    redemption.decided_by = caller.user_id
    redemption.decided_at = now
    for table in (ServiceOrder, FeePayment):
        await session.execute(
            update(table)
            .where(table.redemption_id == redemption.id)
            .values(redeemed=True)
            .execution_options(synchronize_session=False)
        )
    program.redeemed += redemption.amount
    holders = [
        *(await session.scalars(select(ServiceOrder.buyer_org_id).where(ServiceOrder.redemption_id == redemption.id))),
        *(await session.scalars(select(FeePayment.buyer_org_id).where(FeePayment.redemption_id == redemption.id))),
    ]
    data = {
        "redemption_id": str(redemption.id),
        "program_id": str(program.id),
        "program_name": program.name,
        "kind": redemption.kind,
        "amount_fen": redemption.amount,
    }
    to = Audience.of_orgs(redemption.provider_org_id, *sorted(set(holders), key=str))
    notify(session, Kind.VOUCHER_REDEEMED, to=to, now=now, subject=Subject(SUBJECT, redemption.id), data=data)
    return redemption


async def end(
    session: AsyncSession, redemption: Redemption, reason: str, now: datetime, decided_by: uuid.UUID | None
) -> None:
    """Reject an open claim: its orders may be claimed again, its notice (if still open) ends."""
    redemption.state = next_redemption_state(redemption.state, RedemptionAction.REJECT).value
    redemption.reason = reason[:2000]
    redemption.decided_by = decided_by
    redemption.decided_at = now
    await _release_orders(session, redemption)
    if redemption.notice_id is not None:
        await cancel_notice(session, await get_notice(session, redemption.notice_id), reason, now)


async def reject(
    session: AsyncSession, caller: Principal, redemption_id: uuid.UUID, reason: str, now: datetime
) -> Redemption:
    redemption = await get_redemption(session, redemption_id, lock=True)
    program = await get_program(session, redemption.program_id)
    require_program_admin(caller, program)
    await end(session, redemption, reason, now, caller.user_id)
    return redemption


class RedemptionNotices(NoticeHandler):
    """What the end of a ``voucher_redemption`` notice means for its claim."""

    async def _claim(self, session: AsyncSession, notice: Notice) -> Redemption | None:
        if notice.subject_type != SUBJECT:
            return None
        redemption = await session.get(Redemption, notice.subject_id)
        if redemption is None or RedemptionState(redemption.state) not in OPEN_REDEMPTION_STATES:
            return None
        return redemption

    async def on_closed(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        redemption = await self._claim(session, notice)
        if redemption is not None:
            redemption.state = next_redemption_state(redemption.state, RedemptionAction.NOTICE_CLOSED).value

    async def on_suspended(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        redemption = await self._claim(session, notice)
        if redemption is not None:
            redemption.state = next_redemption_state(redemption.state, RedemptionAction.SUSPEND).value

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        redemption = await self._claim(session, notice)
        if redemption is not None:
            await end(session, redemption, f"objection upheld: {objection.resolution_note}", now, None)

    async def on_objection_filed(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        """The provider that claimed and the objector are told; operators have one to resolve."""
        data = await self._about_objection(session, notice, objection)
        if data is None:
            return
        to = Audience(orgs=(uuid.UUID(data["provider_org_id"]),), users=(objection.objector_user_id,))
        subject = Subject("objection", objection.id)
        notify(session, Kind.OBJECTION_FILED, to=to, now=now, subject=subject, data=data)
        ops = {**data, "objector_org_id": str(objection.objector_org_id)}
        notify(session, Kind.OBJECTION_TO_RESOLVE, to=OPERATORS, now=now, subject=subject, data=ops)

    def answering_side(self, org_id: uuid.UUID) -> ColumnElement[bool]:
        """The provider that claimed answers objections to its redemption's notice (it is the
        party the claim concerns, as a listing's seller is)."""
        claimed = select(Redemption.id).where(Redemption.provider_org_id == org_id)
        return and_(Notice.subject_type == SUBJECT, Notice.subject_id.in_(claimed))

    async def on_objection_resolved(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        data = await self._about_objection(session, notice, objection)
        if data is None:
            return
        data.update({"decision": objection.status, "note": objection.resolution_note})
        to = Audience(orgs=(uuid.UUID(data["provider_org_id"]),), users=(objection.objector_user_id,))
        notify(session, Kind.OBJECTION_RESOLVED, to=to, now=now, subject=Subject("objection", objection.id), data=data)

    async def _about_objection(
        self, session: AsyncSession, notice: Notice, objection: Objection
    ) -> dict[str, Any] | None:
        if notice.subject_type != SUBJECT:
            return None
        redemption = await session.get(Redemption, notice.subject_id)
        if redemption is None:
            return None
        return {
            "notice_id": str(notice.id),
            "notice_kind": notice.kind,
            "notice_title": notice.title,
            "subject_type": notice.subject_type,
            "subject_id": str(notice.subject_id),
            "objection_id": str(objection.id),
            "reason": objection.reason,
            "closes_at": rfc3339(notice.closes_at),
            "provider_org_id": str(redemption.provider_org_id),
        }
