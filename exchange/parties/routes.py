from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from exchange.parties import auth, service
from exchange.parties.auth import TokenIssuer, sign_up_counts
from exchange.parties.domain import OrgKind, OrgStatus
from exchange.parties.http import Caller
from exchange.parties.models import Org, User
from exchange.parties.schemas import (
    LoginRequest,
    MemberOut,
    MeOut,
    OrgActionRequest,
    OrgEventOut,
    OrgListPage,
    OrgOut,
    OrgPageOut,
    RegisterOut,
    RegisterRequest,
    TokenOut,
    UserOut,
)
from exchange.platform.http import BEARER, Config, Db, Now
from exchange.platform.ratelimit import RateLimiter
from kernel.errors import Forbidden
from kernel.pagination import Cursor, Limit
from kernel.shapes import shaped


def org_out(org: Org) -> OrgOut:
    return shaped(OrgOut, org)


def user_out(user: User) -> UserOut:
    return shaped(UserOut, user)


Note = JSONBody[OrgActionRequest | None]


class AuthController(Controller):
    path = "/auth"
    tags = ["parties"]

    @post("/register", status_code=201, summary="Register a user and a new, unverified organisation")
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RegisterRequest],
        db: Db,
        clock: Now,
        tokens: NamedDependency[TokenIssuer],
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> RegisterOut:
        await limiter.hit(*sign_up_counts(settings, limiter.client_of(request)))
        if data.org.kind is OrgKind.OPERATOR:
            raise Forbidden("operator accounts are created with 'techx operator create'")
        service.check_new_password(data.password)
        password_hash = await service.hash_in_thread(data.password)

        async def work(session: Any) -> tuple[User, Org]:
            return await service.register(
                session,
                email=data.email,
                password_hash=password_hash,
                display_name=data.display_name,
                org_name=data.org.name,
                credit_code=data.org.credit_code,
                kind=data.org.kind,
                now=clock.now(),
            )

        user, org = await db.transaction(work)
        return RegisterOut(
            user=user_out(user),
            org=org_out(org),
            access_token=tokens.issue(user.id),
            token_type="Bearer",
            expires_in=tokens.lifetime_seconds,
        )

    @post("/login", status_code=200, summary="Exchange email and password for a bearer token")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db: Db,
        tokens: NamedDependency[TokenIssuer],
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> TokenOut:
        token = await auth.sign_in(
            db, tokens, limiter, settings, client=limiter.client_of(request), email=data.email, password=data.password
        )
        return TokenOut(access_token=token, token_type="Bearer", expires_in=tokens.lifetime_seconds)


class MeController(Controller):
    path = "/me"
    tags = ["parties"]

    @get("/", security=BEARER, summary="The caller and its organisation")
    async def me(self, user: Caller, db: Db) -> MeOut:
        async with db.read() as session:
            return MeOut(
                user=user_out(await service.get_user(session, user.user_id)),
                org=org_out(await service.get_org(session, user.org_id)),
            )


class OrgController(Controller):
    path = "/orgs"
    tags = ["parties"]

    @get("/", security=BEARER, summary="The directory of organisations, newest first (operators)")
    async def directory(
        self,
        operator: Caller,
        db: Db,
        q: Annotated[str | None, QueryParameter(min_length=1, max_length=200, description="name contains")] = None,
        credit_code: Annotated[
            str | None, QueryParameter(pattern="^[0-9A-Za-z]{1,18}$", description="the credit code or its start")
        ] = None,
        status: Annotated[OrgStatus | None, QueryParameter(description="active or suspended")] = None,
        verified: Annotated[bool | None, QueryParameter(description="verified by an operator or not")] = None,
        kind: Annotated[OrgKind | None, QueryParameter(description="the organisation's kind")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> OrgListPage:
        async with db.read() as session:
            rows, next_cursor = await service.list_orgs(
                session,
                q=q,
                credit_code=credit_code,
                status=status,
                verified=verified,
                kind=kind,
                limit=limit,
                cursor=cursor,
            )
        return OrgListPage([org_out(o) for o in rows], next_cursor)

    @get(
        "/verification-queue",
        security=BEARER,
        summary="Organisations waiting for verification, oldest registration first (operators)",
    )
    async def verification_queue(
        self, operator: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> OrgListPage:
        async with db.read() as session:
            rows, next_cursor = await service.verification_queue(session, limit=limit, cursor=cursor)
        return OrgListPage([org_out(o) for o in rows], next_cursor)

    @get(
        "/{org_id:uuid}",
        security=BEARER,
        summary="An organisation (its members and operators); operators also see its members and history",
    )
    async def show(self, org_id: FromPath[uuid.UUID], user: Caller, db: Db) -> OrgPageOut:
        user.require_member_of(org_id, operators_too=True)
        async with db.read() as session:
            org = await service.get_org(session, org_id)
            if not user.is_operator:
                return shaped(OrgPageOut, org_out(org))
            members = await service.org_members(session, org_id)
            history = await service.org_history(session, org)
        return shaped(
            OrgPageOut,
            org,
            members=[shaped(MemberOut, m) for m in members],
            history=[shaped(OrgEventOut, e) for e in history],
        )

    @post("/{org_id:uuid}/verify", status_code=200, security=BEARER, summary="Verify an organisation (operators)")
    async def verify(
        self, org_id: FromPath[uuid.UUID], operator: Caller, db: Db, clock: Now, data: Note = None
    ) -> OrgOut:
        note = data.note if data else ""
        return org_out(await db.transaction(lambda s: service.verify_org(s, org_id, operator, note, clock.now())))

    @post("/{org_id:uuid}/suspend", status_code=200, security=BEARER, summary="Suspend an organisation (operators)")
    async def suspend(
        self, org_id: FromPath[uuid.UUID], operator: Caller, db: Db, clock: Now, data: Note = None
    ) -> OrgOut:
        note = data.note if data else ""
        return org_out(await db.transaction(lambda s: service.suspend_org(s, org_id, operator, note, clock.now())))

    @post(
        "/{org_id:uuid}/reinstate",
        status_code=200,
        security=BEARER,
        summary="Lift an organisation's suspension (operators); its deals on hold resume",
    )
    async def reinstate(
        self, org_id: FromPath[uuid.UUID], operator: Caller, db: Db, clock: Now, data: Note = None
    ) -> OrgOut:
        note = data.note if data else ""
        return org_out(await db.transaction(lambda s: service.reinstate_org(s, org_id, operator, note, clock.now())))
