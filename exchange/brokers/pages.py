"""The pages of technology brokers (技术经纪人): the public list of verified brokers (/brokers, linked
from the service providers' page) and a broker's page with its record; the operators' console
(/console/brokers: verify, reject or suspend with a reason, reinstate); the service provider's
workspace (/workspace/brokers: register its brokers, answer the engagements proposed to them) and
a party's (/workspace/brokerage: engage a broker on its listing, negotiation, deal or demand with a
commission, its engagements and their answers).

Every handler calls the service function of the JSON route. A refused form is shown again as
typed with the Chinese words next to the input at fault (422), nothing written; an action's
refusal is the error page of the shared handlers, in Chinese.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.brokers import service
from exchange.brokers.domain import BP, BrokerAction, BrokerStatus, EngagementAction, basis_text
from exchange.brokers.models import Broker, Engagement
from exchange.brokers.schemas import BrokerIn, DecisionIn, EngagementIn
from exchange.brokers.service import BrokersContext
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.parties.models import Org
from exchange.platform.http import Db, Now
from exchange.web.formats import fen_of_yuan
from exchange.web.messages import broker_field_message
from kernel.errors import DomainError, NotFound, msgspec_field
from kernel.page_actions import done, read_form

Brokers = NamedDependency[BrokersContext]
Viewer = NamedDependency[Principal | None]
Operator = NamedDependency[Principal]
PRIVATE = {"public_cache": False}

# The actions of the pages' buttons and the notice each answers with.
DECIDED = {"verify": "verified", "reject": "rejected", "suspend": "suspended", "reinstate": "reinstated"}
ANSWERED = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"}
# The API's fields a refusal names → the input of the form that fills them.
INPUT_OF = {"commission_bp": "commission_percent", "commission_fen": "commission_yuan"}


@dataclass
class Form:
    """A form as typed (shown again when refused) and the Chinese words by input."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, name: str) -> str:
        return self.errors.get(name, "")

    def fail(self, api_field: str, problem_type: str = "validation-error", english: str = "") -> None:
        name = INPUT_OF.get(api_field, api_field)
        self.errors.setdefault(name, broker_field_message(name, problem_type, english))

    def refused_by(self, refusal: DomainError) -> None:
        for item in refusal.errors or [{"field": refusal.extra.get("field") or "form", "message": refusal.detail}]:
            self.fail(str(item.get("field") or "form"), refusal.problem_type, str(item.get("message") or ""))


async def typed(request: Request[Any, Any, Any]) -> Form:
    posted = await request.form()
    return Form({k: str(v).strip() for k, v in posted.items() if k != "_csrf_token" and isinstance(v, str)})


def percent_bp(form: Form, name: str) -> int | None:
    """A share typed in per cent (``3``, ``2.5``, ``3.00%``) as basis points; never a float."""
    text = form.value(name).rstrip("%％").strip()
    try:
        bp = Decimal(text) * 100
    except InvalidOperation:
        bp = Decimal("0.5")
    if not text or bp != bp.to_integral_value() or not 0 < bp <= BP:
        form.fail(name)
        return None
    return int(bp)


def yuan_fen(form: Form, name: str) -> int | None:
    try:
        return fen_of_yuan(form.value(name), field=name)
    except DomainError:
        form.fail(name)
        return None


def shown_engagement(e: Engagement, brokers: dict[uuid.UUID, Broker], orgs: dict[uuid.UUID, str]) -> dict[str, Any]:
    broker = brokers.get(e.broker_id)
    return {
        "e": e,
        "broker_name": broker.name if broker else "",
        "broker_org": orgs.get(e.broker_org_id, ""),
        "engaged_by": orgs.get(e.engaged_by_org_id, ""),
        "basis": basis_text(e.commission_bp, e.commission_fen),
    }


async def _shown(session: AsyncSession, rows: list[Engagement]) -> list[dict[str, Any]]:
    broker_ids = list({e.broker_id for e in rows})
    org_ids = list({e.broker_org_id for e in rows} | {e.engaged_by_org_id for e in rows})
    brokers = {b.id: b for b in (await session.scalars(select(Broker).where(Broker.id.in_(broker_ids)))).all()}
    orgs = {i: n for i, n in await session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids)))}
    return [shown_engagement(e, brokers, orgs) for e in rows]


async def _org_names(session: AsyncSession, brokers: list[Broker]) -> dict[uuid.UUID, str]:
    ids = list({b.org_id for b in brokers})
    return {i: n for i, n in await session.execute(select(Org.id, Org.name).where(Org.id.in_(ids)))}


# ----------------------------------------------------------------------------------------------
# Public


@get("/brokers", include_in_schema=False, name="broker-list")
async def broker_list(db: Db) -> Template:
    """The verified brokers, as ``GET /api/v1/brokers?status=verified`` lists them."""
    async with db.read() as session:
        rows = await service.list_brokers(session, None, BrokerStatus.VERIFIED, None)
        orgs = await _org_names(session, rows)
    return Template("brokers/list.html", context={"section": "services", "brokers": rows, "orgs": orgs})


@get("/brokers/{broker_id:uuid}", include_in_schema=False, name="broker-page", opt=PRIVATE)
async def broker_page(broker_id: FromPath[uuid.UUID], db: Db, principal: Viewer, brokers: Brokers) -> Template:
    """A broker, its credential and its record, from ``service.record`` as ``GET /api/v1/brokers/{id}/record``
    (with its organisation's published credit: grade, score, ratings, 示范机构)."""
    async with db.read() as session:
        record = await service.record(session, brokers, broker_id, principal)
    may_engage = principal is not None and principal.org_id != record.broker.org_id and not principal.is_operator
    return Template(
        "brokers/broker.html",
        context={"section": "services", "r": record, "total": sum(record.engagements.values()),
                 "credit": record.credit, "may_engage": may_engage},
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# The operators' console


@get("/console/brokers", include_in_schema=False, name="console-brokers")
async def console_brokers(operator: Operator, db: Db) -> Template:
    """Brokers to verify first (pending, oldest first), then the others with suspend / reinstate."""
    async with db.read() as session:
        operator.require_operator()
        rows = await service.list_brokers(session, operator, None, None)
        orgs = await _org_names(session, rows)
    pending = sorted((b for b in rows if b.status == BrokerStatus.PENDING.value), key=lambda b: b.created_at)
    others = [b for b in rows if b.status != BrokerStatus.PENDING.value]
    return Template(
        "brokers/console.html",
        context={"section": "workspace", "workspace_tab": "console-brokers", "pending": pending, "others": others,
                 "orgs": orgs},
    )  # fmt: skip


@post("/console/brokers/{broker_id:uuid}/{act:str}", include_in_schema=False, status_code=200)
async def console_decide(
    request: Request[Any, Any, Any], broker_id: FromPath[uuid.UUID], act: FromPath[str], operator: Operator, db: Db,
    clock: Now,
) -> Template | Redirect:  # fmt: skip
    """Verify, reject or suspend (with a reason) or reinstate, as ``POST /api/v1/brokers/{id}/{act}``."""
    if act not in DECIDED:
        raise NotFound(f"no action {act}")
    action = BrokerAction(act)
    data = await read_form(request, DecisionIn)
    await db.transaction(lambda s: service.decide(s, operator, broker_id, action, data.reason, clock.now()))
    return done(request, f"broker-{DECIDED[act]}", "/console/brokers")


# ----------------------------------------------------------------------------------------------
# The service provider's workspace: its brokers and the engagements proposed to them


async def _provider_page(db: Db, user: Principal, form: Form, status_code: int = 200) -> Template:
    async with db.read() as session:
        rows = await service.list_brokers(session, user, None, user.org_id)
        received = await service.list_engagements(session, user, broker_org_id=user.org_id)
        shown = await _shown(session, received)
    return Template(
        "brokers/provider.html",
        context={"section": "workspace", "workspace_tab": "brokers", "brokers": rows, "engagements": shown,
                 "form": form},
        status_code=status_code,
    )  # fmt: skip


@get("/workspace/brokers", include_in_schema=False, name="my-brokers", opt=PRIVATE)
async def my_brokers(user: Caller, db: Db) -> Template:
    return await _provider_page(db, user, Form())


@post("/workspace/brokers", include_in_schema=False, opt=PRIVATE, status_code=200)
async def register_broker(request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now) -> Template | Redirect:
    """Register a broker as ``POST /api/v1/brokers``; a refusal is shown next to its input."""
    form = await typed(request)
    try:
        body = {k: form.value(k) for k in ("name", "credential_number", "issuing_body", "contact")}
        data = msgspec.convert(body, BrokerIn)
    except msgspec.ValidationError as exc:
        form.fail(msgspec_field(str(exc)) or "name")
        return await _provider_page(db, user, form, 422)
    try:
        await db.transaction(lambda s: service.register(s, user, data, clock.now()))
    except DomainError as refusal:
        if refusal.status in (401, 403):
            raise
        form.refused_by(refusal)
        return await _provider_page(db, user, form, 422)
    return Redirect("/workspace/brokers?notice=broker-registered", status_code=303)


@post("/workspace/brokerage/{engagement_id:uuid}/{act:str}", include_in_schema=False, opt=PRIVATE)
async def answer_engagement(
    request: Request[Any, Any, Any], engagement_id: FromPath[uuid.UUID], act: FromPath[str], user: Caller, db: Db,
    clock: Now, brokers: Brokers,
) -> Redirect:  # fmt: skip
    """Accept, decline (with a reason) or withdraw, as ``POST /api/v1/broker-engagements/{id}/{act}``."""
    if act not in ANSWERED:
        raise NotFound(f"no action {act}")
    action = EngagementAction(act)
    data = await read_form(request, DecisionIn)
    await db.transaction(lambda s: service.answer(s, brokers, user, engagement_id, action, data.reason, clock.now()))
    back = "/workspace/brokerage" if action is EngagementAction.WITHDRAW else "/workspace/brokers"
    return Redirect(f"{back}?notice=engagement-{ANSWERED[act]}#engagement-{engagement_id}", status_code=303)


# ----------------------------------------------------------------------------------------------
# A party's workspace: engage a broker, its engagements


async def _party_page(db: Db, user: Principal, form: Form, status_code: int = 200) -> Template:
    async with db.read() as session:
        verified = await service.list_brokers(session, None, BrokerStatus.VERIFIED, None)
        orgs = await _org_names(session, verified)
        mine = await service.list_engagements(session, user, engaged_by_org_id=user.org_id)
        shown = await _shown(session, mine)
    choices = [(b.id, f"{b.name}（{orgs.get(b.org_id, '')}，证书编号 {b.credential_number}）")
               for b in verified if b.org_id != user.org_id]  # fmt: skip
    return Template(
        "brokers/party.html",
        context={"section": "workspace", "workspace_tab": "brokerage", "choices": choices, "engagements": shown,
                 "form": form},
        status_code=status_code,
    )  # fmt: skip


@get("/workspace/brokerage", include_in_schema=False, name="my-brokerage", opt=PRIVATE)
async def my_brokerage(request: Request[Any, Any, Any], user: Caller, db: Db) -> Template:
    """A link may preselect the broker and the subject (``?broker_id=…&subject_kind=listing&subject_id=…``)."""
    given = {k: request.query_params.get(k, "") for k in ("broker_id", "subject_kind", "subject_id")}
    return await _party_page(db, user, Form({k: v for k, v in given.items() if v}))


@post("/workspace/brokerage", include_in_schema=False, opt=PRIVATE, status_code=200)
async def engage(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, brokers: Brokers
) -> Template | Redirect:
    """Engage a broker as ``POST /api/v1/broker-engagements``: a percentage of the price typed in per
    cent (basis points) or a fixed amount typed in yuan (``fen_of_yuan``)."""
    form = await typed(request)
    basis = form.value("basis")
    bp = fen = None
    if basis == "percent":
        bp = percent_bp(form, "commission_percent")
    elif basis == "fixed":
        fen = yuan_fen(form, "commission_yuan")
    else:
        form.fail("basis")
    body = {
        "broker_id": form.value("broker_id"), "subject_kind": form.value("subject_kind"),
        "subject_id": form.value("subject_id"), "owed_by": form.value("owed_by"), "commission_bp": bp,
        "commission_fen": fen, "note": form.value("note"),
    }  # fmt: skip
    data = None
    try:
        data = msgspec.convert(body, EngagementIn, strict=False)
    except msgspec.ValidationError as exc:
        form.fail(msgspec_field(str(exc)) or "broker_id")
    if form.errors or data is None:
        return await _party_page(db, user, form, 422)
    try:
        await db.transaction(lambda s: service.engage(s, brokers, user, data, clock.now()))
    except DomainError as refusal:
        if refusal.status in (401, 403):
            raise
        if refusal.status == 404:  # a subject the party does not see: the same words as a wrong number
            form.fail("subject_id")
        else:
            form.refused_by(refusal)
        return await _party_page(db, user, form, 422)
    return Redirect("/workspace/brokerage?notice=engagement-proposed", status_code=303)


PAGE_HANDLERS = [
    broker_list, broker_page, console_brokers, console_decide, my_brokers, register_broker, answer_engagement,
    my_brokerage, engage,
]  # fmt: skip
