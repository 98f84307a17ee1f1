"""How other modules hear about notices and listings, and decide what follows an announcement.

The composition root creates one ``ListingHooks`` per application and later modules register on
it (never module-level state):

- ``register_notice_handler(kind, handler)`` — a ``NoticeHandler`` is told, inside the same
  transaction, when a notice of that kind closes, is suspended (an objection was pending at its
  end), when an objection to it is filed, answered by the seller's side, and when one is upheld or
  dismissed; it also says which organisation answers the notice's objections (``answering_side``)
  and who resolves them besides the operators (``resolving_side``).
- ``set_close_handler(handler)`` — decides what a listing becomes when its announcement ends:
  ``unsold``, ``negotiating`` or ``auctioning``. Without one, every listing ends ``unsold``.
- ``add_listing_observer(observer)`` — told of every listing transition and every amendment
  (trading notifies intent holders, releases holds of withdrawn or rejected listings).
- ``add_announcement_declarer(declarer)`` — an ``AnnouncementDeclarer`` adds what it declares to the
  body of a listing's announcement notice when it is published (technology brokers engaged by the
  seller); it adds nothing when there is nothing to declare, so such notices read as before.
- ``add_page_part(part)`` — a ``ListingPagePart`` shows a part of a listing's public page (the
  technology brokers its seller engaged): a partial of its own module's templates and its context,
  or nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from listings.domain import ListingStatus, NoticeKind

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from listings.domain import Actor, ListingContent
    from listings.models import Listing, ListingTransition, Notice, Objection


class NoticeHandler:
    """Subclass and override what you need; every method runs inside the caller's transaction."""

    async def on_closed(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        """The notice ran its period with no objection pending (or the last one was dismissed)."""

    async def on_suspended(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        """An objection was pending when the period ended: stop the subject until it is resolved."""

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        """An operator (or the resolving side) upheld an objection: the notice is cancelled; stop the subject."""

    async def on_dismissed(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        """An operator (or the resolving side) dismissed an objection (``on_closed`` follows if the period has run)."""

    async def on_objection_filed(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        """Someone objected to the notice (the exchange tells the notice's subject owner and operators)."""

    async def on_objection_resolved(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        """An operator or the resolving side upheld or dismissed an objection (``objection.status`` says which), after
        ``on_upheld`` or ``on_dismissed`` (and ``on_closed``, when the dismissal closed the notice)."""

    def answering_side(self, org_id: uuid.UUID) -> ColumnElement[bool] | None:
        """The notices of this kind whose objections ``org_id`` answers — the subject's seller (a
        redemption's provider) — as a condition on ``Notice``; None: this handler names nobody.
        Checked against one notice when answering, and as a filter when the seller lists them."""
        return None

    def resolving_side(self, actor: Actor) -> ColumnElement[bool] | None:
        """The notices of this kind whose objections ``actor`` resolves besides the operators (an
        institution's own notices: its technology-transfer office), as a condition on ``Notice``;
        None: operators only. Checked against one notice when resolving, and as a filter when the
        resolver lists them (``GET /objections?side=resolver``)."""
        return None

    async def on_objection_answered(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        """The seller's side answered a pending objection (``objection.answer``)."""


CloseHandler = Callable[["AsyncSession", "Listing", datetime], Awaitable[ListingStatus]]


@dataclass(frozen=True)
class Amendment:
    """An announced listing changed. A material change (price, deposit, deal terms, IP) restarts the period."""

    listing_id: uuid.UUID
    version: int
    material: bool
    changed: tuple[str, ...]
    previous_notice_id: uuid.UUID | None
    notice_id: uuid.UUID
    previous_closes_at: datetime | None
    closes_at: datetime


class ListingObserver:
    async def on_transition(self, session: AsyncSession, listing: Listing, transition: ListingTransition) -> None:
        """After every state change of a listing (``transition.action`` says which)."""

    async def on_amended(self, session: AsyncSession, listing: Listing, amendment: Amendment) -> None:
        """After an amendment during the announcement; intent holders may withdraw."""


class AnnouncementDeclarer:
    async def declare(self, session: AsyncSession, listing: Listing) -> dict[str, Any]:
        """Keys to add to the body of the listing's announcement notice about to be signed; none: nothing."""
        return {}


class ContentGuard:
    async def check(self, session: AsyncSession, listing: Listing, content: ListingContent) -> None:
        """Before a listing's content is saved by an edit or an amendment, submitted or relisted (the
        listing's own rules passed): raise ``InvalidListing`` naming the field to refuse it (the
        caller's transaction writes nothing). E.g. a price a decision outside the exchange bounds."""


class ListingPagePart:
    async def part(self, session: AsyncSession, listing: Listing) -> tuple[str, dict[str, Any]] | None:
        """(a template partial, its context) shown on the listing's public page; None: nothing."""
        return None


@dataclass
class ListingHooks:
    _notice_handlers: dict[NoticeKind, list[NoticeHandler]] = field(default_factory=dict)
    _observers: list[ListingObserver] = field(default_factory=list)
    close_handler: CloseHandler | None = None
    _declarers: list[AnnouncementDeclarer] = field(default_factory=list)
    _page_parts: list[ListingPagePart] = field(default_factory=list)
    _content_guards: list[ContentGuard] = field(default_factory=list)

    def add_content_guard(self, guard: ContentGuard) -> None:
        self._content_guards.append(guard)

    @property
    def content_guards(self) -> list[ContentGuard]:
        return list(self._content_guards)

    def register_notice_handler(self, kind: NoticeKind, handler: NoticeHandler) -> None:
        self._notice_handlers.setdefault(NoticeKind(kind), []).append(handler)

    def notice_handlers(self, kind: str) -> list[NoticeHandler]:
        return list(self._notice_handlers.get(NoticeKind(kind), ()))

    def set_close_handler(self, handler: CloseHandler) -> None:
        self.close_handler = handler

    def add_listing_observer(self, observer: ListingObserver) -> None:
        self._observers.append(observer)

    def add_announcement_declarer(self, declarer: AnnouncementDeclarer) -> None:
        self._declarers.append(declarer)

    @property
    def announcement_declarers(self) -> list[AnnouncementDeclarer]:
        return list(self._declarers)

    @property
    def observers(self) -> list[ListingObserver]:
        return list(self._observers)

    def add_page_part(self, part: ListingPagePart) -> None:
        self._page_parts.append(part)

    @property
    def page_parts(self) -> list[ListingPagePart]:
        return list(self._page_parts)
