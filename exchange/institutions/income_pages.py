"""收益分配 on the office's pages (``/workspace/transfers/income``), and the annual report's inputs.

For each income receipt (deal, payment, amount, held for the inventors, received): the plan in
force with its status and its public notice; otherwise, for the office, the plan form, first
showing the default of the rules (``distribution.default_plan``, what ``propose`` makes of an empty
body) with each payout in yuan to adjust. Then the extra approval (the higher meeting's minutes)
when a payout is above the threshold, and the pay button, keyed as the API's ``Idempotency-Key``
with a key per form (as the wallet's withdrawal form): sending it twice pays once. The inventors'
accounts with their balances and the identity check.

Each action calls the JSON route's service: ``distribution.propose``, ``approve_extra``, ``pay``
(through ``keyed``, action ``distribution-payout``), ``inventors.check_identity``; the report's
inputs ``reports.save_inputs`` (``PUT …/annual-reports/{year}/inputs``).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions import distribution, income, inventors, reports
from exchange.institutions.annual import CONTRACT_KINDS
from exchange.institutions.config import roles_of
from exchange.institutions.contracts import InstitutionsContext
from exchange.institutions.domain import Role
from exchange.institutions.models import Disclosure, TransferProcess
from exchange.institutions.page_forms import Form, Refused, checked, money, refused_by, typed
from exchange.institutions.page_forms import rows as filled_rows
from exchange.institutions.pages import institution_caller, page_context, shown
from exchange.institutions.report_pages import report_with_inputs
from exchange.institutions.schemas import AnnualInputsIn, ExtraApprovalIn, IdentityCheckIn, PlanIn
from exchange.parties import members
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.platform.keyed import keyed
from exchange.web.formats import yuan
from exchange.web.messages import notice_for
from kernel.errors import DomainError
from kernel.page_actions import is_htmx
from listings import ListingsContext

Listings = NamedDependency[ListingsContext]
Institutions = NamedDependency[InstitutionsContext]
ACTION = "distribution"  # the refusals' own words (messages.ACTION_MESSAGES "distribution:…")
PAGE = "institutions/income.html"
WORK = "institutions/_income_work.html"
PATH = "/workspace/transfers/income"


def new_form_key() -> str:
    """A fresh idempotency key for one pay form: sending it twice is one payout."""
    return uuid.uuid4().hex


def plan_values(default: distribution.DefaultPlan) -> dict[str, str]:
    """The default plan as the form's payouts (inventors first, then the institution's parts)."""
    values: dict[str, str] = {}
    payouts = [(p, i.affiliation) for p, i in zip(default.plan.inventors, default.inventors, strict=True)]
    payouts += [(p, "") for p in default.plan.institution]
    for n, (payout, affiliation) in enumerate(payouts):
        values[f"payouts.{n}.kind"] = payout.kind.value
        values[f"payouts.{n}.name"] = payout.name
        values[f"payouts.{n}.affiliation"] = affiliation
        values[f"payouts.{n}.amount"] = yuan(payout.amount)
    values["default"] = ",".join(str(p.amount) for p, _ in payouts)
    return values


async def _title(session: AsyncSession, process_id: uuid.UUID) -> str:
    process = await session.get(TransferProcess, process_id)
    disclosure = await session.get(Disclosure, process.disclosure_id) if process else None
    return disclosure.title if disclosure else ""


async def _income_context(
    db: Db, listings: ListingsContext, user: Principal, forms: dict[str, Form] | None = None, done: str = ""
) -> dict[str, Any]:
    institution_caller(user)
    forms = forms or {}
    async with db.read() as session:
        office = Role.OFFICE in await roles_of(session, user, user.org_id)
        items = []
        for receipt in await income.list_receipts(session, user, user.org_id, limit=100):
            plans = [distribution.plan_out(p) for p in await income.plans_of(session, receipt.id)]
            live = next((p for p in reversed(plans) if p.status in distribution.LIVE), None)
            form = forms.get(f"plan:{receipt.id}")
            if live is None and office and form is None:
                form = Form(
                    f"plan:{receipt.id}", plan_values(await distribution.default_plan(session, listings, user, receipt))
                )
            items.append({
                "receipt": receipt, "title": await _title(session, receipt.process_id), "plans": plans, "live": live,
                "form": form, "extra": forms.get(f"extra:{live.id}") if live else None,
            })  # fmt: skip
        rows = await inventors.list_accounts(session, user, user.org_id)
        accounts = [await inventors.account_out(session, a) for a in rows]
        people = [p for p in await members.members_of(session, user.org_id, user) if p.removed_at is None]
    return page_context(
        "transfer-income",
        items=items,
        accounts=accounts,
        people=people,
        office=office,
        forms=forms,
        new_form=Form,
        form_key=new_form_key(),
        done=done,
    )


@get(PATH, include_in_schema=False, name="institution-income", opt={"public_cache": False})
async def income_page(user: Caller, db: Db, listings: Listings) -> Template:
    """``GET /institutions/{org}/income-receipts`` and ``…/inventor-accounts``."""
    return Template(PAGE, context=await _income_context(db, listings, user))


async def _act(request: Request[Any, Any, Any], db: Db, listings: ListingsContext, user: Principal, form: Form,
               work: Any, notice: str) -> Template | Redirect:  # fmt: skip
    """One action of the income page: refused fields beside their inputs (the page again), other
    refusals raised (the pages' error handler, in place for htmx); done: 303, or the work area."""
    try:
        await work()
    except Refused:
        return shown(request, PAGE, WORK, await _income_context(db, listings, user, {form.key: form}), status=422)
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        return shown(
            request, PAGE, WORK, await _income_context(db, listings, user, {form.key: form}), status=refusal.status
        )
    if not is_htmx(request):
        return Redirect(f"{PATH}?notice={notice}", status_code=303)
    return shown(request, PAGE, WORK, await _income_context(db, listings, user, done=notice_for(notice) or ""))


def plan_of(form: Form) -> PlanIn:
    """The payouts as typed, in yuan; unchanged from the default, the default itself (an empty body)."""
    inventors_, institution = [], []
    for n in range(100):
        kind = form.value(f"payouts.{n}.kind")
        if not kind:
            break
        amount = money(form, f"payouts.{n}.amount")
        if amount is None and f"payouts.{n}.amount" not in form.errors:
            form.fail(f"payouts.{n}.amount")
        if kind == "inventor":
            inventors_.append({"name": form.value(f"payouts.{n}.name"),
                               "affiliation": form.value(f"payouts.{n}.affiliation"), "amount": amount})  # fmt: skip
        else:
            institution.append({"name": form.value(f"payouts.{n}.name"), "amount": amount})
    body: dict[str, Any] = {"reason": form.value("reason")}
    typed_amounts = ",".join(str(p["amount"]) for p in [*inventors_, *institution])
    if typed_amounts != form.value("default"):  # adjusted: checked as the default is
        body.update({"inventors": inventors_, "institution": institution})
    return checked(form, PlanIn, body)


@post(PATH + "/receipts/{receipt_id:uuid}/plans", include_in_schema=False, status_code=200)
async def propose(
    request: Request[Any, Any, Any], receipt_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now,
    listings: Listings,
) -> Template | Redirect:  # fmt: skip
    """``POST /income-receipts/{id}/plans``: the plan (the default, or adjusted) and its notice."""
    request.state.action = ACTION
    institution_caller(user)
    form = Form(f"plan:{receipt_id}", (await typed(request, "plan")).values)

    async def work() -> None:
        body = plan_of(form)
        await db.transaction(lambda s: distribution.propose(s, listings, user, receipt_id, body, clock.now()))

    return await _act(request, db, listings, user, form, work, "plan-proposed")


@post(PATH + "/plans/{plan_id:uuid}/extra-approval", include_in_schema=False, status_code=200)
async def extra_approval(
    request: Request[Any, Any, Any],
    plan_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    listings: Listings,
) -> Template | Redirect:
    """``POST /distribution-plans/{id}/extra-approval``: the higher meeting's minutes."""
    request.state.action = ACTION
    institution_caller(user)
    form = Form(f"extra:{plan_id}", (await typed(request, "extra")).values)

    async def work() -> None:
        body = checked(form, ExtraApprovalIn, {"minutes": form.value("minutes")})
        await db.transaction(lambda s: distribution.approve_extra(s, user, plan_id, body, clock.now()))

    return await _act(request, db, listings, user, form, work, "plan-extra-approved")


@post(PATH + "/plans/{plan_id:uuid}/pay", include_in_schema=False, status_code=200)
async def pay(
    request: Request[Any, Any, Any],
    plan_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    listings: Listings,
) -> Template | Redirect:
    """``POST /distribution-plans/{id}/pay`` with the form's key as its ``Idempotency-Key``."""
    request.state.action = ACTION
    institution_caller(user)
    form = Form(f"pay:{plan_id}", (await typed(request, "extra")).values)

    async def work() -> None:
        async def paying(session: AsyncSession) -> Any:
            return distribution.plan_out(await distribution.pay(session, user, plan_id, clock.now()))

        await keyed(db, clock, user, form.value("key") or None, action="distribution-payout", request=str(plan_id),
                    work=paying, status=200, required=True)  # fmt: skip

    return await _act(request, db, listings, user, form, work, "plan-paid")


@post(PATH + "/inventors/{account_id:uuid}/identity-check", include_in_schema=False, status_code=200)
async def identity_check(
    request: Request[Any, Any, Any],
    account_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    listings: Listings,
) -> Template | Redirect:
    """``POST /inventor-accounts/{id}/identity-check``: checked, optionally linked to the member."""
    request.state.action = ACTION
    institution_caller(user)
    form = Form(f"identity:{account_id}", (await typed(request, "identity")).values)

    async def work() -> None:
        body = checked(form, IdentityCheckIn, {"user_id": form.value("user_id") or None, "note": form.value("note")})
        await db.transaction(lambda s: inventors.check_identity(s, user, account_id, body, clock.now()))

    return await _act(request, db, listings, user, form, work, "inventor-identity-checked")


# ----------------------------------------------------------------------------------------------
# The annual report's inputs (on the report page)


def inputs_of(form: Form) -> AnnualInputsIn:
    contracts: dict[str, Any] = {}
    for kind in CONTRACT_KINDS:
        count = form.value(f"contracts.{kind}.count") or "0"
        contracts[kind] = {"count": count, "amount": money(form, f"contracts.{kind}.amount") or 0}
    bodies = [
        {"name": row["name"], "partner": row["partner"], "founded_on": row["founded_on"] or None}
        for _, row in filled_rows(form.values, "joint_bodies", ("name", "partner", "founded_on"))
    ]
    body = {"contracts": contracts, "joint_bodies": bodies, "problems": form.value("problems"),
            "plans": form.value("plans")}  # fmt: skip
    return checked(form, AnnualInputsIn, body)


@post("/workspace/transfers/annual-report/{year:int}/inputs", include_in_schema=False, status_code=200)
async def save_inputs(
    request: Request[Any, Any, Any], year: FromPath[int], user: Caller, db: Db, clock: Now, institutions: Institutions
) -> Template | Redirect:
    """``PUT /institutions/{org}/annual-reports/{year}/inputs``: the office's inputs, saved whole."""
    request.state.action = "transfer"
    institution_caller(user)
    form = await typed(request, "inputs")
    now = clock.now()
    page, work = "institutions/report.html", "institutions/_report_work.html"
    outcomes = institutions.outcomes
    try:
        body = inputs_of(form)
        await db.transaction(lambda s: reports.save_inputs(s, user, user.org_id, year, body, now))
    except Refused:
        return shown(
            request, page, work, await report_with_inputs(db, user, year, now, form, outcomes=outcomes), status=422
        )
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        context = await report_with_inputs(db, user, year, now, form, outcomes=outcomes)
        return shown(request, page, work, context, status=refusal.status)
    if not is_htmx(request):
        return Redirect(f"/workspace/transfers/annual-report?year={year}&notice=annual-inputs-saved", status_code=303)
    context = await report_with_inputs(
        db, user, year, now, done=notice_for("annual-inputs-saved") or "", outcomes=outcomes
    )
    return shown(request, page, work, context)


PAGE_HANDLERS = [income_page, propose, extra_approval, pay, identity_check, save_inputs]
