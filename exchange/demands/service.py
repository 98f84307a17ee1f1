"""Use cases of technical demands: an enterprise's drafts, publishing, closing and withdrawing; who
sees a demand; its NDA and confidential part (listings' rule and sealing, SPEC §2.6); the board;
and the incremental read of changed demands for the matching index (``changed_since``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import domain
from exchange.demands.context import DemandsContext
from exchange.demands.domain import (
    DEADLINE_REMINDER,
    POSTER_KINDS,
    DemandAction,
    DemandContent,
    DemandForbidden,
    DemandStatus,
    Visibility,
    beijing_today,
    check_demand,
    closes_at,
    next_demand_status,
    normal_ipc,
)
from exchange.demands.models import Demand, DemandConfidentialRead, DemandInvitation, DemandNda, Proposal
from exchange.demands.schemas import DemandIn, DemandOut, NdaOut
from exchange.parties.domain import Principal
from exchange.parties.models import Org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.reminders import remind_once
from exchange.platform.tables import new_id
from kernel.errors import Conflict, NotFound
from kernel.time import rfc3339
from listings import crypto
from listings.errors import NdaRequired
from listings.service import NDA_TERMS_VERSION, bump_counter


class DemandNdaRequired(NdaRequired):
    title = "Accept the demand's non-disclosure agreement first"


# ----------------------------------------------------------------------------------------------
# Who sees what


def visible_to(viewer: Principal | None) -> ColumnElement[bool]:
    """The demands ``viewer`` may see (None: the public), as a clause on ``Demand`` (``domain.may_see``)."""
    if viewer is not None and viewer.is_operator:
        return true()
    seen = Demand.status.in_([s.value for s in domain.SEEN_STATUSES])
    public = and_(seen, Demand.visibility == Visibility.PUBLIC.value)
    if viewer is None:
        return public
    invited = select(DemandInvitation.demand_id).where(DemandInvitation.org_id == viewer.org_id)
    return or_(Demand.org_id == viewer.org_id, public, and_(seen, Demand.id.in_(invited)))


def org_may_see(org_id: uuid.UUID) -> ColumnElement[bool]:
    """The demands an organisation (not an operator) may see: for a reader working for it (matching)."""
    seen = Demand.status.in_([s.value for s in domain.SEEN_STATUSES])
    invited = select(DemandInvitation.demand_id).where(DemandInvitation.org_id == org_id)
    return or_(
        Demand.org_id == org_id,
        and_(seen, or_(Demand.visibility == Visibility.PUBLIC.value, Demand.id.in_(invited))),
    )


def is_owner(demand: Demand, viewer: Principal | None) -> bool:
    return viewer is not None and viewer.org_id == demand.org_id


def sees(demand: Demand, viewer: Principal | None) -> bool:
    return domain.may_see(
        status=demand.status,
        visibility=demand.visibility,
        owner_org_id=demand.org_id,
        invited=frozenset(uuid.UUID(o) for o in demand.invited_org_ids),
        viewer_org_id=viewer.org_id if viewer is not None else None,
        operator=viewer is not None and viewer.is_operator,
    )


FEED = "demand_feed"  # the counter of demands' changes, in commit order (as listings' ``feed``)


async def touch(session: AsyncSession, demand: Demand, now: datetime) -> None:
    """Every change a reader could see moves the demand to the end of the change feed: the counter's
    row stays locked until commit, so ``change_seq`` is handed out in commit order and a reader
    that remembers the last one it saw misses nothing (the matching index reads it)."""
    demand.updated_at = now
    demand.change_seq = await bump_counter(session, FEED)


async def get_demand(session: AsyncSession, demand_id: uuid.UUID, *, lock: bool = False) -> Demand:
    query = select(Demand).where(Demand.id == demand_id)
    if lock:
        query = query.with_for_update()
    demand = await session.scalar(query)
    if demand is None:
        raise NotFound(f"demand {demand_id} not found")
    return demand


async def visible_demand(session: AsyncSession, viewer: Principal | None, demand_id: uuid.UUID) -> Demand:
    """The demand, or 404 when it does not exist or ``viewer`` may not see it."""
    demand = await get_demand(session, demand_id)
    if not sees(demand, viewer):
        raise NotFound(f"demand {demand_id} not found")
    return demand


async def own_demand(session: AsyncSession, caller: Principal, demand_id: uuid.UUID) -> Demand:
    demand = await get_demand(session, demand_id, lock=True)
    if not is_owner(demand, caller):
        if sees(demand, caller):
            raise DemandForbidden("only the demand's organisation may do this")
        raise NotFound(f"demand {demand_id} not found")
    return demand


# ----------------------------------------------------------------------------------------------
# The owner's acts


def require_poster(caller: Principal) -> None:
    caller.require_active_verified()
    if caller.org_kind.value not in POSTER_KINDS:
        raise DemandForbidden("only enterprises post technical demands")


def content_of(data: DemandIn) -> DemandContent:
    return DemandContent(
        title=data.title,
        description=data.description,
        performance=data.performance,
        field=data.field.value,
        min_maturity=data.min_maturity,
        ipc_codes=tuple(data.ipc_codes),
        keywords=tuple(k.strip() for k in data.keywords),
        budget_min_fen=data.budget_min_fen,
        budget_max_fen=data.budget_max_fen,
        accepted_forms=tuple(f.value for f in data.accepted_forms),
        deadline=data.deadline,
        visibility=data.visibility.value,
        invited_org_ids=tuple(data.invited_org_ids),
        confidential=data.confidential,
    )


def stored_content(demand: Demand) -> DemandContent:
    return DemandContent(
        title=demand.title,
        description=demand.description,
        performance=demand.performance,
        field=demand.field,
        min_maturity=demand.min_maturity,
        ipc_codes=tuple(demand.ipc_codes),
        keywords=tuple(demand.keywords),
        budget_min_fen=demand.budget_min_fen,
        budget_max_fen=demand.budget_max_fen,
        accepted_forms=tuple(demand.accepted_forms),
        deadline=demand.deadline,
        visibility=demand.visibility,
        invited_org_ids=tuple(uuid.UUID(o) for o in demand.invited_org_ids),
    )


async def _check_invited(session: AsyncSession, org_ids: tuple[uuid.UUID, ...]) -> None:
    if not org_ids:
        return
    known = set((await session.scalars(select(Org.id).where(Org.id.in_(org_ids)))).all())
    for i, org_id in enumerate(org_ids):
        if org_id not in known:
            raise domain.InvalidDemand(f"invited_org_ids.{i}: no organisation {org_id}", field=f"invited_org_ids.{i}")


async def _apply(
    session: AsyncSession, ctx: DemandsContext, demand: Demand, content: DemandContent, confidential: str | None
) -> None:
    await _check_invited(session, content.invited_org_ids)
    demand.title = content.title.strip()
    demand.description = content.description
    demand.performance = content.performance
    demand.field = content.field
    demand.min_maturity = content.min_maturity
    demand.ipc_codes = [normal_ipc(c) for c in content.ipc_codes]
    demand.keywords = list(content.keywords)
    demand.budget_min_fen = content.budget_min_fen
    demand.budget_max_fen = content.budget_max_fen
    demand.accepted_forms = list(content.accepted_forms)
    demand.deadline = content.deadline
    demand.deadline_at = closes_at(content.deadline) if content.deadline else None
    demand.visibility = content.visibility
    demand.invited_org_ids = [str(o) for o in content.invited_org_ids]
    if confidential is not None:
        demand.confidential_ciphertext = (
            crypto.seal(ctx.listings.data_keys, demand.id, confidential) if confidential.strip() else None
        )
    await session.flush()
    await session.execute(DemandInvitation.__table__.delete().where(DemandInvitation.demand_id == demand.id))
    for org_id in dict.fromkeys(content.invited_org_ids):
        session.add(DemandInvitation(demand_id=demand.id, org_id=org_id))
    await session.flush()


async def create_demand(
    session: AsyncSession, ctx: DemandsContext, caller: Principal, data: DemandIn, now: datetime
) -> Demand:
    """A draft: the title and well-formed values; completeness is checked when it is published."""
    require_poster(caller)
    content = content_of(data)
    check_demand(content, today=beijing_today(now), owner_org_id=caller.org_id, publishing=False)
    demand = Demand(
        id=new_id(),  # known before insert: it is the associated data of the confidential part
        org_id=caller.org_id,
        org_name=caller.org_name,
        status=DemandStatus.DRAFT.value,
        close_reason="",
        created_by=caller.user_id,
        created_at=now,
    )
    await touch(session, demand, now)
    session.add(demand)
    await _apply(session, ctx, demand, content, data.confidential)
    return demand


async def edit_demand(
    session: AsyncSession, ctx: DemandsContext, caller: Principal, demand_id: uuid.UUID, data: DemandIn, now: datetime
) -> Demand:
    demand = await own_demand(session, caller, demand_id)
    next_demand_status(demand.status, DemandAction.EDIT)
    content = content_of(data)
    check_demand(content, today=beijing_today(now), owner_org_id=caller.org_id, publishing=False)
    await _apply(session, ctx, demand, content, data.confidential)
    await touch(session, demand, now)
    return demand


async def publish_demand(session: AsyncSession, caller: Principal, demand_id: uuid.UUID, now: datetime) -> Demand:
    demand = await own_demand(session, caller, demand_id)
    require_poster(caller)
    demand.status = next_demand_status(demand.status, DemandAction.PUBLISH).value
    check_demand(stored_content(demand), today=beijing_today(now), owner_org_id=caller.org_id, publishing=True)
    demand.published_at = now
    await touch(session, demand, now)
    return demand


async def close_demand(
    session: AsyncSession, caller: Principal, demand_id: uuid.UUID, reason: str, now: datetime, *, withdraw: bool
) -> Demand:
    demand = await own_demand(session, caller, demand_id)
    action = DemandAction.WITHDRAW if withdraw else DemandAction.CLOSE
    demand.status = next_demand_status(demand.status, action).value
    demand.close_reason = reason.strip()
    demand.closed_at = now
    await touch(session, demand, now)
    return demand


# ----------------------------------------------------------------------------------------------
# Reads


async def proposal_counts(session: AsyncSession, demand_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not demand_ids:
        return {}
    rows = await session.execute(
        select(Proposal.demand_id, func.count()).where(Proposal.demand_id.in_(demand_ids)).group_by(Proposal.demand_id)
    )
    return {d: int(n) for d, n in rows.all()}


def demand_out(demand: Demand, viewer: Principal | None, proposals: int | None = None) -> DemandOut:
    insider = viewer is not None and (is_owner(demand, viewer) or viewer.is_operator)
    return DemandOut(
        id=demand.id,
        org_id=demand.org_id,
        org_name=demand.org_name,
        title=demand.title,
        description=demand.description,
        performance=demand.performance,
        field=demand.field,
        min_maturity=demand.min_maturity,
        ipc_codes=list(demand.ipc_codes),
        keywords=list(demand.keywords),
        budget_min_fen=demand.budget_min_fen,
        budget_max_fen=demand.budget_max_fen,
        accepted_forms=list(demand.accepted_forms),
        deadline=demand.deadline,
        deadline_at=demand.deadline_at,
        visibility=demand.visibility,
        invited_org_ids=[uuid.UUID(o) for o in demand.invited_org_ids] if insider else None,
        has_confidential=demand.confidential_ciphertext is not None,
        status=demand.status,
        close_reason=demand.close_reason,
        created_at=demand.created_at,
        published_at=demand.published_at,
        closed_at=demand.closed_at,
        updated_at=demand.updated_at,
        proposal_count=proposals if insider else None,
    )


async def list_demands(
    session: AsyncSession,
    viewer: Principal | None,
    *,
    mine: bool = False,
    status: str | None = None,
    field: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 20,
) -> list[Demand]:
    """The demands ``viewer`` may see, newest first (keyset by id). The board: published ones;
    ``mine``: the caller's own in every state."""
    query = select(Demand).where(visible_to(viewer)).order_by(Demand.id.desc()).limit(limit)
    if mine:
        query = query.where(Demand.org_id == viewer.org_id) if viewer is not None else query.where(false())
    elif status is None:
        query = query.where(Demand.status == DemandStatus.PUBLISHED.value)
    if status is not None:
        query = query.where(Demand.status == status)
    if field is not None:
        query = query.where(Demand.field == field)
    if after is not None:
        query = query.where(Demand.id < after)
    return list((await session.scalars(query)).all())


async def answerable_demands(session: AsyncSession, caller: Principal, *, limit: int = 100) -> list[Demand]:
    """Published demands the caller's organisation may answer: seen by it, not its own, open."""
    query = (
        select(Demand)
        .where(
            org_may_see(caller.org_id), Demand.status == DemandStatus.PUBLISHED.value, Demand.org_id != caller.org_id
        )
        .order_by(Demand.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


# ----------------------------------------------------------------------------------------------
# NDA and the confidential part (the listings' rule: SPEC §2.6)


async def accept_nda(session: AsyncSession, caller: Principal, demand_id: uuid.UUID, now: datetime) -> DemandNda:
    caller.require_active_verified()
    demand = await visible_demand(session, caller, demand_id)
    if is_owner(demand, caller):
        raise Conflict("the demand's organisation needs no non-disclosure agreement for its own demand")
    if demand.status not in {s.value for s in domain.SEEN_STATUSES}:
        raise NotFound(f"demand {demand_id} not found")
    existing = await session.scalar(
        select(DemandNda).where(DemandNda.demand_id == demand.id, DemandNda.org_id == caller.org_id)
    )
    if existing is not None:
        return existing
    nda = DemandNda(
        demand_id=demand.id, org_id=caller.org_id, user_id=caller.user_id, terms_version=NDA_TERMS_VERSION,
        accepted_at=now,
    )  # fmt: skip
    session.add(nda)
    await session.flush()
    return nda


def nda_out(nda: DemandNda) -> NdaOut:
    return NdaOut(nda.demand_id, nda.org_id, nda.terms_version, nda.accepted_at)


async def confidential_basis(session: AsyncSession, demand: Demand, viewer: Principal | None) -> str:
    """Why ``viewer`` may read the confidential part: ``owner``, ``operator`` or ``nda``."""
    if viewer is not None and is_owner(demand, viewer):
        return "owner"
    if viewer is not None and viewer.is_operator:
        return "operator"
    nda = None
    if viewer is not None:
        nda = await session.scalar(
            select(DemandNda.id).where(DemandNda.demand_id == demand.id, DemandNda.org_id == viewer.org_id)
        )
    if nda is None:
        raise DemandNdaRequired(f"accept the NDA with POST /api/v1/demands/{demand.id}/nda first")
    return "nda"


async def read_confidential(
    session: AsyncSession, ctx: DemandsContext, viewer: Principal, demand_id: uuid.UUID, now: datetime
) -> tuple[Demand, str, str]:
    """The confidential part and the basis of access; every read is logged."""
    demand = await visible_demand(session, viewer, demand_id)
    basis = await confidential_basis(session, demand, viewer)
    session.add(
        DemandConfidentialRead(
            demand_id=demand.id, user_id=viewer.user_id, org_id=viewer.org_id, basis=basis, read_at=now
        )
    )
    text = (
        crypto.unseal(ctx.listings.data_keys, demand.id, demand.confidential_ciphertext)
        if demand.confidential_ciphertext
        else ""
    )
    return demand, text, basis


async def may_read_confidential(session: AsyncSession, demand: Demand, viewer: Principal | None) -> bool:
    try:
        await confidential_basis(session, demand, viewer)
    except NdaRequired:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# The deadline (the sweeper)


async def expire_demand(session: AsyncSession, demand_id: uuid.UUID, now: datetime) -> bool:
    """A published demand whose deadline passed is closed; its owner is told."""
    demand = await get_demand(session, demand_id, lock=True)
    if demand.status != DemandStatus.PUBLISHED.value or demand.deadline_at is None or demand.deadline_at > now:
        return False
    demand.status = next_demand_status(demand.status, DemandAction.EXPIRE).value
    demand.close_reason = "deadline"
    demand.closed_at = now
    await touch(session, demand, now)
    return True


async def remind_deadline(session: AsyncSession, demand_id: uuid.UUID, now: datetime) -> bool:
    """Tell the demand's owner, once, that its deadline comes within three days."""
    demand = await get_demand(session, demand_id)
    if demand.status != DemandStatus.PUBLISHED.value or demand.deadline_at is None:
        return False
    if not now < demand.deadline_at <= now + DEADLINE_REMINDER:
        return False
    if not await remind_once(session, Kind.DEMAND_DEADLINE, str(demand.id), now):
        return False
    counts = await proposal_counts(session, [demand.id])
    data = {
        "demand_id": str(demand.id),
        "demand_title": demand.title,
        "closes_at": rfc3339(demand.deadline_at),
        "proposal_count": counts.get(demand.id, 0),
    }
    subject = Subject("demand", demand.id)
    notify(session, Kind.DEMAND_DEADLINE, to=Audience.of_orgs(demand.org_id), now=now, subject=subject, data=data)
    return True


# ----------------------------------------------------------------------------------------------
# The choices of the demand pages' forms


async def invitable_orgs(session: AsyncSession, caller: Principal) -> list[tuple[uuid.UUID, str]]:
    """The organisations a demand may invite, by name: verified, active organisations that answer
    demands (``PROPOSER_KINDS``), the caller's own excepted."""
    rows = await session.execute(
        select(Org.id, Org.name)
        .where(
            Org.verified.is_(True), Org.status == "active", Org.kind.in_(sorted(domain.PROPOSER_KINDS)),
            Org.id != caller.org_id,
        )
        .order_by(Org.name)
        .limit(500)
    )  # fmt: skip
    return [(org_id, name) for org_id, name in rows.all()]


async def org_names(session: AsyncSession, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not org_ids:
        return {}
    return dict((await session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids)))).all())
