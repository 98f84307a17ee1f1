"""Shaping listings, notices and objections into response types."""

from __future__ import annotations

import json
from datetime import datetime

from kernel.shapes import shaped
from listings.domain import (
    PUBLIC_STATUSES,
    Actor,
    NoticeStatus,
)
from listings.models import ConfidentialRead, Listing, ListingTransition, Notice, Objection
from listings.schemas import (
    AnnouncementOut,
    ConfidentialReadOut,
    InventorOut,
    ListingOut,
    ListingSummaryOut,
    NoticeOut,
    NoticeSummaryOut,
    ObjectionOut,
    PricingOut,
    SellerOut,
    TransitionOut,
)
from listings.service import content_of


def _seller(listing: Listing) -> SellerOut:
    return SellerOut(org_id=listing.seller_org_id, name=listing.seller_org_name, kind=listing.seller_kind)


def listing_out(listing: Listing, viewer: Actor | None) -> ListingOut:
    privileged = viewer is not None and (viewer.is_operator or viewer.org_id == listing.seller_org_id)
    content = content_of(listing)
    inventors = [
        InventorOut(name=i.name, related_to_buyer=i.related_to_buyer if privileged else None) for i in content.inventors
    ]
    announcement = AnnouncementOut(
        notice_id=listing.notice_id if listing.status in PUBLIC_STATUSES else None,
        round=listing.announcement_round,
        working_days=listing.period_working_days,
        opens_at=listing.announced_at,
        closes_at=listing.closes_at,
        auction_opens_at=listing.auction_opens_at,
    )
    pricing = shaped(PricingOut, listing, mode=listing.pricing_mode, appraisal_report=content.pricing.appraisal_report)
    described = {name: getattr(content, name) for name in ("title", "summary", "field", "keywords", "maturity")}
    return shaped(
        ListingOut,
        listing,
        **described,
        ip_assets=content.ip_assets,
        deal=content.deal,
        inventors=inventors,
        pricing=pricing,
        seller=_seller(listing),
        has_confidential_details=listing.confidential_ciphertext is not None,
        announcement=announcement,
    )


def listing_summary(listing: Listing) -> ListingSummaryOut:
    return shaped(
        ListingSummaryOut,
        listing,
        summary=listing.summary[:280],
        ip_kinds=sorted({a.kind for a in listing.ip_assets}),
        seller=_seller(listing),
    )


def transition_out(row: ListingTransition) -> TransitionOut:
    return shaped(TransitionOut, row)


def read_out(row: ConfidentialRead) -> ConfidentialReadOut:
    return shaped(ConfidentialReadOut, row)


def seconds_remaining(notice: Notice, now: datetime) -> int:
    if notice.status != NoticeStatus.OPEN.value:
        return 0
    return max(0, int((notice.closes_at - now).total_seconds()))


def _board_figures(notice: Notice, counts: tuple[int, int], now: datetime) -> dict[str, int]:
    all_, pending = counts
    return {
        "seconds_remaining": seconds_remaining(notice, now),
        "objection_count": all_,
        "pending_objection_count": pending,
    }


def notice_summary(notice: Notice, counts: tuple[int, int], now: datetime) -> NoticeSummaryOut:
    return shaped(NoticeSummaryOut, notice, **_board_figures(notice, counts, now))


def notice_out(notice: Notice, counts: tuple[int, int], now: datetime) -> NoticeOut:
    figures = _board_figures(notice, counts, now)
    return shaped(NoticeOut, notice, **figures, content=json.loads(notice.content), signed_content=notice.content)


def objection_out(objection: Objection) -> ObjectionOut:
    return shaped(ObjectionOut, objection)
