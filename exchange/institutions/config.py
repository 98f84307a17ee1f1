"""An institution's configuration — its workflow, notice periods, the inventors' declared share,
the parts of its remainder — and who holds its roles. One function = one transaction's work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.domain import (
    DEFAULT_DECISION_BODY,
    DEFAULT_WORKFLOW,
    STEP_LABELS,
    InstitutionPart,
    InstitutionRules,
    InvalidInstitutionRules,
    PeriodUnit,
    Role,
    Step,
    Workflow,
    check_institution_rules,
    configure_workflow,
)
from exchange.institutions.models import InstitutionSettings, RoleGrant
from exchange.institutions.schemas import (
    InstitutionPartIn,
    RoleGrantOut,
    SettingsIn,
    SettingsOut,
    WorkflowStepOut,
)
from exchange.parties.domain import PUBLIC_INSTITUTIONS, OrgKind, Principal
from exchange.parties.models import User
from exchange.platform.outbox import Audience, Kind, Subject, notify
from kernel.errors import DomainError, Forbidden, NotFound
from listings.models import Notice, Objection

DEFAULT_PARTS = (InstitutionPart("学校", 1),)
# Universities and research institutes run the process; an enterprise's own decisions are its own.
INSTITUTION_KINDS = (OrgKind.UNIVERSITY, OrgKind.RESEARCH_INSTITUTE)


class NotAnInstitution(DomainError):
    problem_type = "not-an-institution"
    status = 403
    title = "Only universities and research institutes run a transfer process in TechX"


class NotAMember(DomainError):
    problem_type = "not-a-member"
    status = 422
    title = "The user is not a member of the institution"


@dataclass(frozen=True)
class Configuration:
    """An institution's rules and workflow, saved or the defaults."""

    org_id: uuid.UUID
    rules: InstitutionRules
    workflow: Workflow
    decision_body: str
    parts: tuple[InstitutionPart, ...]
    configured: bool


def workflow_json(workflow: Workflow) -> list[dict[str, Any]]:
    return [{"step": c.step.value, "roles": sorted(r.value for r in c.roles)} for c in workflow.steps]


def workflow_of(data: list[dict[str, Any]]) -> Workflow:
    """A stored workflow (checked when it was saved)."""
    return configure_workflow([(Step(e["step"]), [Role(r) for r in e["roles"]]) for e in data])


def workflow_out(workflow: Workflow) -> list[WorkflowStepOut]:
    return [WorkflowStepOut(c.step, STEP_LABELS[c.step], sorted(c.roles)) for c in workflow.steps]


def require_institution(caller: Principal) -> None:
    if caller.org_kind not in INSTITUTION_KINDS:
        raise NotAnInstitution("only universities and research institutes run a transfer process in TechX")


async def configuration(
    session: AsyncSession, org_id: uuid.UUID, org_kind: OrgKind, *, least_share_bp: int
) -> Configuration:
    """The institution's saved configuration, or the defaults. ``least_share_bp`` is the least share
    of the inventors the exchange accepts from a public institution (listings'
    ``inventor_reward_min_bp``, setting ``TECHX_INVENTOR_REWARD_BP``): the default declared share is
    that one, so that the listing 实施 creates never declares less than the exchange accepts."""
    row = await session.get(InstitutionSettings, org_id)
    public = org_kind in PUBLIC_INSTITUTIONS
    if row is None:
        rules = InstitutionRules(public=public, inventor_share_bp=least_share_bp)
        return Configuration(org_id, rules, DEFAULT_WORKFLOW, DEFAULT_DECISION_BODY, DEFAULT_PARTS, configured=False)
    rules = InstitutionRules(
        public=row.public,
        notice_days=row.notice_days,
        notice_unit=PeriodUnit(row.notice_unit),
        plan_notice_days=row.plan_notice_days,
        plan_notice_unit=PeriodUnit(row.plan_notice_unit),
        inventor_share_bp=row.inventor_share_bp,
        extra_approval_threshold_fen=row.extra_approval_threshold_fen,
    )
    parts = tuple(InstitutionPart(p["name"], p["weight"]) for p in row.institution_parts)
    return Configuration(org_id, rules, workflow_of(row.workflow), row.decision_body, parts, configured=True)


def settings_out(config: Configuration) -> SettingsOut:
    rules = config.rules
    return SettingsOut(
        org_id=config.org_id,
        public=rules.public,
        workflow=workflow_out(config.workflow),
        decision_body=config.decision_body,
        notice_days=rules.notice_days,
        notice_unit=rules.notice_unit,
        plan_notice_days=rules.plan_notice_days,
        plan_notice_unit=rules.plan_notice_unit,
        inventor_share_bp=rules.inventor_share_bp,
        extra_approval_threshold_fen=rules.extra_approval_threshold_fen,
        institution_parts=[InstitutionPartIn(p.name, p.weight) for p in config.parts],
        configured=config.configured,
    )


async def workflow_in_force(session: AsyncSession, org_id: uuid.UUID, org_kind: OrgKind) -> tuple[Workflow, bool]:
    """The workflow a process begun now takes, and whether the institution is a public one."""
    row = await session.get(InstitutionSettings, org_id)
    if row is None:
        return DEFAULT_WORKFLOW, org_kind in PUBLIC_INSTITUTIONS
    return workflow_of(row.workflow), row.public


async def save_settings(
    session: AsyncSession,
    caller: Principal,
    org_id: uuid.UUID,
    data: SettingsIn,
    now: datetime,
    *,
    least_share_bp: int,
) -> Configuration:
    """An admin of the institution saves its configuration whole; 422 naming every setting at fault
    (a public institution's inventors' share at least ``least_share_bp``, see ``configuration``;
    left out, that share). A process keeps the workflow it began with: a change applies to
    processes begun after it."""
    caller.require_member_of(org_id)
    require_institution(caller)
    caller.require_admin()
    public = caller.org_kind in PUBLIC_INSTITUTIONS
    workflow = (
        configure_workflow([(s.step, s.roles) if s.roles else s.step for s in data.workflow])
        if data.workflow is not None
        else DEFAULT_WORKFLOW
    )
    rules = InstitutionRules(
        public=public,
        notice_days=data.notice_days,
        notice_unit=data.notice_unit,
        plan_notice_days=data.plan_notice_days,
        plan_notice_unit=data.plan_notice_unit,
        inventor_share_bp=least_share_bp if data.inventor_share_bp is None else data.inventor_share_bp,
        extra_approval_threshold_fen=data.extra_approval_threshold_fen,
    )
    check_institution_rules(rules, public_minimum_bp=least_share_bp)
    parts = [{"name": p.name.strip(), "weight": p.weight} for p in data.institution_parts]
    if len({p["name"] for p in parts}) != len(parts):
        raise InvalidInstitutionRules("institution_parts: each part is named once", field="institution_parts")
    row = await session.get(InstitutionSettings, org_id, with_for_update=True)
    if row is None:
        row = InstitutionSettings(org_id=org_id)
        session.add(row)
    row.public = public
    row.workflow = workflow_json(workflow)
    row.decision_body = data.decision_body.strip() or DEFAULT_DECISION_BODY
    row.notice_days, row.notice_unit = rules.notice_days, rules.notice_unit.value
    row.plan_notice_days, row.plan_notice_unit = rules.plan_notice_days, rules.plan_notice_unit.value
    row.inventor_share_bp = rules.inventor_share_bp
    row.extra_approval_threshold_fen = rules.extra_approval_threshold_fen
    row.institution_parts = parts
    row.updated_by, row.updated_at = caller.user_id, now
    await session.flush()
    return await configuration(session, org_id, caller.org_kind, least_share_bp=least_share_bp)


# -- roles ------------------------------------------------------------------------------------------


async def roles_of(session: AsyncSession, caller: Principal, org_id: uuid.UUID) -> frozenset[Role]:
    """The caller's roles in the institution: every member discloses (the inventor's role), its
    admins are the office, and the roles the admins granted."""
    if caller.org_id != org_id:
        return frozenset()
    granted = await session.scalars(
        select(RoleGrant.role).where(RoleGrant.org_id == org_id, RoleGrant.user_id == caller.user_id)
    )
    roles = {Role.INVENTOR, *(Role(r) for r in granted)}
    if caller.is_admin:
        roles.add(Role.OFFICE)
    return frozenset(roles)


async def list_roles(session: AsyncSession, caller: Principal, org_id: uuid.UUID) -> list[RoleGrantOut]:
    caller.require_member_of(org_id, operators_too=True)
    members = {u.id: u for u in (await session.scalars(select(User).where(User.org_id == org_id))).all()}
    out = [
        RoleGrantOut(u.id, u.display_name, Role.OFFICE, None)
        for u in members.values()
        if u.role == "admin" and u.removed_at is None
    ]
    grants = await session.scalars(
        select(RoleGrant).where(RoleGrant.org_id == org_id).order_by(RoleGrant.granted_at, RoleGrant.user_id)
    )
    for grant in grants:
        user = members.get(grant.user_id)
        if user is not None and user.removed_at is None:
            out.append(RoleGrantOut(user.id, user.display_name, Role(grant.role), grant.granted_at))
    return out


async def grant_role(
    session: AsyncSession, caller: Principal, org_id: uuid.UUID, user_id: uuid.UUID, role: Role, now: datetime
) -> None:
    """An admin gives a member a role (idempotent). The inventor's role is everyone's: not granted."""
    caller.require_member_of(org_id)
    require_institution(caller)
    caller.require_admin()
    if role is Role.INVENTOR:
        raise Forbidden("every member may disclose as an inventor; the role is not granted")
    user = await session.get(User, user_id)
    if user is None or user.org_id != org_id or user.removed_at is not None:
        raise NotAMember(f"user {user_id} is not a member of the institution", field="user_id")
    if await session.get(RoleGrant, (org_id, user_id, role.value)) is None:
        session.add(RoleGrant(org_id=org_id, user_id=user_id, role=role.value, granted_by=caller.user_id,
                              granted_at=now))  # fmt: skip
        await session.flush()


async def revoke_role(
    session: AsyncSession, caller: Principal, org_id: uuid.UUID, user_id: uuid.UUID, role: Role
) -> None:
    caller.require_member_of(org_id)
    caller.require_admin()
    gone = await session.execute(
        delete(RoleGrant).where(RoleGrant.org_id == org_id, RoleGrant.user_id == user_id, RoleGrant.role == role.value)
    )
    if gone.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id} holds no granted {role.value} role")


# -- the office ---------------------------------------------------------------------------------------
# The office is the institution's admins and the members granted the office role: the one rule, for
# a check on a caller, a condition in a query and the audience of what the office is told.


async def require_office(session: AsyncSession, caller: Principal, org_id: uuid.UUID, doing: str) -> None:
    """403 unless the caller is the institution's technology-transfer office (``doing``: what only it does)."""
    caller.require_member_of(org_id)
    require_institution(caller)
    if Role.OFFICE not in await roles_of(session, caller, org_id):
        raise Forbidden(f"only the institution's technology-transfer office {doing}", role=Role.OFFICE.value)


def holds_office(org_id: uuid.UUID, user_id: uuid.UUID, *, is_admin: bool) -> ColumnElement[bool]:
    """The user holds the office role in the institution, as a condition a query can carry."""
    if is_admin:
        return true()
    return exists().where(RoleGrant.org_id == org_id, RoleGrant.user_id == user_id, RoleGrant.role == Role.OFFICE.value)


async def office_user_ids(session: AsyncSession, org_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The institution's office: its admins and the members granted the office role."""
    granted = select(RoleGrant.user_id).where(RoleGrant.org_id == org_id, RoleGrant.role == Role.OFFICE.value)
    rows = await session.scalars(
        select(User.id)
        .where(User.org_id == org_id, User.removed_at.is_(None), or_(User.role == "admin", User.id.in_(granted)))
        .order_by(User.id)
    )
    return tuple(rows.all())


async def tell_of_objection(
    session: AsyncSession, org_id: uuid.UUID, notice: Notice, objection: Objection, now: datetime, **about: str
) -> None:
    """Someone objected to a notice of the institution's own (its transfer decision, a distribution
    plan): its office, which answers and resolves it (operators may resolve too), is told with the
    operators; the objector hears it was filed. ``about``: the process or plan it concerns."""
    subject = Subject("objection", objection.id)
    data = {"notice_id": str(notice.id), "notice_title": notice.title, "reason": objection.reason}
    office = Audience(users=await office_user_ids(session, org_id), operators=True)
    notify(session, Kind.OBJECTION_TO_RESOLVE, to=office, now=now, subject=subject, data={**data, **about})
    notify(session, Kind.OBJECTION_FILED, to=Audience(users=(objection.objector_user_id,)), now=now, subject=subject,
           data=data)  # fmt: skip
