"""Use cases of the achievement registry: one function, one business operation, one transaction (the
caller's). Drafts prefilled from a listing or a disclosure, submission, the operator's check, the
number, corrections and withdrawals (each an event of the feed), the public library."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from exchange.platform.outbox import OPERATORS, Audience, Kind, Subject, notify
from exchange.registry.domain import (
    EDITABLE,
    FORM_FIELDS,
    Action,
    Category,
    EventKind,
    Origin,
    RegistryRuleBroken,
    Status,
    check_form,
    next_status,
    number_of,
    serial_counter,
    stage_of_maturity,
)
from exchange.registry.models import Achievement, RegistryEvent
from kernel.errors import Forbidden, NotFound
from kernel.pagination import cursor_time, cursor_uuid, decode_cursor, id_after, keyset_page
from kernel.signing import Signer
from kernel.time import rfc3339
from listings import Listing, load_listing
from listings.service import bump_counter

FEED = "registry_feed"  # the counter of the feed's events, in commit order (as listings' ``feed``)


@dataclass(frozen=True)
class DisclosureFacts:
    """What a registration takes from an institution's disclosure (职务科技成果披露)."""

    org_id: uuid.UUID
    title: str
    summary: str
    field: str
    keywords: Sequence[str]
    maturity: int
    funding: Sequence[tuple[str, str]]  # (funder or kind, project number)


class Disclosures(Protocol):
    """Reads a disclosure of the caller's institution (wired by the composition root to institutions)."""

    async def disclosure(self, session: AsyncSession, disclosure_id: uuid.UUID) -> DisclosureFacts | None: ...

    async def of_org(self, session: AsyncSession, org_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
        """The institution's disclosures a registration may start from (id, title), newest first."""
        ...


@dataclass
class RegistryContext:
    region_code: str  # the registering region's or department's 3-digit code (Shanghai: 310)
    signer: Signer  # the exchange's signing key: the feed's batches
    disclosures: Disclosures | None = None


# -- drafts ------------------------------------------------------------------------------------------------


def form_of(achievement: Achievement) -> dict[str, Any]:
    return {name: getattr(achievement, name) for name in FORM_FIELDS}


def index_text(a: Achievement) -> None:
    """What the library's search reads: the number, the title, the keywords and the organisation."""
    a.search_text = " ".join([a.number or "", a.title, *a.keywords, a.org_name]).lower()


def _given(data: Any) -> dict[str, Any]:
    return {name: getattr(data, name) for name in FORM_FIELDS if getattr(data, name, None) not in (None, "", [])}


async def _prefill(
    session: AsyncSession, ctx: RegistryContext, user: Principal, data: Any
) -> tuple[Origin, dict[str, Any]]:
    """The origin and the fields it proposes: a listing of the caller's organisation, a disclosure of
    its institution, or nothing. Only fields the caller left empty are taken from it."""
    if data.listing_id is not None:
        listing = await load_listing(session, data.listing_id, viewer=actor_of(user))  # 404 before the rule
        if data.disclosure_id is not None:
            raise RegistryRuleBroken(
                "an achievement comes from a listing or a disclosure, not both", field="disclosure_id"
            )
        if listing.seller_org_id != user.org_id and not user.is_operator:
            raise RegistryRuleBroken("an organisation registers its own listings", field="listing_id")
        return Origin.LISTING, {
            "title": listing.title, "summary": listing.summary, "field": listing.field,
            "keywords": list(listing.keywords or [])[:3], "stage": stage_of_maturity(listing.maturity).value,
            "org_name": listing.seller_org_name, "category": Category.APPLIED.value,
        }  # fmt: skip
    if data.disclosure_id is not None:
        facts = await ctx.disclosures.disclosure(session, data.disclosure_id) if ctx.disclosures else None
        if facts is None or facts.org_id != user.org_id:
            raise NotFound(f"disclosure {data.disclosure_id} not found")
        funders = [f for f, _ in facts.funding if f]
        return Origin.DISCLOSURE, {
            "title": facts.title, "summary": facts.summary, "field": facts.field,
            "keywords": list(facts.keywords)[:3], "stage": stage_of_maturity(facts.maturity).value,
            "funding_source": "；".join(dict.fromkeys(funders)), "org_name": user.org_name,
            "project_numbers": [n for _, n in facts.funding if n], "category": Category.APPLIED.value,
        }  # fmt: skip
    return Origin.OWN, {"org_name": user.org_name}


async def create_draft(
    session: AsyncSession, ctx: RegistryContext, user: Principal, data: Any, now: datetime
) -> Achievement:
    """A verified organisation's member opens a registration, prefilled from its listing or disclosure."""
    user.require_active_verified()
    origin, proposed = await _prefill(session, ctx, user, data)
    form = check_form({**proposed, **_given(data)}, complete=False)
    achievement = Achievement(
        **form, org_id=user.org_id, origin=origin.value, listing_id=data.listing_id,
        disclosure_id=data.disclosure_id, status=Status.DRAFT.value, reason="", created_by=user.user_id,
        version=1, created_at=now, updated_at=now,
    )  # fmt: skip
    index_text(achievement)
    session.add(achievement)
    await session.flush()
    return achievement


async def get_achievement(
    session: AsyncSession, achievement_id: uuid.UUID, viewer: Principal | None, *, lock: bool = False
) -> Achievement:
    """A registered (or withdrawn) achievement is public; a draft only to its organisation and operators."""
    query = select(Achievement).where(Achievement.id == achievement_id)
    achievement = await session.scalar(query.with_for_update() if lock else query)
    public = achievement is not None and achievement.status in (Status.REGISTERED.value, Status.WITHDRAWN.value)
    if achievement is None or not (
        public or (viewer is not None and (viewer.is_operator or viewer.org_id == achievement.org_id))
    ):
        raise NotFound(f"achievement {achievement_id} not found")
    return achievement


def _own(user: Principal, achievement: Achievement) -> None:
    if achievement.org_id != user.org_id:
        raise Forbidden("only the registering organisation changes its registration")


def require_own(user: Principal, achievement: Achievement) -> None:
    """The registration is the caller's organisation's (its workspace pages)."""
    _own(user, achievement)


async def update_draft(
    session: AsyncSession, user: Principal, achievement_id: uuid.UUID, data: Any, now: datetime
) -> Achievement:
    """The organisation edits its draft or a returned registration: the fields given replace the stored ones."""
    achievement = await get_achievement(session, achievement_id, user, lock=True)
    _own(user, achievement)
    if Status(achievement.status) not in EDITABLE:
        raise RegistryRuleBroken(f"a {achievement.status} registration is not edited", field="status")
    for name, value in check_form({**form_of(achievement), **_given(data)}, complete=False).items():
        setattr(achievement, name, value)
    index_text(achievement)
    achievement.updated_at = now
    await session.flush()
    return achievement


async def submit(session: AsyncSession, user: Principal, achievement_id: uuid.UUID, now: datetime) -> Achievement:
    """Every field the national form requires is filled; the registration waits for an operator."""
    achievement = await get_achievement(session, achievement_id, user, lock=True)
    _own(user, achievement)
    user.require_active_verified()
    check_form(form_of(achievement), complete=True)
    achievement.status = next_status(Status(achievement.status), Action.SUBMIT).value
    achievement.reason, achievement.submitted_at, achievement.updated_at = "", now, now
    await session.flush()
    notify(session, Kind.REGISTRY_TO_CHECK, to=OPERATORS, now=now,
           subject=Subject("registration_to_check", achievement.id), data=about(achievement))  # fmt: skip
    return achievement


def about(a: Achievement) -> dict[str, Any]:
    """What every notification about a registration names."""
    return {"achievement_id": str(a.id), "title": a.title, "org_name": a.org_name, "number": a.number or "",
            "reason": a.reason}  # fmt: skip


def tell_organisation(session: AsyncSession, a: Achievement, kind: Kind, now: datetime) -> None:
    """The registering organisation is told its registration was registered (the number) or returned
    (the reason); an imported row has no organisation of the exchange to tell."""
    if a.org_id is not None:
        notify(session, kind, to=Audience.of_orgs(a.org_id), now=now, subject=Subject("registration", a.id),
               data=about(a))  # fmt: skip


# -- the operator's check, the number and the feed ---------------------------------------------------------


def record_of(a: Achievement) -> dict[str, Any]:
    """The achievement as the feed and the public API carry it (schema ``techx.registry.feed/1``)."""
    return {
        "id": str(a.id), "number": a.number, "title": a.title, "summary": a.summary, "category": a.category,
        "keywords": list(a.keywords), "level": a.level, "stage": a.stage, "field": a.field,
        "funding_source": a.funding_source, "project_numbers": list(a.project_numbers),
        "contact_name": a.contact_name, "contact_phone": a.contact_phone, "contact_email": a.contact_email,
        "org_name": a.org_name, "origin": a.origin, "listing_id": str(a.listing_id) if a.listing_id else None,
        "source": a.source, "source_id": a.source_id, "version": a.version,
        "registered_at": rfc3339(a.registered_at) if a.registered_at else None,
    }  # fmt: skip


async def record_event(session: AsyncSession, a: Achievement, kind: EventKind, reason: str, now: datetime) -> None:
    """Append the event to the feed; its sequence is handed out in commit order."""
    assert a.number is not None
    seq = await bump_counter(session, FEED)
    record = {
        "seq": seq, "kind": kind.value, "at": rfc3339(now), "number": a.number, "reason": reason,
        "achievement": None if kind is EventKind.WITHDRAWN else record_of(a),
    }  # fmt: skip
    session.add(RegistryEvent(seq=seq, achievement_id=a.id, kind=kind.value, number=a.number, record=record, at=now))


async def number_and_publish(
    session: AsyncSession, ctx: RegistryContext, a: Achievement, by: uuid.UUID | None, now: datetime
) -> None:
    """The next serial of (code, year, flag) — its counter row stays locked until commit, so two
    registrations at once get distinct serials — and the registration's event."""
    flag = Category(a.category)
    year = number_of(ctx.region_code, now, flag, 1).year
    serial = await bump_counter(session, serial_counter(ctx.region_code, year, flag))
    number = number_of(ctx.region_code, now, flag, serial)
    a.number, a.code, a.year, a.flag, a.serial = str(number), number.code, number.year, flag.value, number.serial
    a.status, a.registered_at, a.decided_by, a.updated_at = Status.REGISTERED.value, now, by, now
    index_text(a)
    await session.flush()
    await record_event(session, a, EventKind.REGISTERED, "", now)


async def decide(
    session: AsyncSession,
    ctx: RegistryContext,
    operator: Principal,
    achievement_id: uuid.UUID,
    action: Action,
    reason: str,
    now: datetime,
) -> Achievement:
    """An operator registers a submitted achievement (numbered, published, an event of the feed) or
    returns it to its organisation with a reason."""
    operator.require_operator()
    if action not in (Action.REGISTER, Action.RETURN):
        raise RegistryRuleBroken(f"an operator registers or returns, not {action}", field="action")
    achievement = await get_achievement(session, achievement_id, operator, lock=True)
    next_status(Status(achievement.status), action)  # refuses any other state before anything changes
    if action is Action.RETURN:
        if not reason.strip():
            raise RegistryRuleBroken("a registration is returned with a reason", field="reason")
        achievement.status, achievement.reason = Status.RETURNED.value, reason.strip()
        achievement.decided_by, achievement.updated_at = operator.user_id, now
        await session.flush()
        tell_organisation(session, achievement, Kind.REGISTRY_RETURNED, now)
        return achievement
    check_form(form_of(achievement), complete=True)
    achievement.reason = ""
    await number_and_publish(session, ctx, achievement, operator.user_id, now)
    tell_organisation(session, achievement, Kind.REGISTRY_REGISTERED, now)
    return achievement


def _may_change_registered(user: Principal, achievement: Achievement) -> None:
    if not user.is_operator:
        _own(user, achievement)
        user.require_admin()


async def correct(
    session: AsyncSession, user: Principal, achievement_id: uuid.UUID, data: Any, reason: str, now: datetime
) -> Achievement:
    """A registered achievement corrected (its organisation's admin or an operator), with a reason:
    the number stays, the version moves, and the feed carries the corrected record."""
    achievement = await get_achievement(session, achievement_id, user, lock=True)
    _may_change_registered(user, achievement)
    next_status(Status(achievement.status), Action.CORRECT)
    if not reason.strip():
        raise RegistryRuleBroken("a correction states its reason", field="reason")
    form = check_form({**form_of(achievement), **_given(data)}, complete=True)
    if form["category"] != achievement.category:
        raise RegistryRuleBroken("the category is part of the number: withdraw and register again", field="category")
    if form == form_of(achievement):
        raise RegistryRuleBroken("the correction changes nothing", field="title")
    apply_correction(achievement, form, now)
    await session.flush()
    await record_event(session, achievement, EventKind.CORRECTED, reason.strip(), now)
    return achievement


def apply_correction(achievement: Achievement, form: dict[str, Any], now: datetime) -> None:
    for name, value in form.items():
        setattr(achievement, name, value)
    index_text(achievement)
    achievement.version += 1
    achievement.updated_at = now


async def withdraw(
    session: AsyncSession, user: Principal, achievement_id: uuid.UUID, reason: str, now: datetime
) -> Achievement:
    """A registered achievement withdrawn from the library (deleted for the national system), with a
    reason: an event of the feed, the record kept for the exchange's own history."""
    achievement = await get_achievement(session, achievement_id, user, lock=True)
    _may_change_registered(user, achievement)
    achievement.status = next_status(Status(achievement.status), Action.WITHDRAW).value
    if not reason.strip():
        raise RegistryRuleBroken("a withdrawal states its reason", field="reason")
    achievement.reason, achievement.decided_by, achievement.updated_at = reason.strip(), user.user_id, now
    await session.flush()
    await record_event(session, achievement, EventKind.WITHDRAWN, reason.strip(), now)
    return achievement


# -- lists -------------------------------------------------------------------------------------------------


def _search(q: str) -> ColumnElement[bool]:
    """Every word typed appears in the number, title, keywords or organisation (LIKE's wildcards escaped)."""
    words = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in q.lower().split()]
    return and_(*(Achievement.search_text.like(f"%{w}%", escape="\\") for w in words))


def _after_registration(cursor: str | None) -> ColumnElement[bool] | None:
    """The rows after a library cursor's position (newest registration first, then id)."""
    position = decode_cursor(cursor, "registered_at", "id")
    if position is None:
        return None
    at, key = cursor_time(position, "registered_at"), cursor_uuid(position, "id")
    return (Achievement.registered_at < at) | ((Achievement.registered_at == at) & (Achievement.id < key))


def _registration_position(a: Achievement) -> dict[str, Any]:
    assert a.registered_at is not None
    return {"registered_at": a.registered_at.isoformat(), "id": str(a.id)}


def _library_query(q: str, field: str | None) -> Any:
    query = select(Achievement).where(Achievement.status == Status.REGISTERED.value)
    if q.strip():
        query = query.where(_search(q))
    if field:
        query = query.where(Achievement.field == field)
    return query


async def library(
    session: AsyncSession, *, q: str = "", field: str | None = None, cursor: str | None = None, limit: int = 20
) -> tuple[list[Achievement], str | None]:
    """The public library: registered achievements, newest registration first, a keyset page and the
    cursor of the next (``kernel.pagination``)."""
    query = _library_query(q, field)
    after = _after_registration(cursor)
    if after is not None:
        query = query.where(after)
    rows = await session.scalars(
        query.order_by(Achievement.registered_at.desc(), Achievement.id.desc()).limit(limit + 1)
    )
    return keyset_page(rows.all(), limit, _registration_position)


async def library_count(session: AsyncSession, *, q: str = "", field: str | None = None) -> int:
    """How many registered achievements the library's search finds (the page says so)."""
    query = _library_query(q, field)
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def list_for(
    session: AsyncSession,
    viewer: Principal,
    status: Status | None = None,
    limit: int = 200,
    *,
    cursor: str | None = None,
) -> list[Achievement]:
    """An organisation's registrations, every status, newest first (keyset by id: read ``limit``
    rows, ``limit + 1`` to page); operators see all (the submitted ones to check, oldest first)."""
    query = select(Achievement)
    if not viewer.is_operator:
        query = query.where(Achievement.org_id == viewer.org_id)
    if status is not None:
        query = query.where(Achievement.status == status.value)
    if status is Status.SUBMITTED:
        order: tuple[Any, ...] = (Achievement.submitted_at, Achievement.id)
    else:
        order = (Achievement.id.desc(),)
        after = id_after(cursor)
        if after is not None:
            query = query.where(Achievement.id < after)
    return list((await session.scalars(query.order_by(*order).limit(limit))).all())


async def sources_of(
    session: AsyncSession, ctx: RegistryContext, user: Principal
) -> tuple[list[tuple[uuid.UUID, int, str]], list[tuple[uuid.UUID, str]]]:
    """What the organisation may open a registration from: its listings (id, public number, title)
    and, for an institution, its disclosures (id, title); newest first."""
    rows = await session.execute(
        select(Listing.id, Listing.number, Listing.title)
        .where(Listing.seller_org_id == user.org_id)
        .order_by(Listing.number.desc())
        .limit(200)
    )
    listings = [(listing_id, number, title) for listing_id, number, title in rows.all()]
    disclosures = await ctx.disclosures.of_org(session, user.org_id) if ctx.disclosures and user.org_id else []
    return listings, disclosures


async def events_since(session: AsyncSession, since: int, limit: int) -> list[RegistryEvent]:
    rows = await session.scalars(
        select(RegistryEvent).where(RegistryEvent.seq > since).order_by(RegistryEvent.seq).limit(limit)
    )
    return list(rows.all())
