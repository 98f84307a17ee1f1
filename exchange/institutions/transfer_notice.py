"""公示: the institution's own public notice of its transfer decision, on the exchange's board.

The notice opens when 决策 decision completes, is cancelled when the process stops, and is kept or
superseded by a corrected decision (``publication``: its content and period). ``TransferNotices``
(registered for the kind in the composition root) moves the process when the notice ends while it
is at 公示: the period ran → 公示 completes (actor 公示期满); an objection upheld → the notice is
cancelled and the office's remedy applies (back to a step, or stop; by default back to 决策
decision, whose new completion opens a new notice). The institution's office
answers and resolves the notice's objections and is told when one is filed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.config import holds_office, tell_of_objection
from exchange.institutions.domain import (
    STEP_LABELS,
    InvalidStepRecord,
    Role,
    Step,
    return_to,
    stop,
)
from exchange.institutions.models import TransferProcess
from exchange.institutions.processes import domain_process, get_process, history_of, notice_ran, write_act
from exchange.institutions.publication import SUBJECT
from exchange.institutions.schemas import ObjectionResolveIn
from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from kernel.errors import Forbidden, NotFound
from listings import ListingsContext, Notice, NoticeHandler, Objection
from listings.domain import Actor, ObjectionDecision
from listings.notices import resolve_objection

UPHELD = "异议成立"  # the actor of a return or stop on an objection upheld without the office's remedy


# -- who answers and resolves, who is told ----------------------------------------------------------


def _processes_of(org_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(
        Notice.subject_type == SUBJECT,
        Notice.subject_id.in_(select(TransferProcess.id).where(TransferProcess.org_id == org_id)),
    )


class TransferNotices(NoticeHandler):
    """What the end of an ``institution_transfer`` notice means for its process."""

    async def _process(self, session: AsyncSession, notice: Notice) -> TransferProcess | None:
        if notice.subject_type != SUBJECT:
            return None
        process = await session.get(TransferProcess, notice.subject_id)
        # Only the notice in force moves the process, and only while it is at 公示.
        if process is None or process.notice_id != notice.id or process.step != Step.NOTICE.value:
            return None
        return await get_process(session, process.id, lock=True)

    async def on_closed(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        process = await self._process(session, notice)
        if process is not None:
            await notice_ran(session, process, notice, now)

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        process = await self._process(session, notice)
        if process is None:
            return
        remedy = process.remedy or {}
        process.remedy = None
        before = domain_process(process, await history_of(session, process.id))
        actor = str(remedy.get("by_name") or UPHELD)
        reason = objection.resolution_note or f"{UPHELD}（异议 {objection.id}）"
        if remedy.get("stop"):
            after = stop(before, role=Role.OFFICE, actor=actor, at=now, reason=reason)
        else:
            target = Step(remedy.get("return_to") or Step.DECISION.value)
            after = return_to(before, target, role=Role.OFFICE, actor=actor, at=now, reason=reason)
        record = {"notice_id": str(notice.id), "objection_id": str(objection.id)}
        await write_act(session, objection.resolved_by, process, before, after, now, record)

    async def on_objection_filed(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        """The office resolves the objection (operators may too): both are told, the objector hears it was filed."""
        if notice.subject_type != SUBJECT:
            return
        process = await session.get(TransferProcess, notice.subject_id)
        if process is not None:
            await tell_of_objection(session, process.org_id, notice, objection, now, process_id=str(process.id))

    def answering_side(self, org_id: uuid.UUID) -> ColumnElement[bool]:
        """The institution answers the objections to its own notices (as a seller does)."""
        return _processes_of(org_id)

    def resolving_side(self, actor: Actor) -> ColumnElement[bool] | None:
        """The institution's office resolves them: its admins, or members granted the office role."""
        return and_(holds_office(actor.org_id, actor.user_id, is_admin=actor.is_admin), _processes_of(actor.org_id))


# -- the office's decision on an objection ----------------------------------------------------------


async def resolve(
    session: AsyncSession,
    ctx: ListingsContext,
    caller: Principal,
    process_id: uuid.UUID,
    objection_id: uuid.UUID,
    data: ObjectionResolveIn,
    now: datetime,
) -> TransferProcess:
    """The office upholds (with its remedy: back to an earlier step, or stop) or dismisses an
    objection to the process's notice, in one transaction with listings' ``resolve_objection``."""
    process = await get_process(session, process_id, lock=True)
    if process.org_id != caller.org_id and not caller.is_operator:
        raise Forbidden("only the institution's office (or an operator) resolves objections to its notice")
    objection = await session.get(Objection, objection_id)
    notice = await session.get(Notice, objection.notice_id) if objection is not None else None
    if notice is None or notice.subject_type != SUBJECT or notice.subject_id != process.id:
        raise NotFound(f"objection {objection_id} to the notice of transfer process {process_id} not found")
    if data.decision is ObjectionDecision.UPHELD:
        if data.stop and data.return_to is not None:
            raise InvalidStepRecord("return_to: an upheld objection either returns the process or stops it",
                                    field="return_to")  # fmt: skip
        if not data.stop and data.return_to is None:
            raise InvalidStepRecord(
                "return_to: name the step the process returns to (e.g. decision), or stop it (stop: true)",
                field="return_to",
            )
        if data.return_to is not None:
            workflow = domain_process(process, []).workflow
            target, at = workflow.index(data.return_to), workflow.index(Step.NOTICE)
            if target is None or at is None or target >= at:
                raise InvalidStepRecord(
                    f"return_to: {STEP_LABELS[data.return_to]} is not a step before 公示 notice in this workflow",
                    field="return_to",
                )
        process.remedy = {
            "return_to": data.return_to.value if data.return_to else None,
            "stop": data.stop,
            "by": str(caller.user_id),
            "by_name": caller.display_name,
        }
    await resolve_objection(session, ctx, actor_of(caller), objection_id, data.decision, data.note, now)
    process.remedy = None
    await session.flush()
    return process
