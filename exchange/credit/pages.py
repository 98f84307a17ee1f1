"""The pages of the credit evaluation: a provider's public credit page (/credit/providers/{id}); the
credit part of an engagement's page — the rating form, the provider's answer, the complaint form —
shown on a service order's page and on /workspace/credit/engagements/{kind}/{id} (linked from a
brokered deal's engagement); the organisation's credit page (/workspace/credit: a provider's "how my
score was made", its ratings to answer, the complaints filed or faced); and the operators' console
(/console/credit: complaints to uphold or dismiss with reasons, demonstration institutions).

Every handler calls the service function of the JSON route; a refusal is the error page of the
shared handlers, in Chinese.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from exchange.credit import service
from exchange.credit.domain import (
    DEMONSTRATION_CLEAN_DAYS,
    DEMONSTRATION_MIN_ENGAGEMENTS,
    DEMONSTRATION_MIN_GRADE,
    GRADE_THRESHOLDS,
    HALF_LIFE_DAYS,
    PENALTIES,
    PRIOR_MEAN,
    PRIOR_WEIGHT,
    ComplaintDecision,
    ComplaintStatus,
    EngagementKind,
)
from exchange.credit.schemas import AnswerIn, ComplaintIn, DecisionIn, RatingIn
from exchange.credit.service import CreditContext
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from kernel.errors import NotFound
from kernel.page_actions import checked, done, refused

Credit = NamedDependency[CreditContext]
Operator = NamedDependency[Principal]
PRIVATE = {"public_cache": False}
DECIDED = {"uphold": "complaint-upheld", "dismiss": "complaint-dismissed"}
WORDS = {"quality": "服务质量", "timeliness": "及时性", "professionalism": "专业性", "reason": "原因", "answer": "回复"}


def formula() -> dict[str, Any]:
    """The published constants, for the pages that explain the score."""
    return {
        "prior_mean": PRIOR_MEAN, "prior_weight": PRIOR_WEIGHT, "half_life_days": HALF_LIFE_DAYS,
        "penalties": {k.value: rule for k, rule in PENALTIES.items()},
        "thresholds": [(g.value, least / 10) for g, least in GRADE_THRESHOLDS],
        "demo_grade": DEMONSTRATION_MIN_GRADE.value, "demo_engagements": DEMONSTRATION_MIN_ENGAGEMENTS,
        "demo_days": DEMONSTRATION_CLEAN_DAYS,
    }  # fmt: skip


def penalties_shown(breakdown: dict[str, Any]) -> list[dict[str, Any]]:
    """The breakdown's penalties with their moments as datetimes (shown in Beijing time)."""
    moments = ("at", "until")
    return [{**p, **{k: datetime.fromisoformat(p[k]) for k in moments}} for p in breakdown.get("penalties", [])]


def _kind(kind: str) -> EngagementKind:
    try:
        return EngagementKind(kind)
    except ValueError:
        raise NotFound(f"no engagements of kind {kind}") from None


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    posted = await request.form()
    return {k: str(v).strip() for k, v in posted.items() if k != "_csrf_token" and isinstance(v, str)}


def _back(form: dict[str, str], default: str) -> str:
    back = form.get("back", "")
    return back if back.startswith("/workspace/") else default


# ----------------------------------------------------------------------------------------------
# Public


@get("/credit/providers/{org_id:uuid}", include_in_schema=False, name="credit-provider")
async def provider_page(org_id: FromPath[uuid.UUID], db: Db) -> Template:
    """A provider's public credit: grade, score, 示范机构, ratings, answers (``GET /api/v1/credit/providers/{id}``)."""
    async with db.read() as session:
        names = await service.org_names(session, {org_id})
        if org_id not in names:
            raise NotFound(f"organisation {org_id} not found")
        stored = await service.score_of(session, org_id)
        ratings = await service.ratings_of(session, org_id, limit=50, after=None)
    context = {
        "section": "services",
        "org_id": org_id,
        "name": names[org_id],
        "s": stored,
        "ratings": ratings,
        "f": formula(),
    }
    return Template("credit/provider.html", context=context)


# ----------------------------------------------------------------------------------------------
# Workspaces


@get("/workspace/credit", include_in_schema=False, name="workspace-credit", opt=PRIVATE)
async def workspace_credit(user: Caller, db: Db) -> Template:
    """The organisation's credit: for a provider its score and how it was made, the ratings it may
    answer; for every organisation the complaints it filed or faces."""
    async with db.read() as session:
        stored = await service.score_of(session, user.org_id)
        ratings = await service.ratings_of(session, user.org_id, limit=100, after=None)
        complaints = await service.list_complaints(session, user, status=None, limit=100, after=None)
        names = await service.org_names(
            session, {c.client_org_id for c in complaints} | {c.provider_org_id for c in complaints}
        )
    context = {
        "section": "workspace", "workspace_tab": "credit", "s": stored, "ratings": ratings,
        "complaints": complaints, "names": names, "f": formula(), "me": user.org_id,
        "penalties": penalties_shown(stored.breakdown if stored else {}),
    }  # fmt: skip
    return Template("credit/workspace.html", context=context)


@get("/workspace/credit/engagements/{kind:str}/{engagement_id:uuid}", include_in_schema=False, opt=PRIVATE,
     name="workspace-credit-engagement")  # fmt: skip
async def engagement_page(
    kind: FromPath[str], engagement_id: FromPath[uuid.UUID], user: Caller, db: Db, credit: Credit
) -> Template:
    """An engagement's rating and complaints, for its parties (a brokered deal's page for rating)."""
    async with db.read() as session:
        facts = await credit.engagement(session, _kind(kind), engagement_id)
        user.require_member_of(facts.client_org_id, facts.provider_org_id, operators_too=True)
        view = await service.engagement_view(session, user, facts)
    return Template("credit/engagement.html", context={"section": "workspace", "workspace_tab": "credit", "c": view})


@post("/workspace/credit/ratings", include_in_schema=False, status_code=200)
async def rate(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, credit: Credit
) -> Template | Redirect:
    """The client's rating form, as ``POST /api/v1/credit/ratings``."""
    request.state.action = "credit-rate"
    form = await _form(request)
    marks = {}
    for name in ("quality", "timeliness", "professionalism"):
        value = form.get(name, "")
        if not value.isdigit():
            raise refused(f"{name} is a mark from 1 to 5", name, WORDS)
        marks[name] = int(value)
    body = checked(RatingIn, {"kind": form.get("kind", ""), "engagement_id": form.get("engagement_id", ""),
                              "comment": form.get("comment", ""), **marks}, WORDS)  # fmt: skip
    await db.transaction(
        lambda s: service.rate(
            s, credit, user, kind=body.kind, engagement_id=body.engagement_id, quality=body.quality,
            timeliness=body.timeliness, professionalism=body.professionalism, comment=body.comment, now=clock.now(),
        )
    )  # fmt: skip
    return done(request, "credit-rated", _back(form, f"/workspace/credit/engagements/{body.kind}/{body.engagement_id}"))


@post("/workspace/credit/complaints", include_in_schema=False, status_code=200)
async def complain(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, credit: Credit
) -> Template | Redirect:
    """The client's complaint form, as ``POST /api/v1/credit/complaints``."""
    request.state.action = "credit-complain"
    form = await _form(request)
    fields = {
        "kind": form.get("kind", ""),
        "engagement_id": form.get("engagement_id", ""),
        "reason": form.get("reason", ""),
    }
    body = checked(ComplaintIn, fields, WORDS)
    await db.transaction(
        lambda s: service.complain(s, credit, user, kind=body.kind, engagement_id=body.engagement_id,
                                   reason=body.reason, now=clock.now())
    )  # fmt: skip
    return done(
        request, "credit-complained", _back(form, f"/workspace/credit/engagements/{body.kind}/{body.engagement_id}")
    )


@post("/workspace/credit/ratings/{rating_id:uuid}/answer", include_in_schema=False, status_code=200)
async def answer(
    request: Request[Any, Any, Any], rating_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """The provider's one answer, as ``POST /api/v1/credit/ratings/{id}/answer``."""
    request.state.action = "credit-answer"
    form = await _form(request)
    body = checked(AnswerIn, {"answer": form.get("answer", "")}, WORDS)
    await db.transaction(lambda s: service.answer(s, user, rating_id, body.answer, clock.now()))
    return done(request, "credit-answered", _back(form, "/workspace/credit"))


# ----------------------------------------------------------------------------------------------
# The operators' console


@get("/console/credit", include_in_schema=False, name="console-credit", opt=PRIVATE)
async def console_credit(operator: Operator, db: Db) -> Template:
    """Open complaints (oldest first) to uphold or dismiss, decided ones, and the providers' scores
    with the demonstration designations."""
    operator.require_operator()
    async with db.read() as session:
        complaints = await service.list_complaints(session, operator, status=None, limit=100, after=None)
        scores = await service.list_scores(session, limit=100, after=None)
        ids = {c.client_org_id for c in complaints} | {c.provider_org_id for c in complaints}
        names = await service.org_names(session, ids | {s.provider_org_id for s in scores})
    open_ = [c for c in complaints if c.status == ComplaintStatus.OPEN.value]
    decided = [c for c in complaints if c.status != ComplaintStatus.OPEN.value]
    context = {"section": "workspace", "workspace_tab": "console-credit", "open": open_, "decided": decided,
               "scores": scores, "names": names, "f": formula()}  # fmt: skip
    return Template("credit/console.html", context=context)


@post("/console/credit/complaints/{complaint_id:uuid}/{act:str}", include_in_schema=False, status_code=200)
async def console_decide(
    request: Request[Any, Any, Any], complaint_id: FromPath[uuid.UUID], act: FromPath[str], operator: Operator,
    db: Db, clock: Now, credit: Credit,
) -> Template | Redirect:  # fmt: skip
    """Uphold or dismiss with a reason, as ``POST /api/v1/credit/complaints/{id}/uphold|dismiss``."""
    if act not in DECIDED:
        raise NotFound(f"no action {act}")
    form = await _form(request)
    body = checked(DecisionIn, {"reason": form.get("reason", "")}, WORDS)
    decision = ComplaintDecision(act)
    await db.transaction(
        lambda s: service.decide_complaint(s, credit, operator, complaint_id, decision, body.reason, clock.now())
    )
    return done(request, DECIDED[act], "/console/credit")


@post("/console/credit/providers/{org_id:uuid}/demonstration", include_in_schema=False, status_code=200)
async def console_designate(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], operator: Operator, db: Db, clock: Now,
    credit: Credit,
) -> Template | Redirect:  # fmt: skip
    """Designate a demonstration institution, as ``POST /api/v1/credit/providers/{id}/demonstration``."""
    await db.transaction(lambda s: service.designate(s, credit, operator, org_id, clock.now()))
    return done(request, "demonstration-designated", "/console/credit")


@post("/console/credit/providers/{org_id:uuid}/demonstration/end", include_in_schema=False, status_code=200)
async def console_end(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    """End a designation with a reason, as ``POST /api/v1/credit/providers/{id}/demonstration/end``."""
    form = await _form(request)
    body = checked(DecisionIn, {"reason": form.get("reason", "")}, WORDS)
    await db.transaction(lambda s: service.end_designation(s, operator, org_id, body.reason, clock.now()))
    return done(request, "demonstration-ended", "/console/credit")


PAGE_HANDLERS = [
    provider_page, workspace_credit, engagement_page, rate, complain, answer, console_credit, console_decide,
    console_designate, console_end,
]  # fmt: skip
