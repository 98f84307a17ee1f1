"""Matching as the exchange runs it: the sources of documents, the per-process index kept fresh,
``match`` with an organisation's feedback, and ``record_feedback``.

**Freshness without a broker.** Each source hands out its changes in commit order with a cursor
(listings: ``listings.feed_seq``, bumped by every change of a listing and handed out in commit
order, with a unique index). Before a query, ``MatchingContext.refresh`` reads the rows changed
since the index's cursor — one indexed range read that is empty when nothing changed — and applies
them; so every process sees a change at its next query, within a second of its commit.

A **MatchSource** is how a module offers its documents: the listings' (``ListingSource``) here;
the demands module implements one for demands and the composition root adds it
(``MatchingContext.add_source``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from exchange.matching.domain import (
    DocKind,
    FeedbackProfile,
    Mark,
    Match,
    MatchDoc,
    MatchingRuleBroken,
    is_ipc,
)
from exchange.matching.index import MatchIndex
from exchange.matching.models import MatchFeedback
from kernel.errors import NotFound
from listings.domain import ListingStatus
from listings.models import Listing

log = logging.getLogger(__name__)
BATCH = 2_000  # changes read per round trip while catching up
FEEDBACK_MARKS = 200  # an organisation's latest marks that shape its rankings

# Listings that can still answer a demand: announced or in a sale that may yet fail.
MATCHABLE = frozenset(
    s.value
    for s in (
        ListingStatus.ANNOUNCED,
        ListingStatus.CLOSING,
        ListingStatus.UNSOLD,
        ListingStatus.NEGOTIATING,
        ListingStatus.AUCTIONING,
    )
)


@dataclass(frozen=True)
class Changes:
    """What a source changed after a cursor: documents to add or replace, ids to remove (no longer
    matchable), and the cursor to continue from."""

    docs: list[MatchDoc]
    removed: list[uuid.UUID]
    cursor: int


class MatchSource(Protocol):
    """A module's documents for matching, in commit order of their changes."""

    kind: DocKind

    async def changes(self, session: AsyncSession, cursor: int, limit: int) -> Changes:
        """The documents changed after ``cursor`` (at most ``limit``), oldest change first."""
        ...

    async def get(self, session: AsyncSession, doc_id: uuid.UUID) -> MatchDoc | None:
        """The document, if it exists and may be matched (public, open); else None."""
        ...


def listing_doc(listing: Listing) -> MatchDoc:
    """A listing as matching sees it. Listings have no IPC field: keywords that are IPC codes
    (``H01M 10/0525``) are its IPC codes, the other keywords its keywords."""
    keywords = [str(k) for k in listing.keywords]
    return MatchDoc(
        id=listing.id,
        kind=DocKind.LISTING,
        title=listing.title,
        text=" ".join([listing.summary, *(a.title for a in listing.ip_assets)]),
        keywords=tuple(k for k in keywords if not is_ipc(k)),
        ipc=tuple(k for k in keywords if is_ipc(k)),
        field=listing.field,
        maturity=listing.maturity,
        forms=frozenset({listing.deal_type}),
        price=listing.asking_price,
        org_id=listing.seller_org_id,
    )


class ListingSource:
    kind = DocKind.LISTING

    async def changes(self, session: AsyncSession, cursor: int, limit: int) -> Changes:
        rows = (
            await session.scalars(
                select(Listing)
                .options(selectinload(Listing.ip_assets))
                .where(Listing.feed_seq > cursor)
                .order_by(Listing.feed_seq)
                .limit(limit)
            )
        ).all()
        docs = [listing_doc(r) for r in rows if r.status in MATCHABLE]
        removed = [r.id for r in rows if r.status not in MATCHABLE]
        return Changes(docs, removed, rows[-1].feed_seq if rows else cursor)

    async def get(self, session: AsyncSession, doc_id: uuid.UUID) -> MatchDoc | None:
        listing = await session.scalar(
            select(Listing).options(selectinload(Listing.ip_assets)).where(Listing.id == doc_id)
        )
        return listing_doc(listing) if listing is not None and listing.status in MATCHABLE else None


@dataclass
class MatchingContext:
    """One per process: the index, its sources and how far it has read each."""

    index: MatchIndex = field(default_factory=MatchIndex)
    sources: dict[DocKind, MatchSource] = field(default_factory=dict)
    cursors: dict[DocKind, int] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def of(cls, *sources: MatchSource, index: MatchIndex | None = None) -> MatchingContext:
        ctx = cls(index=index or MatchIndex())
        for source in (ListingSource(), *sources):
            ctx.add_source(source)
        return ctx

    def add_source(self, source: MatchSource) -> None:
        self.sources[source.kind] = source
        self.cursors.setdefault(source.kind, 0)

    async def refresh(self, session: AsyncSession) -> int:
        """Apply every change committed since the last refresh; how many documents changed."""
        async with self._lock:
            applied = 0
            for kind, source in self.sources.items():
                while True:
                    changes = await source.changes(session, self.cursors[kind], BATCH)
                    self.index.add_many(changes.docs)
                    for doc_id in changes.removed:
                        self.index.remove(kind, doc_id)
                    applied += len(changes.docs) + len(changes.removed)
                    moved = changes.cursor != self.cursors[kind]
                    self.cursors[kind] = changes.cursor
                    if not moved or len(changes.docs) + len(changes.removed) < BATCH:
                        break
            return applied

    def start_warm_up(
        self, sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]]
    ) -> asyncio.Task[int | None]:
        """Load every matchable document in the background (at start-up), so that the first user's
        query does not pay the cold load; returns at once. A query arriving meanwhile waits for
        the load under the same lock and then finds the index warm. A failure is logged, not
        raised: the next query's refresh loads whatever is missing."""

        async def warm() -> int | None:
            try:
                async with sessions() as session:
                    return await self.refresh(session)
            except Exception:
                log.exception("matching index warm-up failed; the first query will load it")
                return None

        return asyncio.create_task(warm(), name="matching-warm-up")

    def source(self, kind: DocKind, field_name: str) -> MatchSource:
        source = self.sources.get(kind)
        if source is None:
            raise MatchingRuleBroken(f"there are no {kind.value} documents to match yet", field=field_name)
        return source


async def feedback_profile(session: AsyncSession, ctx: MatchingContext, org_id: uuid.UUID) -> FeedbackProfile:
    """An organisation's latest marks, on documents still in the index."""
    rows = (
        await session.scalars(
            select(MatchFeedback)
            .where(MatchFeedback.org_id == org_id)
            .order_by(MatchFeedback.created_at.desc(), MatchFeedback.id.desc())
            .limit(FEEDBACK_MARKS)
        )
    ).all()
    marks = []
    for row in reversed(rows):  # oldest first: the latest mark of a document wins
        doc = ctx.index.get(DocKind(row.doc_kind), row.doc_id)
        if doc is not None:
            marks.append(Mark(doc, row.relevant, row.query_id))
    return FeedbackProfile.of(marks)


async def match(
    session: AsyncSession,
    ctx: MatchingContext,
    query_doc: MatchDoc,
    kind: DocKind,
    k: int = 10,
    org_id: uuid.UUID | None = None,
) -> list[Match]:
    """The ``k`` best documents of ``kind`` for ``query_doc``, after catching up with every
    committed change; ``org_id``: whose feedback adjusts the order (None: nobody's)."""
    await ctx.refresh(session)
    profile = await feedback_profile(session, ctx, org_id) if org_id is not None else None
    return ctx.index.query(query_doc, kind, k, profile=profile)


@dataclass(frozen=True)
class FeedbackIn:
    query_kind: DocKind
    query_id: uuid.UUID
    doc_kind: DocKind
    doc_id: uuid.UUID
    relevant: bool
    contacted: bool = False
    note: str = ""


async def record_feedback(
    session: AsyncSession,
    ctx: MatchingContext,
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    data: FeedbackIn,
    now: datetime,
) -> MatchFeedback:
    """Keep an organisation's mark on a match. Both documents must exist and be matchable, and
    they must be of different kinds (a demand and a listing)."""
    if data.query_kind is data.doc_kind:
        raise MatchingRuleBroken("a match pairs a demand with a listing", field="doc_kind")
    if await ctx.source(data.query_kind, "query_kind").get(session, data.query_id) is None:
        raise NotFound(f"no matchable {data.query_kind.value} {data.query_id}", field="query_id")
    if await ctx.source(data.doc_kind, "doc_kind").get(session, data.doc_id) is None:
        raise NotFound(f"no matchable {data.doc_kind.value} {data.doc_id}", field="doc_id")
    row = MatchFeedback(
        org_id=org_id,
        query_kind=data.query_kind.value,
        query_id=data.query_id,
        doc_kind=data.doc_kind.value,
        doc_id=data.doc_id,
        relevant=data.relevant,
        contacted=data.contacted,
        note=data.note.strip(),
        created_at=now,
        created_by=user_id,
    )
    session.add(row)
    await session.flush()
    return row
