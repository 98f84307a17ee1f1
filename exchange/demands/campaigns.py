"""Campaigns (需求征集): a call by an operator or a government program (the organisations that own
voucher programs) for demands or for solutions; submissions to an open campaign; the organiser's
screening of each (accepted, or rejected with a reason the submitter reads); closed after the deadline.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import domain
from exchange.demands.domain import (
    ORGANISER_KINDS,
    CampaignContent,
    CampaignKind,
    CampaignStatus,
    DemandForbidden,
    DemandStatus,
    Screening,
    beijing_today,
    campaign_open,
    check_campaign,
    check_screening,
    closes_at,
)
from exchange.demands.models import Campaign, CampaignSubmission, Demand, Proposal
from exchange.demands.schemas import CampaignIn, CampaignOut, ScreeningIn, SubmissionIn, SubmissionOut
from exchange.parties.domain import Principal
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.tables import new_id
from kernel.errors import Conflict, InvalidState, NotFound


def require_organiser(caller: Principal) -> None:
    if caller.is_operator:
        return
    caller.require_active_verified()
    if caller.org_kind.value not in ORGANISER_KINDS:
        raise DemandForbidden("campaigns are organised by operators and government programs")


async def create_campaign(session: AsyncSession, caller: Principal, data: CampaignIn, now: datetime) -> Campaign:
    require_organiser(caller)
    content = CampaignContent(data.theme, data.description, data.rules, data.kind.value, data.deadline)
    check_campaign(content, today=beijing_today(now))
    campaign = Campaign(
        id=new_id(),
        organiser_org_id=caller.org_id,
        organiser_name=caller.org_name,
        theme=data.theme.strip(),
        description=data.description,
        rules=data.rules,
        kind=data.kind.value,
        deadline=data.deadline,
        deadline_at=closes_at(data.deadline),
        status=CampaignStatus.OPEN.value,
        created_by=caller.user_id,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID, *, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        query = query.with_for_update()
    campaign = await session.scalar(query)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def campaign_out(campaign: Campaign, now: datetime) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        organiser_org_id=campaign.organiser_org_id,
        organiser_name=campaign.organiser_name,
        theme=campaign.theme,
        description=campaign.description,
        rules=campaign.rules,
        kind=campaign.kind,
        deadline=campaign.deadline,
        deadline_at=campaign.deadline_at,
        status=CampaignStatus.OPEN.value if campaign_open(campaign.status, campaign.deadline_at, now) else "closed",
        open=campaign_open(campaign.status, campaign.deadline_at, now),
        created_at=campaign.created_at,
        closed_at=campaign.closed_at,
    )


async def list_campaigns(
    session: AsyncSession, *, after: uuid.UUID | None = None, limit: int = 20, organiser: uuid.UUID | None = None
) -> list[Campaign]:
    """Every campaign (they are public), newest first (keyset by id)."""
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if after is not None:
        query = query.where(Campaign.id < after)
    if organiser is not None:
        query = query.where(Campaign.organiser_org_id == organiser)
    return list((await session.scalars(query)).all())


async def candidates(session: AsyncSession, caller: Principal, campaign: Campaign) -> list[tuple[uuid.UUID, str]]:
    """What the caller's organisation could still submit to an open campaign: its published demands
    (a demands campaign) or its proposals (a solutions campaign) not submitted yet, as (id, title)."""
    if caller.is_operator or campaign.status != CampaignStatus.OPEN.value:
        return []
    if campaign.kind == CampaignKind.DEMANDS.value:
        taken = select(CampaignSubmission.demand_id).where(
            CampaignSubmission.campaign_id == campaign.id, CampaignSubmission.demand_id.is_not(None)
        )
        rows = await session.execute(
            select(Demand.id, Demand.title)
            .where(
                Demand.org_id == caller.org_id, Demand.status == DemandStatus.PUBLISHED.value, Demand.id.not_in(taken)
            )
            .order_by(Demand.id.desc())
        )
    else:
        taken = select(CampaignSubmission.proposal_id).where(
            CampaignSubmission.campaign_id == campaign.id, CampaignSubmission.proposal_id.is_not(None)
        )
        rows = await session.execute(
            select(Proposal.id, Demand.title)
            .join(Demand, Demand.id == Proposal.demand_id)
            .where(Proposal.org_id == caller.org_id, Proposal.id.not_in(taken))
            .order_by(Proposal.id.desc())
        )
    return [(i, t) for i, t in rows.all()]


def may_screen(campaign: Campaign, caller: Principal) -> bool:
    return caller.is_operator or caller.org_id == campaign.organiser_org_id


async def submit(
    session: AsyncSession, caller: Principal, campaign_id: uuid.UUID, data: SubmissionIn, now: datetime
) -> CampaignSubmission:
    """A demands campaign takes a published demand of the caller's; a solutions campaign a proposal of its."""
    caller.require_active_verified()
    campaign = await get_campaign(session, campaign_id, lock=True)
    if not campaign_open(campaign.status, campaign.deadline_at, now):
        raise InvalidState("the campaign is closed: its deadline has passed", state="closed")
    submission = CampaignSubmission(
        id=new_id(), campaign_id=campaign.id, org_id=caller.org_id, submitted_by=caller.user_id, submitted_at=now,
        screening=Screening.PENDING.value, reason="",
    )  # fmt: skip
    if campaign.kind == CampaignKind.DEMANDS.value:
        if data.demand_id is None or data.proposal_id is not None:
            raise domain.InvalidCampaign("demand_id: a demands campaign takes a demand", field="demand_id")
        demand = await session.get(Demand, data.demand_id)
        if demand is None or demand.org_id != caller.org_id:
            raise domain.InvalidCampaign("demand_id: a published demand of your organisation", field="demand_id")
        if demand.status != DemandStatus.PUBLISHED.value:
            raise domain.InvalidCampaign("demand_id: only a published demand is submitted", field="demand_id")
        submission.demand_id = demand.id
        taken = CampaignSubmission.demand_id == demand.id
    else:
        if data.proposal_id is None or data.demand_id is not None:
            raise domain.InvalidCampaign("proposal_id: a solutions campaign takes a proposal", field="proposal_id")
        proposal = await session.get(Proposal, data.proposal_id)
        if proposal is None or proposal.org_id != caller.org_id:
            raise domain.InvalidCampaign("proposal_id: a proposal of your organisation", field="proposal_id")
        submission.proposal_id = proposal.id
        taken = CampaignSubmission.proposal_id == proposal.id
    existing = await session.scalar(
        select(CampaignSubmission.id).where(CampaignSubmission.campaign_id == campaign.id, taken)
    )
    if existing is not None:
        raise Conflict(f"already submitted to this campaign as {existing}", submission_id=str(existing))
    session.add(submission)
    await session.flush()
    return submission


async def screen(
    session: AsyncSession, caller: Principal, submission_id: uuid.UUID, data: ScreeningIn, now: datetime
) -> CampaignSubmission:
    """The organiser accepts a submission, or rejects it with a reason; the submitter is told."""
    submission = await session.scalar(
        select(CampaignSubmission).where(CampaignSubmission.id == submission_id).with_for_update()
    )
    if submission is None:
        raise NotFound(f"submission {submission_id} not found")
    campaign = await get_campaign(session, submission.campaign_id)
    if not may_screen(campaign, caller):
        raise DemandForbidden("only the campaign's organiser screens its submissions")
    if data.decision is Screening.PENDING:
        raise domain.InvalidCampaign("decision: accepted or rejected", field="decision")
    check_screening(data.decision.value, data.reason)
    if submission.screening != Screening.PENDING.value:
        raise InvalidState(f"the submission is already {submission.screening}", state=submission.screening)
    submission.screening = data.decision.value
    submission.reason = data.reason.strip()
    submission.screened_by = caller.user_id
    submission.screened_at = now
    info = {
        "campaign_id": str(campaign.id),
        "campaign_theme": campaign.theme,
        "screening": submission.screening,
        "reason": submission.reason,
        "title": await submission_title(session, submission),
    }
    to = Audience.of_orgs(submission.org_id)
    notify(session, Kind.CAMPAIGN_SCREENED, to=to, now=now, subject=Subject("campaign", campaign.id), data=info)
    return submission


async def submission_title(session: AsyncSession, submission: CampaignSubmission) -> str:
    demand_id = submission.demand_id
    if demand_id is None and submission.proposal_id is not None:
        demand_id = await session.scalar(select(Proposal.demand_id).where(Proposal.id == submission.proposal_id))
    title = await session.scalar(select(Demand.title).where(Demand.id == demand_id)) if demand_id else None
    return title or ""


async def submissions(
    session: AsyncSession, caller: Principal, campaign_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 20
) -> list[tuple[CampaignSubmission, str]]:
    """The organiser (and operators) see every submission; a submitter its own."""
    campaign = await get_campaign(session, campaign_id)
    query = (
        select(CampaignSubmission)
        .where(CampaignSubmission.campaign_id == campaign.id)
        .order_by(CampaignSubmission.id.desc())
        .limit(limit)
    )
    if not may_screen(campaign, caller):
        query = query.where(CampaignSubmission.org_id == caller.org_id)
    if after is not None:
        query = query.where(CampaignSubmission.id < after)
    rows = list((await session.scalars(query)).all())
    return [(row, await submission_title(session, row)) for row in rows]


def submission_out(submission: CampaignSubmission, title: str) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        campaign_id=submission.campaign_id,
        demand_id=submission.demand_id,
        proposal_id=submission.proposal_id,
        title=title,
        org_id=submission.org_id,
        submitted_at=submission.submitted_at,
        screening=submission.screening,
        reason=submission.reason,
        screened_at=submission.screened_at,
    )


async def close_campaign(session: AsyncSession, campaign_id: uuid.UUID, now: datetime) -> bool:
    """The sweeper: a campaign past its deadline is closed."""
    campaign = await get_campaign(session, campaign_id, lock=True)
    if campaign.status != CampaignStatus.OPEN.value or campaign.deadline_at > now:
        return False
    campaign.status = CampaignStatus.CLOSED.value
    campaign.closed_at = now
    return True
