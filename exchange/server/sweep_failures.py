"""Operators' view of the sweeper's failing rows: the list, and a retry on request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter

from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db
from exchange.platform.sweeper import SweepFailure, list_failures, request_retry
from kernel.pagination import Cursor, Limit, Page
from kernel.shapes import shaped


class SweepFailureOut(msgspec.Struct):
    id: UUID
    step: str
    row_key: str  # the row's id in the step's table (a voucher wallet: program_id:org_id)
    attempts: int
    last_error: str
    first_failed_at: datetime
    last_failed_at: datetime
    next_attempt_at: datetime  # the next pass at or after this time tries it again, unless it is set aside
    set_aside_at: datetime | None  # set aside after TECHX_SWEEP_MAX_ATTEMPTS failures; retried only on request
    set_aside: bool


def failure_out(row: SweepFailure) -> SweepFailureOut:
    return shaped(SweepFailureOut, row, set_aside=row.set_aside_at is not None)


class SweepFailureController(Controller):
    path = "/ops/sweep-failures"
    tags = ["ops"]
    security = BEARER

    @get("/", summary="Due rows the sweeper failed to process: backing off, or set aside (operator)")
    async def list_sweep_failures(
        self,
        operator: Caller,
        db: Db,
        set_aside: Annotated[
            bool | None, QueryParameter(description="true: only rows set aside; false: only rows backing off")
        ] = None,
        step: Annotated[str | None, QueryParameter(max_length=64, description="one step's rows")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[SweepFailureOut]:
        async with db.read() as session:
            rows, next_cursor = await list_failures(session, set_aside=set_aside, step=step, limit=limit, cursor=cursor)
        return Page([failure_out(r) for r in rows], next_cursor)

    @post(
        "/{failure_id:uuid}/retry",
        status_code=200,
        summary="Try the row again on the sweeper's next pass (operator); one more failure sets it aside again",
    )
    async def retry(self, operator: Caller, db: Db, failure_id: FromPath[UUID]) -> SweepFailureOut:
        row = await db.transaction(lambda s: request_retry(s, failure_id))
        return failure_out(row)
