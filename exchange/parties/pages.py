"""Signing in and out of the pages: the API's login (same throttle) opens a session of its own, whose
id and secret are kept in a cookie that scripts cannot read (HttpOnly), sent only over HTTPS outside
development and tests (Secure) and not on other sites' requests (SameSite=Lax). The session lasts
``TECHX_REFRESH_TOKEN_DAYS``; signing out revokes it, and it shows in the user's list of sessions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from msgspec import Struct

from exchange.parties import auth, sessions
from exchange.parties.http import SESSION_COOKIE
from exchange.platform.http import Config, Db, Now
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
    clock: Now,
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Redirect | Template:
    try:
        opened = await auth.sign_in(
            db,
            limiter,
            settings,
            clock,
            client=limiter.client_of(request),
            email=data.email,
            password=data.password,
            kind=sessions.PAGE,
            user_agent=request.headers.get("user-agent", ""),
        )
    except Unauthorized:
        context = {"next": safe_next(data.next), "error": "邮箱或密码不正确。", "email": data.email}
        return Template("parties/login.html", context=context, status_code=401)
    response = Redirect(path=safe_next(data.next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.secret,
        max_age=int(auth.session_lifetime(settings).total_seconds()),
        httponly=True,
        secure=settings.environment == "production",
        samesite="lax",
        path="/",
    )
    return response


@post("/logout", include_in_schema=False, status_code=303)
async def sign_out(request: Request[Any, Any, Any], db: Db, clock: Now) -> Redirect:
    principal = request.state.principal
    if principal is not None and principal.session_id is not None:
        await db.transaction(lambda s: sessions.revoke(s, principal.user_id, principal.session_id, clock.now()))
    response = Redirect(path="/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


PAGE_HANDLERS = [sign_in_page, sign_in, sign_out]
