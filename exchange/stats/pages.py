"""The portal's home page and its figures: the same functions as ``GET /home`` and ``GET /stats``."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from litestar.response import Template

from exchange.platform.http import Db, Now
from exchange.stats.figures import annual_figures, home_figures
from exchange.stats.views import monthly_deal_value, stats_figures
from listings import ListingsContext, stats_year
from listings.workdays import BEIJING

YEARS_OFFERED = 6  # the year selector offers the current year and the five before it


@get("/", include_in_schema=False, name="home")
async def home(db: Db, clock: Now, listings: NamedDependency[ListingsContext]) -> Template:
    async with db.read() as session:
        figures = await home_figures(session, listings, clock.now())
    context = {"section": "home", "home": figures, "chart": monthly_deal_value(figures.figures)}
    return Template("stats/home.html", context=context)


@get("/stats", include_in_schema=False, name="stats")
async def stats(
    db: Db, clock: Now, year: FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]] = None
) -> Template:
    now = clock.now()
    async with db.read() as session:
        figures = await annual_figures(session, stats_year(year, now), now)
    current = now.astimezone(BEIJING).year
    years = sorted({figures.year, *range(current - YEARS_OFFERED + 1, current + 1)}, reverse=True)
    context = {"section": "stats", "stats": figures, "figures": stats_figures(figures), "years": years}
    return Template("stats/stats.html", context=context)


PAGE_HANDLERS = [home, stats]
