"""Signing in and out of the pages: the API's login (same throttle, same token), kept in a session
cookie that scripts cannot read (HttpOnly), sent only over HTTPS outside development and tests
(Secure) and not on other sites' requests (SameSite=Lax)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from msgspec import Struct

from exchange.parties import auth
from exchange.parties.auth import TokenIssuer
from exchange.parties.http import SESSION_COOKIE
from exchange.platform.http import Config, Db
from exchange.platform.ratelimit import RateLimiter
from kernel.errors import Unauthorized


class SignInForm(Struct):
    email: str = ""
    password: str = ""
    next: str = "/"


def safe_next(target: str) -> str:
    """Only a path of this site: a sign-in link must not send its reader to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@get("/login", include_in_schema=False, name="sign-in")
async def sign_in_page(next: FromQuery[str] = "/") -> Template:
    return Template("parties/login.html", context={"next": safe_next(next), "error": None, "email": ""})


@post("/login", include_in_schema=False, status_code=303)
async def sign_in(
    request: Request[Any, Any, Any],
    data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    db: Db,
    tokens: NamedDependency[TokenIssuer],
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Redirect | Template:
    try:
        token = await auth.sign_in(
            db, tokens, limiter, settings, client=limiter.client_of(request), email=data.email, password=data.password
        )
    except Unauthorized:
        context = {"next": safe_next(data.next), "error": "邮箱或密码不正确。", "email": data.email}
        return Template("parties/login.html", context=context, status_code=401)
    response = Redirect(path=safe_next(data.next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=tokens.lifetime_seconds,
        httponly=True,
        secure=settings.environment == "production",
        samesite="lax",
        path="/",
    )
    return response


@post("/logout", include_in_schema=False, status_code=303)
async def sign_out() -> Redirect:
    response = Redirect(path="/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


PAGE_HANDLERS = [sign_in_page, sign_in, sign_out]
