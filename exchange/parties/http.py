"""Who is calling, for every module's routes: the bearer token's user and the guards on it.

A handler names the caller it needs: ``user: Caller`` (any signed-in user), ``operator: Caller``
(an exchange operator) or ``trader: Caller`` (a user whose organisation is verified and active);
``actor`` and ``viewer`` describe the caller to the listings module (``viewer`` is None for the
public). Each raises the right problem when the caller may not proceed.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from exchange.parties.domain import OrgStatus, Principal
from exchange.parties.service import find_page_principal, find_principal
from exchange.parties.sessions import parse_cookie
from kernel.errors import Unauthorized
from listings import Actor

Caller = NamedDependency[Principal]


async def provide_principal(request: Request[Any, Any, Any]) -> Principal | None:
    # The database and the token issuer are read from the state, not injected: every authenticated
    # request resolves this, and each injected dependency costs a task and a validation.
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    state = request.app.state
    user_id, session_id = state.tokens.subject(credentials.strip())
    principal = await find_principal(state.db, user_id, session_id)
    if principal is None:
        raise Unauthorized("the bearer token names no user, or its session was ended")
    return principal


def provide_user(principal: NamedDependency[Principal | None]) -> Principal:
    if principal is None:
        raise Unauthorized("this endpoint needs a bearer token from POST /api/v1/auth/login")
    return principal


def provide_operator(user: Caller) -> Principal:
    user.require_operator()
    return user


def provide_trader(user: Caller) -> Principal:
    """A user whose organisation is verified and active: it may list, bid, order and be paid."""
    user.require_active_verified()
    return user


def actor_of(principal: Principal) -> Actor:
    """The caller as the listings module knows it."""
    return Actor(
        user_id=principal.user_id,
        org_id=principal.org_id,
        org_name=principal.org_name,
        org_kind=principal.org_kind.value,
        org_verified=principal.org_verified,
        org_active=principal.org_status is OrgStatus.ACTIVE,
        is_operator=principal.is_operator,
        is_public_institution=principal.is_public_institution,
        is_admin=principal.is_admin,
    )


def provide_actor(user: Caller) -> Actor:
    return actor_of(user)


def provide_viewer(principal: NamedDependency[Principal | None]) -> Actor | None:
    return actor_of(principal) if principal is not None else None


def caller_dependencies() -> dict[str, Provide]:
    return {
        "principal": Provide(provide_principal),
        "user": Provide(provide_user, sync_to_thread=False),
        "operator": Provide(provide_operator, sync_to_thread=False),
        "trader": Provide(provide_trader, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
        "viewer": Provide(provide_viewer, sync_to_thread=False),
    }


# -- the pages' session ------------------------------------------------------------------------------

SESSION_COOKIE = "techx_session"


async def resolve_page_principal(request: Request[Any, Any, Any]) -> None:
    """Before every page: the signed-in user, from the session named by the cookie the sign-in form
    set (``<session id>.<secret>``), kept in ``request.state.principal`` for the handler and the
    layout. A revoked, expired or foreign cookie makes a visitor of the public, not an error page."""
    request.state.principal = None
    cookie = request.cookies.get(SESSION_COOKIE)
    parsed = parse_cookie(cookie) if cookie else None
    if parsed is None:
        return
    state = request.app.state
    request.state.principal = await find_page_principal(state.db, *parsed, state.clock.now())


def provide_page_principal(request: Request[Any, Any, Any]) -> Principal | None:
    return request.state.principal  # type: ignore[no-any-return]


def page_caller_dependencies() -> dict[str, Provide]:
    """The callers of the pages: those of the API (``user``, ``trader``, ``viewer``…), resolved from
    the session cookie instead of a bearer token (which a browser's form never sends)."""
    return {"principal": Provide(provide_page_principal, sync_to_thread=False)}
