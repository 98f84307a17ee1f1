"""Disclosures and their processes: opening one (its 发起 initiate), the acts at each step with the
step's record, returning to an earlier step, stopping. One function = one transaction's work.

The history is the record: every act adds a ``process_steps`` row and nothing changes one. Each act
rebuilds the domain's ``Process`` from the stored workflow and history, applies the rule, and
writes the one new row and the process's position, with the process's row locked (``FOR UPDATE``
on PostgreSQL; SQLite writes one transaction at a time) so two acts cannot both take one step.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.config import (
    require_institution,
    roles_of,
    workflow_in_force,
    workflow_json,
    workflow_of,
    workflow_out,
)
from exchange.institutions.domain import (
    STEP_LABELS,
    Decision,
    DecisionMaker,
    DisclosedInventor,
    Disclosure,
    Evaluation,
    ExpertOpinion,
    FirstReview,
    FundingSource,
    InvalidStepRecord,
    Outcome,
    Process,
    ProcessStatus,
    Role,
    Step,
    StepForbidden,
    StepRecord,
    check_decision,
    check_decision_open,
    check_disclosure,
    check_evaluation,
    check_expert_review,
    check_first_review,
    complete,
    require_expert_approval,
    return_to,
    stop,
)
from exchange.institutions.models import Disclosure as DisclosureRow
from exchange.institutions.models import StepEntry, TransferProcess
from exchange.institutions.publication import end_running_notice, notice_decision
from exchange.institutions.schemas import (
    DecisionIn,
    DisclosureIn,
    DisclosureOut,
    EvaluationIn,
    ExpertReviewIn,
    FirstReviewIn,
    FundingIn,
    InventorIn,
    ProcessOut,
    ProcessSummaryOut,
    StepEntryOut,
)
from exchange.parties.domain import Principal
from kernel.db import is_postgres
from kernel.errors import NotFound, Unauthorized, found
from listings import ListingsContext, Notice
from listings.domain import NoticeStatus, to_plain

EXPIRED = "公示期满"  # the actor of 公示 when its period ran without an objection upheld

# -- reading ----------------------------------------------------------------------------------------


async def history_of(session: AsyncSession, process_id: uuid.UUID) -> list[StepEntry]:
    rows = await session.scalars(select(StepEntry).where(StepEntry.process_id == process_id).order_by(StepEntry.seq))
    return list(rows.all())


def domain_process(process: TransferProcess, history: list[StepEntry]) -> Process:
    records = tuple(
        StepRecord(
            step=Step(e.step),
            pass_no=e.pass_no,
            outcome=Outcome(e.outcome),
            role=Role(e.role),
            actor=e.actor_name,
            at=e.at,
            note=e.note,
            returned_to=Step(e.returned_to) if e.returned_to else None,
        )
        for e in history
    )
    return Process(workflow_of(process.workflow), records)


async def get_process(session: AsyncSession, process_id: uuid.UUID, *, lock: bool = False) -> TransferProcess:
    query = select(TransferProcess).where(TransferProcess.id == process_id)
    if lock and is_postgres(session):
        query = query.with_for_update()
    return found(await session.scalar(query), NotFound(f"transfer process {process_id} not found"))


async def visible_process(session: AsyncSession, caller: Principal, process_id: uuid.UUID) -> TransferProcess:
    """Members of the institution and operators see a process; to anyone else it does not exist."""
    process = await get_process(session, process_id)
    if process.org_id != caller.org_id and not caller.is_operator:
        raise NotFound(f"transfer process {process_id} not found")
    return process


def disclosure_out(row: DisclosureRow) -> DisclosureOut:
    return DisclosureOut(
        id=row.id,
        org_id=row.org_id,
        title=row.title,
        summary=row.summary,
        field=row.field,
        keywords=list(row.keywords),
        maturity=row.maturity,
        ip_assets=list(row.ip_assets),
        inventors=[InventorIn(i["name"], i["affiliation"], i["share_bp"]) for i in row.inventors],
        funding=[FundingIn(f["kind"], f["funder"], f.get("project_number", "")) for f in row.funding],
        intended_form=row.intended_form,  # type: ignore[arg-type]
        opened_by=row.opened_by,
        opened_at=row.opened_at,
    )


def _entry_out(e: StepEntry) -> StepEntryOut:
    step = Step(e.step)
    return StepEntryOut(
        seq=e.seq, step=step, label=STEP_LABELS[step], pass_no=e.pass_no, outcome=e.outcome, role=Role(e.role),
        actor_user_id=e.actor_user_id, actor_name=e.actor_name, at=e.at, note=e.note,
        returned_to=Step(e.returned_to) if e.returned_to else None, record=e.record,
    )  # fmt: skip


async def process_out(session: AsyncSession, caller: Principal, process: TransferProcess) -> ProcessOut:
    disclosure = await session.get(DisclosureRow, process.disclosure_id)
    assert disclosure is not None
    step = Step(process.step) if process.step else None
    return ProcessOut(
        id=process.id,
        org_id=process.org_id,
        status=process.status,
        step=step,
        step_label=STEP_LABELS[step] if step else None,
        pass_no=process.pass_no,
        workflow=workflow_out(workflow_of(process.workflow)),
        disclosure=disclosure_out(disclosure),
        evaluation=process.evaluation,
        decision=process.decision,
        notice_id=process.notice_id,
        listing_id=process.listing_id,
        contract=process.contract,
        history=[_entry_out(e) for e in await history_of(session, process.id)],
        my_roles=sorted(await roles_of(session, caller, process.org_id)),
        created_at=process.created_at,
        updated_at=process.updated_at,
    )


async def list_processes(
    session: AsyncSession,
    caller: Principal,
    org_id: uuid.UUID,
    *,
    status: str | None = None,
    step: Step | None = None,
    after: uuid.UUID | None = None,
    limit: int = 20,
) -> list[tuple[TransferProcess, str]]:
    """An institution's processes with their titles, newest first (keyset by id)."""
    caller.require_member_of(org_id, operators_too=True)
    query = (
        select(TransferProcess, DisclosureRow.title)
        .join(DisclosureRow, DisclosureRow.id == TransferProcess.disclosure_id)
        .where(TransferProcess.org_id == org_id)
        .order_by(TransferProcess.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(TransferProcess.status == status)
    if step is not None:
        query = query.where(TransferProcess.step == step.value)
    if after is not None:
        query = query.where(TransferProcess.id < after)
    return [(p, t) for p, t in (await session.execute(query)).all()]


def summary_out(process: TransferProcess, title: str) -> ProcessSummaryOut:
    step = Step(process.step) if process.step else None
    return ProcessSummaryOut(
        id=process.id, org_id=process.org_id, title=title, status=process.status, step=step,
        step_label=STEP_LABELS[step] if step else None, pass_no=process.pass_no,
        created_at=process.created_at, updated_at=process.updated_at,
    )  # fmt: skip


# -- writing ----------------------------------------------------------------------------------------


def _disclosure(data: DisclosureIn) -> Disclosure:
    return Disclosure(
        inventors=tuple(DisclosedInventor(i.name, i.affiliation, i.share_bp) for i in data.inventors),
        funding=tuple(FundingSource(f.kind, f.funder, f.project_number) for f in data.funding),
        form=data.intended_form,
        keywords=tuple(data.keywords),
    )


def disclosed_inventors(row: DisclosureRow) -> tuple[DisclosedInventor, ...]:
    return tuple(DisclosedInventor(i["name"], i["affiliation"], i["share_bp"]) for i in row.inventors)


async def acting_role(
    session: AsyncSession, caller: Principal, process: TransferProcess, wanted: Role | None, allowed: frozenset[Role]
) -> Role:
    """The role the caller acts in: the one asked for (which the caller must hold), else the first
    of the caller's roles that ``allowed`` names. 403 naming who acts when the caller holds none."""
    held = await roles_of(session, caller, process.org_id)
    step = process.step or "ended"
    if wanted is not None:
        if wanted not in held:
            raise StepForbidden(f"you do not hold the {wanted.value} role in this institution", step=step,
                                role=wanted.value)  # fmt: skip
        return wanted
    for role in sorted(allowed):
        if role in held:
            return role
    who = ", ".join(sorted(r.value for r in allowed)) or "nobody"
    raise StepForbidden(f"you hold none of the roles that act here ({who})", step=step, role=",".join(sorted(held)))


async def write_act(
    session: AsyncSession,
    actor_user_id: uuid.UUID | None,
    process: TransferProcess,
    before: Process,
    after: Process,
    now: datetime,
    record: dict[str, Any] | None = None,
) -> StepRecord:
    """Store the one record the rule added and the position it leads to (``actor_user_id``: the
    member who acted; None when the exchange acts, e.g. when the notice period ran out)."""
    assert len(after.history) == len(before.history) + 1
    added = after.history[-1]
    session.add(
        StepEntry(
            process_id=process.id,
            seq=len(before.history) + 1,
            step=added.step.value,
            pass_no=added.pass_no,
            outcome=added.outcome.value,
            role=added.role.value,
            actor_user_id=actor_user_id,
            actor_name=added.actor,
            at=now,
            note=added.note,
            returned_to=added.returned_to.value if added.returned_to else None,
            record=record,
        )
    )
    position = after.position()
    process.status = position.status.value
    process.step = position.step.value if position.step else None
    process.pass_no = position.pass_no
    process.version += 1
    process.updated_at = now
    await session.flush()
    return added


def _disclosure_fields(data: DisclosureIn) -> dict[str, Any]:
    """The disclosure's columns as the request gives them (trimmed)."""
    return {
        "title": data.title.strip(),
        "summary": data.summary.strip(),
        "field": data.field.value,
        "keywords": [k.strip() for k in data.keywords],
        "maturity": data.maturity,
        "ip_assets": to_plain(data.ip_assets),
        "inventors": [
            {"name": i.name.strip(), "affiliation": i.affiliation.strip(), "share_bp": i.share_bp}
            for i in data.inventors
        ],
        "funding": [to_plain(f) for f in data.funding],
        "intended_form": data.intended_form.value,
    }


async def open_disclosure(
    session: AsyncSession, caller: Principal, data: DisclosureIn, now: datetime
) -> TransferProcess:
    """A member discloses a service invention: the disclosure and its process, with 发起 initiate
    completed by the opener (as the inventor, or as the office); the next step opens."""
    require_institution(caller)
    check_disclosure(_disclosure(data))
    workflow, public = await workflow_in_force(session, caller.org_id, caller.org_kind)
    row = DisclosureRow(org_id=caller.org_id, opened_by=caller.user_id, opened_at=now, **_disclosure_fields(data))
    session.add(row)
    await session.flush()
    process = TransferProcess(
        disclosure_id=row.id,
        org_id=caller.org_id,
        workflow=workflow_json(workflow),
        public=public,
        status="active",
        step=Step.INITIATE.value,
        pass_no=1,
        version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(process)
    await session.flush()
    before = Process(workflow)
    held = await roles_of(session, caller, caller.org_id)
    role = data.role or (Role.OFFICE if Role.OFFICE in held & workflow.roles(Step.INITIATE) else Role.INVENTOR)
    if role not in held:
        raise StepForbidden(f"you do not hold the {role.value} role in this institution", step=Step.INITIATE.value,
                            role=role.value)  # fmt: skip
    after = complete(before, Step.INITIATE, role=role, actor=caller.display_name, at=now, note=data.note)
    await write_act(session, caller.user_id, process, before, after, now)
    return process


async def amend_disclosure(
    session: AsyncSession, caller: Principal, process_id: uuid.UUID, data: DisclosureIn, now: datetime
) -> TransferProcess:
    """发起 again, once the process was returned to it (the first review found the disclosure
    incomplete, say): the corrected disclosure, checked as a new one, replaces the one in force and
    发起 completes on its new pass. The act's record keeps the version it replaced, so the history
    shows what changed; 409 ``steps-in-order`` at any other step."""
    check_disclosure(_disclosure(data))
    fields = _disclosure_fields(data)

    def check(_p: TransferProcess, disclosure: DisclosureRow) -> None:
        previous.update({name: getattr(disclosure, name) for name in fields})
        for name, value in fields.items():
            setattr(disclosure, name, value)

    previous: dict[str, Any] = {}
    return await _act(session, caller, process_id, Step.INITIATE, data.role, data.note, now, {"previous": previous},
                      check)  # fmt: skip


async def _act(
    session: AsyncSession,
    caller: Principal,
    process_id: uuid.UUID,
    step: Step,
    wanted: Role | None,
    note: str,
    now: datetime,
    record: dict[str, Any] | None,
    check: Callable[[TransferProcess, DisclosureRow], None] | None = None,
) -> TransferProcess:
    process = await get_process(session, process_id, lock=True)
    caller.require_member_of(process.org_id)
    before = domain_process(process, await history_of(session, process.id))
    role = await acting_role(session, caller, process, wanted, before.workflow.roles(step))
    # The rule of order first (a record for a step that is not open is refused as out of order),
    # then the record's own rules: nothing is written unless both hold.
    after = complete(before, step, role=role, actor=caller.display_name, at=now, note=note)
    if check is not None:
        disclosure = await session.get(DisclosureRow, process.disclosure_id)
        assert disclosure is not None
        check(process, disclosure)
    await write_act(session, caller.user_id, process, before, after, now, record)
    return process


async def first_review(session: AsyncSession, caller: Principal, process_id: uuid.UUID, data: FirstReviewIn,
                       now: datetime) -> TransferProcess:  # fmt: skip
    review = FirstReview(data.complete, data.institution_owns, data.conflicts.strip())
    return await _act(session, caller, process_id, Step.FIRST_REVIEW, data.role, data.note, now, asdict(review),
                      lambda _p, _d: check_first_review(review))  # fmt: skip


async def evaluation(session: AsyncSession, caller: Principal, process_id: uuid.UUID, data: EvaluationIn,
                     now: datetime, *, today: date) -> TransferProcess:  # fmt: skip
    """评估: the appraisal of record (the last completed evaluation is the one in force)."""
    appraisal = Evaluation(data.kind, data.appraised_value, data.appraiser.strip(), data.report_number.strip(),
                           data.report_date)  # fmt: skip
    record = {**to_plain(asdict(appraisal))}

    def check(process: TransferProcess, _d: DisclosureRow) -> None:
        check_evaluation(appraisal, today=today)
        process.evaluation = record

    return await _act(session, caller, process_id, Step.EVALUATION, data.role, data.note, now, record, check)


async def expert_review(session: AsyncSession, caller: Principal, process_id: uuid.UUID, data: ExpertReviewIn,
                        now: datetime) -> TransferProcess:  # fmt: skip
    """论证: the panel's opinions and votes; completed only when more than half approve."""
    experts = [ExpertOpinion(e.name.strip(), e.opinion.strip(), e.vote, e.affiliation.strip(), e.external)
               for e in data.experts]  # fmt: skip
    record: dict[str, Any] = {"experts": [to_plain(asdict(e)) for e in experts]}

    def check(_p: TransferProcess, disclosure: DisclosureRow) -> None:
        tally = check_expert_review(experts, inventors=disclosed_inventors(disclosure))
        require_expert_approval(tally)
        record["tally"] = {"approvals": tally.approvals, "rejections": tally.rejections,
                           "abstentions": tally.abstentions}  # fmt: skip

    return await _act(session, caller, process_id, Step.EXPERT_REVIEW, data.role, data.note, now, record, check)


def decision_of(data: DecisionIn) -> Decision:
    return Decision(
        approved=data.approved,
        minutes=data.minutes.strip(),
        decision_makers=tuple(
            DecisionMaker(m.name.strip(), m.related_to_counterparty, m.recused, m.vote) for m in data.decision_makers
        ),
        pricing=data.pricing,
        floor_price=data.floor_price,
        counterparty=data.counterparty.strip(),
        related_inventors=tuple(n.strip() for n in data.related_inventors),
        related_party_declaration=data.related_party_declaration.strip(),
    )


async def decide(session: AsyncSession, listings: ListingsContext, caller: Principal, process_id: uuid.UUID,
                 data: DecisionIn, now: datetime) -> TransferProcess:  # fmt: skip
    """决策: the decision body approves with its record (not approving is a stop). The record is
    frozen once completed, and its notice (公示) opens in the same transaction — or, for a
    correction that notices the same thing, the notice in force stands (``notice_decision``); one
    that already ran its period completes 公示 at once."""
    decision = decision_of(data)
    record = to_plain(asdict(decision))

    def check(process: TransferProcess, disclosure: DisclosureRow) -> None:
        if not decision.approved:
            raise InvalidStepRecord(
                "approved: a decision that does not approve stops the process (POST …/stop, by the decision body)",
                field="approved",
            )
        appraised = (process.evaluation or {}).get("appraised_value")
        tally = check_decision(decision, public_institution=process.public, appraised_value=appraised,
                               inventors=disclosed_inventors(disclosure))  # fmt: skip
        record["tally"] = {"approvals": tally.approvals, "rejections": tally.rejections,
                           "abstentions": tally.abstentions}  # fmt: skip
        process.decision = record

    process = await get_process(session, process_id)
    check_decision_open(domain_process(process, await history_of(session, process.id)))
    process = await _act(session, caller, process_id, Step.DECISION, data.role, data.note, now, record, check)
    notice = await notice_decision(session, listings, process, now)
    if notice.status == NoticeStatus.CLOSED.value:
        await notice_ran(session, process, notice, now)
    return process


async def notice_ran(session: AsyncSession, process: TransferProcess, notice: Notice, now: datetime) -> None:
    """公示 completes: its notice ran its period without an objection upheld (actor 公示期满)."""
    before = domain_process(process, await history_of(session, process.id))
    roles = before.workflow.roles(Step.NOTICE)
    role = Role.OFFICE if Role.OFFICE in roles else min(roles)
    after = complete(before, Step.NOTICE, role=role, actor=EXPIRED, at=now, note=f"公示 {notice.id} 期满，无异议成立")
    await write_act(session, None, process, before, after, now, {"notice_id": str(notice.id)})


async def send_back(session: AsyncSession, caller: Principal, process_id: uuid.UUID, target: Step, reason: str,
                    wanted: Role | None, now: datetime) -> TransferProcess:  # fmt: skip
    """The process back to an earlier step, which opens a new pass (its records stay in the history).
    A notice running stays as it is until the corrected decision keeps or supersedes it."""
    process = await get_process(session, process_id, lock=True)
    caller.require_member_of(process.org_id)
    before = domain_process(process, await history_of(session, process.id))
    current = before.position().step
    allowed = before.workflow.roles(current) | {Role.OFFICE} if current else frozenset({Role.OFFICE})
    role = await acting_role(session, caller, process, wanted, allowed)
    after = return_to(before, target, role=role, actor=caller.display_name, at=now, reason=reason)
    await write_act(session, caller.user_id, process, before, after, now)
    return process


async def halt(session: AsyncSession, caller: Principal, process_id: uuid.UUID, reason: str, wanted: Role | None,
               now: datetime) -> TransferProcess:  # fmt: skip
    """The process ends at its open step: the office at any step, the decision body at 决策."""
    process = await get_process(session, process_id, lock=True)
    caller.require_member_of(process.org_id)
    before = domain_process(process, await history_of(session, process.id))
    current = before.position().step
    allowed = {Role.OFFICE} | (before.workflow.roles(Step.DECISION) if current is Step.DECISION else set())
    role = await acting_role(session, caller, process, wanted, frozenset(allowed))
    after = stop(before, role=role, actor=caller.display_name, at=now, reason=reason)
    await write_act(session, caller.user_id, process, before, after, now)
    await end_running_notice(session, process, f"the process stopped: {reason}", now)
    return process


# -- documents ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessDocumentAccess:
    uploader_side: bool
    editable: bool
    confidential_basis: str | None


class ProcessDocuments:
    """The papers of each step (appraisal report, expert opinions, minutes, the signed contract)
    belong to the process: its institution's members attach and read them — internal papers, never
    public — operators read them; a stopped process takes no more (``documents``' owner rule,
    registered by the composition root)."""

    async def access(
        self, session: AsyncSession, caller: Principal | None, owner_id: uuid.UUID
    ) -> ProcessDocumentAccess:
        if caller is None:
            raise Unauthorized("a transfer process's documents need a bearer token from POST /api/v1/auth/login")
        process = await visible_process(session, caller, owner_id)
        member = caller.org_id == process.org_id
        open_ = process.status != ProcessStatus.STOPPED.value
        return ProcessDocumentAccess(member, open_, "member" if member else "operator")
