"""Use cases of sessions: a signed-in device, its rotating refresh tokens, sign-out and revocation.

A session is a family of refresh tokens (the API) or the pages' cookie. Access tokens are short
(``TECHX_TOKEN_LIFETIME_SECONDS``) and name their session in the ``sid`` claim; revoking the session
ends them at once (``service.find_principal`` requires the session unrevoked). A refresh token is
used once: refreshing marks it used and issues its replacement; presenting a used one again means
it was copied, and revokes the whole family.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import new_token, token_hash
from exchange.parties.models import AuthSession, RefreshToken, User
from kernel.columns import new_id
from kernel.errors import NotFound


@dataclass(frozen=True)
class Device:
    """Where a sign-in comes from, as the user sees it in their list of sessions."""

    user_agent: str = ""
    client_address: str = ""


@dataclass(frozen=True)
class Opened:
    """A session just opened or refreshed: its id (the access token's ``sid``), the secret the
    client keeps (the refresh token, or the pages' cookie value) and when that secret expires."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    secret: str
    expires_at: datetime


API, PAGE = "api", "page"


async def open_session(
    session: AsyncSession, user_id: uuid.UUID, *, kind: str, device: Device, now: datetime, lifetime: timedelta
) -> Opened:
    """A new session of ``user_id``: with its first refresh token (``api``) or its cookie secret
    (``page``, sent as ``<session id>.<secret>``)."""
    secret = new_token()
    row = AuthSession(
        id=new_id(),
        user_id=user_id,
        kind=kind,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
        user_agent=device.user_agent[:300],
        client_address=device.client_address[:64],
        secret_hash=token_hash(secret) if kind == PAGE else None,
        revoked_at=None,
    )
    session.add(row)
    await session.flush()  # before its refresh token, which names it
    if kind == PAGE:
        return Opened(user_id, row.id, f"{row.id}.{secret}", row.expires_at)
    session.add(
        RefreshToken(
            session_id=row.id,
            token_hash=token_hash(secret),
            issued_at=now,
            expires_at=row.expires_at,
            used_at=None,
            replaced_by=None,
        )
    )
    return Opened(user_id, row.id, secret, row.expires_at)


@dataclass(frozen=True)
class Refreshed:
    """The outcome of presenting a refresh token: ``opened`` when it was good, else why not."""

    opened: Opened | None
    refusal: str = ""


async def refresh(session: AsyncSession, refresh_token: str, *, now: datetime, lifetime: timedelta) -> Refreshed:
    """Rotate ``refresh_token``: mark it used and issue its replacement. A token used before
    revokes its session (the refusal is answered after this transaction commits the revocation)."""
    row = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(refresh_token)))
    if row is None:
        return Refreshed(None, "the refresh token is not valid")
    family = await session.get(AuthSession, row.session_id)
    user = await session.get(User, family.user_id) if family else None
    if family is None or user is None or family.revoked_at is not None or user.removed_at is not None:
        return Refreshed(None, "the session of this refresh token was ended")
    if row.used_at is not None:
        family.revoked_at = now
        return Refreshed(None, "this refresh token was used before: its session is ended, sign in again")
    if row.expires_at <= now:
        return Refreshed(None, "the refresh token has expired; sign in again")
    secret, replacement_id = new_token(), new_id()
    taken = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now, replaced_by=replacement_id)
    )
    if taken.rowcount != 1:  # a concurrent refresh used it first: the same as a reuse
        family.revoked_at = now
        return Refreshed(None, "this refresh token was used before: its session is ended, sign in again")
    expires = now + lifetime
    session.add(
        RefreshToken(
            id=replacement_id,
            session_id=family.id,
            token_hash=token_hash(secret),
            issued_at=now,
            expires_at=expires,
            used_at=None,
            replaced_by=None,
        )
    )
    family.last_used_at = now
    family.expires_at = expires
    return Refreshed(Opened(family.user_id, family.id, secret, expires))


async def revoke(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> None:
    """End one of the user's sessions (sign-out, or from their list of sessions)."""
    row = await session.get(AuthSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"session {session_id} not found", field="session_id")
    if row.revoked_at is None:
        row.revoked_at = now


async def revoke_all(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> None:
    """End every session of the user (but ``keep``): after a password change or reset, a removal."""
    statement = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    await session.execute(statement.values(revoked_at=now))


async def active_sessions(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> list[AuthSession]:
    """The user's sessions still in use (not revoked, not expired), the latest sign-in first."""
    rows = await session.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.created_at.desc(), AuthSession.id.desc())
    )
    return list(rows.all())


def parse_cookie(value: str) -> tuple[uuid.UUID, str] | None:
    """The session id and secret of the pages' cookie, or None for anything else."""
    sid, _, secret = value.partition(".")
    if not secret:
        return None
    try:
        return uuid.UUID(sid), token_hash(secret)
    except ValueError:
        return None
