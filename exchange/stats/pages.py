"""The portal's home page and its figures."""

from __future__ import annotations

from litestar import get
from litestar.response import Template


@get("/", include_in_schema=False, name="home")
async def home() -> Template:
    return Template("stats/home.html", context={"section": "home"})


PAGE_HANDLERS = [home]
