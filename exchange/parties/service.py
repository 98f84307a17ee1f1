"""Use cases of parties: registration, login, the caller of a request, verification and suspension
of organisations, the operators' directory.

The module names its other use-case files: ``accounts.py`` (sign-up with email confirmation,
password change and reset), ``members.py`` (invitations, roles, removal, the last admin) and
``sessions.py`` (sessions, refresh-token families, sign-out).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import (
    EmailNotConfirmed,
    OrgKind,
    OrgStatus,
    Principal,
    Role,
    credit_code_problem,
)
from exchange.parties.models import AuthSession, Org, OrgEvent, User
from exchange.parties.passwords import DUMMY_HASH, hash_password, password_problem, verify_password
from exchange.platform.db import Database
from kernel.errors import Conflict, DomainError, NotFound, found
from kernel.pagination import cursor_time, cursor_uuid, decode_cursor, keyset_page


class InvalidCreditCode(DomainError):
    problem_type = "invalid-credit-code"
    status = 422
    title = "Not a valid unified social credit code"


class WeakPassword(DomainError):
    problem_type = "weak-password"
    status = 422
    title = "The password is too easy to guess"


class EmailTaken(Conflict):
    problem_type = "email-taken"
    title = "A user with this email exists"


class CreditCodeTaken(Conflict):
    problem_type = "credit-code-taken"
    title = "An organisation with this credit code exists"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_new_password(password: str, field: str = "password") -> None:
    """Refuse a new password (registration, operator creation, any change) that breaks a rule."""
    problem = password_problem(password)
    if problem:
        raise WeakPassword(problem, field=field)


async def hash_in_thread(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def check_org_can_register(session: AsyncSession, credit_code: str) -> None:
    """The credit code is valid and no organisation has it (organisations are public: saying so
    reveals nobody's account)."""
    problem = credit_code_problem(credit_code)
    if problem:
        raise InvalidCreditCode(f"credit code {problem}", field="org.credit_code")
    if await session.scalar(select(Org.id).where(Org.credit_code == credit_code)):
        raise CreditCodeTaken(f"an organisation with credit code {credit_code} is registered", field="org.credit_code")


async def register(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    org_name: str,
    credit_code: str,
    kind: OrgKind,
    now: datetime,
    verified: bool = False,
    email_confirmed: bool = True,
) -> tuple[User, Org]:
    """Create an organisation and its first user, its admin. The organisation starts unverified.

    The public sign-up (``accounts.sign_up``) passes ``email_confirmed=False``: its admin confirms
    the address by the emailed token. Seeding, benchmarks and the operators' CLI make confirmed users.
    """
    await check_org_can_register(session, credit_code)
    email = normalise_email(email)
    if await session.scalar(select(User.id).where(User.email == email)):
        raise EmailTaken(f"{email} is already registered", field="email")
    org = Org(
        name=org_name,
        credit_code=credit_code,
        kind=kind.value,
        verified=verified,
        status=OrgStatus.ACTIVE.value,
        created_at=now,
        verified_at=now if verified else None,
    )
    session.add(org)
    await session.flush()
    try:
        user = await _add_admin(session, org, email, password_hash, display_name, now, confirmed=email_confirmed)
    except IntegrityError as exc:  # a concurrent registration took the email or code first
        raise EmailTaken(f"{email} or credit code {credit_code} is already registered", field="email") from exc
    return user, org


async def _add_admin(
    session: AsyncSession,
    org: Org,
    email: str,
    password_hash: str,
    display_name: str,
    now: datetime,
    *,
    confirmed: bool = True,
) -> User:
    user = User(
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        org_id=org.id,
        role=Role.ADMIN.value,
        created_at=now,
        email_confirmed_at=now if confirmed else None,
        removed_at=None,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    """The user of ``email`` if ``password`` is theirs; a removed member is as unknown as a stranger."""
    user = await session.scalar(select(User).where(User.email == normalise_email(email), User.removed_at.is_(None)))
    encoded = user.password_hash if user else DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, encoded)
    return user if user and ok else None


_users, _orgs, _sessions = User.__table__, Org.__table__, AuthSession.__table__
# Every authenticated request runs one of these: plain columns (no ORM identity map) keep it cheap.
# A removed member is nobody; a token naming a session (``sid``) works while the session is not revoked.
_PRINCIPAL_COLUMNS = (
    _users.c.id,
    _users.c.email,
    _users.c.display_name,
    _users.c.role,
    _orgs.c.id,
    _orgs.c.name,
    _orgs.c.kind,
    _orgs.c.verified,
    _orgs.c.status,
)
_PRINCIPAL = (
    select(*_PRINCIPAL_COLUMNS)
    .join(_orgs, _orgs.c.id == _users.c.org_id)
    .where(_users.c.id == bindparam("user_id"), _users.c.removed_at.is_(None))
)
_PRINCIPAL_IN_SESSION = _PRINCIPAL.where(
    exists().where(
        _sessions.c.id == bindparam("session_id"),
        _sessions.c.user_id == _users.c.id,
        _sessions.c.revoked_at.is_(None),
    )
)
# The pages' cookie names a session and carries its secret: the session, unrevoked and unexpired.
_PAGE_PRINCIPAL = (
    select(*_PRINCIPAL_COLUMNS)
    .join(_orgs, _orgs.c.id == _users.c.org_id)
    .join(_sessions, _sessions.c.user_id == _users.c.id)
    .where(
        _sessions.c.id == bindparam("session_id"),
        _sessions.c.secret_hash == bindparam("secret_hash"),
        _sessions.c.revoked_at.is_(None),
        _sessions.c.expires_at > bindparam("now"),
        _users.c.removed_at.is_(None),
    )
)


async def load_principal(session: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    connection = await session.connection()
    row = (await connection.execute(_PRINCIPAL, {"user_id": user_id})).first()
    return None if row is None else _principal_of_row(row)


async def find_principal(db: Database, user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> Principal | None:
    """The caller of a request, read outside any transaction: the token's user, while not removed,
    in the token's session (``sid``) while it is not revoked. One statement either way."""
    if session_id is None:
        row = await db.first_row(_PRINCIPAL, {"user_id": user_id})
    else:
        row = await db.first_row(_PRINCIPAL_IN_SESSION, {"user_id": user_id, "session_id": session_id})
    return None if row is None else _principal_of_row(row, session_id)


async def find_page_principal(db: Database, session_id: uuid.UUID, secret_hash: str, now: datetime) -> Principal | None:
    """The signed-in user of the pages' session cookie (one statement), or None."""
    row = await db.first_row(_PAGE_PRINCIPAL, {"session_id": session_id, "secret_hash": secret_hash, "now": now})
    return None if row is None else _principal_of_row(row, session_id)


def _principal_of_row(row: Sequence[Any], session_id: uuid.UUID | None = None) -> Principal:
    user_id_, email, display_name, role, org_id, org_name, kind, verified, status = row
    return Principal(
        user_id=user_id_,
        email=email,
        display_name=display_name,
        role=Role(role),
        org_id=org_id,
        org_name=org_name,
        org_kind=OrgKind(kind),
        org_verified=verified,
        org_status=OrgStatus(status),
        session_id=session_id,
    )


def principal_of(user: User, org: Org) -> Principal:
    row = (user.id, user.email, user.display_name, user.role, org.id, org.name, org.kind, org.verified, org.status)
    return _principal_of_row(row)


async def get_org(session: AsyncSession, org_id: uuid.UUID, *, for_update: bool = False) -> Org:
    query = select(Org).where(Org.id == org_id)
    if for_update:
        query = query.with_for_update()
    return found(await session.scalar(query), NotFound(f"organisation {org_id} not found"))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    return found(await session.get(User, user_id), NotFound(f"user {user_id} not found"))


async def verify_org(session: AsyncSession, org_id: uuid.UUID, actor: Principal, note: str, now: datetime) -> Org:
    actor.require_operator()
    org = await get_org(session, org_id, for_update=True)
    if not org.verified:
        confirmed_admin = await session.scalar(
            select(
                exists().where(
                    User.org_id == org.id,
                    User.role == Role.ADMIN.value,
                    User.removed_at.is_(None),
                    User.email_confirmed_at.is_not(None),
                )
            )
        )
        if not confirmed_admin:
            raise EmailNotConfirmed(
                "the organisation's admin has not yet confirmed their email address; it can be verified after",
                field="id",
            )
        org.verified = True
        org.verified_at = now
        session.add(OrgEvent(org_id=org.id, action="verified", actor_user_id=actor.user_id, note=note, created_at=now))
    return org


def _set_status(
    session: AsyncSession, org: Org, status: OrgStatus, action: str, actor: Principal, note: str, now: datetime
) -> Org:
    """Move the organisation to ``status``, recording the event (``suspensions`` reads them back)."""
    if org.status != status.value:
        org.status = status.value
        session.add(OrgEvent(org_id=org.id, action=action, actor_user_id=actor.user_id, note=note, created_at=now))
    return org


async def suspend_org(session: AsyncSession, org_id: uuid.UUID, actor: Principal, note: str, now: datetime) -> Org:
    actor.require_operator()
    org = await get_org(session, org_id, for_update=True)
    if org.id == actor.org_id:
        raise Conflict("operators cannot suspend their own organisation", field="id")
    return _set_status(session, org, OrgStatus.SUSPENDED, "suspended", actor, note, now)


async def reinstate_org(session: AsyncSession, org_id: uuid.UUID, actor: Principal, note: str, now: datetime) -> Org:
    """Lift a suspension: the organisation acts again, and what waited on it (a deal on hold) resumes."""
    actor.require_operator()
    org = await get_org(session, org_id, for_update=True)
    return _set_status(session, org, OrgStatus.ACTIVE, "reinstated", actor, note, now)


async def suspensions(session: AsyncSession, org_ids: Sequence[uuid.UUID]) -> list[tuple[datetime, datetime | None]]:
    """Every period in which one of ``org_ids`` was suspended, ``(from, until)`` (``until`` None while
    it lasts), from the organisations' suspend and reinstate events."""
    rows = await session.execute(
        select(OrgEvent.org_id, OrgEvent.action, OrgEvent.created_at)
        .where(OrgEvent.org_id.in_(list(org_ids)), OrgEvent.action.in_(("suspended", "reinstated")))
        .order_by(OrgEvent.created_at, OrgEvent.id)
    )
    periods: list[tuple[datetime, datetime | None]] = []
    open_since: dict[uuid.UUID, datetime] = {}
    for org_id, action, at in rows:
        if action == "suspended":
            open_since.setdefault(org_id, at)
        elif org_id in open_since:
            periods.append((open_since.pop(org_id), at))
    periods.extend((since, None) for since in open_since.values())
    return sorted(periods, key=lambda p: p[0])


OPERATOR_ORG_CODE = "91310000MA1FL0000N"  # a fixed, valid code for the exchange operator itself


async def create_operator(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    now: datetime,
    org_name: str = "TechX Exchange Operations",
) -> User:
    """Create an operator user; the operator organisation is created with the first one."""
    org = await session.scalar(select(Org).where(Org.kind == OrgKind.OPERATOR.value).order_by(Org.created_at))
    if org is None:
        _, org = await register(
            session,
            email=email,
            password_hash=password_hash,
            display_name=display_name,
            org_name=org_name,
            credit_code=OPERATOR_ORG_CODE,
            kind=OrgKind.OPERATOR,
            now=now,
            verified=True,
        )
        return await session.scalar(select(User).where(User.email == normalise_email(email)))  # type: ignore[return-value]
    email = normalise_email(email)
    if await session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise EmailTaken(f"{email} is already registered", field="email")
    return await _add_admin(session, org, email, password_hash, display_name, now)


# -- the operators' directory ------------------------------------------------------------------------


async def list_orgs(
    session: AsyncSession,
    *,
    q: str | None,
    credit_code: str | None,
    status: OrgStatus | None,
    verified: bool | None,
    kind: OrgKind | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Org], str | None]:
    """A page of organisations, newest registration first: the name contains ``q`` (any case), the
    credit code is or starts with ``credit_code``, and the status, verification and kind match."""
    query = select(Org)
    if q:
        query = query.where(Org.name.icontains(q, autoescape=True))
    if credit_code:
        query = query.where(Org.credit_code.startswith(credit_code.upper(), autoescape=True))
    if status is not None:
        query = query.where(Org.status == status.value)
    if verified is not None:
        query = query.where(Org.verified.is_(verified))
    if kind is not None:
        query = query.where(Org.kind == kind.value)
    return await _page_by_registration(session, query, limit, cursor, newest_first=True)


async def verification_queue(session: AsyncSession, *, limit: int, cursor: str | None) -> tuple[list[Org], str | None]:
    """The organisations waiting for an operator: unverified and not suspended, oldest registration first."""
    query = select(Org).where(Org.verified.is_(False), Org.status == OrgStatus.ACTIVE.value)
    return await _page_by_registration(session, query, limit, cursor, newest_first=False)


async def confirmed_admins(session: AsyncSession, org_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``org_ids`` have an admin who confirmed their address: those ``verify_org`` accepts."""
    if not org_ids:
        return set()
    rows = await session.scalars(
        select(User.org_id).where(
            User.org_id.in_(list(org_ids)),
            User.role == Role.ADMIN.value,
            User.removed_at.is_(None),
            User.email_confirmed_at.is_not(None),
        )
    )
    return set(rows)


async def user_names(session: AsyncSession, user_ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Who the users are, as an operator reads them on a page: "name (email)"."""
    wanted = [u for u in set(user_ids) if u is not None]
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name, User.email).where(User.id.in_(wanted)))
    return {r.id: f"{r.display_name}（{r.email}）" for r in rows}


async def org_names(session: AsyncSession, org_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(org_ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Org.id, Org.name).where(Org.id.in_(wanted)))
    return {org_id: name for org_id, name in rows}


async def _page_by_registration(
    session: AsyncSession, query: Any, limit: int, cursor: str | None, *, newest_first: bool
) -> tuple[list[Org], str | None]:
    position = decode_cursor(cursor, "created_at", "id")
    if position is not None:
        at, key = cursor_time(position, "created_at"), cursor_uuid(position, "id")
        if newest_first:
            query = query.where((Org.created_at < at) | ((Org.created_at == at) & (Org.id < key)))
        else:
            query = query.where((Org.created_at > at) | ((Org.created_at == at) & (Org.id > key)))
    order = (Org.created_at.desc(), Org.id.desc()) if newest_first else (Org.created_at, Org.id)
    rows = (await session.scalars(query.order_by(*order).limit(limit + 1))).all()
    return keyset_page(rows, limit, lambda o: {"created_at": o.created_at.isoformat(), "id": str(o.id)})


async def org_members(session: AsyncSession, org_id: uuid.UUID) -> list[User]:
    """The organisation's users (not those removed), the earliest first."""
    rows = await session.scalars(
        select(User).where(User.org_id == org_id, User.removed_at.is_(None)).order_by(User.created_at, User.id)
    )
    return list(rows.all())


async def org_history(session: AsyncSession, org: Org) -> list[dict[str, Any]]:
    """What happened to the organisation, the earliest first: its registration, then each logged
    event (verified, suspended, reinstated…) with who did it, when and their note."""
    rows = await session.execute(
        select(OrgEvent, User.display_name)
        .outerjoin(User, User.id == OrgEvent.actor_user_id)
        .where(OrgEvent.org_id == org.id)
        .order_by(OrgEvent.created_at, OrgEvent.id)
    )
    history: list[dict[str, Any]] = [{"action": "registered", "at": org.created_at}]
    for event, actor_name in rows:
        history.append(
            {
                "action": event.action,
                "at": event.created_at,
                "actor_user_id": event.actor_user_id,
                "actor_name": actor_name,
                "note": event.note,
            }
        )
    return history
