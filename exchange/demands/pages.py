"""The pages of technical demands: the public demand board (/demands) beside the notice board, a
demand's page (its confidential part only for its owner, operators and NDA holders), campaigns;
the enterprise's workspace (its demands, the proposals received with shortlist / decline /
negotiation buttons) and the institution's (demands it may answer, its proposals with feedback).

Every action calls the service function of the JSON route and answers 303 to its page with
``?notice=``; a refusal is the error page of the shared handlers, in Chinese.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from exchange.demands import campaigns, proposals, service
from exchange.demands.context import DemandsContext
from exchange.demands.domain import AcceptedForm, NegotiationPath
from exchange.demands.schemas import DeclineIn, DemandIn, NegotiateIn, ProposalIn
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from listings.domain import Field

Demands = NamedDependency[DemandsContext]
Viewer = NamedDependency[Principal | None]
PRIVATE = {"public_cache": False}
CHOICES = {"field": [f.value for f in Field], "accepted_form": [f.value for f in AcceptedForm]}


def _yuan_to_fen(text: str) -> int | None:
    text = text.replace(",", "").strip()
    return round(float(text) * 100) if text else None


@get("/demands", include_in_schema=False, name="demand-board")
async def board(db: Db, principal: Viewer) -> Template:
    async with db.read() as session:
        rows = await service.list_demands(session, principal, limit=100)
    return Template("demands/board.html", context={"section": "demands", "demands": rows})


@get("/demands/{demand_id:uuid}", include_in_schema=False, name="demand-page", opt=PRIVATE)
async def demand_page(demand_id: FromPath[uuid.UUID], db: Db, principal: Viewer) -> Template:
    async with db.read() as session:
        demand = await service.visible_demand(session, principal, demand_id)
        may_read = await service.may_read_confidential(session, demand, principal)
    owner = service.is_owner(demand, principal)
    may_answer = principal is not None and not owner and demand.status == "published"
    return Template(
        "demands/demand.html",
        context={"section": "demands", "d": demand, "may_read": may_read, "owner": owner, "may_answer": may_answer},
    )


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


@post("/demands/{demand_id:uuid}/proposals", include_in_schema=False, opt=PRIVATE)
async def propose(
    demand_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Redirect:
    form = await request.form()
    data = ProposalIn(
        summary=str(form.get("summary", "")),
        solution=str(form.get("solution", "")),
        listing_ids=[uuid.UUID(x) for x in str(form.get("listing_ids", "")).split() if x],
        budget_fen=_yuan_to_fen(str(form.get("budget_yuan", ""))),
    )
    await db.transaction(lambda s: proposals.propose(s, user, demand_id, data, clock.now()))
    return Redirect("/workspace/proposals?notice=proposal-sent", status_code=303)


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
    return Template(
        "demands/campaign.html",
        context={"section": "demands", "c": campaigns.campaign_out(campaign, clock.now()), "screener": screener,
                 "submissions": rows},
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Workspaces


@get("/workspace/demands", include_in_schema=False, name="my-demands", opt=PRIVATE)
async def my_demands(user: Caller, db: Db) -> Template:
    async with db.read() as session:
        rows = await service.list_demands(session, user, mine=True, limit=100)
        counts = await service.proposal_counts(session, [d.id for d in rows])
    return Template(
        "demands/mine.html",
        context={"section": "workspace", "workspace_tab": "demands", "demands": rows, "counts": counts,
                 "choices": CHOICES},
    )  # fmt: skip


@post("/workspace/demands", include_in_schema=False, opt=PRIVATE)
async def create_demand(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, demands: Demands
) -> Redirect:
    form = await request.form()
    deadline = str(form.get("deadline", "")).strip()
    data = DemandIn(
        title=str(form.get("title", "")),
        description=str(form.get("description", "")),
        performance=str(form.get("performance", "")),
        field=Field(str(form.get("field", "other")) or "other"),
        keywords=[k for k in str(form.get("keywords", "")).replace("，", " ").split() if k],
        ipc_codes=[k for k in str(form.get("ipc_codes", "")).replace("，", ",").split(",") if k.strip()],
        budget_min_fen=_yuan_to_fen(str(form.get("budget_min_yuan", ""))),
        budget_max_fen=_yuan_to_fen(str(form.get("budget_max_yuan", ""))),
        accepted_forms=[AcceptedForm(f) for f in form.getall("accepted_forms", [])],
        deadline=date.fromisoformat(deadline) if deadline else None,
        confidential=str(form.get("confidential", "")),
    )
    demand = await db.transaction(lambda s: service.create_demand(s, demands, user, data, clock.now()))
    return Redirect(f"/workspace/demands/{demand.id}?notice=demand-saved", status_code=303)


@get("/workspace/demands/{demand_id:uuid}", include_in_schema=False, name="my-demand", opt=PRIVATE)
async def my_demand(demand_id: FromPath[uuid.UUID], user: Caller, db: Db) -> Template:
    async with db.read() as session:
        demand = await service.visible_demand(session, user, demand_id)
        rows = await proposals.of_demand(session, user, demand_id, limit=100)
    return Template(
        "demands/received.html",
        context={"section": "workspace", "workspace_tab": "demands", "d": demand, "proposals": rows},
    )


@post("/workspace/demands/{demand_id:uuid}/publish", include_in_schema=False, opt=PRIVATE)
async def publish(demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Redirect:
    await db.transaction(lambda s: service.publish_demand(s, user, demand_id, clock.now()))
    return Redirect(f"/workspace/demands/{demand_id}?notice=demand-published", status_code=303)


@post("/workspace/proposals/{proposal_id:uuid}/{act:str}", include_in_schema=False, opt=PRIVATE)
async def answer(
    proposal_id: FromPath[uuid.UUID], act: FromPath[str], request: Request[Any, Any, Any], user: Caller, db: Db,
    clock: Now, demands: Demands,
) -> Redirect:  # fmt: skip
    form = await request.form()
    now = clock.now()
    if act == "shortlist":
        proposal = await db.transaction(lambda s: proposals.shortlist(s, user, proposal_id, now))
    elif act == "decline":
        data = DeclineIn(str(form.get("reason", "")) or " ")
        proposal = await db.transaction(lambda s: proposals.decline(s, user, proposal_id, data, now))
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
    board, demand_page, accept_nda, confidential_page, propose, campaign_list, campaign_page, my_demands,
    create_demand, my_demand, publish, answer, my_proposals,
]  # fmt: skip
