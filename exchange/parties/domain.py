"""Pure rules about organisations and users: kinds, roles, the credit code, who may do what, the
last admin, and the single-use tokens of account mail and sessions."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum

from kernel.errors import Conflict, DomainError, Forbidden, check_operator, check_trader


class OrgKind(StrEnum):
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    ENTERPRISE = "enterprise"
    SERVICE_PROVIDER = "service_provider"
    GOVERNMENT = "government"
    OPERATOR = "operator"


PUBLIC_INSTITUTIONS = frozenset({OrgKind.UNIVERSITY, OrgKind.RESEARCH_INSTITUTE})


class OrgStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


MIN_PASSWORD_LENGTH = 10

# GB 32100-2015: the unified social credit code is 18 characters from this alphabet (no I, O, S,
# V, Z); the last one is a check character over the first seventeen.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return "must be 18 characters"
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        return f"contains characters not used in credit codes: {''.join(bad)}"
    if not code[2:8].isdigit():
        return "characters 3-8 must be the digits of an administrative division code"
    if credit_code_check_char(code[:17]) != code[17]:
        return "check character does not match"
    return None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user acting for one organisation."""

    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    org_id: uuid.UUID
    org_name: str
    org_kind: OrgKind
    org_verified: bool
    org_status: OrgStatus
    session_id: uuid.UUID | None = None  # the session the access token names (its ``sid``), if any

    @property
    def is_operator(self) -> bool:
        return self.org_kind is OrgKind.OPERATOR and self.org_status is OrgStatus.ACTIVE

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_public_institution(self) -> bool:
        return self.org_kind in PUBLIC_INSTITUTIONS

    def require_active_verified(self) -> None:
        """The org may trade: list, register intent, bid, order, receive vouchers, be paid."""
        check_trader(self.org_id, active=self.org_status is OrgStatus.ACTIVE, verified=self.org_verified)

    def require_operator(self) -> None:
        check_operator(self.is_operator)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only an admin of the organisation may do this")

    def require_kind(self, *kinds: OrgKind) -> None:
        if self.org_kind not in kinds:
            allowed = ", ".join(sorted(k.value for k in kinds))
            raise Forbidden(f"only organisations of kind {allowed} may do this")

    def require_member_of(self, *org_ids: uuid.UUID, operators_too: bool = False) -> None:
        """Object-level authorisation: the caller belongs to one of the owning organisations."""
        if self.org_id in org_ids or (operators_too and self.is_operator):
            return
        raise Forbidden("this resource belongs to another organisation")


# -- members and accounts ------------------------------------------------------------------------------


class LastAdmin(Conflict):
    problem_type = "last-admin"
    title = "An organisation keeps at least one admin"


class EmailNotConfirmed(Conflict):
    problem_type = "email-not-confirmed"
    title = "The organisation's admin has not confirmed their email address"


class InvalidToken(DomainError):
    """A well-formed mailed token that opens nothing (any more): 422, as a rule the request breaks."""

    problem_type = "invalid-token"
    status = 422
    title = "The token is unknown, used, revoked or expired"


def check_admins_remain(admins_after: int) -> None:
    """An organisation never loses its last admin: they can neither leave, be removed nor be
    demoted until another member has been made admin (the hand-over)."""
    if admins_after < 1:
        raise LastAdmin(
            "the organisation's last admin can neither leave, be removed nor be demoted; make another member "
            "admin first",
            field="user_id",
        )


def new_token() -> str:
    """A single-use secret for a link in an email, a refresh token or a session cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex. A stolen table gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
