"""The process page's 公示 and 实施 blocks and their actions, and the deal's contract registration.

- 公示: the notice in force (its public page ``/notices/{id}``, opening and end in Beijing time, status,
  the working days left as the board counts them), its objections (reason, status, the answer of
  the institution, the resolution) and, for the office while the process is at 公示, the answer
  (listings' ``notices.answer_objection``, as ``POST /objections/{id}/answer``) and the resolution
  (``transfer_notice.resolve``, as ``POST /transfer-processes/{id}/objections/{oid}/resolve``):
  upheld with the step to return to or a stop, or dismissed, with a note.
- 实施: for the office once 公示 completed, the listing draft's terms (listed or auction price) or the
  signed contract (negotiated), both through ``implementation.implement`` as
  ``POST /transfer-processes/{id}/implementation``; then the listing in the seller's workspace, the
  contract, and the deals of the listing with their contract registration.
- ``/workspace/deals/{deal_id}/contract-registration``: the registration of a signed deal's contract
  (``contracts.register_contract`` / ``contract_registration``), recorded by the seller's office,
  read by both parties.

The forms are ``pages.Form``: inputs named by the API's path of their field, refusals in Chinese
beside them; the acts go through ``pages._act`` (htmx in place, 303 without scripts).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions import processes, transfer_notice
from exchange.institutions.config import roles_of
from exchange.institutions.contracts import InstitutionsContext, _visible_deal, register_contract
from exchange.institutions.domain import Role
from exchange.institutions.implementation import implement
from exchange.institutions.models import ContractRegistration
from exchange.institutions.page_forms import Form, Refused, basis_points, checked, money, refused_by, rows, typed
from exchange.institutions.pages import CHOICES, _act, page_context, shown
from exchange.institutions.reports import DEALS
from exchange.institutions.schemas import ContractRegistrationIn, ImplementationIn, ObjectionResolveIn
from exchange.parties.domain import Principal
from exchange.parties.http import Caller, actor_of
from exchange.platform.http import Db, Now
from exchange.web.messages import notice_for
from kernel.errors import DomainError
from kernel.page_actions import is_htmx
from listings import notices
from listings.domain import DealType, PricingMode
from listings.workdays import beijing_date

Institutions = NamedDependency[InstitutionsContext]

# ----------------------------------------------------------------------------------------------
# 公示: answer and resolve an objection


def resolve_of(form: Form) -> ObjectionResolveIn:
    body: dict[str, Any] = {"note": form.value("note")}
    if form.value("decision"):
        body["decision"] = form.value("decision")
    target = form.value("return_to")
    if body.get("decision") == "upheld":
        if target == "stop":
            body["stop"] = True
        elif target:
            body["return_to"] = target
    return checked(form, ObjectionResolveIn, body)


@post("/workspace/transfers/{process_id:uuid}/objections/{objection_id:uuid}/resolve", include_in_schema=False,
      status_code=200)  # fmt: skip
async def resolve_objection(
    request: Request[Any, Any, Any],
    process_id: FromPath[uuid.UUID],
    objection_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/objections/{oid}/resolve``: upheld (back to a step, or stop) or dismissed."""
    form = Form(f"resolve:{objection_id}", (await typed(request, "resolve")).values)
    return await _act(request, db, user, process_id, "resolve", resolve_of,
                      lambda body: lambda s: transfer_notice.resolve(s, institutions.listings, user, process_id,
                                                                     objection_id, body, clock.now()),
                      "transfer-objection-resolved", form=form)  # fmt: skip


@post("/workspace/transfers/{process_id:uuid}/objections/{objection_id:uuid}/answer", include_in_schema=False,
      status_code=200)  # fmt: skip
async def answer_objection(
    request: Request[Any, Any, Any],
    process_id: FromPath[uuid.UUID],
    objection_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
) -> Template | Redirect:
    """``POST /objections/{id}/answer``: the institution's answer, as a seller answers (listings' service)."""
    form = Form(f"answer:{objection_id}", (await typed(request, "answer")).values)

    def answer_of(form: Form) -> str:
        if not form.value("answer"):
            form.fail("answer")
            raise Refused(form)
        return form.value("answer")

    async def answering(session: AsyncSession, text: str) -> Any:
        await notices.answer_objection(session, institutions.listings, actor_of(user), objection_id, text, clock.now())
        return await processes.get_process(session, process_id)

    return await _act(request, db, user, process_id, "answer", answer_of,
                      lambda text: lambda s: answering(s, text), "transfer-objection-answered",
                      form=form)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# 实施


def deal_terms(form: Form) -> dict[str, Any]:
    kind = form.value("deal.type") or DealType.TRANSFER.value
    terms: dict[str, Any] = {"type": kind}
    if kind == DealType.LICENSE.value:
        terms.update({"term_months": form.value("deal.term_months"), "scope": form.value("deal.scope") or None,
                      "territory": form.value("deal.territory") or None,
                      "field_of_use": form.value("deal.field_of_use"),
                      "royalty_bp": basis_points(form, "deal.royalty_bp")})  # fmt: skip
    elif kind == DealType.EQUITY.value:
        terms.update({"company_name": form.value("deal.company_name"),
                      "shares_bp": basis_points(form, "deal.shares_bp")})  # fmt: skip
    return {k: v for k, v in terms.items() if v not in (None, "")}


def implementation_of(form: Form, negotiated: bool) -> ImplementationIn:
    body: dict[str, Any] = {"note": form.value("note")}
    if negotiated:
        contract: dict[str, Any] = {
            "amount": money(form, "contract.amount"),
            "terms": form.value("contract.terms"),
            "signed_on": form.value("contract.signed_on"),
            "counterparty_org_id": form.value("contract.counterparty_org_id"),
        }
        body["contract"] = {k: v for k, v in contract.items() if v not in (None, "")}
    else:
        body["deal"] = deal_terms(form)
        for name in ("deposit", "increment"):
            if (fen := money(form, name)) is not None:
                body[name] = fen
    assets = []
    for _, row in rows(form.values, "ip_assets", ("kind", "number", "title", "expires_on")):
        asset = {k: v for k, v in row.items() if v}
        assets.append(asset)
    if assets:
        body["ip_assets"] = assets
    return checked(form, ImplementationIn, body)


@post("/workspace/transfers/{process_id:uuid}/implementation", include_in_schema=False, status_code=200)
async def implementation(
    request: Request[Any, Any, Any],
    process_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/implementation``: the listing draft, or the signed contract."""
    async with db.read() as session:
        process = await processes.visible_process(session, user, process_id)
    negotiated = (process.decision or {}).get("pricing") == PricingMode.NEGOTIATED.value
    return await _act(request, db, user, process_id, "implementation",
                      lambda form: implementation_of(form, negotiated),
                      lambda body: lambda s: implement(s, institutions.listings, user, process_id, body, clock.now()),
                      "transfer-implemented")  # fmt: skip


# ----------------------------------------------------------------------------------------------
# 技术合同认定登记


REGISTRATION = "institutions/registration.html"
REGISTRATION_WORK = "institutions/_registration_work.html"


async def _registration_context(
    db: Db, user: Principal, ctx: InstitutionsContext, deal_id: uuid.UUID, form: Form | None = None, done: str = ""
) -> dict[str, Any]:
    async with db.read() as session:
        facts = await _visible_deal(session, ctx.deals, user, deal_id)
        row = await session.scalar(select(ContractRegistration).where(ContractRegistration.deal_id == deal_id))
        seller = user.org_id == facts.seller_org_id
        office = seller and Role.OFFICE in await roles_of(session, user, user.org_id)
        deal = (
            await session.execute(select(DEALS.c.price, DEALS.c.state, DEALS.c.listing_id).where(DEALS.c.id == deal_id))
        ).first()
    return page_context(
        "transfers",
        deal_id=deal_id,
        facts=facts,
        deal=deal,
        registration=row,
        may_register=office and facts.signed and row is None,
        seller=seller,
        form=form or Form("registration"),
        done=done,
        choices=CHOICES,
    )


@get("/workspace/deals/{deal_id:uuid}/contract-registration", include_in_schema=False,
     name="institution-contract-registration", opt={"public_cache": False})  # fmt: skip
async def registration_page(deal_id: FromPath[uuid.UUID], user: Caller, db: Db, institutions: Institutions) -> Template:
    """``GET /deals/{id}/contract-registration``: the record for both parties; the seller's office records it."""
    return Template(REGISTRATION, context=await _registration_context(db, user, institutions, deal_id))


@post("/workspace/deals/{deal_id:uuid}/contract-registration", include_in_schema=False, status_code=200)
async def register(
    request: Request[Any, Any, Any],
    deal_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
) -> Template | Redirect:
    """``POST /deals/{id}/contract-registration``: the registry's number, name, date and certified amount."""
    request.state.action = "transfer"
    form = await typed(request, "registration")
    now = clock.now()
    try:
        body = checked(form, ContractRegistrationIn, {
            "contract_number": form.value("contract_number"), "registry_name": form.value("registry_name"),
            "registered_on": form.value("registered_on") or None,
            "certified_amount": money(form, "certified_amount"),
        })  # fmt: skip
        await db.transaction(
            lambda s: register_contract(s, institutions.deals, user, deal_id, body, now, today=beijing_date(now))
        )
    except Refused:
        context = await _registration_context(db, user, institutions, deal_id, form)
        return shown(request, REGISTRATION, REGISTRATION_WORK, context, status=422)
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        context = await _registration_context(db, user, institutions, deal_id, form)
        return shown(request, REGISTRATION, REGISTRATION_WORK, context, status=refusal.status)
    path = f"/workspace/deals/{deal_id}/contract-registration"
    if not is_htmx(request):
        return Redirect(f"{path}?notice=contract-registered", status_code=303)
    context = await _registration_context(db, user, institutions, deal_id, done=notice_for("contract-registered") or "")
    return shown(request, REGISTRATION, REGISTRATION_WORK, context)


PAGE_HANDLERS = [resolve_objection, answer_objection, implementation, registration_page, register]
