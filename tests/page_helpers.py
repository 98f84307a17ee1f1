"""Pages over HTTP in process: a visitor with its own cookies, signed in through the sign-in page,
posting forms with their CSRF token as a browser does (a plain form, or an htmx request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.helpers import PASSWORD, Party


@asynccontextmanager
async def browser_of(app: Any, party: Party | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Another visitor of the site, with its own cookies; signed in through the page when ``party``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as visitor:
        if party is not None:
            await visitor.get("/login")
            signed = await post_form(visitor, "/login", email=party.email, password=PASSWORD)
            assert signed.status_code == 303, signed.text
        yield visitor


def csrf_of(visitor: httpx.AsyncClient) -> str:
    token = visitor.cookies.get("techx_csrf")
    assert token, "a page sets the CSRF cookie before its form is posted"
    return token


async def post_form(visitor: httpx.AsyncClient, path: str, files: Any = None, **fields: Any) -> httpx.Response:
    """A form posted without scripts: the CSRF token travels as the form's hidden field."""
    return await visitor.post(path, data={**fields, "_csrf_token": csrf_of(visitor)}, files=files)


async def htmx_post(visitor: httpx.AsyncClient, path: str, files: Any = None, **fields: Any) -> httpx.Response:
    """The same form posted by htmx: the token in ``X-CSRFToken``, the answer a fragment."""
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_of(visitor)}
    return await visitor.post(path, data=fields, files=files, headers=headers)
