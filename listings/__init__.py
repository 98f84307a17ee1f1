"""Listings: achievements offered for transfer, licence or equity; their review, announcement and
lifecycle; public notices and objections; search, open data and statistics.

This package imports nothing of ``exchange`` or ``ledger``. What it needs about the caller comes
in as an ``Actor``; settings as ``ListingRules``; the signing key, data key and hook registry in a
``ListingsContext`` built by ``create_listings``.

The API other modules use:

- notices of any kind: ``open_notice``, ``cancel_notice``, ``get_notice``; be told of their end
  through ``ctx.hooks.register_notice_handler(kind, NoticeHandler subclass)``;
- what follows an announcement: ``ctx.hooks.set_close_handler(handler)``;
- amendments and transitions: ``ctx.hooks.add_listing_observer(ListingObserver subclass)``;
- a listing's content refused by another module's rule: ``ctx.hooks.add_content_guard(ContentGuard subclass)``;
- the transitions trading drives: ``start_negotiation``, ``start_auction``, ``form_deal``,
  ``cancel_deal``, ``complete_sale``, ``close_unsold`` (or ``apply_trading_action``);
- the deadline sweeper step: ``NoticeSweep(ctx)``;
- the working-day calendar every period counts on: ``working_calendar(session, ctx.calendar)``
  gives the current ``WorkingCalendar`` (409 ``calendar-year-missing`` past its years); the
  operators' side of it (import, correct, list, watch) is ``listings.calendar``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from listings.calendar import working_calendar
from listings.context import ListingsContext, UnitOfWork
from listings.domain import (
    PUBLIC_STATUSES,
    TRANSITIONS,
    Action,
    Actor,
    DealType,
    ListingRules,
    ListingStatus,
    NoticeKind,
    NoticePeriod,
    NoticeStatus,
    ObjectionDecision,
    ObjectionStatus,
    PricingMode,
    notice_period,
)
from listings.errors import CalendarYearMissing, ListingError
from listings.hooks import (
    Amendment,
    AnnouncementDeclarer,
    CloseHandler,
    ContentGuard,
    ListingHooks,
    ListingObserver,
    ListingPagePart,
    NoticeHandler,
)
from listings.models import Base, Listing, ListingTransition, Notice, Objection
from listings.notices import cancel_notice, get_notice, list_notices, objection_counts, open_notice
from listings.queries import listing_figures, stats_year
from listings.routes import ROUTE_HANDLERS
from listings.schemas import ListingFigures, NoticeSummaryOut
from listings.search import warm_up
from listings.service import (
    apply_trading_action,
    can_view,
    confidential_basis,
    create_listings,
    load_listing,
    public_listing,
    reseal_confidential_details,
    transition,
)
from listings.sweeper import NoticeSweep
from listings.views import notice_summary
from listings.workdays import WorkingCalendar


def _trading(action: Action, summary: str) -> Callable[..., Awaitable[Listing]]:
    async def apply(
        session: AsyncSession,
        ctx: ListingsContext,
        listing_id: uuid.UUID,
        now: datetime,
        *,
        actor: Actor | None = None,
        reason: str = "",
    ) -> Listing:
        return await apply_trading_action(session, ctx, listing_id, action, now, actor=actor, reason=reason)

    apply.__name__ = apply.__qualname__ = action.value
    apply.__doc__ = f"{summary} (409 ``invalid-state`` unless the lifecycle allows ``{action.value}``)."
    return apply


start_negotiation = _trading(Action.START_NEGOTIATION, "closing → negotiating")
start_auction = _trading(Action.START_AUCTION, "closing → auctioning")
form_deal = _trading(Action.FORM_DEAL, "negotiating or auctioning → deal_formed")
cancel_deal = _trading(Action.CANCEL_DEAL, "deal_formed → unsold")
complete_sale = _trading(Action.COMPLETE_SALE, "deal_formed → sold")
close_unsold = _trading(Action.CLOSE_UNSOLD, "closing, negotiating or auctioning → unsold")


__all__ = [
    "PUBLIC_STATUSES",
    "ROUTE_HANDLERS",
    "TRANSITIONS",
    "Action",
    "Actor",
    "Amendment",
    "AnnouncementDeclarer",
    "Base",
    "CalendarYearMissing",
    "CloseHandler",
    "ContentGuard",
    "DealType",
    "Listing",
    "ListingError",
    "ListingFigures",
    "ListingHooks",
    "ListingObserver",
    "ListingPagePart",
    "ListingRules",
    "ListingStatus",
    "ListingTransition",
    "ListingsContext",
    "Notice",
    "NoticeHandler",
    "NoticeKind",
    "NoticePeriod",
    "NoticeStatus",
    "NoticeSummaryOut",
    "NoticeSweep",
    "Objection",
    "ObjectionDecision",
    "ObjectionStatus",
    "PricingMode",
    "UnitOfWork",
    "WorkingCalendar",
    "apply_trading_action",
    "can_view",
    "cancel_deal",
    "cancel_notice",
    "close_unsold",
    "complete_sale",
    "confidential_basis",
    "create_listings",
    "form_deal",
    "get_notice",
    "list_notices",
    "listing_figures",
    "load_listing",
    "notice_period",
    "notice_summary",
    "objection_counts",
    "open_notice",
    "public_listing",
    "reseal_confidential_details",
    "start_auction",
    "start_negotiation",
    "stats_year",
    "transition",
    "warm_up",
    "working_calendar",
]
