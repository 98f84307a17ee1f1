"""The listings' step of the deadline sweeper: notices whose period has run.

``NoticeSweep`` has the shape every sweep step has (``name`` and ``run(db, now) -> int``); the
exchange's sweeper runs all registered steps once per pass. Each due notice is processed in its
own transaction and claimed exactly once, even with several sweepers running at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog

from listings import notices
from listings.context import ListingsContext, UnitOfWork

log = structlog.get_logger("techx.listings.sweep")


class NoticeSweep:
    name = "notices"

    def __init__(self, ctx: ListingsContext, *, limit: int = 500) -> None:
        self.ctx = ctx
        self.limit = limit

    async def run(self, db: UnitOfWork, now: datetime) -> int:
        """Close (or suspend) every notice due at ``now``; at most ``limit`` per pass. Returns how many."""
        processed = 0
        failed: set[uuid.UUID] = set()
        claimed: list[uuid.UUID] = []

        async def work(session: Any) -> bool | None:
            claimed.clear()
            notice = await notices.claim_due_notice(session, now, failed)
            if notice is None:
                return None
            claimed.append(notice.id)
            return await notices.end_notice_period(session, self.ctx, notice, now)

        while processed + len(failed) < self.limit:
            try:
                outcome = await db.transaction(work)
                if outcome is None:
                    break
                if not outcome:  # another sweeper moved it first
                    continue
            except Exception:
                if not claimed:
                    raise
                log.exception("due notice not processed; retried next pass", notice=str(claimed[0]))
                failed.add(claimed[0])
                continue
            processed += 1
        return processed
