"""Demands in matching: the demands' documents for the index (``DemandSource``), a demand's
achievements and a listing's demands for the people who may see them, and the daily digest of new
matches.

Only **published, public** demands are in the index: a listing's seller sees the demands its
listing could answer, and an invited-only demand must not be shown to sellers it did not invite.
Any demand its viewer may see can still be the query (its owner finds the achievements for an
invited-only demand too): the query document need not be in the index.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands.domain import BEIJING, DemandStatus, Visibility, beijing_today
from exchange.demands.models import Demand
from exchange.demands.service import visible_demand
from exchange.matching.domain import DocKind, Match, MatchDoc, is_ipc
from exchange.matching.service import MATCHABLE, Changes, MatchingContext, feedback_profile, listing_doc, match
from exchange.parties.domain import Principal
from exchange.parties.http import actor_of
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.reminders import remind_once, told
from listings.models import Listing
from listings.service import load_listing

MAX_MATCHES = 50  # the most a request may ask for


def is_indexed(demand: Demand) -> bool:
    return demand.status == DemandStatus.PUBLISHED.value and demand.visibility == Visibility.PUBLIC.value


def demand_doc(demand: Demand) -> MatchDoc:
    """A demand as matching sees it: what it needs in words, its IPC codes (and keywords that are
    codes), the forms and the budget it accepts."""
    keywords = [str(k) for k in demand.keywords]
    return MatchDoc(
        id=demand.id,
        kind=DocKind.DEMAND,
        title=demand.title,
        text=" ".join(part for part in (demand.description, demand.performance) if part),
        keywords=tuple(k for k in keywords if not is_ipc(k)),
        ipc=tuple(dict.fromkeys([*demand.ipc_codes, *(k for k in keywords if is_ipc(k))])),
        field=demand.field,
        maturity=demand.min_maturity,
        forms=frozenset(demand.accepted_forms),
        budget_min=demand.budget_min_fen,
        budget_max=demand.budget_max_fen,
        org_id=demand.org_id,
    )


class DemandSource:
    """The demands' changes in commit order (``demands.change_seq``, moved by ``service.touch``)."""

    kind = DocKind.DEMAND

    async def changes(self, session: AsyncSession, cursor: int, limit: int) -> Changes:
        rows = (
            await session.scalars(
                select(Demand).where(Demand.change_seq > cursor).order_by(Demand.change_seq).limit(limit)
            )
        ).all()
        return Changes(
            docs=[demand_doc(d) for d in rows if is_indexed(d)],
            removed=[d.id for d in rows if not is_indexed(d)],
            cursor=rows[-1].change_seq if rows else cursor,
        )

    async def get(self, session: AsyncSession, doc_id: uuid.UUID) -> MatchDoc | None:
        demand = await session.get(Demand, doc_id)
        return demand_doc(demand) if demand is not None and is_indexed(demand) else None


async def achievements_for(
    session: AsyncSession, matching: MatchingContext, viewer: Principal, demand_id: uuid.UUID, k: int
) -> tuple[Demand, list[Match]]:
    """The listings that could answer a demand the viewer may see, ranked with the viewer's
    organisation's feedback."""
    demand = await visible_demand(session, viewer, demand_id)
    return demand, await match(session, matching, demand_doc(demand), DocKind.LISTING, k, org_id=viewer.org_id)


async def demands_for(
    session: AsyncSession, matching: MatchingContext, viewer: Principal, listing_id: uuid.UUID, k: int
) -> tuple[MatchDoc, list[Match]]:
    """The public demands a listing the viewer may see could answer."""
    listing = await load_listing(session, listing_id, viewer=actor_of(viewer))
    query = listing_doc(listing)
    return query, await match(session, matching, query, DocKind.DEMAND, k, org_id=viewer.org_id)


# ----------------------------------------------------------------------------------------------
# The daily digest


DIGEST_HOUR = 8  # Beijing time: a day's digest goes out from this hour on
DIGEST_PER_DOCUMENT = 3  # the best new matches of each of an organisation's documents
DIGEST_LINES = 20  # at most, in one digest
PAIR_TOLD = "matching.digest_pair"  # the reminders' kind of a pair once told to an organisation


def digest_due(now: datetime) -> bool:
    return now.astimezone(BEIJING).hour >= DIGEST_HOUR


def digest_since(now: datetime) -> datetime:
    """The start of today's digest window (the Beijing day's digest hour), in UTC."""
    today = now.astimezone(BEIJING).replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return today.astimezone(UTC)


def is_related(found: Match) -> bool:
    """A match worth telling: the two share words or an IPC code, not only fits of field or form."""
    return found.explanation.text > 0 or found.explanation.ipc > 0


async def own_documents(session: AsyncSession, matching: MatchingContext, org_id: uuid.UUID) -> list[MatchDoc]:
    """An organisation's documents that matching may answer: its published demands (invited-only
    too: only the query, never shown to others) and its listings in the index."""
    demands = (
        await session.scalars(
            select(Demand)
            .where(Demand.org_id == org_id, Demand.status == DemandStatus.PUBLISHED.value)
            .order_by(Demand.id)
        )
    ).all()
    listings = (
        await session.scalars(
            select(Listing.id)
            .where(Listing.seller_org_id == org_id, Listing.status.in_(MATCHABLE))
            .order_by(Listing.id)
        )
    ).all()
    docs = [demand_doc(d) for d in demands]
    docs.extend(doc for i in listings if (doc := matching.index.get(DocKind.LISTING, i)) is not None)
    return docs


async def own_matches(
    session: AsyncSession, matching: MatchingContext, org_id: uuid.UUID, k: int
) -> list[tuple[MatchDoc, list[Match]]]:
    """Each of an organisation's documents with its ``k`` best matches of the other kind, ranked with
    its feedback: one catch-up of the index and one read of the feedback for them all."""
    await matching.refresh(session)
    profile = await feedback_profile(session, matching, org_id)
    return [
        (own, matching.index.query(own, other_kind(own.kind), k, profile=profile))
        for own in await own_documents(session, matching, org_id)
    ]


def other_kind(kind: DocKind) -> DocKind:
    return DocKind.LISTING if kind is DocKind.DEMAND else DocKind.DEMAND


async def digest_lines(
    session: AsyncSession, matching: MatchingContext, org_id: uuid.UUID, now: datetime
) -> list[dict[str, Any]]:
    """The new matches of an organisation's documents: the best few of each that share words or an
    IPC code and were never told to it before (each pair is told once, ``PAIR_TOLD``)."""
    lines: list[dict[str, Any]] = []
    for own, found in await own_matches(session, matching, org_id, DIGEST_PER_DOCUMENT * 3):
        told_here = 0
        for m in found:
            if told_here == DIGEST_PER_DOCUMENT or len(lines) == DIGEST_LINES:
                break
            if not is_related(m) or not await remind_once(session, PAIR_TOLD, f"{org_id}:{own.id}:{m.doc.id}", now):
                continue
            told_here += 1
            lines.append(
                {
                    "own_kind": own.kind.value, "own_id": str(own.id), "own_title": own.title,
                    "other_kind": m.doc.kind.value, "other_id": str(m.doc.id), "other_title": m.doc.title,
                    "terms": list(m.explanation.matched_terms[:5]),
                }
            )  # fmt: skip
    return lines


async def tell_digest(session: AsyncSession, matching: MatchingContext, org_id: uuid.UUID, now: datetime) -> bool:
    """Today's digest of new matches for an organisation, once a day (the members who switched
    ``matching.digest`` off in their preferences are not told); nothing when there is nothing new."""
    if not await remind_once(session, Kind.MATCH_DIGEST, f"{org_id}:{beijing_today(now).isoformat()}", now):
        return False
    lines = await digest_lines(session, matching, org_id, now)
    if lines:
        notify(
            session, Kind.MATCH_DIGEST, to=Audience.of_orgs(org_id), now=now, subject=Subject("matches", org_id),
            data={"count": len(lines), "lines": lines, "day": beijing_today(now).isoformat()},
        )  # fmt: skip
    return True


async def orgs_told_today(session: AsyncSession, now: datetime) -> set[str]:
    """The organisations whose digest of today was made (the subject keys are ``<org>:<day>``)."""
    return {key.split(":")[0] for key in await told(session, Kind.MATCH_DIGEST, since=digest_since(now))}


def orgs_with_documents() -> Any:
    """The organisations with a published demand or a listing in the index."""
    return union(
        select(Demand.org_id.label("org_id")).where(Demand.status == DemandStatus.PUBLISHED.value),
        select(Listing.seller_org_id.label("org_id")).where(Listing.status.in_(MATCHABLE)),
    )


__all__ = [
    "MAX_MATCHES",
    "DemandSource",
    "achievements_for",
    "demand_doc",
    "demands_for",
    "digest_due",
    "is_indexed",
    "orgs_told_today",
    "orgs_with_documents",
    "tell_digest",
]
