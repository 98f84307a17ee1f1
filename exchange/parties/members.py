"""Use cases of an organisation's members: invitations by email, joining, roles, removal and leaving,
the admin hand-over and the last admin.

Every change is an ``org_events`` row (``invited``, ``invitation_revoked``, ``member_joined``,
``role_changed``, ``member_removed``) with its actor and a note, so the organisation's history
shows it. Each use case locks the organisation's row first, so that two admins demoting each
other at once cannot leave it without an admin.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties import service, sessions
from exchange.parties.accounts import SignedIn, rfc3339
from exchange.parties.domain import InvalidToken, Principal, Role, check_admins_remain, new_token, token_hash
from exchange.parties.models import Invitation, OrgEvent, User
from exchange.parties.sessions import Device
from exchange.platform.outbox import Audience, Kind, Subject, notify
from kernel.errors import Conflict, NotFound


class AlreadyMember(Conflict):
    problem_type = "already-a-member"
    title = "The address is already a member of the organisation"


def _require_admin_of(actor: Principal, org_id: uuid.UUID) -> None:
    actor.require_member_of(org_id)
    actor.require_admin()


def _log(session: AsyncSession, org_id: uuid.UUID, action: str, actor_id: uuid.UUID, note: str, now: datetime) -> None:
    session.add(OrgEvent(org_id=org_id, action=action, actor_user_id=actor_id, note=note[:2000], created_at=now))


async def _admins(session: AsyncSession, org_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.org_id == org_id, User.role == Role.ADMIN.value, User.removed_at.is_(None))
        )
        or 0
    )


async def _member(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or user.org_id != org_id or user.removed_at is not None:
        raise NotFound(f"user {user_id} is not a member of organisation {org_id}", field="user_id")
    return user


async def invite(
    session: AsyncSession,
    org_id: uuid.UUID,
    actor: Principal,
    *,
    email: str,
    role: Role,
    now: datetime,
    lifetime: timedelta,
) -> Invitation:
    """An admin invites an address with a role; the token goes out by email only. A pending
    invitation of the same address is replaced. The organisation need not be verified yet."""
    _require_admin_of(actor, org_id)
    org = await service.get_org(session, org_id, for_update=True)
    email = service.normalise_email(email)
    member = await session.scalar(
        select(User.id).where(User.email == email, User.org_id == org_id, User.removed_at.is_(None))
    )
    if member is not None:
        raise AlreadyMember(f"{email} is already a member of {org.name}", field="email")
    await session.execute(
        update(Invitation)
        .where(
            Invitation.org_id == org_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token, expires = new_token(), now + lifetime
    invitation = Invitation(
        org_id=org_id,
        email=email,
        role=role.value,
        token_hash=token_hash(token),
        invited_by=actor.user_id,
        created_at=now,
        expires_at=expires,
        accepted_at=None,
        accepted_user_id=None,
        revoked_at=None,
    )
    session.add(invitation)
    await session.flush()
    _log(session, org_id, "invited", actor.user_id, f"{email} ({role.value})", now)
    notify(
        session,
        Kind.INVITATION,
        to=Audience(emails=(email,)),
        now=now,
        subject=Subject("org", org_id),
        data={
            "token": token,
            "org_name": org.name,
            "inviter_name": actor.display_name,
            "role": role.value,
            "expires_at": rfc3339(expires),
        },
    )
    return invitation


async def pending_invitations(
    session: AsyncSession, org_id: uuid.UUID, actor: Principal, now: datetime
) -> list[Invitation]:
    """The invitations not yet accepted, revoked or expired, the latest first."""
    _require_admin_of(actor, org_id)
    rows = await session.scalars(
        select(Invitation)
        .where(
            Invitation.org_id == org_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(rows.all())


async def revoke_invitation(
    session: AsyncSession, org_id: uuid.UUID, invitation_id: uuid.UUID, actor: Principal, now: datetime
) -> Invitation:
    _require_admin_of(actor, org_id)
    await service.get_org(session, org_id, for_update=True)
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != org_id:
        raise NotFound(f"invitation {invitation_id} not found", field="invitation_id")
    if invitation.accepted_at is not None:
        raise Conflict("the invitation was accepted already; remove the member instead", field="invitation_id")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        _log(session, org_id, "invitation_revoked", actor.user_id, invitation.email, now)
    return invitation


async def check_invitation_open(session: AsyncSession, token: str, now: datetime) -> None:
    """Refuse an unknown, used, revoked or expired invitation before anything costly (a password hash)."""
    open_ = await session.scalar(
        select(Invitation.id).where(
            Invitation.token_hash == token_hash(token),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    if open_ is None:
        raise InvalidToken("the invitation is unknown, used, revoked or expired; ask for a new one", field="token")


async def accept_invitation(
    session: AsyncSession,
    token: str,
    *,
    password_hash: str,
    display_name: str,
    now: datetime,
    device: Device,
    session_lifetime: timedelta,
    kind: str = sessions.API,
) -> SignedIn:
    """The invited address joins the organisation with the invitation's role (accepting proves the
    address) and is signed in (``kind``: the API's session, or the pages' cookie). An address with
    an account elsewhere is refused (``email-taken``); the account of a removed member is given back
    to them, in this organisation."""
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        raise InvalidToken("the invitation is unknown, used, revoked or expired; ask for a new one", field="token")
    org = await service.get_org(session, invitation.org_id, for_update=True)
    user = await session.scalar(select(User).where(User.email == invitation.email))
    if user is not None and user.removed_at is None:
        raise service.EmailTaken(f"{invitation.email} already has an account", field="token")
    if user is None:
        user = User(
            email=invitation.email,
            password_hash=password_hash,
            display_name=display_name,
            org_id=org.id,
            role=invitation.role,
            created_at=now,
            email_confirmed_at=now,
            removed_at=None,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent registration took the address
            raise service.EmailTaken(f"{invitation.email} already has an account", field="token") from exc
    else:
        user.org_id, user.role, user.removed_at = org.id, invitation.role, None
        user.password_hash, user.display_name, user.email_confirmed_at = password_hash, display_name, now
    taken = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now, accepted_user_id=user.id)
    )
    if taken.rowcount != 1:
        raise InvalidToken("the invitation is unknown, used, revoked or expired; ask for a new one", field="token")
    _log(session, org.id, "member_joined", user.id, f"{user.email} ({invitation.role})", now)
    opened = await sessions.open_session(session, user.id, kind=kind, device=device, now=now, lifetime=session_lifetime)
    return SignedIn(user, org, opened)


async def change_role(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, role: Role, actor: Principal, now: datetime
) -> User:
    """An admin makes a member admin or an admin member (themself too, once another admin exists)."""
    _require_admin_of(actor, org_id)
    org = await service.get_org(session, org_id, for_update=True)
    user = await _member(session, org_id, user_id)
    if user.role == role.value:
        return user
    if user.role == Role.ADMIN.value:
        check_admins_remain(await _admins(session, org_id) - 1)
    before, user.role = user.role, role.value
    _log(session, org_id, "role_changed", actor.user_id, f"{user.email}: {before} → {role.value}", now)
    notify(
        session,
        Kind.MEMBERSHIP_CHANGED,
        to=Audience(users=(user.id,)),
        now=now,
        subject=Subject("org", org_id),
        data={"org_name": org.name, "change": "role_changed", "role": role.value, "actor_name": actor.display_name},
    )
    return user


async def remove_member(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, actor: Principal, now: datetime
) -> None:
    """An admin removes a member, or a member leaves. The user can no longer sign in, and their
    sessions end at once; the last admin can do neither."""
    actor.require_member_of(org_id)
    leaving = actor.user_id == user_id
    if not leaving:
        actor.require_admin()
    org = await service.get_org(session, org_id, for_update=True)
    user = await _member(session, org_id, user_id)
    if user.role == Role.ADMIN.value:
        check_admins_remain(await _admins(session, org_id) - 1)
    user.removed_at = now
    await sessions.revoke_all(session, user.id, now)
    _log(session, org_id, "member_removed", actor.user_id, f"{user.email} ({'left' if leaving else 'removed'})", now)
    notify(
        session,
        Kind.MEMBERSHIP_CHANGED,
        to=Audience(emails=(user.email,)),
        now=now,
        subject=Subject("org", org_id),
        data={"org_name": org.name, "change": "left" if leaving else "removed", "actor_name": actor.display_name},
    )


async def members_of(session: AsyncSession, org_id: uuid.UUID, actor: Principal) -> list[User]:
    """The organisation's members, for its own members and the operators."""
    actor.require_member_of(org_id, operators_too=True)
    return await service.org_members(session, org_id)
