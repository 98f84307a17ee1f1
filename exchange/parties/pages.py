"""Signing in and out of the pages: the API's login (same throttle) opens a session of its own, whose
id and secret are kept in a cookie that scripts cannot read (HttpOnly), sent only over HTTPS outside
development and tests (Secure) and not on other sites' requests (SameSite=Lax). The session lasts
``TECHX_REFRESH_TOKEN_DAYS``; signing out revokes it, and it shows in the user's list of sessions.

The pages of the links in account mail, calling the same use cases as the API's routes: confirming
the address (``/confirm-email``), accepting an invitation (``/invitations/accept``) and resetting a
forgotten password (``/password-reset``). A GET only shows a form: the token is used by its POST, so
that a mail scanner fetching the link does not spend it. These pages are never kept in memory for
the public (their URLs carry tokens) and tell the browser to send no ``Referer`` from them.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from msgspec import Struct

from exchange.parties import accounts, auth, members, service, sessions
from exchange.parties.domain import InvalidToken, Principal
from exchange.parties.http import SESSION_COOKIE
from exchange.parties.sessions import Device, Opened
from exchange.platform.http import Config, Db, Now
from exchange.platform.ratelimit import RateLimiter
from exchange.platform.settings import Settings
from exchange.web.messages import message_for
from kernel.errors import DomainError, Unauthorized
from kernel.page_actions import done


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
    return signed_in(opened, settings, safe_next(data.next))


def signed_in(opened: Opened, settings: Settings, to: str) -> Redirect:
    """To ``to``, with the cookie of the pages' session just opened."""
    response = Redirect(path=to, status_code=303)
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


# -- the pages of account mail ------------------------------------------------------------------------

# Pages whose URL holds a mailed token: never stored for the public, never named in a Referer.
TOKEN_PAGE = {"public_cache": False}
TOKEN_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
EMAIL = re.compile(r"^[^@\x00-\x20]+@[^@\x00-\x20]+\.[^@\x00-\x20]+$")  # as the API's ``Email``
INVALID_LINK = message_for("invalid-token", 422)


class TokenForm(Struct):
    token: str = ""


class InvitationForm(Struct):
    token: str = ""
    display_name: str = ""
    password: str = ""
    password_again: str = ""


class ResetRequestForm(Struct):
    email: str = ""


class ResetForm(Struct):
    token: str = ""
    new_password: str = ""
    new_password_again: str = ""


def page(name: str, status: int = 200, **context: Any) -> Template:
    return Template(f"parties/{name}.html", context=context, status_code=status, headers=TOKEN_HEADERS)


def well_formed(token: str) -> bool:
    return 0 < len(token) <= 200


def device_of(request: Request[Any, Any, Any], limiter: RateLimiter) -> Device:
    return Device(user_agent=request.headers.get("user-agent", ""), client_address=limiter.client_of(request))


def password_errors(password: str, again: str, field: str, action: str | None = None) -> dict[str, str]:
    """The Chinese words of a new password's refusal, by field; none when it may be set."""
    try:
        service.check_new_password(password, field=field)
    except DomainError as refused:
        return {field: message_for(refused.problem_type, refused.status, refused.extra, action)}
    if password != again:
        return {f"{field}_again": "两次输入的密码不一致。"}
    return {}


def refusal(refused: DomainError, action: str | None = None) -> dict[str, str]:
    """A refusal of a use case, by the field it names (``token``: the link itself)."""
    field = (refused.errors or [{}])[0].get("field") or "form"
    return {field: message_for(refused.problem_type, refused.status, refused.extra, action)}


@get("/confirm-email", include_in_schema=False, opt=TOKEN_PAGE)
async def confirm_email_page(db: Db, clock: Now, token: FromQuery[str] = "") -> Template:
    try:
        if not well_formed(token):
            raise InvalidToken("no token", field="token")
        async with db.read() as session:
            await accounts.check_token_open(session, token, accounts.CONFIRM_EMAIL, clock.now())
    except InvalidToken:
        return page("confirm_email", 422, token="", error=INVALID_LINK)
    return page("confirm_email", token=token, error=None)


@post("/confirm-email", include_in_schema=False, status_code=303)
async def confirm_email(
    request: Request[Any, Any, Any],
    data: Annotated[TokenForm, FORM],
    db: Db,
    clock: Now,
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Redirect | Template:
    now, device = clock.now(), device_of(request, limiter)
    try:
        if not well_formed(data.token):
            raise InvalidToken("no token", field="token")
        confirmed = await db.transaction(
            lambda s: accounts.confirm_email(
                s,
                data.token,
                now=now,
                device=device,
                session_lifetime=auth.session_lifetime(settings),
                kind=sessions.PAGE,
            )
        )
    except InvalidToken:
        return page("confirm_email", 422, token="", error=INVALID_LINK)
    return signed_in(confirmed.opened, settings, "/?notice=email-confirmed")


@get("/invitations/accept", include_in_schema=False, opt=TOKEN_PAGE)
async def accept_invitation_page(db: Db, clock: Now, token: FromQuery[str] = "") -> Template:
    try:
        if not well_formed(token):
            raise InvalidToken("no token", field="token")
        async with db.read() as session:
            await members.check_invitation_open(session, token, clock.now())
    except InvalidToken as refused:
        return page("accept_invitation", 422, token="", display_name="", errors=refusal(refused, "invitation"))
    return page("accept_invitation", token=token, display_name="", errors={})


@post("/invitations/accept", include_in_schema=False, status_code=303)
async def accept_invitation(
    request: Request[Any, Any, Any],
    data: Annotated[InvitationForm, FORM],
    db: Db,
    clock: Now,
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Redirect | Template:
    now, device, name = clock.now(), device_of(request, limiter), data.display_name.strip()
    errors = password_errors(data.password, data.password_again, "password")
    if not 0 < len(name) <= 100:
        errors["display_name"] = "请填写 1 至 100 个字的姓名。"
    try:
        if not well_formed(data.token):
            raise InvalidToken("no token", field="token")
        async with db.read() as session:
            await members.check_invitation_open(session, data.token, now)
        if errors:
            return page("accept_invitation", 422, token=data.token, display_name=name, errors=errors)
        password_hash = await service.hash_in_thread(data.password)
        joined = await db.transaction(
            lambda s: members.accept_invitation(
                s,
                data.token,
                password_hash=password_hash,
                display_name=name,
                now=now,
                device=device,
                session_lifetime=auth.session_lifetime(settings),
                kind=sessions.PAGE,
            )
        )
    except DomainError as refused:
        token = "" if isinstance(refused, InvalidToken) else data.token  # a spent link shows no form
        errors = refusal(refused, "invitation")
        return page("accept_invitation", refused.status, token=token, display_name=name, errors=errors)
    return signed_in(joined.opened, settings, "/?notice=invitation-accepted")


@get("/password-reset", include_in_schema=False, opt=TOKEN_PAGE)
async def password_reset_page(db: Db, clock: Now, token: FromQuery[str] = "") -> Template:
    if not token:
        return page("password_reset_request", email="", sent=False, error=None)
    try:
        if not well_formed(token):
            raise InvalidToken("no token", field="token")
        async with db.read() as session:
            await accounts.check_token_open(session, token, accounts.PASSWORD_RESET, clock.now())
    except InvalidToken:
        return page("password_reset", 422, token="", errors={"token": INVALID_LINK})
    return page("password_reset", token=token, errors={})


@post("/password-reset", include_in_schema=False, status_code=200)
async def password_reset_request(
    request: Request[Any, Any, Any],
    data: Annotated[ResetRequestForm, FORM],
    db: Db,
    clock: Now,
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Template:
    email = data.email.strip()
    if not EMAIL.match(email) or len(email) > 254:
        return page("password_reset_request", 422, email=email, sent=False, error="请填写有效的邮箱地址。")
    try:
        await limiter.hit(*auth.password_reset_counts(settings, limiter.client_of(request), email))
    except DomainError as refused:
        message = message_for(refused.problem_type, refused.status, refused.extra)
        return page("password_reset_request", refused.status, email=email, sent=False, error=message)
    lifetime = timedelta(minutes=settings.password_reset_minutes)
    await db.transaction(lambda s: accounts.request_password_reset(s, email, now=clock.now(), lifetime=lifetime))
    return page("password_reset_request", email=email, sent=True, error=None)


@post("/password-reset/confirm", include_in_schema=False, status_code=303)
async def password_reset(data: Annotated[ResetForm, FORM], db: Db, clock: Now) -> Redirect | Template:
    errors = password_errors(data.new_password, data.new_password_again, "new_password")
    try:
        if not well_formed(data.token):
            raise InvalidToken("no token", field="token")
        async with db.read() as session:
            await accounts.check_token_open(session, data.token, accounts.PASSWORD_RESET, clock.now())
        if errors:
            return page("password_reset", 422, token=data.token, errors=errors)
        password_hash = await service.hash_in_thread(data.new_password)
        await db.transaction(
            lambda s: accounts.reset_password(s, data.token, password_hash=password_hash, now=clock.now())
        )
    except InvalidToken:
        return page("password_reset", 422, token="", errors={"token": INVALID_LINK})
    response = Redirect(path="/login?notice=password-reset", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")  # its session has ended with all the others
    return response


@get("/workspace", include_in_schema=False, name="workspace")
async def workspace(user: NamedDependency[Principal]) -> Template:
    """The signed-in user's home: the pages of their organisation's roles (``exchange.web.workspace``)."""
    return Template("workspace/overview.html", context={"section": "workspace", "workspace_tab": "overview"})


@get("/workspace/org", include_in_schema=False, name="workspace-org")
async def org_profile(user: NamedDependency[Principal], db: Db) -> Template:
    """The caller's organisation as ``GET /api/v1/me`` shows it, and its documents: members upload
    the business licence here, which the operators' verification queue shows before they verify."""
    async with db.read() as session:
        org = await service.get_org(session, user.org_id)
    return Template("parties/workspace_org.html", context={"org": org, "section": "workspace", "workspace_tab": "org"})


# -- the operators' console: organisations waiting for verification ---------------------------------------


class VerifyForm(Struct):
    note: str = ""


@get("/console/verifications", include_in_schema=False, name="console-verifications")
async def verification_queue(
    operator: NamedDependency[Principal], db: Db, cursor: FromQuery[str | None] = None
) -> Template:
    """The queue of ``GET /api/v1/orgs/verification-queue``: unverified, active, oldest first."""
    async with db.read() as session:
        orgs, next_cursor = await service.verification_queue(session, limit=20, cursor=cursor)
        confirmed = await service.confirmed_admins(session, [o.id for o in orgs])
    context = {"orgs": orgs, "confirmed": confirmed, "next_cursor": next_cursor}
    return Template(
        "parties/console_verifications.html",
        context={**context, "section": "workspace", "workspace_tab": "verifications"},
    )


@post("/console/verifications/{org_id:uuid}/verify", include_in_schema=False, status_code=200)
async def verify_org(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    data: Annotated[VerifyForm, FORM],
    operator: NamedDependency[Principal],
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """Verify as ``POST /api/v1/orgs/{id}/verify`` does (the same refusal of an unconfirmed admin)."""
    await db.transaction(lambda s: service.verify_org(s, org_id, operator, data.note.strip(), clock.now()))
    return done(request, "org-verified", "/console/verifications")


PAGE_HANDLERS = [
    workspace,
    org_profile,
    verification_queue,
    verify_org,
    sign_in_page,
    sign_in,
    sign_out,
    confirm_email_page,
    confirm_email,
    accept_invitation_page,
    accept_invitation,
    password_reset_page,
    password_reset_request,
    password_reset,
]
