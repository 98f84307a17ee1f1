"""The operators' white paper page (``/console/reports/white-paper?year=``) and its downloads (PDF,
HTML): the same ``white_paper`` the command ``techx report white-paper`` writes, for operators only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import FromQuery, Parameter
from litestar.response import Template

from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.stats.white_paper.domain import BEIJING, FIRST_YEAR, LAST_YEAR
from exchange.stats.white_paper.paper import context, filename, html, pdf, white_paper
from kernel.printing import pdf_response

PRIVATE = {"public_cache": False}
Year = FromQuery[Annotated[int | None, Parameter(ge=FIRST_YEAR, le=LAST_YEAR)]]
YEARS_OFFERED = 6


@get("/console/reports/white-paper", include_in_schema=False, name="console-white-paper", opt=PRIVATE)
async def white_paper_page(operator: Caller, db: Db, clock: Now, year: Year = None) -> Template:
    now = clock.now()
    current = now.astimezone(BEIJING).year
    async with db.read() as session:
        paper = await white_paper(session, year if year is not None else current, now)
    years = sorted({paper.year, *range(current - YEARS_OFFERED + 1, current + 1)}, reverse=True)
    shown = {**context(paper), "section": "workspace", "workspace_tab": "white-paper", "years": years}
    return Template("stats/white_paper.html", context=shown)


@get("/console/reports/white-paper/download", include_in_schema=False, opt=PRIVATE)
async def white_paper_download(
    request: Request[Any, Any, State],
    operator: Caller,
    db: Db,
    clock: Now,
    year: FromQuery[Annotated[int, Parameter(ge=FIRST_YEAR, le=LAST_YEAR)]],
    format: FromQuery[Literal["pdf", "html"]] = "pdf",
) -> Response[Any]:
    async with db.read() as session:
        paper = await white_paper(session, year, clock.now())
    environment = request.app.template_engine.engine  # type: ignore[attr-defined]
    if format == "html":
        headers = {
            "Content-Disposition": f'attachment; filename="{filename(year, "html")}"',
            "Cache-Control": "private, no-store",
        }
        return Response(html(paper, environment), media_type="text/html; charset=utf-8", headers=headers)
    return pdf_response(await pdf(paper, environment), filename(year, "pdf"), private=True)


PAGE_HANDLERS = [white_paper_page, white_paper_download]
