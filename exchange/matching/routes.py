"""HTTP routes of matching. Thin: parse, call the service in one transaction, shape the answer."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.matching.domain import DocKind
from exchange.matching.schemas import FeedbackBody, FeedbackOut
from exchange.matching.service import FeedbackIn, MatchingContext, record_feedback
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now

Matching = NamedDependency[MatchingContext]


@post(
    "/matching/feedback",
    status_code=201,
    tags=["matching"],
    security=BEARER,
    summary="Mark a match relevant or not (and whether you contacted the other side); it moves your future rankings",
)
async def give_feedback(
    data: JSONBody[FeedbackBody], user: Caller, db: Db, clock: Now, matching: Matching
) -> FeedbackOut:
    async def work(session: AsyncSession) -> FeedbackOut:
        row = await record_feedback(
            session,
            matching,
            org_id=user.org_id,
            user_id=user.user_id,
            data=FeedbackIn(**{f: getattr(data, f) for f in data.__struct_fields__}),
            now=clock.now(),
        )
        return FeedbackOut(
            id=row.id,
            org_id=row.org_id,
            query_kind=DocKind(row.query_kind),
            query_id=row.query_id,
            doc_kind=DocKind(row.doc_kind),
            doc_id=row.doc_id,
            relevant=row.relevant,
            contacted=row.contacted,
            note=row.note,
            created_at=row.created_at,
            created_by=row.created_by,
        )

    return await db.transaction(work)


ROUTE_HANDLERS = [give_feedback]
