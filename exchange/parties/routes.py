from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from exchange.parties import accounts, auth, members, service, sessions
from exchange.parties.auth import TokenIssuer, sign_up_counts
from exchange.parties.domain import OrgKind, OrgStatus
from exchange.parties.http import Caller
from exchange.parties.models import Org, User
from exchange.parties.schemas import (
    AcceptInvitationRequest,
    InvitationOut,
    InvitationRequest,
    LoginRequest,
    MemberOut,
    MeOut,
    OrgActionRequest,
    OrgEventOut,
    OrgListPage,
    OrgOut,
    OrgPageOut,
    PasswordChangeRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    RegistrationAccepted,
    RoleChange,
    SessionOut,
    SignedInOut,
    TokenOut,
    TokenRequest,
    UserOut,
)
from exchange.parties.sessions import Device, Opened
from exchange.platform.http import BEARER, Config, Db, Now
from exchange.platform.ratelimit import RateLimiter
from kernel.errors import Forbidden, Unauthorized
from kernel.pagination import Cursor, Limit
from kernel.shapes import shaped


def org_out(org: Org) -> OrgOut:
    return shaped(OrgOut, org)


def user_out(user: User) -> UserOut:
    return shaped(UserOut, user)


Note = JSONBody[OrgActionRequest | None]


def device_of(request: Request[Any, Any, Any], limiter: RateLimiter) -> Device:
    return Device(user_agent=request.headers.get("user-agent", ""), client_address=limiter.client_of(request))


def token_out(tokens: TokenIssuer, opened: Opened, now: datetime) -> TokenOut:
    return TokenOut(
        access_token=tokens.issue(opened.user_id, opened.session_id),
        token_type="Bearer",
        expires_in=tokens.lifetime_seconds,
        refresh_token=opened.secret,
        refresh_expires_in=int((opened.expires_at - now).total_seconds()),
    )


def signed_in_out(tokens: TokenIssuer, signed_in: accounts.SignedIn, now: datetime) -> SignedInOut:
    return shaped(
        SignedInOut,
        token_out(tokens, signed_in.opened, now),
        user=user_out(signed_in.user),
        org=org_out(signed_in.org),
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["parties"]

    @post(
        "/register",
        status_code=202,
        summary="Sign up a user and a new, unverified organisation; the address is confirmed by email",
        description=(
            "Answers the same whether or not the address has an account: a new address gets the "
            "confirmation email (its token goes to POST /auth/confirm-email), an address with an account "
            "gets an email saying so and nothing is created. A credit code taken is 409 credit-code-taken."
        ),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RegisterRequest],
        db: Db,
        clock: Now,
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> RegistrationAccepted:
        await limiter.hit(*sign_up_counts(settings, limiter.client_of(request)))
        if data.org.kind is OrgKind.OPERATOR:
            raise Forbidden("operator accounts are created with 'techx operator create'")
        service.check_new_password(data.password)
        # Counted before the address is looked up: a refusal says nothing about an account.
        await limiter.hit(auth.account_mail_to(settings, data.email))
        password_hash = await service.hash_in_thread(data.password)  # for a known address too: same time
        await db.transaction(
            lambda s: accounts.sign_up(
                s,
                email=data.email,
                password_hash=password_hash,
                display_name=data.display_name,
                org_name=data.org.name,
                credit_code=data.org.credit_code,
                kind=data.org.kind,
                now=clock.now(),
                confirmation_lifetime=timedelta(hours=settings.email_confirmation_hours),
            )
        )
        return RegistrationAccepted(status="confirmation-sent", email=service.normalise_email(data.email))

    @post("/confirm-email", status_code=200, summary="Confirm the address by its emailed token, and sign in")
    async def confirm_email(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenRequest],
        db: Db,
        clock: Now,
        tokens: NamedDependency[TokenIssuer],
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> SignedInOut:
        now, device = clock.now(), device_of(request, limiter)
        signed_in = await db.transaction(
            lambda s: accounts.confirm_email(
                s, data.token, now=now, device=device, session_lifetime=auth.session_lifetime(settings)
            )
        )
        return signed_in_out(tokens, signed_in, now)

    @post("/accept-invitation", status_code=200, summary="Join an organisation by an emailed invitation, and sign in")
    async def accept_invitation(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[AcceptInvitationRequest],
        db: Db,
        clock: Now,
        tokens: NamedDependency[TokenIssuer],
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> SignedInOut:
        service.check_new_password(data.password)
        now, device = clock.now(), device_of(request, limiter)
        async with db.read() as session:
            await members.check_invitation_open(session, data.token, now)
        password_hash = await service.hash_in_thread(data.password)
        signed_in = await db.transaction(
            lambda s: members.accept_invitation(
                s,
                data.token,
                password_hash=password_hash,
                display_name=data.display_name,
                now=now,
                device=device,
                session_lifetime=auth.session_lifetime(settings),
            )
        )
        return signed_in_out(tokens, signed_in, now)

    @post("/login", status_code=200, summary="Exchange email and password for a bearer token and a refresh token")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db: Db,
        clock: Now,
        tokens: NamedDependency[TokenIssuer],
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> TokenOut:
        opened = await auth.sign_in(
            db,
            limiter,
            settings,
            clock,
            client=limiter.client_of(request),
            email=data.email,
            password=data.password,
            user_agent=request.headers.get("user-agent", ""),
        )
        return token_out(tokens, opened, clock.now())

    @post(
        "/refresh",
        status_code=200,
        summary="Exchange a refresh token (once) for new tokens; a reused one ends its session",
    )
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        db: Db,
        clock: Now,
        tokens: NamedDependency[TokenIssuer],
        settings: Config,
    ) -> TokenOut:
        now = clock.now()
        outcome = await db.transaction(
            lambda s: sessions.refresh(s, data.refresh_token, now=now, lifetime=auth.session_lifetime(settings))
        )
        if outcome.opened is None:  # a reuse's revocation is committed by now
            raise Unauthorized(outcome.refusal, field="refresh_token")
        return token_out(tokens, outcome.opened, now)

    @post("/logout", status_code=204, security=BEARER, summary="Sign out: end the session of the bearer token")
    async def logout(self, user: Caller, db: Db, clock: Now) -> None:
        if user.session_id is not None:
            await db.transaction(lambda s: sessions.revoke(s, user.user_id, user.session_id, clock.now()))

    @post(
        "/password-reset",
        status_code=202,
        summary="Email a password-reset token to the address (the same answer for an unknown one)",
    )
    async def password_reset(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordResetRequest],
        db: Db,
        clock: Now,
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> RegistrationAccepted:
        await limiter.hit(*auth.password_reset_counts(settings, limiter.client_of(request), data.email))
        lifetime = timedelta(minutes=settings.password_reset_minutes)
        await db.transaction(
            lambda s: accounts.request_password_reset(s, data.email, now=clock.now(), lifetime=lifetime)
        )
        return RegistrationAccepted(status="reset-sent", email=service.normalise_email(data.email))

    @post(
        "/password-reset/confirm",
        status_code=204,
        summary="Set a new password by the emailed token; every session of the user ends",
    )
    async def password_reset_confirm(self, data: JSONBody[PasswordResetConfirm], db: Db, clock: Now) -> None:
        service.check_new_password(data.new_password, field="new_password")
        async with db.read() as session:
            await accounts.check_token_open(session, data.token, accounts.PASSWORD_RESET, clock.now())
        password_hash = await service.hash_in_thread(data.new_password)
        await db.transaction(
            lambda s: accounts.reset_password(s, data.token, password_hash=password_hash, now=clock.now())
        )


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

    @post(
        "/password",
        status_code=204,
        security=BEARER,
        summary="Change the password (needs the current one); the caller's other sessions end",
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChangeRequest],
        user: Caller,
        db: Db,
        clock: Now,
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> None:
        await auth.check_current_password(db, limiter, settings, user.user_id, user.email, data.current_password)
        service.check_new_password(data.new_password, field="new_password")
        password_hash = await service.hash_in_thread(data.new_password)
        await db.transaction(
            lambda s: accounts.change_password(
                s, user.user_id, password_hash=password_hash, keep_session=user.session_id, now=clock.now()
            )
        )

    @get("/sessions", security=BEARER, summary="The caller's signed-in sessions, the current one marked")
    async def list_sessions(self, user: Caller, db: Db, clock: Now) -> list[SessionOut]:
        async with db.read() as session:
            rows = await sessions.active_sessions(session, user.user_id, clock.now())
        return [shaped(SessionOut, r, current=r.id == user.session_id) for r in rows]

    @post(
        "/sessions/{session_id:uuid}/revoke",
        status_code=204,
        security=BEARER,
        summary="End one of the caller's sessions; its tokens stop working at once",
    )
    async def revoke_session(self, session_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> None:
        await db.transaction(lambda s: sessions.revoke(s, user.user_id, session_id, clock.now()))


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

    @get("/{org_id:uuid}/members", security=BEARER, summary="The organisation's members (its members, operators)")
    async def list_members(self, org_id: FromPath[uuid.UUID], user: Caller, db: Db) -> list[MemberOut]:
        async with db.read() as session:
            rows = await members.members_of(session, org_id, user)
        return [shaped(MemberOut, m) for m in rows]

    @post(
        "/{org_id:uuid}/invitations",
        status_code=201,
        security=BEARER,
        summary="Invite an address into the organisation with a role (its admins); the token goes by email",
    )
    async def invite(
        self,
        org_id: FromPath[uuid.UUID],
        data: JSONBody[InvitationRequest],
        user: Caller,
        db: Db,
        clock: Now,
        limiter: NamedDependency[RateLimiter],
        settings: Config,
    ) -> InvitationOut:
        user.require_member_of(org_id)
        user.require_admin()
        await limiter.hit(*auth.invitation_counts(settings, org_id, data.email))
        lifetime = timedelta(days=settings.invitation_days)
        invitation = await db.transaction(
            lambda s: members.invite(
                s, org_id, user, email=data.email, role=data.role, now=clock.now(), lifetime=lifetime
            )
        )
        return shaped(InvitationOut, invitation)

    @get(
        "/{org_id:uuid}/invitations",
        security=BEARER,
        summary="The organisation's pending invitations (its admins)",
    )
    async def invitations(self, org_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> list[InvitationOut]:
        async with db.read() as session:
            rows = await members.pending_invitations(session, org_id, user, clock.now())
        return [shaped(InvitationOut, i) for i in rows]

    @post(
        "/{org_id:uuid}/invitations/{invitation_id:uuid}/revoke",
        status_code=200,
        security=BEARER,
        summary="Revoke a pending invitation (the organisation's admins)",
    )
    async def revoke_invitation(
        self, org_id: FromPath[uuid.UUID], invitation_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
    ) -> InvitationOut:
        invitation = await db.transaction(
            lambda s: members.revoke_invitation(s, org_id, invitation_id, user, clock.now())
        )
        return shaped(InvitationOut, invitation)

    @patch(
        "/{org_id:uuid}/members/{user_id:uuid}",
        status_code=200,
        security=BEARER,
        summary="Change a member's role (the organisation's admins); the last admin stays admin",
    )
    async def change_role(
        self,
        org_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
        data: JSONBody[RoleChange],
        user: Caller,
        db: Db,
        clock: Now,
    ) -> MemberOut:
        member = await db.transaction(lambda s: members.change_role(s, org_id, user_id, data.role, user, clock.now()))
        return shaped(MemberOut, member)

    @delete(
        "/{org_id:uuid}/members/{user_id:uuid}",
        status_code=204,
        security=BEARER,
        summary="Remove a member (the organisation's admins), or leave (a member themself); not the last admin",
    )
    async def remove_member(
        self, org_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
    ) -> None:
        await db.transaction(lambda s: members.remove_member(s, org_id, user_id, user, clock.now()))
