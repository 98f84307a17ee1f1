from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Org(IdMixin, Base):
    __tablename__ = "orgs"

    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    verified: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]


class User(IdMixin, Base):
    __tablename__ = "users"

    # Stored lower-cased: email addresses are unique regardless of case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # When the owner proved the address (the emailed token, an accepted invitation); None: not yet.
    email_confirmed_at: Mapped[datetime | None]
    # When the user was removed from the organisation: the row stays (it is named by history), the
    # user can no longer sign in and their sessions are revoked.
    removed_at: Mapped[datetime | None]


class OrgEvent(IdMixin, Base):
    """Who verified, suspended or changed the members of an organisation, and when."""

    __tablename__ = "org_events"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime]


class AuthSession(IdMixin, Base):
    """A signed-in device: the family of its refresh tokens (API) or the pages' cookie. Revoking it
    ends every access token that names it (their ``sid`` claim) at once."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "api" (refresh tokens) or "page" (the cookie)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    # The pages' cookie carries the session id and a secret; only the secret's SHA-256 is kept.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]


class RefreshToken(IdMixin, Base):
    """One refresh token of a session, kept as its SHA-256. Used once: it is replaced by the next
    one, and presenting it again revokes the whole session (its family)."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    replaced_by: Mapped[uuid.UUID | None]


class AccountToken(IdMixin, Base):
    """A single-use token mailed to a user: the confirmation of their address or a password reset.
    Only the token's SHA-256 is kept."""

    __tablename__ = "account_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "confirm-email" or "password-reset"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Invitation(IdMixin, Base):
    """An admin's invitation of an address into the organisation with a role: single use, until
    ``expires_at``, unless revoked. Only the token's SHA-256 is kept."""

    __tablename__ = "invitations"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
