"""Public notices and objections (SPEC §2.3), for every kind of notice.

A notice is opened with its content, signed once, and never changes; only its status moves:
``open`` → ``closed`` (period ran, no objection pending), ``open`` → ``suspended`` (an objection
was pending at ``closes_at``) → ``closed`` or ``cancelled``, or ``cancelled`` (objection upheld,
subject withdrawn, superseded by an amendment). The handlers registered for the notice's kind
are told of each step inside the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, and_, case, cast, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import is_postgres
from kernel.errors import InvalidState, NotFound, found
from kernel.pagination import by_id, cursor_time, cursor_uuid, decode_cursor, id_after, keyset_page
from kernel.signing import sign_content
from kernel.time import rfc3339
from listings.calendar import working_calendar
from listings.context import ListingsContext
from listings.domain import (
    LIVE_NOTICE_STATUSES,
    MAX_OBJECTIONS_PER_ORG_PER_NOTICE,
    SUBJECT_LISTING,
    Actor,
    Field,
    NoticeKind,
    NoticeStatus,
    ObjectionDecision,
    ObjectionSide,
    ObjectionStatus,
    checked_objection_answer,
    notice_period,
    objection_window_open,
)
from listings.errors import CalendarYearMissing, InvalidRequest, ObjectionLimitReached, ObjectionPending
from listings.models import Listing, Notice, Objection, new_id
from listings.workdays import BEIJING

ISSUER = "TechX technology-transfer exchange"
# Every notice says that its end is final (SPEC §10, docs/listings.md): working days are counted on
# the calendar in force when the notice opens, and a later correction of the calendar moves no end.
PERIOD_RULE = (
    "工作日按公示发布时的工作日历计算；此后对工作日历的更正不改变本公示的截止时间。"
    " Working days are counted on the working-day calendar in force when this notice opened;"
    " a later correction of the calendar does not move closes_at."
)
MIN_REASON, MAX_REASON = 10, 2000
ENDED = (NoticeStatus.CLOSED.value, NoticeStatus.CANCELLED.value)
UPHELD = "objection {} upheld"  # the end reason of a notice cancelled on an objection


def cancelled_on_objection(notice: Notice) -> bool:
    """Whether the notice was cancelled because an objection to it was upheld (not withdrawn, not superseded)."""
    prefix, suffix = UPHELD.split("{}")
    return notice.status == NoticeStatus.CANCELLED.value and (
        notice.end_reason.startswith(prefix) and notice.end_reason.endswith(suffix)
    )


async def open_notice(
    session: AsyncSession,
    ctx: ListingsContext,
    *,
    kind: NoticeKind,
    subject_type: str,
    subject_id: uuid.UUID,
    title: str,
    body: dict[str, Any],
    now: datetime,
    closes_at: datetime | None = None,
    supersedes: Notice | None = None,
) -> Notice:
    """Publish a signed notice. ``closes_at`` defaults to the kind's period (settings) from ``now``.

    ``body`` is the kind's own content (JSON-native values); the signed content wraps it with the
    notice id, kind, subject, period and issuer. ``supersedes`` cancels that notice and moves its
    pending objections here.
    """
    kind = NoticeKind(kind)
    if closes_at is None:
        closes_at = notice_period(kind, ctx.rules).end(now, await working_calendar(session, ctx.calendar))
    if closes_at <= now:
        raise InvalidRequest("a notice must close after it opens", field="closes_at")
    notice_id = new_id()
    content = {
        "notice_id": str(notice_id),
        "kind": kind.value,
        "issuer": ISSUER,
        "title": title,
        "subject": {"type": subject_type, "id": str(subject_id)},
        "opens_at": rfc3339(now),
        "closes_at": rfc3339(closes_at),
        "period_rule": PERIOD_RULE,
        "supersedes": str(supersedes.id) if supersedes else None,
        "body": body,
    }
    text, signature = sign_content(ctx.signer, content)
    notice = Notice(
        id=notice_id,
        kind=kind.value,
        subject_type=subject_type,
        subject_id=subject_id,
        title=title[:200],
        status=NoticeStatus.OPEN.value,
        opens_at=now,
        closes_at=closes_at,
        content=text,
        signature=signature,
        key_id=ctx.signer.key_id,
        supersedes_id=supersedes.id if supersedes else None,
        created_at=now,
        end_reason="",
    )
    session.add(notice)
    await session.flush()
    if supersedes is not None:
        supersedes.status = NoticeStatus.CANCELLED.value
        supersedes.superseded_by_id = notice.id
        supersedes.ended_at = now
        supersedes.end_reason = "superseded by a new version of the notice"
        await session.execute(
            update(Objection)
            .where(Objection.notice_id == supersedes.id, Objection.status == ObjectionStatus.PENDING.value)
            .values(notice_id=notice.id)
        )
    return notice


async def lock_notice(session: AsyncSession, notice_id: uuid.UUID) -> Notice:
    return found(
        await session.scalar(select(Notice).where(Notice.id == notice_id).with_for_update()),
        NotFound(f"notice {notice_id} not found"),
    )


async def get_notice(session: AsyncSession, notice_id: uuid.UUID) -> Notice:
    return found(await session.get(Notice, notice_id), NotFound(f"notice {notice_id} not found"))


async def cancel_notice(session: AsyncSession, notice: Notice, reason: str, now: datetime) -> None:
    """End a notice early because its subject was stopped; pending objections lapse."""
    if notice.status in ENDED:
        return
    notice.status = NoticeStatus.CANCELLED.value
    notice.ended_at = now
    notice.end_reason = reason[:500]
    await _lapse_pending(session, notice.id, now, reason)


async def _lapse_pending(session: AsyncSession, notice_id: uuid.UUID, now: datetime, note: str) -> None:
    await session.execute(
        update(Objection)
        .where(Objection.notice_id == notice_id, Objection.status == ObjectionStatus.PENDING.value)
        .values(status=ObjectionStatus.LAPSED.value, resolved_at=now, resolution_note=note[:2000])
    )


async def pending_objections(session: AsyncSession, notice_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Objection)
            .where(Objection.notice_id == notice_id, Objection.status == ObjectionStatus.PENDING.value)
        )
        or 0
    )


async def _close(session: AsyncSession, ctx: ListingsContext, notice: Notice, now: datetime) -> None:
    notice.status = NoticeStatus.CLOSED.value
    notice.ended_at = now
    notice.end_reason = "the notice period ended"
    await _tell_closed(session, ctx, notice, now)


async def _tell_closed(session: AsyncSession, ctx: ListingsContext, notice: Notice, now: datetime) -> None:
    for handler in ctx.hooks.notice_handlers(notice.kind):
        await handler.on_closed(session, notice, now)


async def end_notice_period(session: AsyncSession, ctx: ListingsContext, notice: Notice, now: datetime) -> bool:
    """The period of an open notice has run: close it, or suspend it while an objection is pending.

    The change is a conditional update (``WHERE status = 'open'``), so of two transactions that
    both saw the notice open only one moves it and tells the handlers. True if this one did.
    """
    if notice.status != NoticeStatus.OPEN.value or notice.closes_at > now:
        return False
    suspend = await pending_objections(session, notice.id) > 0
    values: dict[str, Any] = (
        {"status": NoticeStatus.SUSPENDED.value}
        if suspend
        else {"status": NoticeStatus.CLOSED.value, "ended_at": now, "end_reason": "the notice period ended"}
    )
    moved = await session.execute(
        update(Notice)
        .where(Notice.id == notice.id, Notice.status == NoticeStatus.OPEN.value, Notice.closes_at <= now)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.refresh(notice)
    if suspend:
        for handler in ctx.hooks.notice_handlers(notice.kind):
            await handler.on_suspended(session, notice, now)
    else:
        await _tell_closed(session, ctx, notice, now)
    return True


async def claim_due_notice(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> Notice | None:
    """The earliest open notice whose period has run, locked for this transaction.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so concurrent sweepers take different notices and a
    notice another sweeper has just closed no longer matches. SQLite: write transactions are
    serialised (``BEGIN IMMEDIATE``), so the second sweeper sees the first one's result.
    """
    query = select(Notice).where(Notice.status == NoticeStatus.OPEN.value, Notice.closes_at <= now)
    if skip:
        query = query.where(Notice.id.not_in(skip))
    query = query.order_by(Notice.closes_at, Notice.id).limit(1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


async def file_objection(
    session: AsyncSession,
    actor: Actor,
    notice_id: uuid.UUID,
    reason: str,
    now: datetime,
    ctx: ListingsContext | None = None,
) -> Objection:
    """Any logged-in user objects to an open notice (one pending objection per user and notice).
    The handlers of the notice's kind in ``ctx`` are told (``on_objection_filed``)."""
    reason = reason.strip()
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidRequest(
            f"an objection gives its reason in {MIN_REASON} to {MAX_REASON} characters", field="reason"
        )
    notice = await lock_notice(session, notice_id)
    status = NoticeStatus(notice.status)
    if not objection_window_open(status, notice.closes_at, now):
        shown = "closed" if status is NoticeStatus.OPEN else status.value
        raise InvalidState(f"objections are taken only while a notice is open; this notice is {shown}", state=shown)
    mine = await session.scalar(
        select(Objection.id).where(
            Objection.notice_id == notice.id,
            Objection.objector_user_id == actor.user_id,
            Objection.status == ObjectionStatus.PENDING.value,
        )
    )
    if mine is not None:
        raise ObjectionPending(f"your objection {mine} to this notice is still pending", objection_id=str(mine))
    # Counted under the notice's lock (FOR UPDATE; SQLite writes one at a time), so it holds across processes.
    filed = await session.scalar(
        select(func.count())
        .select_from(Objection)
        .where(Objection.notice_id == notice.id, Objection.objector_org_id == actor.org_id)
    )
    if (filed or 0) >= MAX_OBJECTIONS_PER_ORG_PER_NOTICE:
        raise ObjectionLimitReached(
            f"an organisation files at most {MAX_OBJECTIONS_PER_ORG_PER_NOTICE} objections to a notice;"
            f" yours has filed {filed}",
            limit=MAX_OBJECTIONS_PER_ORG_PER_NOTICE,
        )
    objection = Objection(
        notice_id=notice.id,
        objector_user_id=actor.user_id,
        objector_org_id=actor.org_id,
        reason=reason,
        status=ObjectionStatus.PENDING.value,
        filed_at=now,
        resolution_note="",
    )
    session.add(objection)
    await session.flush()
    if ctx is not None:
        for handler in ctx.hooks.notice_handlers(notice.kind):
            await handler.on_objection_filed(session, notice, objection, now)
    return objection


async def resolve_objection(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    objection_id: uuid.UUID,
    decision: ObjectionDecision,
    note: str,
    now: datetime,
) -> Objection:
    """An operator upholds (notice cancelled, subject stopped) or dismisses (subject proceeds); so
    does whoever the handlers of the notice's kind name as its resolving side (``resolved_by``: an
    institution's technology-transfer office for its own notices). Anyone else: 403, as before."""
    objection = await session.scalar(select(Objection).where(Objection.id == objection_id).with_for_update())
    if not actor.is_operator and (objection is None or not await _resolves(session, ctx, actor, objection.notice_id)):
        actor.require_operator()  # the same refusal whether or not the objection exists
    if objection is None:
        raise NotFound(f"objection {objection_id} not found")
    if objection.status != ObjectionStatus.PENDING.value:
        raise InvalidState(f"the objection is already {objection.status}", state=objection.status)
    notice = await lock_notice(session, objection.notice_id)
    objection.resolved_at = now
    objection.resolved_by = actor.user_id
    objection.resolution_note = note.strip()
    handlers = ctx.hooks.notice_handlers(notice.kind)
    if decision is ObjectionDecision.UPHELD:
        objection.status = ObjectionStatus.UPHELD.value
        await session.flush()
        notice.status = NoticeStatus.CANCELLED.value
        notice.ended_at = now
        notice.end_reason = UPHELD.format(objection.id)
        await _lapse_pending(session, notice.id, now, f"the notice was cancelled on objection {objection.id}")
        for handler in handlers:
            await handler.on_upheld(session, notice, objection, now)
    else:
        objection.status = ObjectionStatus.DISMISSED.value
        await session.flush()
        for handler in handlers:
            await handler.on_dismissed(session, notice, objection, now)
        still_running = notice.status in (NoticeStatus.OPEN.value, NoticeStatus.SUSPENDED.value)
        if still_running and notice.closes_at <= now and not await pending_objections(session, notice.id):
            await _close(session, ctx, notice, now)
    for handler in handlers:
        await handler.on_objection_resolved(session, notice, objection, now)
    return objection


# -- the seller's answer (异议答复) -------------------------------------------------------------------
# A real exchange forwards an objection to the party it concerns and puts the answer before the
# decision. The seller's side reads the reason, never who objected (the objection carries no
# objector in any answer), and answers once while the objection is pending (domain rule).


def answered_by(ctx: ListingsContext, org_id: uuid.UUID) -> ColumnElement[bool]:
    """The notices whose objections ``org_id`` answers, as the handlers of each kind say (a
    listing's announcements: its seller; a deal's notices: the deal's seller; a redemption's: the
    provider); a kind whose handlers name nobody is answered by nobody."""
    sides = [
        and_(Notice.kind == kind.value, side)
        for kind in NoticeKind
        for handler in ctx.hooks.notice_handlers(kind)
        if (side := handler.answering_side(org_id)) is not None
    ]
    return or_(false(), *sides)


async def _answers(session: AsyncSession, ctx: ListingsContext, actor: Actor, notice_id: uuid.UUID) -> bool:
    found_id = await session.scalar(select(Notice.id).where(Notice.id == notice_id, answered_by(ctx, actor.org_id)))
    return found_id is not None


def resolved_by(ctx: ListingsContext, actor: Actor) -> ColumnElement[bool]:
    """The notices whose objections ``actor`` resolves besides the operators, as the handlers of
    each kind say (an institution's transfer and distribution-plan notices: its technology-transfer
    office); a kind whose handlers name nobody is resolved by operators only."""
    sides = [
        and_(Notice.kind == kind.value, side)
        for kind in NoticeKind
        for handler in ctx.hooks.notice_handlers(kind)
        if (side := handler.resolving_side(actor)) is not None
    ]
    return or_(false(), *sides)


async def _resolves(session: AsyncSession, ctx: ListingsContext, actor: Actor, notice_id: uuid.UUID) -> bool:
    found_id = await session.scalar(select(Notice.id).where(Notice.id == notice_id, resolved_by(ctx, actor)))
    return found_id is not None


def _objector(actor: Actor, objection: Objection) -> bool:
    return objection.objector_user_id == actor.user_id or objection.objector_org_id == actor.org_id


async def get_objection(
    session: AsyncSession, ctx: ListingsContext, actor: Actor, objection_id: uuid.UUID
) -> Objection:
    """The objector, the seller's side of its notice, its resolving side and operators see an
    objection; nobody else learns that it exists."""
    objection = await session.get(Objection, objection_id)
    if objection is None or not (
        actor.is_operator
        or objection.objector_user_id == actor.user_id
        or await _answers(session, ctx, actor, objection.notice_id)
        or await _resolves(session, ctx, actor, objection.notice_id)
    ):
        raise NotFound(f"objection {objection_id} not found")
    return objection


async def answer_objection(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    objection_id: uuid.UUID,
    text: str,
    now: datetime,
) -> Objection:
    """The seller's side answers a pending objection, once; the handlers of the notice's kind are
    told (``on_objection_answered``: the objector and operators hear of it). 404 to whoever may not
    see the objection; 403 to the objector, the resolving side and operators, who see it but do
    not answer it."""
    # Locked as ``resolve_objection`` locks it: an answer and a decision never cross.
    objection = await session.scalar(select(Objection).where(Objection.id == objection_id).with_for_update())
    if objection is None:
        raise NotFound(f"objection {objection_id} not found")
    seller = await _answers(session, ctx, actor, objection.notice_id)
    if not (
        seller
        or actor.is_operator
        or objection.objector_user_id == actor.user_id
        or await _resolves(session, ctx, actor, objection.notice_id)
    ):
        raise NotFound(f"objection {objection_id} not found")
    objection.answer = checked_objection_answer(
        text,
        status=ObjectionStatus(objection.status),
        answered=objection.answer is not None,
        answering_side=seller,
        objector=_objector(actor, objection),
    )
    objection.answered_at = now
    objection.answered_by = actor.user_id
    await session.flush()
    notice = await get_notice(session, objection.notice_id)
    for handler in ctx.hooks.notice_handlers(notice.kind):
        await handler.on_objection_answered(session, notice, objection, now)
    return objection


async def seller_objections(
    session: AsyncSession, ctx: ListingsContext, actor: Actor, notice_ids: list[uuid.UUID]
) -> list[Objection]:
    """The objections to these notices that the caller's organisation answers, oldest first (the
    seller's listing page); none of a notice it does not answer."""
    if not notice_ids:
        return []
    query = (
        select(Objection)
        .join(Notice, Notice.id == Objection.notice_id)
        .where(Objection.notice_id.in_(notice_ids), answered_by(ctx, actor.org_id))
        .order_by(Objection.filed_at, Objection.id)
    )
    return list((await session.scalars(query)).all())


async def list_objections(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    *,
    status: ObjectionStatus | None,
    notice_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    side: ObjectionSide | None = None,
) -> tuple[list[Objection], str | None]:
    """Operators: the queue of objections (oldest first); others: their own objections, those
    against their organisation's notices (the ones it answers) and those they resolve besides the
    operators (``resolved_by``). ``side`` keeps one of the three."""
    query = select(Objection)
    mine = Objection.objector_user_id == actor.user_id
    against_us = Objection.notice_id.in_(select(Notice.id).where(answered_by(ctx, actor.org_id)))
    ours_to_resolve = Objection.notice_id.in_(select(Notice.id).where(resolved_by(ctx, actor)))
    if side is ObjectionSide.OBJECTOR:
        query = query.where(mine)
    elif side is ObjectionSide.SELLER:
        query = query.where(against_us)
    elif side is ObjectionSide.RESOLVER:
        query = query.where(ours_to_resolve)
    elif not actor.is_operator:
        query = query.where(or_(mine, against_us, ours_to_resolve))
    if status is not None:
        query = query.where(Objection.status == status.value)
    if notice_id is not None:
        query = query.where(Objection.notice_id == notice_id)
    if (after := id_after(cursor)) is not None:
        query = query.where(Objection.id > after)
    return keyset_page((await session.scalars(query.order_by(Objection.id).limit(limit + 1))).all(), limit, by_id)


async def objection_counts(session: AsyncSession, notice_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """(all, pending) objections per notice."""
    if not notice_ids:
        return {}
    pending = func.sum(case((Objection.status == ObjectionStatus.PENDING.value, 1), else_=0))
    rows = await session.execute(
        select(Objection.notice_id, func.count(), pending)
        .where(Objection.notice_id.in_(notice_ids))
        .group_by(Objection.notice_id)
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}


async def working_days_left(
    session: AsyncSession, ctx: ListingsContext, rows: list[Notice], now: datetime
) -> dict[uuid.UUID, int | None]:
    """The working days each open notice has left ("还剩 N 个工作日"); None where the calendar has
    no data for a year the period runs into (the page then shows its end without a count)."""
    running = [n for n in rows if n.status == NoticeStatus.OPEN.value]
    if not running:
        return {}
    calendar = await working_calendar(session, ctx.calendar)
    left: dict[uuid.UUID, int | None] = {}
    for notice in running:
        try:
            left[notice.id] = calendar.working_days_left(now, notice.opens_at, notice.closes_at)
        except CalendarYearMissing:
            left[notice.id] = None
    return left


async def list_notices(
    session: AsyncSession,
    *,
    status: NoticeStatus | None,
    kind: NoticeKind | None,
    subject_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    field: Field | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
) -> tuple[list[Notice], str | None]:
    """The board: notices of one status (None: every status), filtered by kind, subject, the
    technical field of the listing they are about and the Beijing day they opened (both days
    included). Running notices (open, suspended) come soonest to close first; ended ones, and
    every status together, the latest to close first, so the newest sit at the top.
    """
    query = select(Notice)
    if status is not None:
        query = query.where(Notice.status == status.value)
    if kind is not None:
        query = query.where(Notice.kind == kind.value)
    if subject_id is not None:
        query = query.where(Notice.subject_id == subject_id)
    if field is not None:
        query = query.where(_about_listing_in(session, field))
    if opened_from is not None and (start := _beijing_midnight(opened_from)) is not None:
        query = query.where(Notice.opens_at >= start)
    if opened_to is not None:
        if opened_from is not None and opened_to < opened_from:
            raise InvalidRequest("opened_to is before opened_from", field="opened_to")
        if (end := _beijing_midnight(opened_to, days_after=1)) is not None:
            query = query.where(Notice.opens_at < end)
    ascending = status in LIVE_NOTICE_STATUSES
    position = decode_cursor(cursor, "closes_at", "id")
    if position:
        after_time = cursor_time(position, "closes_at")
        after_id = cursor_uuid(position, "id")
        if ascending:
            query = query.where(
                (Notice.closes_at > after_time) | ((Notice.closes_at == after_time) & (Notice.id > after_id))
            )
        else:
            query = query.where(
                (Notice.closes_at < after_time) | ((Notice.closes_at == after_time) & (Notice.id < after_id))
            )
    order = (Notice.closes_at, Notice.id) if ascending else (Notice.closes_at.desc(), Notice.id.desc())
    rows = (await session.scalars(query.order_by(*order).limit(limit + 1))).all()
    return keyset_page(rows, limit, lambda n: {"closes_at": n.closes_at.isoformat(), "id": str(n.id)})


def _beijing_midnight(day: date, days_after: int = 0) -> datetime | None:
    """The start of a Beijing day (in UTC); None past the calendar's ends (year 1, year 9999),
    where the bound it would set leaves out nothing."""
    try:
        return datetime.combine(day + timedelta(days=days_after), time(0), tzinfo=BEIJING).astimezone(UTC)
    except OverflowError:
        return None


# The notices about a listing: its announcements (the listing is their subject) and its deal's
# negotiated-price and result notices, whose signed body names the listing by number. Voucher
# redemptions are about no listing and so have no field.
DEAL_NOTICE_KINDS = (NoticeKind.NEGOTIATED_PRICE.value, NoticeKind.DEAL_RESULT.value)


def _about_listing_in(session: AsyncSession, field: Field) -> ColumnElement[bool]:
    """Whether a notice is about a listing of ``field`` (the listing's technical field as it stands)."""
    listings_in_field = select(Listing.id).where(Listing.field == field.value)
    numbers_in_field = select(Listing.number).where(Listing.field == field.value)
    if is_postgres(session):
        number_text = func.json_extract_path_text(cast(Notice.content, JSON), "body", "listing_number")
    else:
        number_text = func.json_extract(Notice.content, "$.body.listing_number")
    return or_(
        and_(Notice.subject_type == SUBJECT_LISTING, Notice.subject_id.in_(listings_in_field)),
        and_(Notice.kind.in_(DEAL_NOTICE_KINDS), cast(number_text, BigInteger).in_(numbers_in_field)),
    )


async def notices_about(session: AsyncSession, subject_ids: list[uuid.UUID]) -> list[Notice]:
    """Every notice about these subjects (a listing's announcements, its deals' results), in any
    state, oldest first: a listing's public timeline."""
    if not subject_ids:
        return []
    query = select(Notice).where(Notice.subject_id.in_(subject_ids)).order_by(Notice.opens_at, Notice.id)
    return list((await session.scalars(query)).all())
