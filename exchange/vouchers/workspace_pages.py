"""The voucher workspaces: a service provider's services and orders, an enterprise's vouchers and
service orders, a program administrator's programs.

Each action calls the service function the JSON route calls (``orders.publish_service``,
``orders.place_order``, ``programs.grant``, ``redemptions.claim``…), under the same idempotency
store and action names as the API (``exchange.platform.keyed``): every form carries a key made
with the page, so a double click is one order, one grant, one claim. Without scripts an action
answers 303 to its page; with htmx it answers the page's work area (``#work``) in place, and a
refusal (a grant over the cap, an order by a non-enterprise) is the API's problem, in Chinese,
in the form's own answer box.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import credit as credit_module
from exchange.credit import CreditContext
from exchange.parties import service as parties
from exchange.parties.domain import OrgKind, OrgStatus, Principal
from exchange.parties.http import Caller
from exchange.platform.http import Config, Db, Now
from exchange.platform.keyed import Outcome, idempotent, key_scope, required_key
from exchange.vouchers import controls, orders, programs, redemptions
from exchange.vouchers.credit_facts import order_facts
from exchange.vouchers.domain import ORDERS, Category, OrderAction, OrderSide, OrderState, RedemptionState
from exchange.vouchers.exports import program_report, voucher_report_export
from exchange.vouchers.programs import ProgramTerms
from exchange.vouchers.routes import Listings
from exchange.vouchers.schemas import (
    DeliverIn,
    GrantIn,
    GrantOut,
    OrderIn,
    OrderOut,
    ProgramIn,
    ProgramOut,
    RedemptionIn,
    RedemptionOut,
    RejectIn,
    RevocationOut,
    RevokeIn,
    ServiceIn,
    ServiceOut,
)
from exchange.web.formats import fen_of_yuan
from kernel.exports import ExportFormat
from kernel.page_actions import WORK_AREA, checked, in_work_area, is_htmx, refused
from kernel.shapes import shaped
from listings.workdays import BEIJING

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
LIST_SIZE = 100  # a workspace list: the latest hundred (the API pages further)

# The words of the forms' fields, for a refusal that names the field it is about.
FIELD_WORDS = {
    "category": "服务类别",
    "title": "服务名称",
    "description": "服务说明",
    "price": "价格",
    "results_summary": "交付说明",
    "service_id": "服务",
    "voucher_amount": "创新券支付金额",
    "program_id": "创新券项目",
    "name": "项目名称",
    "year": "年度",
    "budget": "总预算",
    "per_org_cap": "每家企业上限",
    "coverage_bp": "创新券支付比例",
    "categories": "可购买的服务",
    "valid_from": "有效期起",
    "valid_until": "有效期止",
    "org_id": "企业",
    "amount": "金额",
    "note": "备注",
    "provider_org_id": "服务机构",
    "reason": "理由",
    "order_ids": "订单",
}


def optional_uuid(text: str, field: str) -> uuid.UUID | None:
    if not text.strip():
        return None
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise refused(f"{text!r} is not an id", field, FIELD_WORDS) from None


def beijing_day(text: str, field: str, *, end: bool = False) -> datetime:
    """A day typed on a form as a moment: its first instant in Beijing, or (``end``) the first
    instant of the next day, so that a validity "until 2027-12-31" covers that whole day."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise refused(f"{text!r} is not a date (YYYY-MM-DD)", field, FIELD_WORDS) from None
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=BEIJING)


def basis_points(percent: str) -> int | None:
    """A share typed in per cent ("50", "37.5") as basis points; blank: the exchange's default."""
    if not percent.strip():
        return None
    try:
        value = Decimal(percent.strip().rstrip("%"))
    except InvalidOperation:
        raise refused(f"{percent!r} is not a percentage", "coverage_bp", FIELD_WORDS) from None
    bp = value * 100
    if bp != bp.to_integral_value():
        raise refused("a percentage has at most two decimals", "coverage_bp", FIELD_WORDS)
    return int(bp)


def new_form_key() -> str:
    """A fresh idempotency key for one form: a resubmission of the same form is the same act."""
    return uuid.uuid4().hex


async def once(
    db: Db,
    clock: Now,
    caller: Principal,
    key: str,
    *,
    action: str,
    request: Any,
    work: Callable[[AsyncSession], Awaitable[Any]],
    required: bool = False,
    status: int = 200,
) -> Any:
    """The API's keyed write (``keyed``), answered as the body: the struct the work returned, or
    the stored answer's JSON on a replay. ``status`` is the API's (201 for what it creates), so an
    answer stored here replays alike through the API."""
    given = required_key(key) if required or key else None

    async def run(session: AsyncSession) -> Outcome:
        return Outcome(status, await work(session))

    outcome = await idempotent(
        db, scope=key_scope(caller), key=given, request=[action, request], now=clock.now, work=run
    )
    return outcome.body


def id_of(body: Any) -> uuid.UUID:
    return uuid.UUID(str(body["id"])) if isinstance(body, dict) else body.id


def page_context(tab: str, **values: Any) -> dict[str, Any]:
    return {"section": "workspace", "workspace_tab": tab, "new_key": new_form_key, **values}


# -- service providers: services ------------------------------------------------------------------


class ServiceForm(msgspec.Struct):
    key: str = ""
    category: str = ""
    title: str = ""
    description: str = ""
    price: str = ""


async def services_context(db: Db, user: Principal, done: str = "") -> dict[str, Any]:
    user.require_kind(OrgKind.SERVICE_PROVIDER, OrgKind.OPERATOR)
    async with db.read() as session:
        rows = await orders.list_services(session, category=None, provider_id=user.org_id, limit=LIST_SIZE, after=None)
    return page_context(
        "services",
        services=[shaped(ServiceOut, s) for s in rows],
        categories=list(Category),
        done=done,
    )


@get("/workspace/services", include_in_schema=False, name="workspace-services")
async def services_page(user: Caller, db: Db) -> Template:
    return Template("vouchers/workspace/services.html", context=await services_context(db, user))


@post("/workspace/services", include_in_schema=False, status_code=200)
async def publish_service(
    request: Request[Any, Any, Any],
    data: Annotated[ServiceForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """``POST /api/v1/services``: verified providers publish; the API has no edit of a service."""
    if not data.category:
        raise refused("choose a category", "category", FIELD_WORDS)
    body = checked(
        ServiceIn,
        {"category": data.category, "title": data.title.strip(), "description": data.description.strip(),
         "price": fen_of_yuan(data.price, "price")},
        FIELD_WORDS,
    )  # fmt: skip

    async def work(s: AsyncSession) -> ServiceOut:
        service = await orders.publish_service(
            s, user, category=body.category, title=body.title, description=body.description, price=body.price,
            now=clock.now(),
        )  # fmt: skip
        return shaped(ServiceOut, service)

    await once(db, clock, user, data.key, action="service", request=body, work=work, status=201)
    context = await services_context(db, user, done="服务已发布，已出现在服务目录中。")
    return in_work_area(request, "/workspace/services", "vouchers/workspace/services_work.html", context)


# -- service orders: both parties -----------------------------------------------------------------


def order_row(order: Any, titles: dict[uuid.UUID, str], names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "order": shaped(OrderOut, order),
        "title": titles.get(order.service_id, ""),
        "buyer": names.get(order.buyer_org_id, ""),
        "provider": names.get(order.provider_org_id, ""),
    }


async def order_rows(session: AsyncSession, rows: list[Any]) -> list[dict[str, Any]]:
    titles, names = await orders.order_names(session, rows)
    return [order_row(o, titles, names) for o in rows]


async def orders_context(db: Db, user: Principal, done: str = "") -> dict[str, Any]:
    """Orders the caller's organisation received, the accepted voucher orders it may claim, and
    its claims with their public notices."""
    async with db.read() as session:
        rows = await orders.list_orders(session, user, limit=LIST_SIZE, after=None, side=OrderSide.PROVIDER)
        received = await order_rows(session, rows)
        claims = await redemptions.list_redemptions(session, provider_org_id=user.org_id, limit=LIST_SIZE)
        program_names = {p.id: p.name for p in await programs.programs_named(session, {c.program_id for c in claims})}
    claimable = [
        r
        for r in received
        if r["order"].state is OrderState.ACCEPTED
        and r["order"].voucher_amount > 0
        and r["order"].redemption_id is None
        and not r["order"].redeemed
        and not r["order"].revoked
    ]
    return page_context(
        "orders",
        received=received,
        claimable=claimable,
        claims=[{"claim": shaped(RedemptionOut, c), "program": program_names.get(c.program_id, "")} for c in claims],
        done=done,
    )


@get("/workspace/orders", include_in_schema=False, name="workspace-orders")
async def orders_page(user: Caller, db: Db) -> Template:
    return Template("vouchers/workspace/orders.html", context=await orders_context(db, user))


# What each side may do with an order in each state (the state machine says what is possible;
# the service says who may: the provider confirms and delivers, the enterprise accepts).
PROVIDER_ACTIONS = (OrderAction.CONFIRM, OrderAction.DELIVER, OrderAction.CANCEL)
BUYER_ACTIONS = (OrderAction.ACCEPT, OrderAction.CANCEL)


async def order_context(db: Db, user: Principal, clock: Now, order_id: uuid.UUID, done: str = "") -> dict[str, Any]:
    async with db.read() as session:
        order = await orders.get_order(session, user, order_id)
        (row,) = await order_rows(session, [order])
        claim = await redemptions.get_redemption(session, order.redemption_id) if order.redemption_id else None
        program = await programs.get_program(session, order.program_id) if order.program_id else None
        # The order's rating and complaints (exchange.credit): the client's forms, the provider's answer.
        credit_part = await credit_module.engagement_view(session, user, order_facts(order, row["title"]))
    side = (
        OrderSide.PROVIDER
        if order.provider_org_id == user.org_id
        else OrderSide.BUYER
        if order.buyer_org_id == user.org_id
        else None
    )
    mine = PROVIDER_ACTIONS if side is OrderSide.PROVIDER else BUYER_ACTIONS if side is OrderSide.BUYER else ()
    actions = [a.value for a in mine if ORDERS.allows(order.state, a)]
    claimable = (
        side is OrderSide.PROVIDER
        and order.state == OrderState.ACCEPTED.value
        and order.voucher_amount > 0
        and order.redemption_id is None
        and not order.redeemed
        and not order.revoked
    )
    return page_context(
        "orders" if side is OrderSide.PROVIDER else "my-vouchers",
        **row,
        side=side.value if side else "",
        actions=actions,
        claimable=claimable,
        claim=shaped(RedemptionOut, claim) if claim else None,
        program=programs.program_out(program, clock.now()) if program else None,
        done=done,
        credit=credit_part,
    )


@get("/workspace/orders/{order_id:uuid}", include_in_schema=False, name="workspace-order")
async def order_page(order_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Template:
    """One service order, for both its parties (and operators): its state, the price paid with
    vouchers and in cash, the delivery, the claim for redemption and its public notice."""
    return Template("vouchers/workspace/order.html", context=await order_context(db, user, clock, order_id))


class OrderStepForm(msgspec.Struct):
    key: str = ""
    results_summary: str = ""
    reason: str = ""


DONE = {
    "confirm": "订单已确认：创新券与现金已冻结，请按约定提供服务。",
    "deliver": "已提交交付，等待企业验收。",
    "accept": "已验收：创新券与现金已支付给服务机构。",
    "cancel": "订单已取消，冻结的创新券与现金已退回。",
}


@post("/workspace/orders/{order_id:uuid}/{step:str}", include_in_schema=False, status_code=200)
async def order_step(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    step: FromPath[str],
    data: Annotated[OrderStepForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
    credit: NamedDependency[CreditContext],
) -> Template | Redirect:
    """``POST /api/v1/service-orders/{id}/confirm|deliver|accept|cancel``: the same functions and
    idempotency actions. Cancelling a delivered order is how an enterprise disputes a delivery
    (the API has no other dispute): the holds are voided and the vouchers return."""
    request.state.action = f"order-{step}"
    now = clock.now()
    target = str(order_id)
    if step == "confirm":
        work = lambda s: _shaped_order(orders.confirm(s, user, order_id, now))  # noqa: E731
        await once(db, clock, user, data.key, action="order-confirm", request=target, work=work)
    elif step == "deliver":
        body = checked(DeliverIn, {"results_summary": data.results_summary.strip()}, FIELD_WORDS)
        work = lambda s: _shaped_order(orders.deliver(s, user, order_id, body.results_summary, now))  # noqa: E731
        await once(db, clock, user, data.key, action="order-delivery", request=[target, body], work=work)
    elif step == "accept":
        work = lambda s: _shaped_order(orders.accept(s, user, order_id, now))  # noqa: E731
        await once(db, clock, user, data.key, action="order-acceptance", request=target, work=work)
    elif step == "cancel":
        reason = data.reason.strip()[:500]
        work = lambda s: _shaped_order(orders.cancel(s, user, order_id, reason, now, credit_context=credit))  # noqa: E731
        await once(db, clock, user, data.key, action="order-cancellation", request=[target, reason], work=work)
    else:
        raise refused(f"{step!r} is not a step of a service order", None)
    context = await order_context(db, user, clock, order_id, done=DONE[step])
    return in_work_area(request, f"/workspace/orders/{order_id}", "vouchers/workspace/order_work.html", context)


async def _shaped_order(step: Awaitable[Any]) -> OrderOut:
    return shaped(OrderOut, await step)


class ClaimForm(msgspec.Struct):
    key: str = ""
    back: str = ""  # "order": the claim was made from the order's page
    order_ids: list[str] | str = []


@post("/workspace/redemptions", include_in_schema=False, status_code=200)
async def claim_redemption(
    request: Request[Any, Any, Any],
    data: Annotated[ClaimForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
    listings: Listings,
) -> Template | Redirect:
    """``POST /api/v1/redemptions``: the provider claims cash for accepted voucher orders; the
    claim's public notice (创新券兑付公示) opens at once."""
    request.state.action = "redemption"
    chosen = [data.order_ids] if isinstance(data.order_ids, str) else data.order_ids
    body = checked(RedemptionIn, {"order_ids": [i for i in chosen if i]}, FIELD_WORDS)

    async def work(s: AsyncSession) -> RedemptionOut:
        claim = await redemptions.claim(s, listings, user, body.order_ids, clock.now())
        return shaped(RedemptionOut, claim)

    await once(db, clock, user, data.key, action="redemption", request=body, work=work, status=201)
    done = "兑付申请已提交，创新券兑付公示已发布；公示期满后由项目管理部门审核支付。"
    if data.back == "order" and len(body.order_ids) == 1:  # claimed from the order's own page: answer there
        order_id = body.order_ids[0]
        context = await order_context(db, user, clock, order_id, done=done)
        return in_work_area(request, f"/workspace/orders/{order_id}", "vouchers/workspace/order_work.html", context)
    context = await orders_context(db, user, done=done)
    return in_work_area(request, "/workspace/orders", "vouchers/workspace/orders_work.html", context)


# -- enterprises: vouchers and the orders paid with them ----------------------------------------


async def vouchers_context(db: Db, user: Principal, clock: Now, done: str = "") -> dict[str, Any]:
    user.require_kind(OrgKind.ENTERPRISE)
    now = clock.now()
    async with db.read() as session:
        wallets = await programs.wallets_of(session, user.org_id)
        catalogue = await orders.list_services(session, category=None, provider_id=None, limit=LIST_SIZE, after=None)
        rows = await orders.list_orders(session, user, limit=LIST_SIZE, after=None, side=OrderSide.BUYER)
        bought = await order_rows(session, rows)
    return page_context(
        "my-vouchers",
        wallets=[
            {
                "program": programs.program_out(program, now),
                "granted": wallet.granted,
                "held": wallet.held,
                "spent": wallet.spent,
                "expired": wallet.expired,
                "available": wallet.available,
            }
            for wallet, program in wallets
        ],
        services=[shaped(ServiceOut, s) for s in catalogue],
        bought=bought,
        done=done,
    )


@get("/workspace/vouchers", include_in_schema=False, name="workspace-vouchers")
async def vouchers_page(user: Caller, db: Db, clock: Now) -> Template:
    return Template("vouchers/workspace/vouchers.html", context=await vouchers_context(db, user, clock))


class OrderForm(msgspec.Struct):
    key: str = ""
    service_id: str = ""
    voucher_amount: str = ""
    program_id: str = ""


@post("/workspace/vouchers/orders", include_in_schema=False, status_code=200)
async def place_order(
    request: Request[Any, Any, Any],
    data: Annotated[OrderForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """``POST /api/v1/service-orders``: an enterprise orders a service, paying up to the program's
    coverage with vouchers (blank: none) and the rest in cash at confirmation."""
    request.state.action = "voucher-order"
    service_id = optional_uuid(data.service_id, "service_id")
    if service_id is None:
        raise refused("choose a service", "service_id", FIELD_WORDS)
    voucher = fen_of_yuan(data.voucher_amount, "voucher_amount") if data.voucher_amount.strip() else 0
    body = checked(
        OrderIn,
        {"service_id": str(service_id), "voucher_amount": voucher,
         "program_id": str(p) if (p := optional_uuid(data.program_id, "program_id")) else None},
        FIELD_WORDS,
    )  # fmt: skip

    async def work(s: AsyncSession) -> OrderOut:
        order = await orders.place_order(
            s, user, service_id=body.service_id, voucher_amount=body.voucher_amount, program_id=body.program_id,
            now=clock.now(),
        )  # fmt: skip
        return shaped(OrderOut, order)

    placed = id_of(await once(db, clock, user, data.key, action="service-order", request=body, work=work, status=201))
    if not is_htmx(request):
        return Redirect(path=f"/workspace/orders/{placed}", status_code=303)
    context = await order_context(db, user, clock, placed, done="订单已提交，等待服务机构确认。")
    headers = {"HX-Push-Url": f"/workspace/orders/{placed}"}
    return Template(
        "vouchers/workspace/order_work.html",
        context=context,
        headers={**WORK_AREA, **headers},
    )


# -- program administrators -----------------------------------------------------------------------


async def programs_context(db: Db, user: Principal, clock: Now, done: str = "") -> dict[str, Any]:
    user.require_kind(OrgKind.GOVERNMENT)
    now = clock.now()
    async with db.read() as session:
        rows = await programs.list_programs(session, limit=LIST_SIZE, after=None, owner_org_id=user.org_id)
    return page_context(
        "programs",
        programs=[programs.program_out(p, now) for p in rows],
        categories=list(Category),
        year=now.astimezone(BEIJING).year,
        done=done,
    )


@get("/workspace/programs", include_in_schema=False, name="workspace-programs")
async def programs_page(user: Caller, db: Db, clock: Now) -> Template:
    return Template("vouchers/workspace/programs.html", context=await programs_context(db, user, clock))


class ProgramForm(msgspec.Struct):
    key: str = ""
    name: str = ""
    year: str = ""
    budget: str = ""
    per_org_cap: str = ""
    coverage: str = ""
    categories: list[str] | str = []
    valid_from: str = ""
    valid_until: str = ""


@post("/workspace/programs", include_in_schema=False, status_code=200)
async def create_program(
    request: Request[Any, Any, Any],
    data: Annotated[ProgramForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
    settings: Config,
) -> Template | Redirect:
    """``POST /api/v1/voucher-programs``: a government organisation's admin sets a program up; the
    validity runs from the first day's start to the last day's end, Beijing time."""
    request.state.action = "program"
    if not data.year.strip().isdigit():
        raise refused(f"{data.year!r} is not a year", "year", FIELD_WORDS)
    body = checked(
        ProgramIn,
        {
            "name": data.name.strip(),
            "year": int(data.year),
            "budget": fen_of_yuan(data.budget, "budget"),
            "categories": [data.categories] if isinstance(data.categories, str) else data.categories,
            "valid_from": beijing_day(data.valid_from, "valid_from").isoformat(),
            "valid_until": beijing_day(data.valid_until, "valid_until", end=True).isoformat(),
            "per_org_cap": fen_of_yuan(data.per_org_cap, "per_org_cap") if data.per_org_cap.strip() else None,
            "coverage_bp": basis_points(data.coverage),
        },
        FIELD_WORDS,
    )
    terms = shaped(
        ProgramTerms,
        body,
        per_org_cap=body.per_org_cap if body.per_org_cap is not None else settings.voucher_per_org_cap_fen,
        coverage_bp=body.coverage_bp if body.coverage_bp is not None else settings.voucher_coverage_bp,
    )

    async def work(s: AsyncSession) -> ProgramOut:
        return programs.program_out(await programs.create_program(s, user, terms, clock.now()), clock.now())

    created = id_of(
        await once(db, clock, user, data.key, action="voucher-program", request=body, work=work, status=201)
    )
    if not is_htmx(request):
        return Redirect(path=f"/workspace/programs/{created}", status_code=303)
    context = await program_context(db, user, clock, created, done="项目已设立：请发放创新券；资金到位由交易所登记。")
    headers = {"HX-Retarget": "#work", "HX-Reswap": "innerHTML", "HX-Push-Url": f"/workspace/programs/{created}"}
    return Template("vouchers/workspace/program_work.html", context=context, headers=headers)


async def program_context(db: Db, user: Principal, clock: Now, program_id: uuid.UUID, done: str = "") -> dict[str, Any]:
    """The program as its administrators (and operators) see it: the API's report, its grants,
    its claims for redemption with their public notices, and what may be granted or revoked."""
    now = clock.now()
    async with db.read() as session:
        report = await program_report(session, user, program_id, now)
        program, enterprises, providers = report.program, report.enterprises, report.providers
        grants = await programs.grants_of(session, program.id, limit=LIST_SIZE)
        claims = await redemptions.list_redemptions(session, program_id=program.id, limit=LIST_SIZE)
        eligible, _ = await parties.list_orgs(
            session, q=None, credit_code=None, status=OrgStatus.ACTIVE, verified=True, kind=OrgKind.ENTERPRISE,
            limit=LIST_SIZE, cursor=None,
        )  # fmt: skip
        revocations = await programs.revocations_of(session, program.id)
        catalogue = await orders.list_providers(session, limit=LIST_SIZE, after=None)
        ids = {e.org_id for e in enterprises} | {p.org_id for p in providers} | {g.org_id for g in grants}
        ids |= {c.provider_org_id for c in claims} | {r.provider_org_id for r in revocations}
        names = await programs.org_names(session, ids)
    revoked = {r.provider_org_id for r in revocations}
    return page_context(
        "programs",
        program=program,
        figures=report.figures,
        enterprises=enterprises,
        providers=providers,
        grants=[shaped(GrantOut, g) for g in grants],
        claims=[shaped(RedemptionOut, c) for c in claims],
        names=names,
        eligible=[{"id": o.id, "name": o.name} for o in eligible],
        revocations=[shaped(RevocationOut, r) for r in revocations],
        revocable=[{"id": p.org_id, "name": p.name} for p in catalogue if p.org_id not in revoked],
        open_states={s.value for s in (RedemptionState.NOTICED, RedemptionState.SUSPENDED)},
        done=done,
    )


@get("/workspace/programs/{program_id:uuid}", include_in_schema=False, name="workspace-program")
async def program_page(program_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Template:
    return Template("vouchers/workspace/program.html", context=await program_context(db, user, clock, program_id))


@get("/workspace/programs/{program_id:uuid}/report", include_in_schema=False, name="workspace-program-report")
async def program_report_download(
    program_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, format: FromQuery[ExportFormat]
) -> Response[bytes]:
    """The report as CSV or xlsx for the pages' session: the same file as
    ``GET /api/v1/voucher-programs/{id}/report?format=`` (a bearer token's route, which a page cannot link to)."""
    async with db.read() as session:
        report = await program_report(session, user, program_id, clock.now())
        return (await voucher_report_export(session, report, clock.now())).response(format)


class GrantForm(msgspec.Struct):
    key: str = ""
    org_id: str = ""
    amount: str = ""
    note: str = ""


@post("/workspace/programs/{program_id:uuid}/grants", include_in_schema=False, status_code=200)
async def grant(
    request: Request[Any, Any, Any],
    program_id: FromPath[uuid.UUID],
    data: Annotated[GrantForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """``POST /api/v1/voucher-programs/{id}/grants`` (its key required, as the API's): within the
    cap per enterprise and the budget, to verified enterprises."""
    request.state.action = "grant"
    org_id = optional_uuid(data.org_id, "org_id")
    if org_id is None:
        raise refused("choose an enterprise", "org_id", FIELD_WORDS)
    body = checked(
        GrantIn,
        {"org_id": str(org_id), "amount": fen_of_yuan(data.amount, "amount"), "note": data.note.strip()},
        FIELD_WORDS,
    )

    async def work(s: AsyncSession) -> GrantOut:
        record = await programs.grant(s, user, program_id, body.org_id, body.amount, body.note, clock.now())
        return shaped(GrantOut, record)

    await once(
        db,
        clock,
        user,
        data.key,
        action="voucher-grant",
        request=[str(program_id), body],
        work=work,
        required=True,
        status=201,
    )
    context = await program_context(db, user, clock, program_id, done="创新券已发放，企业将收到通知。")
    return in_work_area(request, f"/workspace/programs/{program_id}", "vouchers/workspace/program_work.html", context)


class RevokeForm(msgspec.Struct):
    key: str = ""
    provider_org_id: str = ""
    reason: str = ""


@post("/workspace/programs/{program_id:uuid}/revoke-provider", include_in_schema=False, status_code=200)
async def revoke_provider(
    request: Request[Any, Any, Any],
    program_id: FromPath[uuid.UUID],
    data: Annotated[RevokeForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
    credit: NamedDependency[CreditContext],
) -> Template | Redirect:
    """``POST /api/v1/voucher-programs/{id}/revoke-provider``: the provider's open orders of the
    program are cancelled, its open claims rejected, its unredeemed vouchers voided."""
    request.state.action = "revoke"
    provider = optional_uuid(data.provider_org_id, "provider_org_id")
    if provider is None:
        raise refused("choose a service provider", "provider_org_id", FIELD_WORDS)
    body = checked(RevokeIn, {"provider_org_id": str(provider), "reason": data.reason.strip()}, FIELD_WORDS)

    async def work(s: AsyncSession) -> RevocationOut:
        record = await controls.revoke_provider(
            s, user, program_id, body.provider_org_id, body.reason, clock.now(), credit_context=credit
        )
        return shaped(RevocationOut, record)

    await once(
        db, clock, user, data.key, action="provider-revocation", request=[str(program_id), body], work=work, status=201
    )
    context = await program_context(db, user, clock, program_id, done="已撤销该服务机构的创新券资格，并记入信用记录。")
    return in_work_area(request, f"/workspace/programs/{program_id}", "vouchers/workspace/program_work.html", context)


class DecisionForm(msgspec.Struct):
    key: str = ""
    reason: str = ""


@post(
    "/workspace/programs/{program_id:uuid}/redemptions/{redemption_id:uuid}/{decision:str}",
    include_in_schema=False,
    status_code=200,
)
async def decide_redemption(
    request: Request[Any, Any, Any],
    program_id: FromPath[uuid.UUID],
    redemption_id: FromPath[uuid.UUID],
    decision: FromPath[str],
    data: Annotated[DecisionForm, FORM],
    user: Caller,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """``POST /api/v1/redemptions/{id}/approve|reject``: approval once the notice closed (vouchers
    retired, cash paid from the program's funding), or rejection with a reason."""
    request.state.action = f"redemption-{decision}"
    now = clock.now()
    target = str(redemption_id)
    if decision == "approve":
        work = lambda s: _shaped_claim(redemptions.approve(s, user, redemption_id, now))  # noqa: E731
        await once(db, clock, user, data.key, action="redemption-approval", request=target, work=work)
        done = "兑付已批准：创新券已核销，款项已从项目资金支付给服务机构。"
    elif decision == "reject":
        body = checked(RejectIn, {"reason": data.reason.strip()}, FIELD_WORDS)
        work = lambda s: _shaped_claim(redemptions.reject(s, user, redemption_id, body.reason, now))  # noqa: E731
        await once(db, clock, user, data.key, action="redemption-rejection", request=[target, body], work=work)
        done = "兑付申请已驳回，相关订单可重新申请兑付。"
    else:
        raise refused(f"{decision!r} is not a decision on a claim", None)
    context = await program_context(db, user, clock, program_id, done=done)
    return in_work_area(request, f"/workspace/programs/{program_id}", "vouchers/workspace/program_work.html", context)


async def _shaped_claim(step: Awaitable[Any]) -> RedemptionOut:
    return shaped(RedemptionOut, await step)


WORKSPACE_PAGE_HANDLERS = [
    services_page,
    publish_service,
    orders_page,
    order_page,
    order_step,
    claim_redemption,
    vouchers_page,
    place_order,
    programs_page,
    create_program,
    program_page,
    program_report_download,
    grant,
    revoke_provider,
    decide_redemption,
]
