"""``GET /stats``: the annual report figures. Listing and deal figures now; voucher figures join
as a further section of ``StatsOut`` when their module arrives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, Parameter

from exchange.platform.http import Db, Now, PublicFigures
from exchange.trading.stats import DealFigures, deal_figures
from exchange.vouchers import VoucherTotals, voucher_totals
from listings import ListingFigures, listing_figures, stats_year


class StatsOut(msgspec.Struct):
    year: int
    generated_at: datetime
    listings: ListingFigures
    deals: DealFigures
    vouchers: VoucherTotals  # programs of the year: budget, funding and where their vouchers are


class StatsController(Controller):
    path = "/stats"
    tags = ["statistics"]

    @get("/", summary="Annual figures: listings and deals by deal type, field, seller kind and month (Beijing time)")
    async def stats(
        self,
        db: Db,
        clock: Now,
        public_data: PublicFigures,
        year: FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]] = None,
    ) -> StatsOut:
        now = clock.now()
        chosen = stats_year(year, now)

        async def compute() -> StatsOut:
            async with db.read() as session:
                figures = await listing_figures(session, chosen)
                vouchers = await voucher_totals(session, chosen)
                deals = await deal_figures(session, chosen)
            return StatsOut(
                year=chosen,
                generated_at=now,
                listings=msgspec.convert(figures, ListingFigures),
                deals=deals,
                vouchers=vouchers,
            )

        # Figures of public data alone: computed once per change of it, whoever asks.
        return await public_data.memoized(("annual figures", chosen), compute)  # type: ignore[no-any-return]
