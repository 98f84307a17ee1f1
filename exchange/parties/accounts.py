"""Use cases of accounts: a sign-up that reveals nothing, the confirmation of the address by an
emailed token, password change and password reset.

Mail is written to the notification outbox (``notify``) in the use case's transaction; the
notifications module delivers it. Emailed tokens are random, single use, and stored only as their
SHA-256 (``account_tokens``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties import service, sessions
from exchange.parties.domain import InvalidToken, OrgKind, Role, new_token, token_hash
from exchange.parties.models import AccountToken, Org, User
from exchange.parties.sessions import Device, Opened
from exchange.platform.outbox import OPERATORS, Audience, Kind, Subject, notify
from kernel.errors import Forbidden

CONFIRM_EMAIL, PASSWORD_RESET = "confirm-email", "password-reset"


def rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def _mail_token(
    session: AsyncSession, user: User, purpose: str, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    token, expires = new_token(), now + lifetime
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=expires,
            used_at=None,
        )
    )
    return token, expires


async def sign_up(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    org_name: str,
    credit_code: str,
    kind: OrgKind,
    now: datetime,
    confirmation_lifetime: timedelta,
) -> None:
    """``POST /auth/register``: a new address gets an unverified organisation, its admin (address
    unconfirmed) and a confirmation email; an address that has an account gets an email saying so,
    and nothing is created. The caller sees the same either way. A credit code taken is still a
    conflict: organisations are public."""
    email = service.normalise_email(email)
    await service.check_org_can_register(session, credit_code)
    existing = await session.scalar(select(User).where(User.email == email))
    if existing is not None:
        notify(
            session,
            Kind.ALREADY_REGISTERED,
            to=Audience(emails=(email,)),
            now=now,
            data={"display_name": existing.display_name, "org_name": org_name},
        )
        return
    user, org = await service.register(
        session,
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        org_name=org_name,
        credit_code=credit_code,
        kind=kind,
        now=now,
        email_confirmed=False,
    )
    token, expires = await _mail_token(session, user, CONFIRM_EMAIL, now, confirmation_lifetime)
    notify(
        session,
        Kind.EMAIL_CONFIRMATION,
        to=Audience(emails=(email,)),
        now=now,
        subject=Subject("org", org.id),
        data={"token": token, "display_name": display_name, "org_name": org.name, "expires_at": rfc3339(expires)},
    )


async def check_token_open(session: AsyncSession, token: str, purpose: str, now: datetime) -> None:
    """Refuse an unknown, used or expired mailed token before anything costly (a password hash)."""
    open_ = await session.scalar(
        select(AccountToken.id).where(
            AccountToken.token_hash == token_hash(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
    )
    if open_ is None:
        raise InvalidToken("the token is unknown, used or expired; ask for a new email", field="token")


async def _use_token(session: AsyncSession, token: str, purpose: str, now: datetime) -> User:
    """The user of an unused, unexpired mailed token, which is now used; else ``invalid-token``."""
    row = await session.scalar(
        select(AccountToken).where(AccountToken.token_hash == token_hash(token), AccountToken.purpose == purpose)
    )
    user = await session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or row.used_at is not None or row.expires_at <= now or user.removed_at:
        raise InvalidToken("the token is unknown, used or expired; ask for a new email", field="token")
    taken = await session.execute(
        update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None)).values(used_at=now)
    )
    if taken.rowcount != 1:  # a concurrent request used it first
        raise InvalidToken("the token is unknown, used or expired; ask for a new email", field="token")
    return user


@dataclass(frozen=True)
class SignedIn:
    user: User
    org: Org
    opened: Opened


async def confirm_email(
    session: AsyncSession,
    token: str,
    *,
    now: datetime,
    device: Device,
    session_lifetime: timedelta,
    kind: str = sessions.API,
) -> SignedIn:
    """The address is the user's: mark it confirmed and sign them in (``kind``: the API's session,
    or the pages' cookie). The first confirmed admin of an unverified organisation puts it in the
    operators' queue (``operator.org_to_verify``)."""
    user = await _use_token(session, token, CONFIRM_EMAIL, now)
    org = await service.get_org(session, user.org_id)
    if user.email_confirmed_at is None:
        first = not await session.scalar(
            select(User.id).where(User.org_id == org.id, User.email_confirmed_at.is_not(None)).limit(1)
        )
        user.email_confirmed_at = now
        if first and not org.verified and user.role == Role.ADMIN.value:
            notify(
                session,
                Kind.ORG_TO_VERIFY,
                to=OPERATORS,
                now=now,
                subject=Subject("org", org.id),
                data={"org_name": org.name, "credit_code": org.credit_code, "kind": org.kind},
            )
    opened = await sessions.open_session(session, user.id, kind=kind, device=device, now=now, lifetime=session_lifetime)
    return SignedIn(user, org, opened)


async def change_password(
    session: AsyncSession, user_id: uuid.UUID, *, password_hash: str, keep_session: uuid.UUID | None, now: datetime
) -> None:
    """Set the new password (its current one was checked by the caller), end every other session
    of the user and tell them by email."""
    user = await service.get_user(session, user_id)
    if user.removed_at is not None:
        raise Forbidden("this account was removed")
    user.password_hash = password_hash
    await sessions.revoke_all(session, user.id, now, keep=keep_session)
    notify(session, Kind.PASSWORD_CHANGED, to=Audience(users=(user.id,)), now=now, data={"changed_at": rfc3339(now)})


async def request_password_reset(session: AsyncSession, email: str, *, now: datetime, lifetime: timedelta) -> None:
    """Mail a reset token to the address if it has an account; for an unknown address nothing
    happens (the caller answers the same)."""
    user = await session.scalar(
        select(User).where(User.email == service.normalise_email(email), User.removed_at.is_(None))
    )
    if user is None:
        return
    token, expires = await _mail_token(session, user, PASSWORD_RESET, now, lifetime)
    notify(
        session,
        Kind.PASSWORD_RESET,
        to=Audience(emails=(user.email,)),
        now=now,
        data={"token": token, "display_name": user.display_name, "expires_at": rfc3339(expires)},
    )


async def reset_password(session: AsyncSession, token: str, *, password_hash: str, now: datetime) -> None:
    """Set the password by a mailed reset token, which is used up with every other reset token of
    the user; every session of the user ends. The token also proves the address."""
    user = await _use_token(session, token, PASSWORD_RESET, now)
    user.password_hash = password_hash
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    await session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == PASSWORD_RESET, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    await sessions.revoke_all(session, user.id, now)
    notify(session, Kind.PASSWORD_CHANGED, to=Audience(users=(user.id,)), now=now, data={"changed_at": rfc3339(now)})
