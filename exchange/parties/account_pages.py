"""The account pages of the workspace: the organisation's members and invitations
(``/workspace/members``) and the signed-in user's sessions and password (``/workspace/sessions``).

Each action calls what the API's route calls (``exchange/parties/routes.py``: ``/orgs/{id}/members``,
``/orgs/{id}/invitations``, ``/me/sessions``, ``/me/password``), with the same guards, so a member
who is not an admin posting an admin's form gets the API's 403 and the last admin stays admin
(``last-admin``). Without scripts an action answers 303 back to its page with ``?notice=``; with
htmx it answers the page's work area in place, with the same notice.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from exchange.parties import accounts, auth, members, service, sessions
from exchange.parties.domain import Principal, Role
from exchange.parties.http import SESSION_COOKIE, Caller
from exchange.parties.passwords import MAX_LENGTH
from exchange.parties.schemas import InvitationRequest, RoleChange
from exchange.platform.http import Config, Db, Now
from exchange.platform.ratelimit import RateLimiter
from kernel.errors import BadRequest
from kernel.page_actions import InvalidForm, checked, in_work_area, is_htmx, read_form, with_notice

# The words of the forms' fields, as a refusal of one names it (``invalid-form``).
FIELD_WORDS = {
    "email": "邮箱",
    "role": "角色",
}


class PasswordsDiffer(BadRequest):
    """The new password typed twice differently: nothing is changed."""

    problem_type = "passwords-differ"


def in_place(request: Request[Any, Any, Any], template: str, context: dict[str, Any], notice: str, back_to: str) -> Any:
    """An action's answer, saying what was done: with htmx the page's work area again (its lists
    changed); without scripts 303 back to the page with the same notice."""
    return in_work_area(request, with_notice(back_to, notice), template, {**context, "notice": notice})


# -- members and invitations --------------------------------------------------------------------------------

MEMBERS_WORK = "parties/members_work.html"


class InviteForm(msgspec.Struct):
    email: str = ""
    role: str = Role.MEMBER.value


class RoleForm(msgspec.Struct):
    role: str = ""


async def members_context(db: Db, user: Principal, clock: Now) -> dict[str, Any]:
    """The members as ``GET /orgs/{id}/members`` lists them; the pending invitations (``GET
    /orgs/{id}/invitations``) for its admins only, as the API shows them to its admins only."""
    async with db.read() as session:
        rows = await members.members_of(session, user.org_id, user)
        pending = await members.pending_invitations(session, user.org_id, user, clock.now()) if user.is_admin else []
        admins = sum(1 for m in rows if m.role == Role.ADMIN.value)
    return {
        "section": "workspace",
        "workspace_tab": "members",
        "members": rows,
        "invitations": pending,
        "admins": admins,
        "me": user,
        "notice": "",
    }


@get("/workspace/members", include_in_schema=False, name="workspace-members")
async def members_page(user: Caller, db: Db, clock: Now) -> Template:
    return Template("parties/members.html", context=await members_context(db, user, clock))


@post("/workspace/members/invitations", include_in_schema=False, status_code=200)
async def invite(
    request: Request[Any, Any, Any],
    user: Caller,
    db: Db,
    clock: Now,
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Any:
    """``POST /api/v1/orgs/{id}/invitations``: the invitation goes by email; its token never shows."""
    request.state.action = "member"
    user.require_admin()
    form = await read_form(request, InviteForm)
    data = checked(InvitationRequest, {"email": form.email, "role": form.role}, FIELD_WORDS)
    await limiter.hit(*auth.invitation_counts(settings, user.org_id, data.email))
    lifetime = timedelta(days=settings.invitation_days)
    await db.transaction(
        lambda s: members.invite(
            s, user.org_id, user, email=data.email, role=data.role, now=clock.now(), lifetime=lifetime
        )
    )
    return in_place(
        request, MEMBERS_WORK, await members_context(db, user, clock), "member-invited", "/workspace/members"
    )


@post("/workspace/members/invitations/{invitation_id:uuid}/revoke", include_in_schema=False, status_code=200)
async def revoke_invitation(
    request: Request[Any, Any, Any], invitation_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Any:
    """``POST /api/v1/orgs/{id}/invitations/{invitation_id}/revoke``."""
    request.state.action = "member"
    await db.transaction(lambda s: members.revoke_invitation(s, user.org_id, invitation_id, user, clock.now()))
    context = await members_context(db, user, clock)
    return in_place(request, MEMBERS_WORK, context, "invitation-revoked", "/workspace/members")


@post("/workspace/members/{user_id:uuid}/role", include_in_schema=False, status_code=200)
async def change_role(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Any:
    """``PATCH /api/v1/orgs/{id}/members/{user_id}``: an admin hands over by making another member
    admin, then may step down; the last admin cannot."""
    request.state.action = "member"
    user.require_admin()
    data = checked(RoleChange, {"role": (await read_form(request, RoleForm)).role}, FIELD_WORDS)
    await db.transaction(lambda s: members.change_role(s, user.org_id, user_id, data.role, user, clock.now()))
    # An admin who stepped down sees the page as a member now: without the admins' forms.
    me = dataclasses.replace(user, role=data.role) if user_id == user.user_id else user
    context = await members_context(db, me, clock)
    return in_place(request, MEMBERS_WORK, context, "role-changed", "/workspace/members")


@post("/workspace/members/{user_id:uuid}/remove", include_in_schema=False, status_code=200)
async def remove_member(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Any:
    """``DELETE /api/v1/orgs/{id}/members/{user_id}``: the member can no longer sign in; the last
    admin cannot be removed."""
    request.state.action = "member"
    user.require_admin()
    await db.transaction(lambda s: members.remove_member(s, user.org_id, user_id, user, clock.now()))
    context = await members_context(db, user, clock)
    return in_place(request, MEMBERS_WORK, context, "member-removed", "/workspace/members")


# -- sessions and the password --------------------------------------------------------------------------------

SESSIONS_WORK = "parties/sessions_work.html"
PASSWORD_FIELDS = ("current_password", "new_password", "new_password_again")


async def sessions_context(db: Db, user: Principal, clock: Now) -> dict[str, Any]:
    """The sessions of ``GET /api/v1/me/sessions``, the one of this browser marked."""
    async with db.read() as session:
        rows = await sessions.active_sessions(session, user.user_id, clock.now())
    return {
        "section": "workspace",
        "workspace_tab": "sessions",
        "sessions": rows,
        "current": user.session_id,
        "notice": "",
    }


@get("/workspace/sessions", include_in_schema=False, name="workspace-sessions")
async def sessions_page(user: Caller, db: Db, clock: Now) -> Template:
    return Template("parties/sessions.html", context=await sessions_context(db, user, clock))


@post("/workspace/sessions/{session_id:uuid}/revoke", include_in_schema=False, status_code=200)
async def revoke_session(
    request: Request[Any, Any, Any], session_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Any:
    """``POST /api/v1/me/sessions/{id}/revoke``; another user's session is the API's 404. Ending this
    browser's own session signs it out, as ``POST /logout`` does."""
    await db.transaction(lambda s: sessions.revoke(s, user.user_id, session_id, clock.now()))
    if session_id == user.session_id:
        to = "/login?notice=session-ended"
        response: Response[Any] = (
            Response(content="", status_code=200, headers={"HX-Redirect": to})
            if is_htmx(request)
            else Redirect(path=to, status_code=303)
        )
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    context = await sessions_context(db, user, clock)
    return in_place(request, SESSIONS_WORK, context, "session-revoked", "/workspace/sessions")


@post("/workspace/sessions/password", include_in_schema=False, status_code=200)
async def change_password(
    request: Request[Any, Any, Any],
    user: Caller,
    db: Db,
    clock: Now,
    limiter: NamedDependency[RateLimiter],
    settings: Config,
) -> Any:
    """``POST /api/v1/me/password``: the current password (wrong guesses count as failed sign-ins),
    the new one by the rules of every new password; every other session ends, this one stays."""
    request.state.action = "password"
    # Read as typed, not with ``read_form``: a password's spaces are part of it, as the sign-in reads it.
    posted = await request.form()
    current, new, again = (str(posted.get(name) or "") for name in PASSWORD_FIELDS)
    if not current or len(current) > MAX_LENGTH:
        raise InvalidForm("the current password is needed", field="current_password", label="当前密码")
    await auth.check_current_password(db, limiter, settings, user.user_id, user.email, current)
    service.check_new_password(new, field="new_password")  # the rules of every new password (weak-password)
    if new != again:
        raise PasswordsDiffer("the new password was typed differently twice", field="new_password_again")
    password_hash = await service.hash_in_thread(new)
    await db.transaction(
        lambda s: accounts.change_password(
            s, user.user_id, password_hash=password_hash, keep_session=user.session_id, now=clock.now()
        )
    )
    context = await sessions_context(db, user, clock)
    return in_place(request, SESSIONS_WORK, context, "password-changed", "/workspace/sessions")


PAGE_HANDLERS = [
    members_page,
    invite,
    revoke_invitation,
    change_role,
    remove_member,
    sessions_page,
    revoke_session,
    change_password,
]
