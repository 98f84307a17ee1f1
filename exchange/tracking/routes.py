"""HTTP controllers of tracking after the deal. Thin: parse, authorise, call one service function
in one transaction, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from exchange.tracking import service
from exchange.tracking.schemas import OverdueList, ReportIn, ReportOut, TrackedDealList, TrackedDealOut
from kernel.pagination import Cursor, Limit

Side = Literal["buyer", "seller"]


class TrackingController(Controller):
    path = "/tracking"
    tags = ["tracking"]
    security = BEARER

    @get("/deals", summary="The organisation's tracked deals as buyer (it files the reports) or seller (it follows)")
    async def deals(
        self,
        user: Caller,
        db: Db,
        clock: Now,
        side: Annotated[Side, QueryParameter(description="buyer: the reports to file; seller: what it transferred")],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> TrackedDealList:
        async with db.read() as session:
            items, next_cursor = await service.deals_of_side(
                session, user, side, clock.now(), limit=limit, cursor=cursor
            )
        return TrackedDealList(items, next_cursor)

    @get("/deals/{deal_id:uuid}", summary="A settled deal's implementation reports (its buyer, seller, operators)")
    async def deal(self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> TrackedDealOut:
        async with db.read() as session:
            return await service.tracked_deal(session, user, deal_id, clock.now())

    @get("/overdue", summary="Reports past their due date and not filed (operators)")
    async def overdue(self, user: Caller, db: Db, clock: Now, limit: Limit = 20, cursor: Cursor = None) -> OverdueList:
        async with db.read() as session:
            items, next_cursor = await service.overdue_reports(session, user, clock.now(), limit=limit, cursor=cursor)
        return OverdueList(items, next_cursor)

    @post(
        "/reports/{report_id:uuid}",
        status_code=200,
        summary="File an implementation report, or correct it until the next is due (the buyer's organisation)",
    )
    async def file(
        self, report_id: FromPath[uuid.UUID], data: JSONBody[ReportIn], user: Caller, db: Db, clock: Now
    ) -> ReportOut:
        now = clock.now()

        async def work(session: AsyncSession) -> ReportOut:
            return service.report_out(await service.file_report(session, user, report_id, data, now), now)

        return await db.transaction(work)


ROUTE_HANDLERS = [TrackingController]
