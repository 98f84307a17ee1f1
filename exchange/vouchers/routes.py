"""HTTP controllers of vouchers: programs, grants, services, service orders, redemptions. Thin:
parse, call one service function in one transaction, shape the answer.

Every POST accepts an ``Idempotency-Key``; grants and fundings require one (SPEC §7)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.credit import CreditContext
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Config, Db, Now
from exchange.platform.keyed import REPLAY_DOC, IdempotencyKey, KeyedWrite, keyed
from exchange.vouchers import controls, orders, programs, redemptions
from exchange.vouchers.domain import Category, OrderSide
from exchange.vouchers.exports import program_report, voucher_report_export
from exchange.vouchers.models import FeePayment, VoucherGrant
from exchange.vouchers.printing import redemption_pdf
from exchange.vouchers.schemas import (
    CancelIn,
    DeliverIn,
    FeePaymentOut,
    FeePaymentPage,
    FundIn,
    GrantIn,
    GrantOut,
    GrantPage,
    OrderIn,
    OrderOut,
    OrderPage,
    ProgramIn,
    ProgramOut,
    ProgramPage,
    ProviderOut,
    ProviderPage,
    RedemptionIn,
    RedemptionOut,
    RejectIn,
    RelatedIn,
    RelatedOut,
    ReportOut,
    RevocationOut,
    RevocationPage,
    RevokeIn,
    ServiceIn,
    ServiceOut,
    ServicePage,
)
from kernel.exports import ExportOperation
from kernel.pagination import Cursor, Limit, by_id, id_after, keyset_page
from kernel.printing import PDF
from kernel.shapes import shaped
from listings import ListingsContext

Listings = NamedDependency[ListingsContext]
Credit = NamedDependency[CreditContext]


class VoucherProgramController(Controller):
    path = "/voucher-programs"
    tags = ["vouchers"]

    @post("/", security=BEARER, summary="Create a voucher program (government organisations)")
    async def create(
        self, data: JSONBody[ProgramIn], user: Caller, db: Db, clock: Now, settings: Config,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ProgramOut]:  # fmt: skip
        terms = shaped(
            programs.ProgramTerms,
            data,
            per_org_cap=data.per_org_cap if data.per_org_cap is not None else settings.voucher_per_org_cap_fen,
            coverage_bp=data.coverage_bp if data.coverage_bp is not None else settings.voucher_coverage_bp,
        )

        async def work(s: AsyncSession) -> ProgramOut:
            return programs.program_out(await programs.create_program(s, user, terms, clock.now()), clock.now())

        return await keyed(db, clock, user, idempotency_key, action="voucher-program", request=data, work=work)

    @get("/", summary="Voucher programs, newest first")
    async def list_programs(
        self,
        db: Db,
        clock: Now,
        owner_org_id: Annotated[uuid.UUID | None, QueryParameter(description="only this organisation's")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ProgramPage:
        async with db.read() as session:
            items = await programs.list_programs(
                session, limit=limit + 1, after=id_after(cursor), owner_org_id=owner_org_id
            )
        items, next_cursor = keyset_page(items, limit, by_id)
        now = clock.now()
        return ProgramPage([programs.program_out(p, now) for p in items], next_cursor)

    @get("/{program_id:uuid}", summary="A voucher program")
    async def show(self, program_id: FromPath[uuid.UUID], db: Db, clock: Now) -> ProgramOut:
        async with db.read() as session:
            return programs.program_out(await programs.get_program(session, program_id), clock.now())

    @post(
        "/{program_id:uuid}/fund",
        status_code=200,
        security=BEARER,
        summary="Record cash received (operators)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def fund(
        self, program_id: FromPath[uuid.UUID], data: JSONBody[FundIn], operator: Caller, db: Db, clock: Now,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ProgramOut]:  # fmt: skip
        async def work(s: AsyncSession) -> ProgramOut:
            program = await programs.fund(s, operator, program_id, data.amount, data.bank_reference, clock.now())
            return programs.program_out(program, clock.now())

        request = [str(program_id), data]
        return await keyed(
            db,
            clock,
            operator,
            idempotency_key,
            action="program-funding",
            request=request,
            work=work,
            status=200,
            required=True,
        )

    @post(
        "/{program_id:uuid}/grants",
        security=BEARER,
        summary="Grant vouchers to an enterprise (program admins)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def grant(
        self, program_id: FromPath[uuid.UUID], data: JSONBody[GrantIn], user: Caller, db: Db, clock: Now,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[GrantOut]:  # fmt: skip
        async def work(s: AsyncSession) -> GrantOut:
            record = await programs.grant(s, user, program_id, data.org_id, data.amount, data.note, clock.now())
            return shaped(GrantOut, record)

        request = [str(program_id), data]
        return await keyed(
            db, clock, user, idempotency_key, action="voucher-grant", request=request, work=work, required=True
        )

    @get("/{program_id:uuid}/grants", security=BEARER, summary="The program's grants (the program's org, operators)")
    async def list_grants(
        self, program_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> GrantPage:
        query = (
            select(VoucherGrant).where(VoucherGrant.program_id == program_id).order_by(VoucherGrant.id).limit(limit + 1)
        )
        if (after := id_after(cursor)) is not None:
            query = query.where(VoucherGrant.id > after)
        async with db.read() as session:
            program = await programs.get_program(session, program_id)
            user.require_member_of(program.owner_org_id, operators_too=True)
            items = list((await session.scalars(query)).all())
        items, next_cursor = keyset_page(items, limit, by_id)
        return GrantPage([shaped(GrantOut, g) for g in items], next_cursor)

    @post("/{program_id:uuid}/revoke-provider", security=BEARER, summary="Revoke a service provider (program admins)")
    async def revoke(
        self, program_id: FromPath[uuid.UUID], data: JSONBody[RevokeIn], user: Caller, db: Db, clock: Now,
        credit: Credit, idempotency_key: IdempotencyKey = None,
    ) -> Response[RevocationOut]:  # fmt: skip
        async def work(s: AsyncSession) -> RevocationOut:
            record = await controls.revoke_provider(
                s, user, program_id, data.provider_org_id, data.reason, clock.now(), credit_context=credit
            )
            return shaped(RevocationOut, record)

        return await keyed(
            db, clock, user, idempotency_key, action="provider-revocation", request=[str(program_id), data], work=work
        )

    @get(
        "/{program_id:uuid}/report",
        security=BEARER,
        summary="Program figures, per enterprise and per provider (JSON, or a spreadsheet with ?format)",
        operation_class=ExportOperation,
    )
    async def report(
        self,
        program_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        clock: Now,
        format: Annotated[
            Literal["json", "csv", "xlsx"],
            QueryParameter(description="json (default), csv (UTF-8 with a BOM, for Excel) or xlsx"),
        ] = "json",
    ) -> Response[ReportOut]:
        async with db.read() as session:
            report = await program_report(session, user, program_id, clock.now())
            if format != "json":
                return (await voucher_report_export(session, report, clock.now())).response(format)
        return Response(report)

    @get(
        "/{program_id:uuid}/fee-payments",
        security=BEARER,
        summary="Exchange fees and broker commissions paid with the program's vouchers",
        description="The program's organisation and operators see all; a broker's organisation those paid to it.",
    )
    async def fee_payments(
        self, program_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> FeePaymentPage:
        query = select(FeePayment).where(FeePayment.program_id == program_id).order_by(FeePayment.id).limit(limit + 1)
        if (after := id_after(cursor)) is not None:
            query = query.where(FeePayment.id > after)
        async with db.read() as session:
            program = await programs.get_program(session, program_id)
            if not (user.is_operator or user.org_id == program.owner_org_id):
                query = query.where(FeePayment.recipient_org_id == user.org_id)
            items = list((await session.scalars(query)).all())
        items, next_cursor = keyset_page(items, limit, by_id)
        return FeePaymentPage([shaped(FeePaymentOut, p) for p in items], next_cursor)


class CreditRecordController(Controller):
    path = "/voucher-revocations"
    tags = ["vouchers"]

    @get("/", security=BEARER, summary="Credit records of revoked providers (government organisations, operators)")
    async def list_records(
        self,
        user: Caller,
        db: Db,
        provider_org_id: Annotated[uuid.UUID | None, QueryParameter(description="one provider's records")] = None,
    ) -> RevocationPage:
        async with db.read() as session:
            records = await controls.credit_records(session, user, provider_org_id)
        return RevocationPage([shaped(RevocationOut, r) for r in records])


class RelatedPartyController(Controller):
    path = "/related-parties"
    tags = ["vouchers"]

    @post("/", security=BEARER, summary="Declare the caller's organisation related to another")
    async def declare(
        self, data: JSONBody[RelatedIn], user: Caller, db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[RelatedOut]:
        async def work(s: AsyncSession) -> RelatedOut:
            return RelatedOut.of(await programs.declare_related(s, user, data.org_id, data.note, clock.now()))

        return await keyed(db, clock, user, idempotency_key, action="related-party", request=data, work=work)


class ServiceController(Controller):
    path = "/services"
    tags = ["vouchers"]

    @post("/", security=BEARER, summary="Publish a service (service providers; the exchange for brokerage)")
    async def publish(
        self, data: JSONBody[ServiceIn], user: Caller, db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[ServiceOut]:
        async def work(s: AsyncSession) -> ServiceOut:
            service = await orders.publish_service(
                s, user, category=data.category, title=data.title, description=data.description, price=data.price,
                now=clock.now(),
            )  # fmt: skip
            return shaped(ServiceOut, service)

        return await keyed(db, clock, user, idempotency_key, action="service", request=data, work=work)

    @get("/", summary="The service catalogue, newest first")
    async def search(
        self,
        db: Db,
        category: Annotated[Category | None, QueryParameter(description="only this category")] = None,
        provider_id: Annotated[uuid.UUID | None, QueryParameter(description="only this provider")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ServicePage:
        async with db.read() as session:
            items = await orders.list_services(
                session, category=category, provider_id=provider_id, limit=limit + 1, after=id_after(cursor)
            )
        items, next_cursor = keyset_page(items, limit, by_id)
        return ServicePage([shaped(ServiceOut, s) for s in items], next_cursor)

    @get("/{service_id:uuid}", summary="A service")
    async def show(self, service_id: FromPath[uuid.UUID], db: Db) -> ServiceOut:
        async with db.read() as session:
            return shaped(ServiceOut, await orders.get_service(session, service_id))


class ServiceProviderController(Controller):
    path = "/service-providers"
    tags = ["vouchers"]

    @get("/", summary="Service providers' public records: services, completed orders, programs that revoked them")
    async def list_providers(self, db: Db, limit: Limit = 20, cursor: Cursor = None) -> ProviderPage:
        async with db.read() as session:
            items = await orders.list_providers(session, limit=limit + 1, after=id_after(cursor))
        items, next_cursor = keyset_page(items, limit, lambda p: {"id": str(p.org_id)})
        return ProviderPage([shaped(ProviderOut, p) for p in items], next_cursor)


class ServiceOrderController(Controller):
    path = "/service-orders"
    tags = ["vouchers"]
    security = BEARER

    @post("/", summary="Order a service, paying up to the program's coverage with vouchers (enterprises)")
    async def place(
        self, data: JSONBody[OrderIn], user: Caller, db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[OrderOut]:
        async def work(s: AsyncSession) -> OrderOut:
            order = await orders.place_order(
                s, user, service_id=data.service_id, voucher_amount=data.voucher_amount, program_id=data.program_id,
                now=clock.now(),
            )  # fmt: skip
            return shaped(OrderOut, order)

        return await keyed(db, clock, user, idempotency_key, action="service-order", request=data, work=work)

    @get("/", summary="The caller's service orders (as buyer or provider), newest first")
    async def mine(
        self,
        user: Caller,
        db: Db,
        side: Annotated[OrderSide | None, QueryParameter(description="only the orders on this side")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> OrderPage:
        async with db.read() as session:
            items = await orders.list_orders(session, user, limit=limit + 1, after=id_after(cursor), side=side)
        items, next_cursor = keyset_page(items, limit, by_id)
        return OrderPage([shaped(OrderOut, o) for o in items], next_cursor)

    @get("/{order_id:uuid}", summary="A service order (its parties and operators)")
    async def show(self, order_id: FromPath[uuid.UUID], user: Caller, db: Db) -> OrderOut:
        async with db.read() as session:
            return shaped(OrderOut, await orders.get_order(session, user, order_id))

    @post("/{order_id:uuid}/confirm", status_code=200, summary="Confirm: VCH and CNY holds (the provider)")
    async def confirm(
        self, order_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[OrderOut]:
        async def work(s: AsyncSession) -> OrderOut:
            return shaped(OrderOut, await orders.confirm(s, user, order_id, clock.now()))

        return await keyed(
            db, clock, user, idempotency_key, action="order-confirm", request=str(order_id), work=work, status=200
        )

    @post("/{order_id:uuid}/deliver", status_code=200, summary="Deliver with a summary of results (the provider)")
    async def deliver(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[DeliverIn], user: Caller, db: Db, clock: Now,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[OrderOut]:  # fmt: skip
        async def work(s: AsyncSession) -> OrderOut:
            return shaped(OrderOut, await orders.deliver(s, user, order_id, data.results_summary, clock.now()))

        request = [str(order_id), data]
        return await keyed(
            db, clock, user, idempotency_key, action="order-delivery", request=request, work=work, status=200
        )

    @post(
        "/{order_id:uuid}/accept", status_code=200, summary="Accept: both holds post to the provider (the enterprise)"
    )
    async def accept(
        self, order_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[OrderOut]:
        async def work(s: AsyncSession) -> OrderOut:
            return shaped(OrderOut, await orders.accept(s, user, order_id, clock.now()))

        return await keyed(
            db, clock, user, idempotency_key, action="order-acceptance", request=str(order_id), work=work, status=200
        )

    @post("/{order_id:uuid}/cancel", status_code=200, summary="Cancel before acceptance: both holds voided")
    async def cancel(
        self, order_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, credit: Credit,
        data: JSONBody[CancelIn | None] = None, idempotency_key: IdempotencyKey = None,
    ) -> Response[OrderOut]:  # fmt: skip
        reason = data.reason if data else ""

        async def work(s: AsyncSession) -> OrderOut:
            return shaped(OrderOut, await orders.cancel(s, user, order_id, reason, clock.now(), credit_context=credit))

        request = [str(order_id), reason]
        return await keyed(
            db, clock, user, idempotency_key, action="order-cancellation", request=request, work=work, status=200
        )


class RedemptionController(Controller):
    path = "/redemptions"
    tags = ["vouchers"]
    security = BEARER

    @post("/", summary="Claim cash for accepted orders; opens a voucher_redemption notice (providers)")
    async def claim(
        self, data: JSONBody[RedemptionIn], user: Caller, db: Db, clock: Now, listings: Listings,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:  # fmt: skip
        async def work(s: AsyncSession) -> RedemptionOut:
            return shaped(
                RedemptionOut,
                await redemptions.claim(
                    s, listings, user, data.order_ids, clock.now(), fee_payment_ids=data.fee_payment_ids
                ),
            )

        return await keyed(db, clock, user, idempotency_key, action="redemption", request=data, work=work)

    @get("/{redemption_id:uuid}", summary="A redemption claim (its provider, the program, operators)")
    async def show(self, redemption_id: FromPath[uuid.UUID], user: Caller, db: Db) -> RedemptionOut:
        async with db.read() as session:
            return shaped(RedemptionOut, await redemptions.visible_redemption(session, user, redemption_id))

    @get(
        "/{redemption_id:uuid}/pdf",
        media_type=PDF,
        summary="A redemption printed as PDF, with its signed notice and a QR code of the notice's page",
    )
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        redemption_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        clock: Now,
        listings: Listings,
    ) -> Response[bytes]:
        return await redemption_pdf(request, db, user, listings, redemption_id, clock.now())

    @post("/{redemption_id:uuid}/approve", status_code=200, summary="Approve after the notice closed (program admins)")
    async def approve(
        self, redemption_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:  # fmt: skip
        async def work(s: AsyncSession) -> RedemptionOut:
            return shaped(RedemptionOut, await redemptions.approve(s, user, redemption_id, clock.now()))

        return await keyed(
            db,
            clock,
            user,
            idempotency_key,
            action="redemption-approval",
            request=str(redemption_id),
            work=work,
            status=200,
        )

    @post("/{redemption_id:uuid}/reject", status_code=200, summary="Reject with a reason (program admins)")
    async def reject(
        self, redemption_id: FromPath[uuid.UUID], data: JSONBody[RejectIn], user: Caller, db: Db, clock: Now,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:  # fmt: skip
        async def work(s: AsyncSession) -> RedemptionOut:
            return shaped(RedemptionOut, await redemptions.reject(s, user, redemption_id, data.reason, clock.now()))

        request = [str(redemption_id), data]
        return await keyed(
            db, clock, user, idempotency_key, action="redemption-rejection", request=request, work=work, status=200
        )


ROUTE_HANDLERS = [
    VoucherProgramController,
    CreditRecordController,
    RelatedPartyController,
    ServiceController,
    ServiceProviderController,
    ServiceOrderController,
    RedemptionController,
]
