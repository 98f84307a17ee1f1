"""``GET /stats``: the annual report figures (listings, deals, vouchers); ``GET /home``: what the
portal's home page shows. Both come from ``exchange.stats.figures``, as their pages do."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from exchange.platform.http import Db, Now
from exchange.stats.figures import HomeOut, StatsOut, annual_figures, home_figures
from listings import ListingsContext, stats_year

Year = FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]]


class StatsController(Controller):
    path = "/stats"
    tags = ["statistics"]

    @get("/", summary="Annual figures: listings and deals by deal type, field, seller kind and month (Beijing time)")
    async def stats(self, db: Db, clock: Now, year: Year = None) -> StatsOut:
        now = clock.now()
        async with db.read() as session:
            return await annual_figures(session, stats_year(year, now), now)


@get(
    "/home",
    tags=["statistics"],
    summary="The exchange now: auctions live or opening soon, notices closing soonest, latest deal results, "
    "the year's figures",
)
async def home(db: Db, clock: Now, listings: NamedDependency[ListingsContext]) -> HomeOut:
    now = clock.now()
    async with db.read() as session:
        return await home_figures(session, listings, now)


ROUTE_HANDLERS = [StatsController, home]
