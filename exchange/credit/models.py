"""Tables of the credit evaluation: clients' ratings of providers (with the provider's one answer),
complaints and their decisions, and each provider's stored score with its breakdown and its
designation as a demonstration institution (示范机构)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Rating(IdMixin, Base):
    """The client's rating of a finished engagement: one per engagement."""

    __tablename__ = "credit_ratings"
    __table_args__ = (UniqueConstraint("kind", "engagement_id", name="uq_credit_ratings_engagement"),)

    kind: Mapped[str] = mapped_column(String(16))  # domain.EngagementKind
    engagement_id: Mapped[uuid.UUID]  # no foreign key: the engagement is another module's
    client_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    quality: Mapped[int] = mapped_column(Integer)
    timeliness: Mapped[int] = mapped_column(Integer)
    professionalism: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)  # the provider's one answer
    answered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]


class Complaint(IdMixin, Base):
    """A client's complaint against a provider about an engagement, decided by an operator."""

    __tablename__ = "credit_complaints"

    kind: Mapped[str] = mapped_column(String(16))
    engagement_id: Mapped[uuid.UUID] = mapped_column(index=True)
    client_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # domain.ComplaintStatus
    filed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


class ProviderScore(Base):
    """A provider's score as last recomputed, with its breakdown, and its demonstration designation."""

    __tablename__ = "credit_scores"

    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    score_tenths: Mapped[int | None] = mapped_column(Integer)  # None: unrated
    grade: Mapped[str | None] = mapped_column(String(1), index=True)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime]
    demonstration: Mapped[bool] = mapped_column(default=False)
    designated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    designated_at: Mapped[datetime | None]
    demonstration_ended_at: Mapped[datetime | None]
    demonstration_end_reason: Mapped[str] = mapped_column(Text, default="")
