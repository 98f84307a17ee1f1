"""``GET /stats``: the annual report figures (listings, deals, vouchers); ``GET /home``: what the
portal's home page shows. Both come from ``exchange.stats.figures``, as their pages do."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from exchange.platform.http import Config, Db, Now, PublicFigures
from exchange.stats.figures import HomeOut, StatsOut, kept_annual_figures, kept_home_figures
from listings import ListingsContext, stats_year

Year = FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]]


class StatsController(Controller):
    path = "/stats"
    tags = ["statistics"]

    @get("/", summary="Annual figures: listings and deals by deal type, field, seller kind and month (Beijing time)")
    async def stats(self, db: Db, clock: Now, public_data: PublicFigures, year: Year = None) -> StatsOut:
        now = clock.now()
        return await kept_annual_figures(db, public_data, stats_year(year, now), now)


@get(
    "/home",
    tags=["statistics"],
    summary="The exchange now: auctions live or opening soon, notices closing soonest, latest deal results, "
    "the year's figures",
)
async def home(
    db: Db, clock: Now, public_data: PublicFigures, settings: Config, listings: NamedDependency[ListingsContext]
) -> HomeOut:
    return await kept_home_figures(db, public_data, listings, clock.now(), settings.page_cache_seconds)


ROUTE_HANDLERS = [StatsController, home]
