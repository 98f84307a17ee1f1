"""The table of matching (migrations/0029_matching): the feedback organisations give on matches,
kept for the ranking of that organisation and for evaluation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class MatchFeedback(IdMixin, Base):
    """One mark: for the query document (a demand or a listing), the matched document was relevant
    or not; whether the organisation contacted its owner, and a note."""

    __tablename__ = "match_feedback"
    __table_args__ = (Index("ix_match_feedback_org_id_created_at", "org_id", "created_at"),)

    org_id: Mapped[uuid.UUID]
    query_kind: Mapped[str] = mapped_column(String(16))  # listing | demand
    query_id: Mapped[uuid.UUID]
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_id: Mapped[uuid.UUID]
    relevant: Mapped[bool] = mapped_column(Boolean)
    contacted: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
