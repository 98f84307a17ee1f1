"""The sweeper's step of the credit evaluation: once a Beijing day, every graded or designated
provider's stored score is recomputed, so that the ratings' decay and the penalties whose window
closed show without waiting for the provider's next rating or complaint, and a demonstration
institution that no longer meets the criteria loses its designation (``service.recompute``).

Idempotent: a score computed since the Beijing day began is not due again until the next day. Each
provider in its own transaction, at most ``limit`` per pass (the rest on the next pass); a failing
row is set aside (``rows``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.credit.service import CreditContext, aged_scores, refresh
from exchange.platform.db import Database
from kernel.sweeping import PASS_ONLY, RowLog, sweep_listed


class CreditRefresh:
    """Scores last computed before today (Beijing) are recomputed (``service.refresh``)."""

    name = "credit-scores"

    def __init__(self, ctx: CreditContext, limit: int = 500, rows: RowLog = PASS_ONLY) -> None:
        self.ctx, self.limit, self.rows = ctx, limit, rows

    async def run(self, db: Database, now: datetime) -> int:
        async def load(session: AsyncSession, how_many: int) -> list[uuid.UUID]:
            return await aged_scores(session, now, how_many)

        async def act(session: AsyncSession, provider_org_id: uuid.UUID) -> bool:
            return await refresh(session, self.ctx, provider_org_id, now)

        return await sweep_listed(db, self.rows, self.name, now, load, act, limit=self.limit)


def sweep_steps(ctx: CreditContext, rows: RowLog) -> list[CreditRefresh]:
    return [CreditRefresh(ctx, rows=rows)]
