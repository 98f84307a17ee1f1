"""HTTP controllers of technical demands, campaigns and proposals. Thin: parse, call one service
function in one transaction, shape the answer. None of these moves money, so none takes an
Idempotency-Key (as listings' and institutions' writes); opening a negotiation on a listing does
what ``POST /listings/{id}/intents`` does, which takes none either."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import campaigns, matches, proposals, service
from exchange.demands.context import DemandsContext
from exchange.demands.domain import DemandStatus
from exchange.demands.models import Demand, Proposal
from exchange.demands.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CloseIn,
    ConfidentialOut,
    DeclineIn,
    DemandIn,
    DemandOut,
    DemandPage,
    NdaOut,
    NegotiateIn,
    ProposalIn,
    ProposalListingIn,
    ProposalOut,
    ProposalPage,
    ScreeningIn,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
)
from exchange.matching.routes import Matching
from exchange.matching.schemas import MatchesOut, matches_out
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from kernel.pagination import Cursor, Limit, by_id, id_after, keyset_page
from listings.domain import Field

Demands = NamedDependency[DemandsContext]
Viewer = NamedDependency[Principal | None]


async def _demand_out(session: AsyncSession, demand: Demand, viewer: Principal | None) -> DemandOut:
    counts = await service.proposal_counts(session, [demand.id])
    return service.demand_out(demand, viewer, counts.get(demand.id, 0))


async def _proposal_out(session: AsyncSession, proposal: Proposal) -> ProposalOut:
    return proposals.proposal_out(proposal, (await proposals.titles(session, [proposal])).get(proposal.demand_id, ""))


class DemandController(Controller):
    path = "/demands"
    tags = ["demands"]

    @get("/", summary="The demand board: published demands the caller may see, newest first")
    async def board(
        self,
        db: Db,
        principal: Viewer,
        mine: Annotated[bool, QueryParameter(description="the caller's own demands, in every state")] = False,
        status: Annotated[DemandStatus | None, QueryParameter(description="only demands in this status")] = None,
        field: Annotated[Field | None, QueryParameter(description="only demands of this field")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DemandPage:
        async with db.read() as session:
            rows = await service.list_demands(
                session, principal, mine=mine, status=status.value if status else None,
                field=field.value if field else None, after=id_after(cursor), limit=limit + 1,
            )  # fmt: skip
            page, next_cursor = keyset_page(rows, limit, by_id)
            counts = await service.proposal_counts(session, [d.id for d in page])
        return DemandPage([service.demand_out(d, principal, counts.get(d.id, 0)) for d in page], next_cursor)

    @post("/", security=BEARER, summary="Post a demand as a draft (enterprises' members)")
    async def create(self, data: JSONBody[DemandIn], user: Caller, db: Db, clock: Now, demands: Demands) -> DemandOut:
        async def work(session: AsyncSession) -> DemandOut:
            return await _demand_out(
                session, await service.create_demand(session, demands, user, data, clock.now()), user
            )

        return await db.transaction(work)

    @get("/{demand_id:uuid}", summary="A demand (its confidential part needs the NDA)")
    async def show(self, demand_id: FromPath[uuid.UUID], db: Db, principal: Viewer) -> DemandOut:
        async with db.read() as session:
            return await _demand_out(session, await service.visible_demand(session, principal, demand_id), principal)

    @put("/{demand_id:uuid}", security=BEARER, summary="Edit a draft demand (its organisation)")
    async def edit(
        self, demand_id: FromPath[uuid.UUID], data: JSONBody[DemandIn], user: Caller, db: Db, clock: Now,
        demands: Demands,
    ) -> DemandOut:  # fmt: skip
        async def work(session: AsyncSession) -> DemandOut:
            demand = await service.edit_demand(session, demands, user, demand_id, data, clock.now())
            return await _demand_out(session, demand, user)

        return await db.transaction(work)

    @post("/{demand_id:uuid}/publish", status_code=200, security=BEARER, summary="Publish a complete draft")
    async def publish(self, demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> DemandOut:
        async def work(session: AsyncSession) -> DemandOut:
            return await _demand_out(session, await service.publish_demand(session, user, demand_id, clock.now()), user)

        return await db.transaction(work)

    @post("/{demand_id:uuid}/close", status_code=200, security=BEARER, summary="Close a published demand")
    async def close(
        self, demand_id: FromPath[uuid.UUID], data: JSONBody[CloseIn], user: Caller, db: Db, clock: Now
    ) -> DemandOut:
        async def work(session: AsyncSession) -> DemandOut:
            demand = await service.close_demand(session, user, demand_id, data.reason, clock.now(), withdraw=False)
            return await _demand_out(session, demand, user)

        return await db.transaction(work)

    @post(
        "/{demand_id:uuid}/withdraw", status_code=200, security=BEARER, summary="Withdraw a draft or published demand"
    )
    async def withdraw(
        self, demand_id: FromPath[uuid.UUID], data: JSONBody[CloseIn], user: Caller, db: Db, clock: Now
    ) -> DemandOut:
        async def work(session: AsyncSession) -> DemandOut:
            demand = await service.close_demand(session, user, demand_id, data.reason, clock.now(), withdraw=True)
            return await _demand_out(session, demand, user)

        return await db.transaction(work)

    @post("/{demand_id:uuid}/nda", status_code=201, security=BEARER, summary="Accept the demand's NDA")
    async def nda(self, demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> NdaOut:
        async def work(session: AsyncSession) -> NdaOut:
            return service.nda_out(await service.accept_nda(session, user, demand_id, clock.now()))

        return await db.transaction(work)

    @get("/{demand_id:uuid}/confidential", security=BEARER, summary="The confidential part (owner, operators, NDA)")
    async def confidential(
        self, demand_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, demands: Demands
    ) -> ConfidentialOut:
        async def work(session: AsyncSession) -> ConfidentialOut:
            demand, text, basis = await service.read_confidential(session, demands, user, demand_id, clock.now())
            return ConfidentialOut(demand.id, text, basis)

        return await db.transaction(work)  # the read is logged

    @post("/{demand_id:uuid}/proposals", security=BEARER, summary="Answer a published demand with a proposal")
    async def propose(
        self, demand_id: FromPath[uuid.UUID], data: JSONBody[ProposalIn], user: Caller, db: Db, clock: Now
    ) -> ProposalOut:
        async def work(session: AsyncSession) -> ProposalOut:
            return await _proposal_out(session, await proposals.propose(session, user, demand_id, data, clock.now()))

        return await db.transaction(work)

    @get("/{demand_id:uuid}/proposals", security=BEARER, summary="The demand's proposals (its organisation)")
    async def proposals_of(
        self, demand_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> ProposalPage:
        async with db.read() as session:
            rows = await proposals.of_demand(session, user, demand_id, after=id_after(cursor), limit=limit + 1)
            page, next_cursor = keyset_page(rows, limit, by_id)
            titles = await proposals.titles(session, page)
        return ProposalPage([proposals.proposal_out(p, titles.get(p.demand_id, "")) for p in page], next_cursor)


class ProposalController(Controller):
    path = "/proposals"
    tags = ["demands"]
    security = BEARER

    @get("/", summary="The caller's organisation's proposals, with their status and feedback")
    async def mine(self, user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None) -> ProposalPage:
        async with db.read() as session:
            rows = await proposals.of_org(session, user, after=id_after(cursor), limit=limit + 1)
            page, next_cursor = keyset_page(rows, limit, by_id)
            titles = await proposals.titles(session, page)
        return ProposalPage([proposals.proposal_out(p, titles.get(p.demand_id, "")) for p in page], next_cursor)

    @get("/{proposal_id:uuid}", summary="A proposal (the proposer, the demand's organisation, operators)")
    async def show(self, proposal_id: FromPath[uuid.UUID], user: Caller, db: Db) -> ProposalOut:
        async with db.read() as session:
            proposal, demand = await proposals.visible_proposal(session, user, proposal_id)
            return proposals.proposal_out(proposal, demand.title)

    @post("/{proposal_id:uuid}/shortlist", status_code=200, summary="Shortlist a proposal (the demand's organisation)")
    async def shortlist(self, proposal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> ProposalOut:
        async def work(session: AsyncSession) -> ProposalOut:
            return await _proposal_out(session, await proposals.shortlist(session, user, proposal_id, clock.now()))

        return await db.transaction(work)

    @post(
        "/{proposal_id:uuid}/decline", status_code=200, summary="Decline a proposal with the reason its proposer reads"
    )
    async def decline(
        self, proposal_id: FromPath[uuid.UUID], data: JSONBody[DeclineIn], user: Caller, db: Db, clock: Now
    ) -> ProposalOut:
        async def work(session: AsyncSession) -> ProposalOut:
            return await _proposal_out(session, await proposals.decline(session, user, proposal_id, data, clock.now()))

        return await db.transaction(work)

    @post("/{proposal_id:uuid}/negotiate", status_code=200, summary="Open a negotiation on a proposal")
    async def negotiate(
        self, proposal_id: FromPath[uuid.UUID], data: JSONBody[NegotiateIn], user: Caller, db: Db, clock: Now,
        demands: Demands,
    ) -> ProposalOut:  # fmt: skip
        async def work(session: AsyncSession) -> ProposalOut:
            proposal = await proposals.negotiate(session, demands, user, proposal_id, data, clock.now())
            return await _proposal_out(session, proposal)

        return await db.transaction(work)

    @post("/{proposal_id:uuid}/listing", status_code=201, summary="The proposer's listing draft from its proposal")
    async def listing(
        self, proposal_id: FromPath[uuid.UUID], data: JSONBody[ProposalListingIn], user: Caller, db: Db, clock: Now,
        demands: Demands,
    ) -> ProposalOut:  # fmt: skip
        async def work(session: AsyncSession) -> ProposalOut:
            proposal = await proposals.create_listing_draft(session, demands, user, proposal_id, data, clock.now())
            return await _proposal_out(session, proposal)

        return await db.transaction(work)


class CampaignController(Controller):
    path = "/campaigns"
    tags = ["demands"]

    @get("/", summary="Campaigns (需求征集), newest first")
    async def list_all(self, db: Db, clock: Now, limit: Limit = 20, cursor: Cursor = None) -> CampaignPage:
        async with db.read() as session:
            rows = await campaigns.list_campaigns(session, after=id_after(cursor), limit=limit + 1)
        page, next_cursor = keyset_page(rows, limit, by_id)
        now = clock.now()
        return CampaignPage([campaigns.campaign_out(c, now) for c in page], next_cursor)

    @post("/", security=BEARER, summary="Open a campaign (operators, government programs)")
    async def create(self, data: JSONBody[CampaignIn], user: Caller, db: Db, clock: Now) -> CampaignOut:
        now = clock.now()

        async def work(session: AsyncSession) -> CampaignOut:
            return campaigns.campaign_out(await campaigns.create_campaign(session, user, data, now), now)

        return await db.transaction(work)

    @get("/{campaign_id:uuid}", summary="A campaign")
    async def show(self, campaign_id: FromPath[uuid.UUID], db: Db, clock: Now) -> CampaignOut:
        async with db.read() as session:
            return campaigns.campaign_out(await campaigns.get_campaign(session, campaign_id), clock.now())

    @post(
        "/{campaign_id:uuid}/submissions", security=BEARER, summary="Submit a demand or a proposal to an open campaign"
    )
    async def submit(
        self, campaign_id: FromPath[uuid.UUID], data: JSONBody[SubmissionIn], user: Caller, db: Db, clock: Now
    ) -> SubmissionOut:
        async def work(session: AsyncSession) -> SubmissionOut:
            submission = await campaigns.submit(session, user, campaign_id, data, clock.now())
            return campaigns.submission_out(submission, await campaigns.submission_title(session, submission))

        return await db.transaction(work)

    @get("/{campaign_id:uuid}/submissions", security=BEARER, summary="Submissions (the organiser: all; others: theirs)")
    async def submissions(
        self, campaign_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> SubmissionPage:
        async with db.read() as session:
            rows = await campaigns.submissions(session, user, campaign_id, after=id_after(cursor), limit=limit + 1)
        page, next_cursor = keyset_page(rows, limit, lambda row: by_id(row[0]))
        return SubmissionPage([campaigns.submission_out(s, t) for s, t in page], next_cursor)


class SubmissionController(Controller):
    path = "/campaign-submissions"
    tags = ["demands"]
    security = BEARER

    @post("/{submission_id:uuid}/screening", status_code=200, summary="Screen a submission (the organiser)")
    async def screen(
        self, submission_id: FromPath[uuid.UUID], data: JSONBody[ScreeningIn], user: Caller, db: Db, clock: Now
    ) -> SubmissionOut:
        async def work(session: AsyncSession) -> SubmissionOut:
            submission = await campaigns.screen(session, user, submission_id, data, clock.now())
            return campaigns.submission_out(submission, await campaigns.submission_title(session, submission))

        return await db.transaction(work)


MatchCount = Annotated[int, QueryParameter(ge=1, le=matches.MAX_MATCHES, description="how many matches")]


class MatchController(Controller):
    """Matching both ways (docs/matching.md): a demand's achievements, a listing's demands; each
    match with why. The caller's organisation's feedback (``POST /matching/feedback``) moves them."""

    tags = ["matching"]
    security = BEARER

    @get("/demands/{demand_id:uuid}/matches", summary="The listings that could answer a demand, and why")
    async def for_demand(
        self, demand_id: FromPath[uuid.UUID], user: Caller, db: Db, matching: Matching, k: MatchCount = 10
    ) -> MatchesOut:
        async with db.read() as session:
            demand, found = await matches.achievements_for(session, matching, user, demand_id, k)
        return matches_out(matches.demand_doc(demand), found)

    @get("/listings/{listing_id:uuid}/matches", summary="The public demands a listing could answer, and why")
    async def for_listing(
        self, listing_id: FromPath[uuid.UUID], user: Caller, db: Db, matching: Matching, k: MatchCount = 10
    ) -> MatchesOut:
        async with db.read() as session:
            query, found = await matches.demands_for(session, matching, user, listing_id, k)
        return matches_out(query, found)


DEMAND_ROUTES = [DemandController, ProposalController, CampaignController, SubmissionController, MatchController]
