"""Proposals: an organisation answers a published demand it may see, with a summary and its own
linked listings or a new solution described; the demand's owner shortlists it, declines it with a
reason (the proposer's feedback), or opens a negotiation:

- ``listing``: on one of the proposal's linked listings, through trading — what a buyer does to
  negotiate there (``NegotiationOpener``, wired by the composition root): register intent during
  the announcement with the listing's deposit held; the negotiation thread itself opens in trading
  after the announcement, with the buyer's first offer. Trading's refusals (not announced, no funds
  for the deposit, an intent already registered) are the answer.
- ``new_listing``: the proposer is asked for a listing; it creates the draft from the proposal
  (prefilled: title, summary, field, keywords) through listings' own ``create_listing``, completes
  it and submits it for review as any listing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import domain
from exchange.demands.context import DemandsContext
from exchange.demands.domain import (
    PROPOSER_KINDS,
    DemandForbidden,
    DemandStatus,
    NegotiationPath,
    ProposalAction,
    ProposalContent,
    ProposalStatus,
    check_decline,
    check_proposal,
    next_proposal_status,
)
from exchange.demands.models import Demand, Proposal
from exchange.demands.schemas import DeclineIn, NegotiateIn, ProposalIn, ProposalListingIn, ProposalOut
from exchange.demands.service import get_demand, is_owner, sees, visible_demand
from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.tables import new_id
from kernel.errors import Conflict, InvalidState, NotFound, msgspec_field
from kernel.time import rfc3339
from listings import Listing
from listings.domain import ListingContent
from listings.service import create_listing


def _about(demand: Demand, proposal: Proposal) -> dict[str, Any]:
    return {
        "demand_id": str(demand.id),
        "demand_title": demand.title,
        "proposal_id": str(proposal.id),
        "proposer_name": proposal.org_name,
        "demand_org_name": demand.org_name,
    }


async def _check_listings(session: AsyncSession, caller: Principal, listing_ids: tuple[uuid.UUID, ...]) -> None:
    if not listing_ids:
        return
    owners = dict(
        (await session.execute(select(Listing.id, Listing.seller_org_id).where(Listing.id.in_(listing_ids)))).all()
    )
    for i, listing_id in enumerate(listing_ids):
        if owners.get(listing_id) != caller.org_id:
            raise domain.InvalidProposal(
                f"listing_ids.{i}: {listing_id} is not a listing of your organisation", field=f"listing_ids.{i}"
            )


async def propose(
    session: AsyncSession, caller: Principal, demand_id: uuid.UUID, data: ProposalIn, now: datetime
) -> Proposal:
    caller.require_active_verified()
    if caller.org_kind.value not in PROPOSER_KINDS:
        raise DemandForbidden("universities, research institutes and enterprises answer demands")
    demand = await visible_demand(session, caller, demand_id)
    if is_owner(demand, caller):
        raise DemandForbidden("an organisation does not answer its own demand")
    if demand.status != DemandStatus.PUBLISHED.value or (demand.deadline_at is not None and demand.deadline_at <= now):
        raise InvalidState(f"the demand takes no proposals: it is {demand.status}", state=demand.status)
    content = ProposalContent(data.summary, data.solution, tuple(data.listing_ids), data.budget_fen)
    check_proposal(content)
    await _check_listings(session, caller, content.listing_ids)
    proposal = Proposal(
        id=new_id(),
        demand_id=demand.id,
        org_id=caller.org_id,
        org_name=caller.org_name,
        summary=data.summary,
        solution=data.solution,
        listing_ids=[str(i) for i in content.listing_ids],
        budget_fen=data.budget_fen,
        status=ProposalStatus.SUBMITTED.value,
        feedback="",
        submitted_by=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(proposal)
    await session.flush()
    info = {**_about(demand, proposal), "budget_fen": data.budget_fen}
    to = Audience.of_orgs(demand.org_id)
    notify(session, Kind.PROPOSAL_RECEIVED, to=to, now=now, subject=Subject("demand", demand.id), data=info)
    return proposal


async def _get(session: AsyncSession, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal:
    query = select(Proposal).where(Proposal.id == proposal_id)
    if lock:
        query = query.with_for_update()
    proposal = await session.scalar(query)
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal


async def visible_proposal(session: AsyncSession, caller: Principal, proposal_id: uuid.UUID) -> tuple[Proposal, Demand]:
    """The proposer, the demand's owner and operators see a proposal."""
    proposal = await _get(session, proposal_id)
    demand = await get_demand(session, proposal.demand_id)
    if not (caller.is_operator or caller.org_id in (proposal.org_id, demand.org_id)):
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal, demand


async def _owners_proposal(session: AsyncSession, caller: Principal, proposal_id: uuid.UUID) -> tuple[Proposal, Demand]:
    proposal = await _get(session, proposal_id, lock=True)
    demand = await get_demand(session, proposal.demand_id)
    if not is_owner(demand, caller):
        if caller.org_id == proposal.org_id or caller.is_operator:
            raise DemandForbidden("only the demand's organisation answers its proposals")
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal, demand


async def shortlist(session: AsyncSession, caller: Principal, proposal_id: uuid.UUID, now: datetime) -> Proposal:
    proposal, demand = await _owners_proposal(session, caller, proposal_id)
    proposal.status = next_proposal_status(proposal.status, ProposalAction.SHORTLIST).value
    proposal.updated_at = now
    to = Audience.of_orgs(proposal.org_id)
    subject = Subject("proposal", proposal.id)
    notify(session, Kind.PROPOSAL_SHORTLISTED, to=to, now=now, subject=subject, data=_about(demand, proposal))
    return proposal


async def decline(
    session: AsyncSession, caller: Principal, proposal_id: uuid.UUID, data: DeclineIn, now: datetime
) -> Proposal:
    proposal, demand = await _owners_proposal(session, caller, proposal_id)
    check_decline(data.reason)
    proposal.status = next_proposal_status(proposal.status, ProposalAction.DECLINE).value
    proposal.feedback = data.reason.strip()
    proposal.updated_at = now
    info = {**_about(demand, proposal), "reason": proposal.feedback}
    to = Audience.of_orgs(proposal.org_id)
    notify(session, Kind.PROPOSAL_DECLINED, to=to, now=now, subject=Subject("proposal", proposal.id), data=info)
    return proposal


async def negotiate(
    session: AsyncSession,
    ctx: DemandsContext,
    caller: Principal,
    proposal_id: uuid.UUID,
    data: NegotiateIn,
    now: datetime,
) -> Proposal:
    """The owner opens a negotiation on the proposal: on a linked listing through trading, or by
    asking the proposer for a new listing. The path opened is recorded on the proposal."""
    proposal, demand = await _owners_proposal(session, caller, proposal_id)
    status = next_proposal_status(proposal.status, ProposalAction.NEGOTIATE)
    if data.path is NegotiationPath.LISTING:
        if data.listing_id is None or str(data.listing_id) not in proposal.listing_ids:
            raise domain.InvalidProposal("listing_id: one of the proposal's linked listings", field="listing_id")
        if ctx.negotiations is None:
            raise InvalidState("negotiation through trading is not available here", state=proposal.status)
        opened = await ctx.negotiations.open(session, caller, data.listing_id, now)
        record: dict[str, Any] = {
            "path": data.path.value, "listing_id": str(data.listing_id), "kind": opened.kind, "id": str(opened.id),
            "opened_at": rfc3339(now),
        }  # fmt: skip
    else:
        if data.listing_id is not None:
            raise domain.InvalidProposal("listing_id: a new listing has none yet", field="listing_id")
        record = {"path": data.path.value, "listing_id": None, "opened_at": rfc3339(now)}
    proposal.status = status.value
    proposal.negotiation = record
    proposal.updated_at = now
    info = {**_about(demand, proposal), "path": data.path.value}
    to = Audience.of_orgs(proposal.org_id)
    notify(session, Kind.PROPOSAL_NEGOTIATION, to=to, now=now, subject=Subject("proposal", proposal.id), data=info)
    return proposal


def prefill(proposal: Proposal, demand: Demand) -> dict[str, Any]:
    """What a listing from the proposal starts with: the proposal's words, the demand's field and keywords."""
    summary = proposal.summary if not proposal.solution else f"{proposal.summary}\n\n{proposal.solution}"
    return {
        "title": f"{demand.title}解决方案"[:200],
        "summary": summary[:5000],
        "field": demand.field,
        "keywords": list(demand.keywords)[:20],
    }


async def create_listing_draft(
    session: AsyncSession,
    ctx: DemandsContext,
    caller: Principal,
    proposal_id: uuid.UUID,
    data: ProposalListingIn,
    now: datetime,
) -> Proposal:
    """The proposer's listing draft for a ``new_listing`` negotiation, by listings' own rules."""
    proposal = await _get(session, proposal_id, lock=True)
    demand = await get_demand(session, proposal.demand_id)
    if caller.org_id != proposal.org_id:
        if sees(demand, caller) and (caller.is_operator or is_owner(demand, caller)):
            raise DemandForbidden("the proposer creates its own listing")
        raise NotFound(f"proposal {proposal_id} not found")
    record = proposal.negotiation or {}
    if record.get("path") != NegotiationPath.NEW_LISTING.value:
        raise InvalidState(
            "the demand's owner has not asked for a new listing from this proposal", state=proposal.status
        )
    if record.get("listing_id"):
        raise Conflict(f"listing {record['listing_id']} was already created", listing_id=record["listing_id"])
    try:
        content = msgspec.convert({**prefill(proposal, demand), **data.content}, ListingContent)
    except msgspec.ValidationError as exc:
        where = msgspec_field(str(exc))
        field = f"content.{where}" if where else "content"
        raise domain.InvalidProposal(f"{field}: {exc}", field=field) from exc
    listing = await create_listing(session, ctx.listings, actor_of(caller), content, data.confidential_details, now)
    proposal.negotiation = {**record, "listing_id": str(listing.id), "listing_number": listing.number}
    proposal.listing_ids = [*proposal.listing_ids, str(listing.id)]
    proposal.updated_at = now
    return proposal


async def of_demand(
    session: AsyncSession, caller: Principal, demand_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 20
) -> list[Proposal]:
    """The demand's proposals, for its owner and operators, newest first."""
    demand = await get_demand(session, demand_id)
    if not (is_owner(demand, caller) or caller.is_operator):
        if sees(demand, caller):
            raise DemandForbidden("only the demand's organisation reads its proposals")
        raise NotFound(f"demand {demand_id} not found")
    query = select(Proposal).where(Proposal.demand_id == demand.id).order_by(Proposal.id.desc()).limit(limit)
    if after is not None:
        query = query.where(Proposal.id < after)
    return list((await session.scalars(query)).all())


async def of_org(
    session: AsyncSession, caller: Principal, *, after: uuid.UUID | None = None, limit: int = 20
) -> list[Proposal]:
    """The caller's organisation's proposals, newest first, with the feedback it was given."""
    query = select(Proposal).where(Proposal.org_id == caller.org_id).order_by(Proposal.id.desc()).limit(limit)
    if after is not None:
        query = query.where(Proposal.id < after)
    return list((await session.scalars(query)).all())


async def titles(session: AsyncSession, proposals: list[Proposal]) -> dict[uuid.UUID, str]:
    ids = list({p.demand_id for p in proposals})
    if not ids:
        return {}
    return dict((await session.execute(select(Demand.id, Demand.title).where(Demand.id.in_(ids)))).all())


def proposal_out(proposal: Proposal, demand_title: str) -> ProposalOut:
    return ProposalOut(
        id=proposal.id,
        demand_id=proposal.demand_id,
        demand_title=demand_title,
        org_id=proposal.org_id,
        org_name=proposal.org_name,
        summary=proposal.summary,
        solution=proposal.solution,
        listing_ids=[uuid.UUID(i) for i in proposal.listing_ids],
        budget_fen=proposal.budget_fen,
        status=proposal.status,
        feedback=proposal.feedback,
        negotiation=proposal.negotiation,
        created_at=proposal.created_at,
        updated_at=proposal.updated_at,
    )


async def own_listings(session: AsyncSession, caller: Principal) -> list[tuple[uuid.UUID, int, str]]:
    """The caller's organisation's listings a proposal may link (id, public number, title), newest first."""
    rows = await session.execute(
        select(Listing.id, Listing.number, Listing.title)
        .where(Listing.seller_org_id == caller.org_id, Listing.status.not_in(("withdrawn", "rejected", "sold")))
        .order_by(Listing.number.desc())
        .limit(200)
    )
    return [(listing_id, number, title) for listing_id, number, title in rows.all()]


async def listing_titles(session: AsyncSession, listing_ids: list[str]) -> dict[str, tuple[int, str]]:
    """The public number and title of linked listings, by id as stored on proposals."""
    ids = [uuid.UUID(i) for i in listing_ids]
    if not ids:
        return {}
    rows = await session.execute(select(Listing.id, Listing.number, Listing.title).where(Listing.id.in_(ids)))
    return {str(listing_id): (number, title) for listing_id, number, title in rows.all()}
