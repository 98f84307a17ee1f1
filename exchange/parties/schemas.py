from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.parties.domain import OrgKind, OrgStatus, Role
from exchange.parties.passwords import MAX_LENGTH, MIN_LENGTH
from kernel.pagination import Page

Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\x00-\x20]+@[^@\x00-\x20]+\.[^@\x00-\x20]+$")
]
Password = Annotated[str, msgspec.Meta(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]  # and check_new_password
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
OrgName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
CreditCode = Annotated[str, msgspec.Meta(min_length=18, max_length=18, pattern=r"^[0-9A-Z]{18}$")]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class OrgRegistration(msgspec.Struct, forbid_unknown_fields=True):
    name: OrgName
    credit_code: CreditCode
    kind: OrgKind


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: DisplayName
    org: OrgRegistration


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LENGTH)]


class OrgActionRequest(msgspec.Struct, forbid_unknown_fields=True):
    note: Note = ""


class OrgOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    credit_code: str
    kind: OrgKind
    verified: bool
    status: OrgStatus
    created_at: datetime


class UserOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    org_id: uuid.UUID


class TokenOut(msgspec.Struct):
    """A short-lived bearer token (``expires_in`` seconds) and the refresh token that gets the next
    one (``POST /auth/refresh``), valid ``refresh_expires_in`` seconds and once."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RegistrationAccepted(msgspec.Struct):
    """The same answer for a new address and one that has an account: the mail says which."""

    status: str
    email: str


class SignedInOut(TokenOut):
    """The user, their organisation and their first tokens (after confirming or joining)."""

    user: UserOut | None = None
    org: OrgOut | None = None


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AcceptInvitationRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password
    display_name: DisplayName


class PasswordChangeRequest(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LENGTH)]
    new_password: Password


class PasswordResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class PasswordResetConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Password


class InvitationRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Role = Role.MEMBER


class InvitationOut(msgspec.Struct):
    """An invitation; its token travels only in the email to the invited address."""

    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    role: Role
    invited_by: uuid.UUID
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class SessionOut(msgspec.Struct):
    """A signed-in device: ``api`` (refresh tokens) or ``page`` (the web pages' cookie)."""

    id: uuid.UUID
    kind: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    client_address: str
    current: bool


class MeOut(msgspec.Struct):
    user: UserOut
    org: OrgOut


class MemberOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    created_at: datetime
    email_confirmed_at: datetime | None = None


class OrgEventOut(msgspec.Struct):
    """One line of an organisation's history: ``registered``, ``verified``, ``suspended``, ``reinstated``,
    and the members' ``invited``, ``invitation_revoked``, ``member_joined``, ``role_changed``,
    ``member_removed``."""

    action: str
    at: datetime
    actor_user_id: uuid.UUID | None = None
    actor_name: str | None = None
    note: str = ""


class OrgPageOut(OrgOut, omit_defaults=True):
    """An organisation; operators also get its members and history (its members see only the first
    fields, as ``OrgOut``)."""

    verified_at: datetime | None = None
    members: list[MemberOut] | None = None
    history: list[OrgEventOut] | None = None


OrgListPage = Page[OrgOut]
