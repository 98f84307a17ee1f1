"""The pages of a university's own transfer process (成果转化): its processes, the disclosure form,
one process with its step bar, records and history and the form of its open step, and the
institution's settings and role grants.

Every action calls the service function of the JSON route (``exchange/institutions/routes.py``):
``processes.open_disclosure``, ``first_review``, ``evaluation``, ``expert_review``, ``decide``,
``send_back``, ``halt``; ``config.save_settings``, ``grant_role``, ``revoke_role``. Inputs are named
by the API's path of the field they fill (``inventors.1.share_bp``), so a refusal naming a field is
shown next to its input, in Chinese (``messages.institution_field_message``). Money is typed in yuan
and shares in per cent, turned into fen and basis points here; every other check is the API's.

Without scripts an action answers 303 to its page (``?notice=``) or, refused, the page again with
what was typed; with htmx it answers the page's work area (``#work``) in place, and a refusal that
is about the caller rather than a field (a member without the step's role) lands in the form's own
answer box.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions import config, processes
from exchange.institutions.domain import (
    OPTIONAL_STEPS,
    EvaluationKind,
    FundingKind,
    IntendedForm,
    PeriodUnit,
    ProcessStatus,
    Role,
    Step,
    Vote,
)
from exchange.institutions.models import TransferProcess
from exchange.institutions.page_forms import (
    Form,
    Refused,
    Values,
    basis_points,
    checked,
    flag,
    money,
    percent_text,
    refused_by,
    rows,
    split,
    typed,
)
from exchange.institutions.process_blocks import process_blocks
from exchange.institutions.schemas import (
    DecisionIn,
    DisclosureIn,
    DisclosureOut,
    EvaluationIn,
    ExpertReviewIn,
    FirstReviewIn,
    ProcessOut,
    RoleGrantIn,
    SettingsIn,
    SettingsOut,
)
from exchange.parties import members
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.web.formats import chinese_date, yuan
from exchange.web.labels import zh
from exchange.web.messages import notice_for
from kernel.errors import DomainError, NotFound
from kernel.page_actions import is_htmx
from listings import ListingsContext
from listings.domain import Field, IpKind, PricingMode
from listings.workdays import beijing_date

Listings = NamedDependency[ListingsContext]

WORK = "institutions/_work.html"
ACTION = "transfer"  # the refusals' own words (messages.ACTION_MESSAGES "transfer:…")
SETTINGS_ACTION = "transfer-settings"
STEP_FORMS = (Step.FIRST_REVIEW, Step.EVALUATION, Step.EXPERT_REVIEW, Step.DECISION)
CHOICES = {
    "field": [f.value for f in Field],
    "ip_kind": [k.value for k in IpKind],
    "funding_kind": [k.value for k in FundingKind],
    "intended_form": [f.value for f in IntendedForm],
    "evaluation_kind": [k.value for k in EvaluationKind],
    "vote": [v.value for v in Vote],
    "pricing_mode": [m.value for m in PricingMode],
    "period_unit": [u.value for u in PeriodUnit],
    "grantable": [r.value for r in Role if r is not Role.INVENTOR],
}

# ----------------------------------------------------------------------------------------------
# Answers


def page_context(tab: str, **values: Any) -> dict[str, Any]:
    return {"section": "workspace", "workspace_tab": tab, "choices": CHOICES, **values}


def shown(
    request: Request[Any, Any, Any], page: str, work: str, context: dict[str, Any], *, status: int = 200,
) -> Template:  # fmt: skip
    """The page whole, or (htmx) its work area in place of ``#work``."""
    if not is_htmx(request):
        return Template(page, context=context, status_code=status)
    headers = {"HX-Retarget": "#work", "HX-Reswap": "innerHTML", "Cache-Control": "no-store"}
    return Template(work, context=context, status_code=status, headers=headers)


def institution_caller(user: Principal) -> None:
    config.require_institution(user)


# ----------------------------------------------------------------------------------------------
# The processes


@get("/workspace/transfers", include_in_schema=False, name="institution-transfers", opt={"public_cache": False})
async def transfers_page(user: Caller, db: Db, step: FromQuery[str] = "", status: FromQuery[str] = "") -> Template:
    """``GET /institutions/{org}/processes``: the institution's processes, newest first, by open step."""
    institution_caller(user)
    wanted = Step(step) if step in set(Step) else None
    wanted_status = status if status in set(ProcessStatus) else None
    async with db.read() as session:
        found = await processes.list_processes(session, user, user.org_id, status=wanted_status, step=wanted, limit=100)
    return Template(
        "institutions/transfers.html",
        context=page_context(
            "transfers",
            items=[processes.summary_out(p, title) for p, title in found],
            step=wanted.value if wanted else "",
            status=wanted_status or "",
            steps=[s.value for s in Step],
            statuses=[s.value for s in ProcessStatus],
        ),
    )


def _disclosure_context(form: Form, amend_id: uuid.UUID | None = None) -> dict[str, Any]:
    return page_context("transfers" if amend_id else "new-transfer", form=form, amend_id=amend_id)


def disclosure_values(disclosure: DisclosureOut) -> dict[str, str]:
    """The disclosure in force as the form's inputs, to correct it at 发起."""
    values = {
        "title": disclosure.title,
        "summary": disclosure.summary,
        "field": disclosure.field,
        "keywords": "、".join(disclosure.keywords),
        "maturity": str(disclosure.maturity),
        "intended_form": str(disclosure.intended_form),
    }
    for i, asset in enumerate(disclosure.ip_assets):
        for name in ("kind", "number", "title", "expires_on"):
            values[f"ip_assets.{i}.{name}"] = str(asset.get(name) or "")
    for i, inventor in enumerate(disclosure.inventors):
        values[f"inventors.{i}.name"] = inventor.name
        values[f"inventors.{i}.affiliation"] = inventor.affiliation
        values[f"inventors.{i}.share_bp"] = percent_text(inventor.share_bp)
    for i, source in enumerate(disclosure.funding):
        values[f"funding.{i}.kind"] = str(source.kind)
        values[f"funding.{i}.funder"] = source.funder
        values[f"funding.{i}.project_number"] = source.project_number
    return values


@get("/workspace/transfers/new", include_in_schema=False, name="institution-new-transfer", opt={"public_cache": False})
async def new_transfer_page(user: Caller) -> Template:
    institution_caller(user)
    return Template("institutions/new.html", context=_disclosure_context(Form("disclosure")))


def disclosure_of(form: Form) -> DisclosureIn:
    values = form.values
    assets = []
    for _, row in rows(values, "ip_assets", ("kind", "number", "title", "expires_on")):
        asset: dict[str, Any] = {"kind": row["kind"], "number": row["number"], "title": row["title"]}
        if row["expires_on"]:
            asset["expires_on"] = row["expires_on"]
        assets.append(asset)
    inventors = [
        {"name": row["name"], "affiliation": row["affiliation"],
         "share_bp": basis_points(form, f"inventors.{i}.share_bp") or 0}
        for i, row in rows(values, "inventors", ("name", "affiliation", "share_bp"))
    ]  # fmt: skip
    funding = [
        {"kind": row["kind"], "funder": row["funder"], "project_number": row["project_number"]}
        for _, row in rows(values, "funding", ("kind", "funder", "project_number"))
    ]
    body: dict[str, Any] = {
        "title": values.get("title", ""),
        "summary": values.get("summary", ""),
        "field": values.get("field", ""),
        "keywords": split(values.get("keywords", "")),
        "maturity": values.get("maturity", ""),
        "ip_assets": assets,
        "inventors": inventors,
        "funding": funding,
        "intended_form": values.get("intended_form") or IntendedForm.TRANSFER.value,
        "note": values.get("note", ""),
    }
    return checked(form, DisclosureIn, body)


@post("/workspace/transfers/new", include_in_schema=False, status_code=200)
async def disclose(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect | Response[bytes]:
    """``POST /transfer-processes``: the disclosure, and its process begun at 发起."""
    request.state.action = ACTION
    institution_caller(user)
    form = await typed(request, "disclosure")
    try:
        body = disclosure_of(form)
        process = await db.transaction(lambda s: processes.open_disclosure(s, user, body, clock.now()))
    except Refused:
        return shown(request, "institutions/new.html", "institutions/_new_work.html", _disclosure_context(form),
                     status=422)  # fmt: skip
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        return shown(request, "institutions/new.html", "institutions/_new_work.html", _disclosure_context(form),
                     status=refusal.status)  # fmt: skip
    # The process's own page (its address, the navigation marking 披露与转化): htmx follows HX-Redirect.
    target = f"/workspace/transfers/{process.id}?notice=transfer-disclosed"
    if not is_htmx(request):
        return Redirect(target, status_code=303)
    return Response(content=b"", status_code=200, headers={"HX-Redirect": target})


@get("/workspace/transfers/{process_id:uuid}/disclosure", include_in_schema=False, opt={"public_cache": False})
async def amend_page(process_id: FromPath[uuid.UUID], user: Caller, db: Db) -> Template:
    """The disclosure in force, to correct and submit again once the process was returned to 发起."""
    institution_caller(user)
    async with db.read() as session:
        process = await processes.visible_process(session, user, process_id)
        out = await processes.process_out(session, user, process)
    form = Form("disclosure", disclosure_values(out.disclosure))
    return Template("institutions/new.html", context=_disclosure_context(form, process_id))


@post("/workspace/transfers/{process_id:uuid}/disclosure", include_in_schema=False, status_code=200)
async def amend(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect | Response[bytes]:
    """``POST /transfer-processes/{id}/disclosure``: 发起 again, with the corrected disclosure."""
    request.state.action = ACTION
    institution_caller(user)
    form = await typed(request, "disclosure")
    context = _disclosure_context(form, process_id)
    try:
        body = disclosure_of(form)
        await db.transaction(lambda s: processes.amend_disclosure(s, user, process_id, body, clock.now()))
    except Refused:
        return shown(request, "institutions/new.html", "institutions/_new_work.html", context, status=422)
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        return shown(request, "institutions/new.html", "institutions/_new_work.html", context, status=refusal.status)
    target = f"/workspace/transfers/{process_id}?notice=transfer-step-done"
    if not is_htmx(request):
        return Redirect(target, status_code=303)
    return Response(content=b"", status_code=200, headers={"HX-Redirect": target})


# ----------------------------------------------------------------------------------------------
# One process


def step_bar(out: ProcessOut) -> list[dict[str, Any]]:
    """The workflow's steps as the bar shows them: done (ticked), open, stopped or still to come,
    with the passes each has had and whether the process was sent back from it."""
    order = [w.step for w in out.workflow]
    last = out.history[-1] if out.history else None
    if out.status == ProcessStatus.FINISHED:
        at = len(order)
    elif out.status == ProcessStatus.STOPPED and last is not None:
        at = order.index(last.step)
    else:
        at = order.index(out.step) if out.step in order else 0
    passes: dict[Step, int] = {}
    returned: dict[Step, int] = {}
    for entry in out.history:
        passes[entry.step] = max(passes.get(entry.step, 0), entry.pass_no)
        if entry.outcome == "returned":
            returned[entry.step] = returned.get(entry.step, 0) + 1
    if out.step is not None:
        passes[out.step] = max(passes.get(out.step, 0), out.pass_no)
    bar = []
    for i, step in enumerate(order):
        if i < at:
            state = "done"
        elif i == at and out.status == ProcessStatus.ACTIVE:
            state = "open"
        elif i == at and out.status == ProcessStatus.STOPPED:
            state = "stopped"
        else:
            state = "todo"
        bar.append(
            {"step": step.value, "state": state, "passes": passes.get(step, 0), "returned": returned.get(step, 0)}
        )
    return bar


def record_facts(step: Step, record: Mapping[str, Any] | None) -> list[str]:
    """The key facts of a step's record, in Chinese, for the history."""
    if not record:
        return []
    if step is Step.FIRST_REVIEW:
        facts = ["内容完整" if record.get("complete") else "内容不完整",
                 "本单位有权转化" if record.get("institution_owns") else "权属存疑"]  # fmt: skip
        if record.get("conflicts"):
            facts.append(f"利益冲突：{record['conflicts']}")
        return facts
    if step is Step.EVALUATION:
        facts = [zh(record.get("kind"), "evaluation_kind"), f"评估值 {yuan(record.get('appraised_value'))}"]
        if record.get("appraiser"):
            facts.append(f"评估方 {record['appraiser']}")
        if record.get("report_number"):
            facts.append(f"报告编号 {record['report_number']}")
        if record.get("report_date"):
            facts.append(f"评估日期 {chinese_date(_date(record['report_date']))}")
        return facts
    if step is Step.EXPERT_REVIEW:
        tally = record.get("tally") or {}
        votes = (
            f"同意 {tally.get('approvals', 0)}，不同意 {tally.get('rejections', 0)}，弃权 {tally.get('abstentions', 0)}"
        )
        facts = [f"专家 {len(record.get('experts') or [])} 位", votes]
        for expert in record.get("experts") or []:
            facts.append(f"{expert.get('name')}（{zh(expert.get('vote'), 'vote')}）：{expert.get('opinion')}")
        return facts
    if step is Step.DECISION:
        facts = [f"会议纪要 {record.get('minutes')}", f"定价方式 {zh(record.get('pricing'), 'pricing_mode')}",
                 f"底价 {yuan(record.get('floor_price'))}"]  # fmt: skip
        if record.get("counterparty"):
            facts.append(f"受让方 {record['counterparty']}")
        makers = [
            m.get("name", "")
            + ("（回避）" if m.get("recused") else f"（{zh(m['vote'], 'vote')}）" if m.get("vote") else "")
            for m in record.get("decision_makers") or []
        ]
        if makers:
            facts.append("决策成员 " + "、".join(makers))
        if tally := record.get("tally"):
            facts.append(f"表决 同意 {tally['approvals']}，不同意 {tally['rejections']}，弃权 {tally['abstentions']}")
        if record.get("related_inventors"):
            facts.append("关联发明人 " + "、".join(record["related_inventors"]))
        if record.get("related_party_declaration"):
            facts.append(f"关联关系声明：{record['related_party_declaration']}")
        return facts
    return []


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


def offers(out: ProcessOut) -> dict[str, Any]:
    """What the caller may do at the process's open step: the step's form for a role that acts
    there, a return to an earlier step, a stop (the page offers, the service still decides)."""
    mine = set(out.my_roles)
    roles = {w.step: set(w.roles) for w in out.workflow}
    order = [w.step for w in out.workflow]
    step = out.step
    if step is None:
        return {"form": None, "amend": False, "return_to": [], "stop": False}
    acting = mine & roles.get(step, set())
    earlier = order[: order.index(step)] if step in order else []
    may_return = bool(earlier) and bool(mine & (roles.get(step, set()) | {Role.OFFICE}))
    may_stop = Role.OFFICE in mine or (step is Step.DECISION and bool(acting))
    return {
        "form": step.value if step in STEP_FORMS and acting else None,
        # Back at 发起 on a later pass: the disclosure is corrected and submitted again.
        "amend": step is Step.INITIATE and bool(acting),
        "return_to": [s.value for s in earlier] if may_return else [],
        "stop": may_stop,
    }


async def _process_context(
    db: Db,
    user: Principal,
    process_id: uuid.UUID,
    forms: Mapping[str, Form] | None = None,
    done: str = "",
    state: Any = None,
) -> dict[str, Any]:
    async with db.read() as session:
        process = await processes.visible_process(session, user, process_id)
        out = await processes.process_out(session, user, process)
        blocks = await process_blocks(session, user, out, state) if state is not None else {}
    forms = dict(forms or {})
    for key in (*(s.value for s in STEP_FORMS), "return", "stop"):
        forms.setdefault(key, Form(key))
    inventor_names = [i.name for i in out.disclosure.inventors]
    return page_context(
        "transfers",
        process=out,
        bar=step_bar(out),
        offers=offers(out),
        facts={e.seq: record_facts(e.step, e.record) for e in out.history},
        evaluation_facts=record_facts(Step.EVALUATION, out.evaluation),
        decision_facts=record_facts(Step.DECISION, out.decision),
        forms=forms,
        inventor_names=inventor_names,
        done=done,
        percent=percent_text,
        **blocks,
    )


@get("/workspace/transfers/{process_id:uuid}", include_in_schema=False, name="institution-transfer",
     opt={"public_cache": False})  # fmt: skip
async def transfer_page(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db
) -> Template:
    """``GET /transfer-processes/{id}``: the process for its institution's members (and operators)."""
    context = await _process_context(db, user, process_id, state=request.app.state)
    return Template("institutions/process.html", context=context)


Act = Callable[[AsyncSession], Awaitable[TransferProcess]]


async def _act(
    request: Request[Any, Any, Any],
    db: Db,
    user: Principal,
    process_id: uuid.UUID,
    key: str,
    body_of: Callable[[Form], Any],
    act: Callable[[Any], Act],
    notice: str,
    form: Form | None = None,
) -> Template | Redirect:
    """One act at the process: the form read into the API's body, the service called in one
    transaction; refused fields shown next to their inputs, other refusals raised (in place)."""
    request.state.action = ACTION
    form = form or await typed(request, key)
    key = form.key
    state = request.app.state
    path = f"/workspace/transfers/{process_id}"
    try:
        body = body_of(form)
        await db.transaction(act(body))
    except Refused:
        context = await _process_context(db, user, process_id, {key: form}, state=state)
        return shown(request, "institutions/process.html", WORK, context, status=422)
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        context = await _process_context(db, user, process_id, {key: form}, state=state)
        return shown(request, "institutions/process.html", WORK, context, status=refusal.status)
    if not is_htmx(request):
        return Redirect(f"{path}?notice={notice}", status_code=303)
    context = await _process_context(db, user, process_id, done=notice_for(notice) or "", state=state)
    return shown(request, "institutions/process.html", WORK, context)


def first_review_of(form: Form) -> FirstReviewIn:
    body = {"complete": form.checked("complete"), "institution_owns": form.checked("institution_owns"),
            "conflicts": form.value("conflicts"), "note": form.value("note")}  # fmt: skip
    return checked(form, FirstReviewIn, body)


def evaluation_of(form: Form) -> EvaluationIn:
    body: dict[str, Any] = {
        "kind": form.value("kind"),
        "appraised_value": money(form, "appraised_value") or 0,
        "appraiser": form.value("appraiser"),
        "report_number": form.value("report_number"),
        "note": form.value("note"),
    }
    if form.value("report_date"):
        body["report_date"] = form.value("report_date")
    return checked(form, EvaluationIn, body)


def expert_review_of(form: Form) -> ExpertReviewIn:
    experts = [
        {"name": row["name"], "affiliation": row["affiliation"], "external": flag(row["external"]),
         "opinion": row["opinion"], "vote": row["vote"]}
        for _, row in rows(form.values, "experts", ("name", "affiliation", "external", "opinion", "vote"))
    ]  # fmt: skip
    return checked(form, ExpertReviewIn, {"experts": experts, "note": form.value("note")})


def decision_of(form: Form) -> DecisionIn:
    makers = [
        {"name": row["name"], "related_to_counterparty": flag(row["related_to_counterparty"]),
         "recused": flag(row["recused"]), "vote": row["vote"] or None}
        for _, row in rows(form.values, "decision_makers", ("name", "related_to_counterparty", "recused", "vote"))
    ]  # fmt: skip
    body: dict[str, Any] = {
        "minutes": form.value("minutes"),
        "decision_makers": makers,
        "floor_price": money(form, "floor_price"),
        "counterparty": form.value("counterparty"),
        "related_inventors": split(form.value("related_inventors")),
        "related_party_declaration": form.value("related_party_declaration"),
        "note": form.value("note"),
    }
    if form.value("pricing"):
        body["pricing"] = form.value("pricing")
    return checked(form, DecisionIn, body)


@post("/workspace/transfers/{process_id:uuid}/first-review", include_in_schema=False, status_code=200)
async def first_review(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/first-review``: 初审 by the office."""
    return await _act(request, db, user, process_id, "first_review", first_review_of,
                      lambda body: lambda s: processes.first_review(s, user, process_id, body, clock.now()),
                      "transfer-step-done")  # fmt: skip


@post("/workspace/transfers/{process_id:uuid}/evaluation", include_in_schema=False, status_code=200)
async def evaluation(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/evaluation``: 评估, the appraisal of record."""
    now = clock.now()
    return await _act(request, db, user, process_id, "evaluation", evaluation_of,
                      lambda body: lambda s: processes.evaluation(s, user, process_id, body, now,
                                                                  today=beijing_date(now)),
                      "transfer-step-done")  # fmt: skip


@post("/workspace/transfers/{process_id:uuid}/expert-review", include_in_schema=False, status_code=200)
async def expert_review(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/expert-review``: 论证, the panel's opinions and votes."""
    return await _act(request, db, user, process_id, "expert_review", expert_review_of,
                      lambda body: lambda s: processes.expert_review(s, user, process_id, body, clock.now()),
                      "transfer-step-done")  # fmt: skip


@post("/workspace/transfers/{process_id:uuid}/decision", include_in_schema=False, status_code=200)
async def decision(
    request: Request[Any, Any, Any],
    process_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    listings: Listings,
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/decision``: 决策 by the decision body (its notice opens)."""
    return await _act(request, db, user, process_id, "decision", decision_of,
                      lambda body: lambda s: processes.decide(s, listings, user, process_id, body, clock.now()),
                      "transfer-step-done")  # fmt: skip


@post("/workspace/transfers/{process_id:uuid}/return", include_in_schema=False, status_code=200)
async def send_back(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/return``: back to an earlier step, with the reason."""

    def body_of(form: Form) -> tuple[Step, str]:
        if form.value("to") not in set(Step):
            form.fail("to")
        if not form.value("reason"):
            form.fail("reason")
        if form.errors:
            raise Refused(form)
        return Step(form.value("to")), form.value("reason")

    return await _act(request, db, user, process_id, "return", body_of,
                      lambda b: lambda s: processes.send_back(s, user, process_id, b[0], b[1], None, clock.now()),
                      "transfer-returned")  # fmt: skip


@post("/workspace/transfers/{process_id:uuid}/stop", include_in_schema=False, status_code=200)
async def stop(
    request: Request[Any, Any, Any], process_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """``POST /transfer-processes/{id}/stop``: the process ends at its open step, with the reason."""

    def body_of(form: Form) -> str:
        if not form.value("reason"):
            form.fail("reason")
            raise Refused(form)
        return form.value("reason")

    return await _act(request, db, user, process_id, "stop", body_of,
                      lambda reason: lambda s: processes.halt(s, user, process_id, reason, None, clock.now()),
                      "transfer-stopped")  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Settings and role grants


def settings_values(out: SettingsOut) -> Values:
    values: Values = {
        "decision_body": out.decision_body,
        "notice_days": str(out.notice_days),
        "notice_unit": out.notice_unit.value,
        "plan_notice_days": str(out.plan_notice_days),
        "plan_notice_unit": out.plan_notice_unit.value,
        "inventor_share_bp": percent_text(out.inventor_share_bp),
        "extra_approval_threshold_fen": yuan(out.extra_approval_threshold_fen),
    }
    steps = {w.step for w in out.workflow}
    for step in OPTIONAL_STEPS:
        values[f"workflow.{step.value}"] = "on" if step in steps else ""
    for i, part in enumerate(out.institution_parts):
        values[f"institution_parts.{i}.name"] = part.name
        values[f"institution_parts.{i}.weight"] = str(part.weight)
    return values


async def _settings_context(
    db: Db,
    listings: ListingsContext,
    user: Principal,
    form: Form | None = None,
    grant: Form | None = None,
    done: str = "",
) -> dict[str, Any]:
    institution_caller(user)
    async with db.read() as session:
        out = config.settings_out(
            await config.configuration(
                session, user.org_id, user.org_kind, least_share_bp=listings.rules.inventor_reward_min_bp
            )
        )
        grants = await config.list_roles(session, user, user.org_id)
        people = await members.members_of(session, user.org_id, user)
    return page_context(
        "transfer-settings",
        settings=out,
        form=form or Form("settings", settings_values(out)),
        grant=grant or Form("grant"),
        grants=grants,
        people=[p for p in people if p.removed_at is None],
        optional_steps=[s.value for s in OPTIONAL_STEPS],
        done=done,
        may_edit=user.is_admin,
        percent=percent_text,
    )


@get("/workspace/transfers/settings", include_in_schema=False, name="institution-transfer-settings",
     opt={"public_cache": False})  # fmt: skip
async def settings_page(user: Caller, db: Db, listings: Listings) -> Template:
    """``GET /institutions/{org}/settings`` and ``…/roles``: editable by the admins, read by members."""
    return Template("institutions/settings.html", context=await _settings_context(db, listings, user))


def settings_of(form: Form, current: SettingsOut) -> SettingsIn:
    kept = {w.step: list(w.roles) for w in current.workflow}
    chosen = [s for s in OPTIONAL_STEPS if form.checked(f"workflow.{s.value}")]
    order = [Step.INITIATE, *chosen, Step.DECISION, Step.NOTICE, Step.IMPLEMENTATION]
    parts = [
        {"name": row["name"], "weight": row["weight"]}
        for _, row in rows(form.values, "institution_parts", ("name", "weight"))
    ]
    body: dict[str, Any] = {
        "workflow": [{"step": s.value, "roles": [r.value for r in kept.get(s, [])]} for s in order],
        "decision_body": form.value("decision_body") or current.decision_body,
        "notice_days": form.value("notice_days"),
        "notice_unit": form.value("notice_unit"),
        "plan_notice_days": form.value("plan_notice_days"),
        "plan_notice_unit": form.value("plan_notice_unit"),
        "inventor_share_bp": basis_points(form, "inventor_share_bp"),
        "extra_approval_threshold_fen": money(form, "extra_approval_threshold_fen"),
        "institution_parts": parts,
    }
    return checked(form, SettingsIn, {k: v for k, v in body.items() if v not in (None, "")})


@post("/workspace/transfers/settings", include_in_schema=False, status_code=200)
async def save_settings(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, listings: Listings
) -> Template | Redirect:
    """``PUT /institutions/{org}/settings``: the institution's settings, saved whole (its admins)."""
    request.state.action = SETTINGS_ACTION
    institution_caller(user)
    least = listings.rules.inventor_reward_min_bp
    form = await typed(request, "settings")
    async with db.read() as session:
        current = config.settings_out(await config.configuration(session, user.org_id, user.org_kind,
                                                                 least_share_bp=least))  # fmt: skip
    try:
        body = settings_of(form, current)
        await db.transaction(lambda s: config.save_settings(s, user, user.org_id, body, clock.now(),
                                                            least_share_bp=least))  # fmt: skip
    except Refused:
        context = await _settings_context(db, listings, user, form=form)
        return shown(request, "institutions/settings.html", "institutions/_settings_work.html", context, status=422)
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        context = await _settings_context(db, listings, user, form=form)
        return shown(request, "institutions/settings.html", "institutions/_settings_work.html", context,
                     status=refusal.status)  # fmt: skip
    return await _settings_done(request, db, listings, user, "transfer-settings-saved")


async def _settings_done(
    request: Request[Any, Any, Any], db: Db, listings: ListingsContext, user: Principal, notice: str
) -> Template | Redirect:
    if not is_htmx(request):
        return Redirect(f"/workspace/transfers/settings?notice={notice}", status_code=303)
    context = await _settings_context(db, listings, user, done=notice_for(notice) or "")
    return shown(request, "institutions/settings.html", "institutions/_settings_work.html", context)


@post("/workspace/transfers/settings/roles", include_in_schema=False, status_code=200)
async def grant_role(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, listings: Listings
) -> Template | Redirect:
    """``POST /institutions/{org}/roles``: a member given a role (its admins)."""
    request.state.action = SETTINGS_ACTION
    institution_caller(user)
    form = await typed(request, "grant")
    try:
        body = checked(form, RoleGrantIn, {"user_id": form.value("user_id"), "role": form.value("role")})
        await db.transaction(lambda s: config.grant_role(s, user, user.org_id, body.user_id, body.role, clock.now()))
    except Refused:
        context = await _settings_context(db, listings, user, grant=form)
        return shown(request, "institutions/settings.html", "institutions/_settings_work.html", context, status=422)
    except DomainError as refusal:
        if not refusal.errors and "field" not in refusal.extra:
            raise
        refused_by(form, refusal)
        context = await _settings_context(db, listings, user, grant=form)
        return shown(request, "institutions/settings.html", "institutions/_settings_work.html", context,
                     status=refusal.status)  # fmt: skip
    return await _settings_done(request, db, listings, user, "transfer-role-granted")


@post("/workspace/transfers/settings/roles/{user_id:uuid}/{role:str}/revoke", include_in_schema=False,
      status_code=200)  # fmt: skip
async def revoke_role(
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    role: FromPath[str],
    user: Caller,
    db: Db,
    listings: Listings,
) -> Template | Redirect:
    """``DELETE /institutions/{org}/roles/{user}/{role}``: a granted role taken back (its admins)."""
    request.state.action = SETTINGS_ACTION
    institution_caller(user)
    held = Role(role) if role in set(Role) else None
    if held is None:
        raise NotFound(f"no role {role!r}")
    await db.transaction(lambda s: config.revoke_role(s, user, user.org_id, user_id, held))
    return await _settings_done(request, db, listings, user, "transfer-role-revoked")


PAGE_HANDLERS = [
    transfers_page,
    new_transfer_page,
    disclose,
    amend_page,
    amend,
    settings_page,
    save_settings,
    grant_role,
    revoke_role,
    transfer_page,
    first_review,
    evaluation,
    expert_review,
    decision,
    send_back,
    stop,
]
