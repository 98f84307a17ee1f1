"""Shaping listings, notices and objections into response types."""

from __future__ import annotations

import json
from datetime import datetime

import msgspec

from listings.domain import (
    PUBLIC_STATUSES,
    Actor,
    Field,
    ListingStatus,
    NoticeKind,
    NoticeStatus,
    ObjectionStatus,
    PricingMode,
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
    return ListingOut(
        id=listing.id,
        number=listing.number,
        status=ListingStatus(listing.status),
        version=listing.version,
        title=content.title,
        summary=content.summary,
        field=content.field,
        keywords=content.keywords,
        maturity=content.maturity,
        ip_assets=content.ip_assets,
        inventors=[
            InventorOut(name=i.name, related_to_buyer=i.related_to_buyer if privileged else None)
            for i in content.inventors
        ],
        deal=content.deal,
        pricing=PricingOut(
            mode=PricingMode(listing.pricing_mode),
            asking_price=listing.asking_price,
            appraised_value=listing.appraised_value,
            appraisal_report=content.pricing.appraisal_report,
            deposit=listing.deposit,
            increment=listing.increment,
        ),
        inventor_reward_bp=listing.inventor_reward_bp,
        seller=_seller(listing),
        has_confidential_details=listing.confidential_ciphertext is not None,
        announcement=AnnouncementOut(
            notice_id=listing.notice_id if listing.status in PUBLIC_STATUSES else None,
            round=listing.announcement_round,
            working_days=listing.period_working_days,
            opens_at=listing.announced_at,
            closes_at=listing.closes_at,
            auction_opens_at=listing.auction_opens_at,
        ),
        created_at=listing.created_at,
        updated_at=listing.updated_at,
    )


def listing_summary(listing: Listing) -> ListingSummaryOut:
    return ListingSummaryOut(
        id=listing.id,
        number=listing.number,
        status=ListingStatus(listing.status),
        title=listing.title,
        summary=listing.summary[:280],
        field=Field(listing.field),
        keywords=list(listing.keywords),
        deal_type=listing.deal_type,
        pricing_mode=PricingMode(listing.pricing_mode),
        asking_price=listing.asking_price,
        ip_kinds=sorted({a.kind for a in listing.ip_assets}),
        seller=_seller(listing),
        published_at=listing.published_at,
        closes_at=listing.closes_at,
    )


def transition_out(row: ListingTransition) -> TransitionOut:
    return TransitionOut(
        id=row.id,
        action=row.action,
        from_status=ListingStatus(row.from_status) if row.from_status else None,
        to_status=ListingStatus(row.to_status),
        actor_user_id=row.actor_user_id,
        actor_org_id=row.actor_org_id,
        reason=row.reason,
        created_at=row.created_at,
    )


def read_out(row: ConfidentialRead) -> ConfidentialReadOut:
    return ConfidentialReadOut(id=row.id, user_id=row.user_id, org_id=row.org_id, basis=row.basis, read_at=row.read_at)


def seconds_remaining(notice: Notice, now: datetime) -> int:
    if notice.status != NoticeStatus.OPEN.value:
        return 0
    return max(0, int((notice.closes_at - now).total_seconds()))


def notice_summary(notice: Notice, counts: tuple[int, int], now: datetime) -> NoticeSummaryOut:
    return NoticeSummaryOut(
        id=notice.id,
        kind=NoticeKind(notice.kind),
        status=NoticeStatus(notice.status),
        title=notice.title,
        subject_type=notice.subject_type,
        subject_id=notice.subject_id,
        opens_at=notice.opens_at,
        closes_at=notice.closes_at,
        seconds_remaining=seconds_remaining(notice, now),
        objection_count=counts[0],
        pending_objection_count=counts[1],
    )


def notice_out(notice: Notice, counts: tuple[int, int], now: datetime) -> NoticeOut:
    return NoticeOut(
        **msgspec.structs.asdict(notice_summary(notice, counts, now)),
        content=json.loads(notice.content),
        signed_content=notice.content,
        signature=notice.signature,
        key_id=notice.key_id,
        algorithm="Ed25519",
        supersedes_id=notice.supersedes_id,
        superseded_by_id=notice.superseded_by_id,
        ended_at=notice.ended_at,
        end_reason=notice.end_reason,
    )


def objection_out(objection: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=objection.id,
        notice_id=objection.notice_id,
        status=ObjectionStatus(objection.status),
        reason=objection.reason,
        filed_at=objection.filed_at,
        resolved_at=objection.resolved_at,
        resolution_note=objection.resolution_note,
    )
