"""The organiser's campaign pages: an operator's in the console (/console/campaigns) and a
government program's in its workspace (/workspace/campaigns) — the same pages on the same service
functions as ``POST /campaigns`` and ``POST /campaign-submissions/{id}/screening``: open a
campaign (theme, kind, deadline, rules), then accept each submission or reject it with the reason
its submitter reads. A refusal shows the form again with the words next to the input."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import campaigns
from exchange.demands.domain import CampaignKind, DemandForbidden
from exchange.demands.models import Campaign, CampaignSubmission
from exchange.demands.page_forms import Form, campaign_in, refusal_status, screening_in
from exchange.demands.service import org_names
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.web.forms import attempt, typed
from kernel.errors import NotFound

Operator = NamedDependency[Principal]
PRIVATE = {"public_cache": False}
CONSOLE = "/console/campaigns"
WORKSPACE = "/workspace/campaigns"
KINDS = [k.value for k in CampaignKind]


def _home(user: Principal) -> str:
    return CONSOLE if user.is_operator else WORKSPACE


def _tab(home: str) -> str:
    return "console-campaigns" if home == CONSOLE else "campaigns"


async def _list_context(session: AsyncSession, user: Principal, home: str, form: Form, now: Any) -> dict[str, Any]:
    rows = await campaigns.list_campaigns(session, limit=100, organiser=None if user.is_operator else user.org_id)
    return {"section": "workspace", "workspace_tab": _tab(home), "home": home, "kinds": KINDS, "f": form,
            "campaigns": [campaigns.campaign_out(c, now) for c in rows]}  # fmt: skip


async def _list(user: Principal, db: Db, clock: Now, home: str) -> Template:
    campaigns.require_organiser(user)
    async with db.read() as session:
        context = await _list_context(session, user, home, Form("campaign", {"kind": "demands"}), clock.now())
    return Template("demands/organiser.html", context=context)


async def _create(request: Request[Any, Any, Any], user: Principal, db: Db, clock: Now) -> Template | Redirect:
    home = _home(user)
    form = await typed(request, "campaign", Form)

    async def work() -> Campaign:
        data = campaign_in(form)
        return await db.transaction(lambda s: campaigns.create_campaign(s, user, data, clock.now()))

    campaign = await attempt(form, work)
    if campaign is not None:
        return Redirect(f"{home}/{campaign.id}?notice=campaign-opened", status_code=303)
    async with db.read() as session:
        context = await _list_context(session, user, home, form, clock.now())
    return Template("demands/organiser.html", context=context, status_code=refusal_status(form))


async def _screen_context(
    session: AsyncSession, user: Principal, campaign_id: uuid.UUID, now: Any, refused: Form | None = None
) -> dict[str, Any]:
    campaign = await campaigns.get_campaign(session, campaign_id)
    if not campaigns.may_screen(campaign, user):
        campaigns.require_organiser(user)  # a government program, but not this campaign's organiser
        raise DemandForbidden("only the campaign's organiser screens its submissions")
    rows = await campaigns.submissions(session, user, campaign_id, limit=100)
    forms = {s.id: Form(f"screening:{s.id}") for s, _ in rows}
    if refused is not None:
        forms[uuid.UUID(refused.key.partition(":")[2])] = refused
    names = await org_names(session, list({s.org_id for s, _ in rows}))
    home = _home(user)
    return {"section": "workspace", "workspace_tab": _tab(home), "home": home,
            "c": campaigns.campaign_out(campaign, now), "submissions": rows, "forms": forms,
            "names": names}  # fmt: skip


async def _campaign(campaign_id: uuid.UUID, user: Principal, db: Db, clock: Now) -> Template:
    campaigns.require_organiser(user)
    async with db.read() as session:
        context = await _screen_context(session, user, campaign_id, clock.now())
    return Template("demands/screening.html", context=context)


async def _screen(
    submission_id: uuid.UUID, request: Request[Any, Any, Any], user: Principal, db: Db, clock: Now
) -> Template | Redirect:
    form = await typed(request, f"screening:{submission_id}", Form)

    async def work() -> CampaignSubmission:
        data = screening_in(form)
        return await db.transaction(lambda s: campaigns.screen(s, user, submission_id, data, clock.now()))

    done = await attempt(form, work)
    home = _home(user)
    if done is not None:
        return Redirect(f"{home}/{done.campaign_id}?notice=submission-screened", status_code=303)
    async with db.read() as session:
        submission = await session.get(CampaignSubmission, submission_id)
        if submission is None:
            raise NotFound(f"submission {submission_id} not found")
        context = await _screen_context(session, user, submission.campaign_id, clock.now(), form)
    return Template("demands/screening.html", context=context, status_code=refusal_status(form))


# The operators' console


@get(CONSOLE, include_in_schema=False, name="console-campaigns", opt=PRIVATE)
async def console_list(operator: Operator, db: Db, clock: Now) -> Template:
    return await _list(operator, db, clock, CONSOLE)


@post(CONSOLE, include_in_schema=False, opt=PRIVATE, status_code=200)
async def console_create(
    request: Request[Any, Any, Any], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    return await _create(request, operator, db, clock)


@get(f"{CONSOLE}/{{campaign_id:uuid}}", include_in_schema=False, name="console-campaign", opt=PRIVATE)
async def console_campaign(campaign_id: FromPath[uuid.UUID], operator: Operator, db: Db, clock: Now) -> Template:
    return await _campaign(campaign_id, operator, db, clock)


@post(f"{CONSOLE}/submissions/{{submission_id:uuid}}", include_in_schema=False, opt=PRIVATE, status_code=200)
async def console_screen(
    submission_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    return await _screen(submission_id, request, operator, db, clock)


# A government program's workspace


@get(WORKSPACE, include_in_schema=False, name="my-campaigns", opt=PRIVATE)
async def workspace_list(user: Caller, db: Db, clock: Now) -> Template:
    return await _list(user, db, clock, WORKSPACE)


@post(WORKSPACE, include_in_schema=False, opt=PRIVATE, status_code=200)
async def workspace_create(request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now) -> Template | Redirect:
    return await _create(request, user, db, clock)


@get(f"{WORKSPACE}/{{campaign_id:uuid}}", include_in_schema=False, name="my-campaign", opt=PRIVATE)
async def workspace_campaign(campaign_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Template:
    return await _campaign(campaign_id, user, db, clock)


@post(f"{WORKSPACE}/submissions/{{submission_id:uuid}}", include_in_schema=False, opt=PRIVATE, status_code=200)
async def workspace_screen(
    submission_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    return await _screen(submission_id, request, user, db, clock)


CAMPAIGN_PAGES = [
    console_list, console_create, console_campaign, console_screen, workspace_list, workspace_create,
    workspace_campaign, workspace_screen,
]  # fmt: skip
