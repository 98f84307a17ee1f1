"""Use cases of the credit evaluation: one function, one business operation, in the caller's
transaction. Ratings and their answers, complaints and their decisions, the recomputation of a
provider's score, demonstration institutions, and the figures others read (``standings``,
``grade_of_provider``, ``grade_counts``).

Credit knows the engagements it rates only through ``Engagements`` (one per kind of engagement),
which the composition root wires with the vouchers' service orders and the brokers' brokered
deals; nothing here imports those modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.credit.domain import (
    AlreadyAnswered,
    AlreadyRated,
    ComplaintDecision,
    ComplaintOpen,
    ComplaintStatus,
    DemonstrationFacts,
    EngagementKind,
    EngagementNotFinished,
    Grade,
    PenaltyFact,
    PenaltyKind,
    RatingFact,
    check_marks,
    check_reason,
    compute_score,
    has_score,
    next_complaint_status,
    refresh_cutoff,
    require_criteria,
    unmet_criteria,
)
from exchange.credit.models import Complaint, ProviderScore, Rating
from exchange.parties.domain import Principal
from exchange.parties.models import Org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from kernel.errors import Conflict, Forbidden, NotFound, found

# -- what credit reads of other modules ----------------------------------------------------------------


@dataclass(frozen=True)
class EngagementFacts:
    """What credit needs to know of an engagement."""

    kind: EngagementKind
    id: uuid.UUID
    client_org_id: uuid.UUID  # who rates and may complain
    provider_org_id: uuid.UUID  # who is rated
    finished: bool  # a service order accepted, a brokered deal settled
    title: str  # what it was, for the pages
    link: str  # the engagement's own page in the workspace


class Engagements(Protocol):
    """One kind of engagement (service orders in vouchers, brokered deals in brokers)."""

    kind: EngagementKind

    async def engagement(self, session: AsyncSession, engagement_id: uuid.UUID) -> EngagementFacts | None:
        """The engagement, or None when there is none of this id."""
        ...

    async def finished_count(self, session: AsyncSession, provider_org_id: uuid.UUID) -> int:
        """How many engagements of this kind the provider finished (the volume of a demonstration institution)."""
        ...

    async def penalties(self, session: AsyncSession, provider_org_id: uuid.UUID) -> list[PenaltyFact]:
        """The provider's penalties this module records (voucher revocations, missed deliveries); [] for none."""
        ...


@dataclass(frozen=True)
class CreditContext:
    sources: tuple[Engagements, ...]

    def source(self, kind: EngagementKind) -> Engagements:
        for source in self.sources:
            if source.kind == kind:
                return source
        raise NotFound(f"no engagements of kind {kind}", field="kind")  # pragma: no cover - every kind is wired

    async def engagement(
        self, session: AsyncSession, kind: EngagementKind, engagement_id: uuid.UUID
    ) -> EngagementFacts:
        facts = await self.source(kind).engagement(session, engagement_id)
        return found(facts, NotFound(f"{kind} {engagement_id} not found", field="engagement_id"))


# -- ratings -----------------------------------------------------------------------------------------


def _require_client(caller: Principal, facts: EngagementFacts) -> None:
    caller.require_active_verified()
    if caller.org_id != facts.client_org_id:
        raise Forbidden("only the client of the engagement may rate it or complain about it")


async def rate(
    session: AsyncSession,
    ctx: CreditContext,
    caller: Principal,
    *,
    kind: EngagementKind,
    engagement_id: uuid.UUID,
    quality: int,
    timeliness: int,
    professionalism: int,
    comment: str,
    now: datetime,
) -> Rating:
    """The client rates the provider of a finished engagement, once; the provider's score is recomputed."""
    facts = await ctx.engagement(session, kind, engagement_id)
    _require_client(caller, facts)
    if not facts.finished:
        raise EngagementNotFinished(
            f"the {kind} is not finished: it is rated once accepted or settled", field="engagement_id"
        )
    check_marks(quality, timeliness, professionalism)
    if await rating_of(session, kind, engagement_id) is not None:
        raise AlreadyRated(f"the {kind} is rated already", field="engagement_id")
    rating = Rating(
        kind=kind.value, engagement_id=engagement_id, client_org_id=facts.client_org_id,
        provider_org_id=facts.provider_org_id, quality=quality, timeliness=timeliness,
        professionalism=professionalism, comment=comment.strip(), rated_by=caller.user_id, created_at=now,
        answer=None,
    )  # fmt: skip
    session.add(rating)
    await session.flush()
    notify(
        session, Kind.CREDIT_RATING_RECEIVED, to=Audience.of_orgs(facts.provider_org_id), now=now,
        subject=Subject("credit_rating", rating.id),
        data={"title": facts.title, "quality": quality, "timeliness": timeliness,
              "professionalism": professionalism, "comment": rating.comment},
    )  # fmt: skip
    await recompute(session, ctx, facts.provider_org_id, now)
    return rating


async def rating_of(session: AsyncSession, kind: EngagementKind, engagement_id: uuid.UUID) -> Rating | None:
    return await session.scalar(select(Rating).where(Rating.kind == kind.value, Rating.engagement_id == engagement_id))


async def answer(session: AsyncSession, caller: Principal, rating_id: uuid.UUID, text: str, now: datetime) -> Rating:
    """The provider answers a rating once; the score does not change."""
    rating = found(await session.get(Rating, rating_id), NotFound(f"rating {rating_id} not found"))
    caller.require_active_verified()
    if caller.org_id != rating.provider_org_id:
        raise Forbidden("only the rated provider may answer a rating")
    text = check_reason(text, "answer")
    if rating.answer is not None:
        raise AlreadyAnswered("the rating is answered already", field="answer")
    rating.answer, rating.answered_by, rating.answered_at = text, caller.user_id, now
    await session.flush()
    return rating


async def ratings_of(
    session: AsyncSession, provider_org_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
) -> list[Rating]:
    """A provider's ratings, newest first (public, as the score they make)."""
    query = select(Rating).where(Rating.provider_org_id == provider_org_id).order_by(Rating.id.desc()).limit(limit)
    if after is not None:
        query = query.where(Rating.id < after)
    return list((await session.scalars(query)).all())


# -- complaints ----------------------------------------------------------------------------------------


async def complain(
    session: AsyncSession,
    ctx: CreditContext,
    caller: Principal,
    *,
    kind: EngagementKind,
    engagement_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> Complaint:
    """The client complains about the provider of an engagement; operators decide. One open at a time."""
    facts = await ctx.engagement(session, kind, engagement_id)
    _require_client(caller, facts)
    reason = check_reason(reason)
    pending = await session.scalar(
        select(Complaint.id).where(
            Complaint.kind == kind.value,
            Complaint.engagement_id == engagement_id,
            Complaint.status == ComplaintStatus.OPEN.value,
        )
    )
    if pending is not None:
        raise ComplaintOpen("a complaint about this engagement is waiting for an operator", field="engagement_id")
    complaint = Complaint(
        kind=kind.value, engagement_id=engagement_id, client_org_id=facts.client_org_id,
        provider_org_id=facts.provider_org_id, reason=reason, status=ComplaintStatus.OPEN.value,
        filed_by=caller.user_id, created_at=now, decision_reason="",
    )  # fmt: skip
    session.add(complaint)
    await session.flush()
    client = await _org_name(session, facts.client_org_id)
    data = {"title": facts.title, "client": client, "reason": reason}
    subject = Subject("credit_complaint", complaint.id)
    notify(session, Kind.CREDIT_COMPLAINT_FILED, to=Audience.of_orgs(facts.provider_org_id), now=now,
           subject=subject, data=data)  # fmt: skip
    return complaint


async def decide_complaint(
    session: AsyncSession,
    ctx: CreditContext,
    operator: Principal,
    complaint_id: uuid.UUID,
    decision: ComplaintDecision,
    reason: str,
    now: datetime,
) -> Complaint:
    """An operator upholds or dismisses a complaint with a reason; both sides are told; the score recomputed."""
    operator.require_operator()
    query = select(Complaint).where(Complaint.id == complaint_id).with_for_update()
    complaint = found(await session.scalar(query), NotFound(f"complaint {complaint_id} not found"))
    reason = check_reason(reason)
    complaint.status = next_complaint_status(complaint.status, decision).value
    complaint.decision_reason, complaint.decided_by, complaint.decided_at = reason, operator.user_id, now
    await session.flush()
    facts = await ctx.source(EngagementKind(complaint.kind)).engagement(session, complaint.engagement_id)
    data = {
        "title": facts.title if facts else "",
        "provider": await _org_name(session, complaint.provider_org_id),
        "status": complaint.status,
        "complaint": complaint.reason,
        "reason": reason,
    }
    notify(
        session, Kind.CREDIT_COMPLAINT_DECIDED, to=Audience.of_orgs(complaint.client_org_id, complaint.provider_org_id),
        now=now, subject=Subject("credit_complaint", complaint.id), data=data,
    )  # fmt: skip
    await recompute(session, ctx, complaint.provider_org_id, now)
    return complaint


async def list_complaints(
    session: AsyncSession, caller: Principal, *, status: ComplaintStatus | None, limit: int, after: uuid.UUID | None
) -> list[Complaint]:
    """Operators see every complaint; an organisation those it filed or those against it. Oldest first."""
    query = select(Complaint).order_by(Complaint.id).limit(limit)
    if not caller.is_operator:
        query = query.where((Complaint.client_org_id == caller.org_id) | (Complaint.provider_org_id == caller.org_id))
    if status is not None:
        query = query.where(Complaint.status == status.value)
    if after is not None:
        query = query.where(Complaint.id > after)
    return list((await session.scalars(query)).all())


async def complaints_about(session: AsyncSession, kind: EngagementKind, engagement_id: uuid.UUID) -> list[Complaint]:
    query = select(Complaint).where(Complaint.kind == kind.value, Complaint.engagement_id == engagement_id)
    return list((await session.scalars(query.order_by(Complaint.id))).all())


# -- the score -----------------------------------------------------------------------------------------


async def penalties_of(session: AsyncSession, ctx: CreditContext, provider_org_id: uuid.UUID) -> list[PenaltyFact]:
    upheld = await session.execute(
        select(Complaint.id, Complaint.decided_at, Complaint.reason).where(
            Complaint.provider_org_id == provider_org_id, Complaint.status == ComplaintStatus.UPHELD.value
        )
    )
    found_ = [
        PenaltyFact(PenaltyKind.UPHELD_COMPLAINT, at, ref=str(complaint_id), note=reason[:200])
        for complaint_id, at, reason in upheld
        if at is not None
    ]
    for source in ctx.sources:
        found_ += await source.penalties(session, provider_org_id)
    return found_


async def recompute(
    session: AsyncSession, ctx: CreditContext, provider_org_id: uuid.UUID, now: datetime
) -> ProviderScore:
    """Recompute and store the provider's score and breakdown; end its designation as a demonstration
    institution when it no longer meets the criteria (the provider is told, with the criteria unmet)."""
    await session.flush()  # the change that called for it is among the facts read
    rows = await session.execute(
        select(Rating.quality, Rating.timeliness, Rating.professionalism, Rating.created_at).where(
            Rating.provider_org_id == provider_org_id
        )
    )
    ratings = [RatingFact(q, t, p, at) for q, t, p, at in rows]
    penalties = await penalties_of(session, ctx, provider_org_id)
    score = compute_score(ratings, penalties, now)
    graded = has_score(len(ratings), len(score.penalties))
    stored = await session.get(ProviderScore, provider_org_id, with_for_update=True)
    if stored is None:
        stored = ProviderScore(provider_org_id=provider_org_id, demonstration=False, demonstration_end_reason="")
        session.add(stored)
    stored.score_tenths = score.score_tenths if graded else None
    stored.grade = score.grade.value if graded else None
    stored.ratings = len(ratings)
    stored.breakdown = score.breakdown() | {"graded": graded}
    stored.computed_at = now
    if stored.demonstration:
        unmet = unmet_criteria(await _demonstration_facts(session, ctx, stored, now), now)
        if unmet:
            await _end_designation(session, stored, "; ".join(why for _, why in unmet), now)
    await session.flush()
    return stored


async def aged_scores(session: AsyncSession, now: datetime, how_many: int) -> list[uuid.UUID]:
    """The providers whose stored score has aged: graded (a rating or a penalty counted) or designated,
    and last computed before the start of ``now``'s Beijing day; the oldest computation first."""
    query = (
        select(ProviderScore.provider_org_id)
        .where(
            (ProviderScore.grade.is_not(None)) | (ProviderScore.demonstration.is_(True)),
            ProviderScore.computed_at < refresh_cutoff(now),
        )
        .order_by(ProviderScore.computed_at, ProviderScore.provider_org_id)
        .limit(how_many)
    )
    return list((await session.scalars(query)).all())


async def refresh(session: AsyncSession, ctx: CreditContext, provider_org_id: uuid.UUID, now: datetime) -> bool:
    """The daily recomputation of an aged score (``recompute``: decay, closed penalty windows, a lapsed
    designation). False when it was recomputed since the day began (another sweeper, or a change)."""
    stored = await session.get(ProviderScore, provider_org_id, with_for_update=True, populate_existing=True)
    if stored is None or stored.computed_at >= refresh_cutoff(now):
        return False
    await recompute(session, ctx, provider_org_id, now)
    return True


async def _end_designation(session: AsyncSession, stored: ProviderScore, reason: str, now: datetime) -> None:
    stored.demonstration = False
    stored.demonstration_ended_at, stored.demonstration_end_reason = now, reason
    notify(
        session, Kind.CREDIT_DEMONSTRATION_ENDED, to=Audience.of_orgs(stored.provider_org_id), now=now,
        subject=Subject("credit_score", stored.provider_org_id), data={"reason": reason},
    )  # fmt: skip


async def score_of(session: AsyncSession, provider_org_id: uuid.UUID) -> ProviderScore | None:
    return await session.get(ProviderScore, provider_org_id)


async def grade_of_provider(session: AsyncSession, provider_org_id: uuid.UUID) -> Grade | None:
    """The provider's current grade; None when it is unrated."""
    grade = await session.scalar(select(ProviderScore.grade).where(ProviderScore.provider_org_id == provider_org_id))
    return Grade(grade) if grade else None


@dataclass(frozen=True)
class Standing:
    """What the public sees of a provider's credit: on its profile and in the service catalogue."""

    org_id: uuid.UUID
    grade: str | None  # None: unrated
    score: float | None
    ratings: int
    demonstration: bool


async def standings(session: AsyncSession, org_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Standing]:
    """The standings of these providers (one statement); an unrated provider's is there too."""
    rows = {}
    if org_ids:
        query = select(ProviderScore).where(ProviderScore.provider_org_id.in_(list(org_ids)))
        rows = {s.provider_org_id: s for s in (await session.scalars(query)).all()}
    shown = {}
    for org_id in org_ids:
        s = rows.get(org_id)
        shown[org_id] = Standing(
            org_id=org_id,
            grade=s.grade if s else None,
            score=s.score_tenths / 10 if s and s.score_tenths is not None else None,
            ratings=s.ratings if s else 0,
            demonstration=bool(s and s.demonstration),
        )
    return shown


async def grade_counts(session: AsyncSession) -> dict[str, int]:
    """Providers by grade and the demonstration institutions, for the annual white paper:
    ``{"A": n, "B": n, "C": n, "D": n, "unrated": n, "demonstration": n}`` — every key present; ``unrated``
    counts providers with a stored score but neither rating nor penalty; ``demonstration`` those
    designated now (each also counted under its grade)."""
    counts = {g.value: 0 for g in Grade} | {"unrated": 0, "demonstration": 0}
    for grade, n in await session.execute(select(ProviderScore.grade, func.count()).group_by(ProviderScore.grade)):
        counts[grade or "unrated"] += int(n)
    demonstration = select(func.count()).where(ProviderScore.demonstration.is_(True))
    counts["demonstration"] = int(await session.scalar(demonstration) or 0)
    return counts


# -- demonstration institutions --------------------------------------------------------------------------


async def _demonstration_facts(
    session: AsyncSession, ctx: CreditContext, stored: ProviderScore, now: datetime
) -> DemonstrationFacts:
    volume = 0
    for source in ctx.sources:
        volume += await source.finished_count(session, stored.provider_org_id)
    last_upheld = await session.scalar(
        select(func.max(Complaint.decided_at)).where(
            Complaint.provider_org_id == stored.provider_org_id, Complaint.status == ComplaintStatus.UPHELD.value
        )
    )
    return DemonstrationFacts(grade=Grade(stored.grade) if stored.grade else None, engagements=volume,
                              last_upheld_at=last_upheld)  # fmt: skip


async def demonstration_facts(
    session: AsyncSession, ctx: CreditContext, provider_org_id: uuid.UUID, now: datetime
) -> DemonstrationFacts:
    stored = await score_of(session, provider_org_id)
    if stored is None:
        stored = ProviderScore(provider_org_id=provider_org_id, grade=None)
    return await _demonstration_facts(session, ctx, stored, now)


async def designate(
    session: AsyncSession, ctx: CreditContext, operator: Principal, provider_org_id: uuid.UUID, now: datetime
) -> ProviderScore:
    """An operator designates a provider a demonstration institution; refused naming the first criterion unmet."""
    operator.require_operator()
    await _org_name(session, provider_org_id, field="provider_org_id")
    stored = await recompute(session, ctx, provider_org_id, now)  # on today's facts
    if stored.demonstration:
        raise Conflict("the provider is a demonstration institution already", field="provider_org_id")
    require_criteria(await _demonstration_facts(session, ctx, stored, now), now)
    stored.demonstration, stored.designated_by, stored.designated_at = True, operator.user_id, now
    stored.demonstration_ended_at, stored.demonstration_end_reason = None, ""
    notify(
        session, Kind.CREDIT_DEMONSTRATION_DESIGNATED, to=Audience.of_orgs(provider_org_id), now=now,
        subject=Subject("credit_score", provider_org_id), data={"grade": stored.grade or ""},
    )  # fmt: skip
    await session.flush()
    return stored


async def end_designation(
    session: AsyncSession, operator: Principal, provider_org_id: uuid.UUID, reason: str, now: datetime
) -> ProviderScore:
    """An operator ends a designation by hand, with a reason (the provider is told)."""
    operator.require_operator()
    reason = check_reason(reason)
    stored = await session.get(ProviderScore, provider_org_id, with_for_update=True)
    if stored is None or not stored.demonstration:
        raise Conflict("the provider is not a demonstration institution", field="provider_org_id")
    await _end_designation(session, stored, reason, now)
    await session.flush()
    return stored


async def list_scores(session: AsyncSession, *, limit: int, after: uuid.UUID | None) -> list[ProviderScore]:
    query = select(ProviderScore).order_by(ProviderScore.provider_org_id).limit(limit)
    if after is not None:
        query = query.where(ProviderScore.provider_org_id > after)
    return list((await session.scalars(query)).all())


async def _org_name(session: AsyncSession, org_id: uuid.UUID, field: str | None = None) -> str:
    name = await session.scalar(select(Org.name).where(Org.id == org_id))
    return found(name, NotFound(f"organisation {org_id} not found", field=field))


async def org_names(session: AsyncSession, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not org_ids:
        return {}
    return {i: n for i, n in await session.execute(select(Org.id, Org.name).where(Org.id.in_(list(org_ids))))}


# -- what an engagement's page shows -----------------------------------------------------------------------


async def engagement_view(session: AsyncSession, caller: Principal, facts: EngagementFacts) -> dict[str, object]:
    """The credit part of an engagement's page (a service order's, a brokered deal's): its rating and
    answer, its complaints, and what the caller may do (rate, complain, answer)."""
    rating = await rating_of(session, facts.kind, facts.id)
    complaints = await complaints_about(session, facts.kind, facts.id)
    client = caller.org_id == facts.client_org_id
    provider = caller.org_id == facts.provider_org_id
    return {
        "kind": facts.kind.value,
        "engagement_id": str(facts.id),
        "title": facts.title,
        "link": facts.link,
        "finished": facts.finished,
        "rating": rating,
        "complaints": complaints,
        "may_rate": client and facts.finished and rating is None,
        "may_complain": client and not any(c.status == ComplaintStatus.OPEN.value for c in complaints),
        "may_answer": provider and rating is not None and rating.answer is None,
        "is_client": client,
    }
