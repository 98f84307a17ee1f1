"""The listings' step of the deadline sweeper: notices whose period has run.

``NoticeSweep`` has the shape every sweep step has (``name`` and ``run(db, now) -> int``); the
exchange's sweeper runs all registered steps once per pass. Each due notice is processed in its
own transaction and claimed exactly once, even with several sweepers running at once; a notice
whose processing fails is reported to the step's ``rows`` log (``kernel.sweeping``) and the others
are processed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from kernel.sweeping import PASS_ONLY, RowLog, sweep_rows
from listings import notices
from listings.context import ListingsContext, UnitOfWork


class NoticeSweep:
    name = "notices"

    def __init__(self, ctx: ListingsContext, *, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.ctx = ctx
        self.limit = limit
        self.rows = rows

    async def run(self, db: UnitOfWork, now: datetime) -> int:
        """Close (or suspend) every notice due at ``now``; at most ``limit`` per pass. Returns how many."""

        async def attempt(skip: set[uuid.UUID], claimed: list[uuid.UUID]) -> bool | None:
            async def work(session: Any) -> bool | None:
                claimed.clear()  # a retried transaction claims again
                notice = await notices.claim_due_notice(session, now, skip)
                if notice is None:
                    return None
                claimed.append(notice.id)
                return await notices.end_notice_period(session, self.ctx, notice, now)

            return await db.transaction(work)

        return await sweep_rows(db, self.rows, self.name, now, attempt, parse=uuid.UUID, limit=self.limit)
