"""Request and response types of the credit API (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from exchange.credit.domain import EngagementKind, Grade
from kernel.pagination import Page

Mark = Annotated[int, msgspec.Meta(ge=1, le=5)]
Comment = Annotated[str, msgspec.Meta(max_length=2000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class RatingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: EngagementKind  # service_order | brokered_deal
    engagement_id: uuid.UUID  # the service order's id, or the broker engagement's
    quality: Mark
    timeliness: Mark
    professionalism: Mark
    comment: Comment = ""


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    answer: Reason


class ComplaintIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: EngagementKind
    engagement_id: uuid.UUID
    reason: Reason


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class RatingOut(msgspec.Struct):
    id: uuid.UUID
    kind: EngagementKind
    engagement_id: uuid.UUID
    client_org_id: uuid.UUID
    provider_org_id: uuid.UUID
    quality: int
    timeliness: int
    professionalism: int
    comment: str
    created_at: datetime
    answer: str | None
    answered_at: datetime | None


class ComplaintOut(msgspec.Struct):
    id: uuid.UUID
    kind: EngagementKind
    engagement_id: uuid.UUID
    client_org_id: uuid.UUID
    provider_org_id: uuid.UUID
    reason: str
    status: str  # open | upheld | dismissed
    created_at: datetime
    decision_reason: str
    decided_at: datetime | None


class ScoreOut(msgspec.Struct):
    """A provider's credit as last recomputed, with how it was made (``breakdown``, docs/credit.md)."""

    provider_org_id: uuid.UUID
    provider_name: str
    grade: Grade | None  # None: unrated
    score: float | None  # 0–100, one decimal
    ratings: int
    demonstration: bool  # 示范机构
    designated_at: datetime | None
    demonstration_ended_at: datetime | None
    demonstration_end_reason: str
    computed_at: datetime
    breakdown: dict[str, Any]


class GradeCounts(msgspec.Struct):
    """Providers by grade and the demonstration institutions (``service.grade_counts``)."""

    A: int
    B: int
    C: int
    D: int
    unrated: int
    demonstration: int


RatingPage = Page[RatingOut]
ComplaintPage = Page[ComplaintOut]
ScorePage = Page[ScoreOut]
