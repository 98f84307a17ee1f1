"""The pages of technical demands: the public demand board (/demands) beside the notice board, a
demand's page (its confidential part only for its owner, operators and NDA holders), campaigns;
the enterprise's workspace (its demands, a draft's edit, the proposals received with shortlist /
decline / negotiation buttons), the institution's (demands it may answer, its proposals with
feedback), and the organiser's campaigns (``campaign_pages.py``).

Every action calls the service function of the JSON route and answers 303 to its page with
``?notice=``. A refusal naming its fields shows the form again as typed with the Chinese words
next to the input (``page_forms``, the workspace forms' mechanism), nothing written; any other
refusal is the error page of the shared handlers, in Chinese.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import campaigns, proposals, service
from exchange.demands.campaign_pages import CAMPAIGN_PAGES
from exchange.demands.context import DemandsContext
from exchange.demands.domain import AcceptedForm, InvalidCampaign, NegotiationPath
from exchange.demands.models import Demand
from exchange.demands.page_forms import Form, decline_in, demand_in, demand_values, proposal_in, refusal_status
from exchange.demands.schemas import NegotiateIn, SubmissionIn
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.web.forms import attempt, typed
from listings.domain import Field

Demands = NamedDependency[DemandsContext]
Viewer = NamedDependency[Principal | None]
PRIVATE = {"public_cache": False}
CHOICES = {"field": [f.value for f in Field], "accepted_form": [f.value for f in AcceptedForm]}


@get("/demands", include_in_schema=False, name="demand-board")
async def board(db: Db, principal: Viewer) -> Template:
    async with db.read() as session:
        rows = await service.list_demands(session, principal, limit=100)
    return Template("demands/board.html", context={"section": "demands", "demands": rows})


async def _demand_context(
    session: AsyncSession, demand: Demand, principal: Principal | None, form: Form
) -> dict[str, Any]:
    may_read = await service.may_read_confidential(session, demand, principal)
    owner = service.is_owner(demand, principal)
    may_answer = principal is not None and not owner and demand.status == "published"
    listings = await proposals.own_listings(session, principal) if may_answer and principal else []
    return {"section": "demands", "d": demand, "may_read": may_read, "owner": owner, "may_answer": may_answer,
            "f": form, "listings": listings}  # fmt: skip


@get("/demands/{demand_id:uuid}", include_in_schema=False, name="demand-page", opt=PRIVATE)
async def demand_page(demand_id: FromPath[uuid.UUID], db: Db, principal: Viewer) -> Template:
    async with db.read() as session:
        demand = await service.visible_demand(session, principal, demand_id)
        context = await _demand_context(session, demand, principal, Form("proposal"))
    return Template("demands/demand.html", context=context)


@post("/demands/{demand_id:uuid}/nda", include_in_schema=False, opt=PRIVATE)
async def accept_nda(demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Redirect:
    await db.transaction(lambda s: service.accept_nda(s, user, demand_id, clock.now()))
    return Redirect(f"/demands/{demand_id}/confidential", status_code=303)


@get("/demands/{demand_id:uuid}/confidential", include_in_schema=False, opt=PRIVATE)
async def confidential_page(
    demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, demands: Demands
) -> Template:
    demand, text, basis = await db.transaction(
        lambda s: service.read_confidential(s, demands, user, demand_id, clock.now())
    )
    return Template(
        "demands/confidential.html", context={"section": "demands", "d": demand, "text": text, "basis": basis}
    )


@post("/demands/{demand_id:uuid}/proposals", include_in_schema=False, opt=PRIVATE, status_code=200)
async def propose(
    demand_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    form = await typed(request, "proposal", Form)

    async def work() -> object:
        data = proposal_in(form)
        return await db.transaction(lambda s: proposals.propose(s, user, demand_id, data, clock.now()))

    if await attempt(form, work) is not None:
        return Redirect("/workspace/proposals?notice=proposal-sent", status_code=303)
    async with db.read() as session:
        demand = await service.visible_demand(session, user, demand_id)
        context = await _demand_context(session, demand, user, form)
    return Template("demands/demand.html", context=context, status_code=refusal_status(form))


@get("/campaigns", include_in_schema=False, name="campaign-list")
async def campaign_list(db: Db, clock: Now) -> Template:
    now = clock.now()
    async with db.read() as session:
        rows = await campaigns.list_campaigns(session, limit=100)
    return Template(
        "demands/campaigns.html",
        context={"section": "demands", "campaigns": [campaigns.campaign_out(c, now) for c in rows]},
    )


@get("/campaigns/{campaign_id:uuid}", include_in_schema=False, name="campaign-page", opt=PRIVATE)
async def campaign_page(campaign_id: FromPath[uuid.UUID], db: Db, clock: Now, principal: Viewer) -> Template:
    async with db.read() as session:
        campaign = await campaigns.get_campaign(session, campaign_id)
        screener = principal is not None and campaigns.may_screen(campaign, principal)
        rows = await campaigns.submissions(session, principal, campaign_id, limit=100) if principal else []
        candidates = await campaigns.candidates(session, principal, campaign) if principal else []
    return Template(
        "demands/campaign.html",
        context={"section": "demands", "c": campaigns.campaign_out(campaign, clock.now()), "screener": screener,
                 "submissions": rows, "candidates": candidates},
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Workspaces


async def _mine_context(session: AsyncSession, user: Principal, form: Form) -> dict[str, Any]:
    rows = await service.list_demands(session, user, mine=True, limit=100)
    return {"section": "workspace", "workspace_tab": "demands", "demands": rows,
            "counts": await service.proposal_counts(session, [d.id for d in rows]), "choices": CHOICES,
            "orgs": await service.invitable_orgs(session, user), "f": form, "action": "/workspace/demands",
            "d": None}  # fmt: skip


@get("/workspace/demands", include_in_schema=False, name="my-demands", opt=PRIVATE)
async def my_demands(user: Caller, db: Db) -> Template:
    async with db.read() as session:
        context = await _mine_context(session, user, Form("demand", {"visibility": "public"}))
    return Template("demands/mine.html", context=context)


@post("/workspace/demands", include_in_schema=False, opt=PRIVATE, status_code=200)
async def create_demand(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, demands: Demands
) -> Template | Redirect:
    form = await typed(request, "demand", Form)

    async def work() -> Demand:
        data = demand_in(form)
        return await db.transaction(lambda s: service.create_demand(s, demands, user, data, clock.now()))

    demand = await attempt(form, work)
    if demand is not None:
        return Redirect(f"/workspace/demands/{demand.id}?notice=demand-saved", status_code=303)
    async with db.read() as session:
        context = await _mine_context(session, user, form)
    return Template("demands/mine.html", context=context, status_code=refusal_status(form))


async def _edit_context(session: AsyncSession, user: Principal, demand: Demand, form: Form) -> dict[str, Any]:
    return {"section": "workspace", "workspace_tab": "demands", "d": demand, "choices": CHOICES,
            "orgs": await service.invitable_orgs(session, user), "f": form,
            "action": f"/workspace/demands/{demand.id}/edit"}  # fmt: skip


@get("/workspace/demands/{demand_id:uuid}/edit", include_in_schema=False, name="edit-demand", opt=PRIVATE)
async def edit_page(demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, demands: Demands) -> Template:
    """A draft's form, filled with what is stored (its confidential part read as the owner: logged)."""

    async def read(session: AsyncSession) -> dict[str, Any]:
        demand = await service.own_demand(session, user, demand_id)
        text = ""
        if demand.confidential_ciphertext is not None:
            _, text, _ = await service.read_confidential(session, demands, user, demand_id, clock.now())
        return await _edit_context(session, user, demand, Form("demand", demand_values(demand, text)))

    return Template("demands/edit.html", context=await db.transaction(read))


@post("/workspace/demands/{demand_id:uuid}/edit", include_in_schema=False, opt=PRIVATE, status_code=200)
async def edit_demand(
    demand_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now,
    demands: Demands,
) -> Template | Redirect:  # fmt: skip
    form = await typed(request, "demand", Form)

    async def work() -> Demand:
        data = demand_in(form)
        return await db.transaction(lambda s: service.edit_demand(s, demands, user, demand_id, data, clock.now()))

    if await attempt(form, work) is not None:
        return Redirect(f"/workspace/demands/{demand_id}?notice=demand-saved", status_code=303)
    async with db.read() as session:
        demand = await service.visible_demand(session, user, demand_id)
        context = await _edit_context(session, user, demand, form)
    return Template("demands/edit.html", context=context, status_code=refusal_status(form))


async def _received_context(
    session: AsyncSession, user: Principal, demand_id: uuid.UUID, refused: Form | None = None
) -> dict[str, Any]:
    demand = await service.visible_demand(session, user, demand_id)
    rows = await proposals.of_demand(session, user, demand_id, limit=100)
    decline_forms = {p.id: Form(f"decline:{p.id}") for p in rows}
    if refused is not None:
        decline_forms[uuid.UUID(refused.key.partition(":")[2])] = refused
    invited = await service.org_names(session, [uuid.UUID(o) for o in demand.invited_org_ids])
    linked = await proposals.listing_titles(session, [i for p in rows for i in p.listing_ids])
    return {"section": "workspace", "workspace_tab": "demands", "d": demand, "proposals": rows,
            "decline_forms": decline_forms, "invited": list(invited.values()), "linked": linked}  # fmt: skip


@get("/workspace/demands/{demand_id:uuid}", include_in_schema=False, name="my-demand", opt=PRIVATE)
async def my_demand(demand_id: FromPath[uuid.UUID], user: Caller, db: Db) -> Template:
    async with db.read() as session:
        context = await _received_context(session, user, demand_id)
    return Template("demands/received.html", context=context)


@post("/workspace/demands/{demand_id:uuid}/publish", include_in_schema=False, opt=PRIVATE)
async def publish(demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Redirect:
    await db.transaction(lambda s: service.publish_demand(s, user, demand_id, clock.now()))
    return Redirect(f"/workspace/demands/{demand_id}?notice=demand-published", status_code=303)


@post("/workspace/demands/{demand_id:uuid}/end", include_in_schema=False, opt=PRIVATE)
async def end_demand(
    demand_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Redirect:
    """Close a published demand (it found its answer: ``act=close``) or withdraw it (``act=withdraw``)."""
    values = await request.form()
    act = "withdraw" if values.get("act") == "withdraw" else "close"
    reason = str(values.get("reason", "")).strip()[:200]
    await db.transaction(
        lambda s: service.close_demand(s, user, demand_id, reason, clock.now(), withdraw=act == "withdraw")
    )
    return Redirect(f"/workspace/demands/{demand_id}?notice=demand-{act}", status_code=303)


@post("/campaigns/{campaign_id:uuid}/submissions", include_in_schema=False, opt=PRIVATE)
async def submit_to_campaign(
    campaign_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Redirect:
    """Submit one of the organisation's published demands (or proposals) to an open campaign."""
    values = await request.form()
    data = SubmissionIn(
        demand_id=_id_or_none(values.get("demand_id"), "demand_id"),
        proposal_id=_id_or_none(values.get("proposal_id"), "proposal_id"),
    )
    await db.transaction(lambda s: campaigns.submit(s, user, campaign_id, data, clock.now()))
    return Redirect(f"/campaigns/{campaign_id}?notice=campaign-submitted", status_code=303)


def _id_or_none(value: object, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidCampaign(f"{field}: choose one from the list", field=field) from None


@post("/workspace/proposals/{proposal_id:uuid}/decline", include_in_schema=False, opt=PRIVATE, status_code=200)
async def decline(
    proposal_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    form = await typed(request, f"decline:{proposal_id}", Form)

    async def work() -> object:
        data = decline_in(form)
        return await db.transaction(lambda s: proposals.decline(s, user, proposal_id, data, clock.now()))

    proposal = await attempt(form, work)
    if proposal is not None:
        return Redirect(f"/workspace/demands/{proposal.demand_id}?notice=proposal-decline", status_code=303)  # type: ignore[attr-defined]
    async with db.read() as session:
        found, _ = await proposals.visible_proposal(session, user, proposal_id)
        context = await _received_context(session, user, found.demand_id, form)
    return Template("demands/received.html", context=context, status_code=refusal_status(form))


@post("/workspace/proposals/{proposal_id:uuid}/{act:str}", include_in_schema=False, opt=PRIVATE)
async def answer(
    proposal_id: FromPath[uuid.UUID], act: FromPath[str], request: Request[Any, Any, Any], user: Caller, db: Db,
    clock: Now, demands: Demands,
) -> Redirect:  # fmt: skip
    """Shortlist, or open a negotiation (``listing`` on a linked listing, ``new_listing``)."""
    form = await request.form()
    now = clock.now()
    if act == "shortlist":
        proposal = await db.transaction(lambda s: proposals.shortlist(s, user, proposal_id, now))
    else:
        listing = str(form.get("listing_id", "")).strip()
        negotiate = NegotiateIn(path=NegotiationPath(act), listing_id=uuid.UUID(listing) if listing else None)
        proposal = await db.transaction(lambda s: proposals.negotiate(s, demands, user, proposal_id, negotiate, now))
    return Redirect(f"/workspace/demands/{proposal.demand_id}?notice=proposal-{act}", status_code=303)


@get("/workspace/proposals", include_in_schema=False, name="my-proposals", opt=PRIVATE)
async def my_proposals(user: Caller, db: Db) -> Template:
    async with db.read() as session:
        rows = await proposals.of_org(session, user, limit=100)
        titles = await proposals.titles(session, rows)
        open_ones = await service.answerable_demands(session, user)
    return Template(
        "demands/proposals.html",
        context={"section": "workspace", "workspace_tab": "proposals",
                 "proposals": [proposals.proposal_out(p, titles.get(p.demand_id, "")) for p in rows],
                 "answerable": open_ones},
    )  # fmt: skip


PAGE_HANDLERS = [
    *CAMPAIGN_PAGES, board, demand_page, accept_nda, confidential_page, propose, campaign_list, campaign_page,
    my_demands, create_demand, edit_page, edit_demand, my_demand, publish, end_demand, submit_to_campaign, decline,
    answer, my_proposals,
]  # fmt: skip
