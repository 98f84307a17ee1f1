"""HTTP controllers of the credit evaluation. Thin: parse, authorise, call one service function in
one transaction, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.credit import service
from exchange.credit.domain import ComplaintDecision, ComplaintStatus
from exchange.credit.models import Complaint, ProviderScore, Rating
from exchange.credit.schemas import (
    AnswerIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    DecisionIn,
    GradeCounts,
    RatingIn,
    RatingOut,
    RatingPage,
    ScoreOut,
    ScorePage,
)
from exchange.credit.service import CreditContext
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from kernel.errors import NotFound, found
from kernel.pagination import Cursor, Limit, by_id, id_after, keyset_page
from kernel.shapes import shaped

Credit = NamedDependency[CreditContext]


def score_out(stored: ProviderScore, name: str) -> ScoreOut:
    score = stored.score_tenths / 10 if stored.score_tenths is not None else None
    return shaped(ScoreOut, stored, provider_name=name, score=score, breakdown=dict(stored.breakdown))


def by_provider(row: ProviderScore) -> dict[str, str]:
    return {"id": str(row.provider_org_id)}


async def shown_score(session: AsyncSession, provider_org_id: uuid.UUID) -> ScoreOut:
    stored = found(
        await service.score_of(session, provider_org_id),
        NotFound(f"no credit record of organisation {provider_org_id}", field="org_id"),
    )
    names = await service.org_names(session, {provider_org_id})
    return score_out(stored, names.get(provider_org_id, ""))


class RatingController(Controller):
    path = "/credit/ratings"
    tags = ["credit"]

    @post(
        "/",
        security=BEARER,
        summary="Rate the provider of a finished service order or brokered deal (the client, once)",
    )
    async def rate(self, data: JSONBody[RatingIn], user: Caller, db: Db, clock: Now, credit: Credit) -> RatingOut:
        async def work(s: AsyncSession) -> Rating:
            return await service.rate(
                s, credit, user, kind=data.kind, engagement_id=data.engagement_id, quality=data.quality,
                timeliness=data.timeliness, professionalism=data.professionalism, comment=data.comment,
                now=clock.now(),
            )  # fmt: skip

        return shaped(RatingOut, await db.transaction(work))

    @post("/{rating_id:uuid}/answer", status_code=200, security=BEARER, summary="Answer a rating (the provider, once)")
    async def answer(
        self, rating_id: FromPath[uuid.UUID], data: JSONBody[AnswerIn], user: Caller, db: Db, clock: Now
    ) -> RatingOut:
        rating = await db.transaction(lambda s: service.answer(s, user, rating_id, data.answer, clock.now()))
        return shaped(RatingOut, rating)


class ComplaintController(Controller):
    path = "/credit/complaints"
    tags = ["credit"]

    @post("/", security=BEARER, summary="Complain about the provider of an engagement (the client)")
    async def complain(
        self, data: JSONBody[ComplaintIn], user: Caller, db: Db, clock: Now, credit: Credit
    ) -> ComplaintOut:
        async def work(s: AsyncSession) -> Complaint:
            return await service.complain(
                s, credit, user, kind=data.kind, engagement_id=data.engagement_id, reason=data.reason, now=clock.now()
            )

        return shaped(ComplaintOut, await db.transaction(work))

    @get("/", security=BEARER, summary="Complaints: operators see all, an organisation those it filed or faces")
    async def index(
        self,
        user: Caller,
        db: Db,
        status: Annotated[ComplaintStatus | None, QueryParameter(description="only complaints in this status")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ComplaintPage:
        async with db.read() as session:
            rows = await service.list_complaints(session, user, status=status, limit=limit + 1, after=id_after(cursor))
        rows, next_cursor = keyset_page(rows, limit, by_id)
        return ComplaintPage([shaped(ComplaintOut, c) for c in rows], next_cursor)

    async def _decide(
        self, user: Caller, db: Db, clock: Now, credit: CreditContext, complaint_id: uuid.UUID,
        decision: ComplaintDecision, reason: str,
    ) -> ComplaintOut:  # fmt: skip
        async def work(s: AsyncSession) -> Complaint:
            return await service.decide_complaint(s, credit, user, complaint_id, decision, reason, clock.now())

        return shaped(ComplaintOut, await db.transaction(work))

    @post(
        "/{complaint_id:uuid}/uphold",
        status_code=200,
        security=BEARER,
        summary="Uphold a complaint with a reason (operators)",
    )
    async def uphold(
        self, complaint_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now,
        credit: Credit,
    ) -> ComplaintOut:  # fmt: skip
        return await self._decide(user, db, clock, credit, complaint_id, ComplaintDecision.UPHOLD, data.reason)

    @post(
        "/{complaint_id:uuid}/dismiss",
        status_code=200,
        security=BEARER,
        summary="Dismiss a complaint with a reason (operators)",
    )
    async def dismiss(
        self, complaint_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now,
        credit: Credit,
    ) -> ComplaintOut:  # fmt: skip
        return await self._decide(user, db, clock, credit, complaint_id, ComplaintDecision.DISMISS, data.reason)


class ProviderCreditController(Controller):
    path = "/credit/providers"
    tags = ["credit"]

    @get("/", summary="Providers' credit scores and grades (public), by organisation id")
    async def index(self, db: Db, limit: Limit = 20, cursor: Cursor = None) -> ScorePage:
        async with db.read() as session:
            rows = await service.list_scores(session, limit=limit + 1, after=id_after(cursor))
            names = await service.org_names(session, {r.provider_org_id for r in rows})
        rows, next_cursor = keyset_page(rows, limit, by_provider)
        return ScorePage([score_out(r, names.get(r.provider_org_id, "")) for r in rows], next_cursor)

    @get("/grades", summary="Providers by credit grade and the demonstration institutions (public)")
    async def grades(self, db: Db) -> GradeCounts:
        async with db.read() as session:
            return GradeCounts(**await service.grade_counts(session))

    @get("/{org_id:uuid}", summary="A provider's credit score, grade and how it was made (public)")
    async def show(self, org_id: FromPath[uuid.UUID], db: Db) -> ScoreOut:
        async with db.read() as session:
            return await shown_score(session, org_id)

    @get("/{org_id:uuid}/ratings", summary="A provider's ratings with its answers, newest first (public)")
    async def ratings(
        self, org_id: FromPath[uuid.UUID], db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> RatingPage:
        async with db.read() as session:
            rows = await service.ratings_of(session, org_id, limit=limit + 1, after=id_after(cursor))
        rows, next_cursor = keyset_page(rows, limit, by_id)
        return RatingPage([shaped(RatingOut, r) for r in rows], next_cursor)

    @post("/{org_id:uuid}/demonstration", status_code=200, security=BEARER,
          summary="Designate a demonstration institution by the published criteria (operators)")  # fmt: skip
    async def designate(
        self, org_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, credit: Credit
    ) -> ScoreOut:
        async def work(s: AsyncSession) -> ScoreOut:
            await service.designate(s, credit, user, org_id, clock.now())
            return await shown_score(s, org_id)

        return await db.transaction(work)

    @post("/{org_id:uuid}/demonstration/end", status_code=200, security=BEARER,
          summary="End a designation as a demonstration institution, with a reason (operators)")  # fmt: skip
    async def end(
        self, org_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now
    ) -> ScoreOut:
        async def work(s: AsyncSession) -> ScoreOut:
            await service.end_designation(s, user, org_id, data.reason, clock.now())
            return await shown_score(s, org_id)

        return await db.transaction(work)


ROUTE_HANDLERS = [RatingController, ComplaintController, ProviderCreditController]
