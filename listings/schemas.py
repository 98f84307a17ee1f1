"""Request and response types of the listings API (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from kernel.pagination import Page
from listings.domain import (
    BP,
    NON_BLANK,
    AppraisalReport,
    DealTerms,
    Field,
    Inventor,
    IpAsset,
    ListingContent,
    ListingStatus,
    NoticeKind,
    NoticeStatus,
    ObjectionDecision,
    ObjectionStatus,
    Pricing,
    PricingMode,
    ReviewDecision,
    Text200,
)

Note = Annotated[str, msgspec.Meta(max_length=2000)]
Confidential = Annotated[str, msgspec.Meta(max_length=20_000)]

# ----------------------------------------------------------------------------------------------
# Requests


class ListingCreate(ListingContent, forbid_unknown_fields=True, kw_only=True):
    confidential_details: Confidential | None = None

    def content(self) -> ListingContent:
        return ListingContent(**{name: getattr(self, name) for name in ListingContent.__struct_fields__})


class ListingPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields to change; each one given replaces the old value whole (``pricing`` and ``deal`` too)."""

    title: Text200 | UnsetType = UNSET
    summary: Annotated[str, msgspec.Meta(max_length=5000)] | UnsetType = UNSET
    field: Field | UnsetType = UNSET
    keywords: Annotated[list[str], msgspec.Meta(max_length=20)] | UnsetType = UNSET
    maturity: Annotated[int, msgspec.Meta(ge=1, le=9)] | UnsetType = UNSET
    ip_assets: Annotated[list[IpAsset], msgspec.Meta(min_length=1, max_length=50)] | UnsetType = UNSET
    inventors: Annotated[list[Inventor], msgspec.Meta(max_length=50)] | UnsetType = UNSET
    deal: DealTerms | UnsetType = UNSET
    pricing: Pricing | UnsetType = UNSET
    inventor_reward_bp: Annotated[int, msgspec.Meta(gt=-1, le=BP)] | UnsetType | None = UNSET
    confidential_details: Confidential | UnsetType | None = UNSET

    def content_changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in ListingContent.__struct_fields__
            if getattr(self, name, UNSET) is not UNSET
        }


class ReviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    decision: ReviewDecision
    note: Note = ""


class WithdrawRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note = ""


class RelistRequest(msgspec.Struct, forbid_unknown_fields=True):
    working_days: Annotated[int, msgspec.Meta(ge=1, le=250)] | None = None
    pricing: Pricing | None = None


class ObjectionRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=2000, pattern=NON_BLANK)]


class AnswerRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The seller's answer to an objection: its grounds, as long as an objection's reason."""

    answer: Annotated[str, msgspec.Meta(min_length=10, max_length=2000, pattern=NON_BLANK)]


class ResolveRequest(msgspec.Struct, forbid_unknown_fields=True):
    decision: ObjectionDecision
    note: Note = ""


# ----------------------------------------------------------------------------------------------
# Responses


class InventorOut(msgspec.Struct):
    name: str
    related_to_buyer: list[str] | None = None  # seller and operators only


class PricingOut(msgspec.Struct):
    mode: PricingMode
    asking_price: int
    appraised_value: int | None
    appraisal_report: AppraisalReport | None
    deposit: int
    increment: int | None


class SellerOut(msgspec.Struct):
    org_id: uuid.UUID
    name: str
    kind: str


class AnnouncementOut(msgspec.Struct):
    notice_id: uuid.UUID | None
    round: int
    working_days: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    auction_opens_at: datetime | None  # listed and auction modes: when an auction after it would open


class ListingOut(msgspec.Struct):
    id: uuid.UUID
    number: int
    status: ListingStatus
    version: int
    title: str
    summary: str
    field: Field
    keywords: list[str]
    maturity: int
    ip_assets: list[IpAsset]
    inventors: list[InventorOut]
    deal: DealTerms
    pricing: PricingOut
    inventor_reward_bp: int | None  # public institutions: the inventors' share of the net income
    seller: SellerOut
    has_confidential_details: bool
    announcement: AnnouncementOut
    created_at: datetime
    updated_at: datetime


class ListingSummaryOut(msgspec.Struct):
    id: uuid.UUID
    number: int
    status: ListingStatus
    title: str
    summary: str
    field: Field
    keywords: list[str]
    deal_type: str
    pricing_mode: PricingMode
    asking_price: int
    ip_kinds: list[str]
    seller: SellerOut
    published_at: datetime
    closes_at: datetime | None


ListingPage = Page[ListingSummaryOut]


class ListingSearchPage(msgspec.Struct):
    """A page of a search, and with ``count=true`` how many listings match in all."""

    items: list[ListingSummaryOut]
    next_cursor: str | None = None
    total: int | None = None


class TransitionOut(msgspec.Struct):
    id: uuid.UUID
    action: str
    from_status: ListingStatus | None
    to_status: ListingStatus
    actor_user_id: uuid.UUID | None
    actor_org_id: uuid.UUID | None
    reason: str
    created_at: datetime


TransitionPage = Page[TransitionOut]


class NdaOut(msgspec.Struct):
    listing_id: uuid.UUID
    org_id: uuid.UUID
    user_id: uuid.UUID
    terms_version: str
    accepted_at: datetime


class ConfidentialOut(msgspec.Struct):
    listing_id: uuid.UUID
    confidential_details: str | None
    access: Literal["seller", "operator", "nda"]


class ConfidentialReadOut(msgspec.Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    org_id: uuid.UUID
    basis: str
    read_at: datetime


ConfidentialReadPage = Page[ConfidentialReadOut]


class NoticeSummaryOut(msgspec.Struct):
    id: uuid.UUID
    kind: NoticeKind
    status: NoticeStatus
    title: str
    subject_type: str
    subject_id: uuid.UUID
    opens_at: datetime
    closes_at: datetime
    seconds_remaining: int
    objection_count: int
    pending_objection_count: int


NoticePage = Page[NoticeSummaryOut]


class NoticeOut(NoticeSummaryOut):
    content: dict[str, Any]
    signed_content: str  # exactly the signed bytes (UTF-8)
    signature: str  # base64 Ed25519 signature of signed_content
    key_id: str  # which key of GET /api/v1/keys
    supersedes_id: uuid.UUID | None
    superseded_by_id: uuid.UUID | None
    ended_at: datetime | None
    end_reason: str
    algorithm: str = "Ed25519"


class ObjectionOut(msgspec.Struct):
    id: uuid.UUID
    notice_id: uuid.UUID
    status: ObjectionStatus
    reason: str
    filed_at: datetime
    resolved_at: datetime | None
    resolution_note: str
    # The seller's answer (given once, while pending), forwarded to the objector and operators;
    # no objection shown to anyone names its objector.
    answer: str | None = None
    answered_at: datetime | None = None


ObjectionPage = Page[ObjectionOut]


class MonthCount(msgspec.Struct):
    month: str
    count: int


class ListingFigures(msgspec.Struct):
    announced: int
    asking_value: int
    by_deal_type: dict[str, int]
    by_pricing_mode: dict[str, int]
    by_field: dict[str, int]
    by_seller_kind: dict[str, int]
    by_status: dict[str, int]
    by_month: list[MonthCount]


__all__ = [
    "AnswerRequest",
    "ConfidentialOut",
    "ConfidentialReadPage",
    "ListingCreate",
    "ListingFigures",
    "ListingOut",
    "ListingPage",
    "ListingPatch",
    "ListingSearchPage",
    "NdaOut",
    "NoticeOut",
    "NoticePage",
    "ObjectionOut",
    "ObjectionPage",
    "ObjectionRequest",
    "RelistRequest",
    "ResolveRequest",
    "ReviewRequest",
    "TransitionPage",
    "WithdrawRequest",
]


# ----------------------------------------------------------------------------------------------
# The working-day calendar (the import body is ``listings.workdays.YearSchedule``, the file format)


class CalendarYearOut(msgspec.Struct):
    year: int
    notice: str
    note: str
    loaded_by: str
    loaded_at: datetime
    updated_at: datetime
    days_off: int
    make_up_workdays: int


class CalendarDayOut(msgspec.Struct):
    date: str  # YYYY-MM-DD
    kind: Literal["off", "workday", "normal"]  # normal: Monday to Friday work, weekends off
    name: str
    notice: str


class CalendarYearDetail(CalendarYearOut):
    days: list[CalendarDayOut]


class DayCorrection(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["off", "workday", "normal"]
    notice: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # the notice behind the correction
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class CalendarChangeOut(msgspec.Struct):
    id: uuid.UUID
    year: int
    action: str
    changed_by: str
    user_id: uuid.UUID | None
    changed_at: datetime
    details: dict[str, Any]


class CalendarNotificationOut(msgspec.Struct):
    id: uuid.UUID
    year: int
    kind: str
    message: str
    created_at: datetime


CalendarYearPage = Page[CalendarYearOut]
CalendarChangePage = Page[CalendarChangeOut]
CalendarNotificationPage = Page[CalendarNotificationOut]
