"""Tables of technical demands, campaigns and proposals. Money columns are fen.

The rules live in ``domain.py``. ``demands.change_seq`` moves with every change a reader could see
(content, status), handed out in commit order (``service.touch``), so that an incremental reader —
the matching index (``matches.DemandSource``) — picks up every demand changed after the last it saw.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Demand(IdMixin, Base):
    """An enterprise's technical demand. ``invited_org_ids`` repeats ``demand_invitations`` for the
    answer; the invitations table is what visibility queries read."""

    __tablename__ = "demands"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    org_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    performance: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(32))
    min_maturity: Mapped[int | None]  # the least technology readiness (1–9) it can use
    ipc_codes: Mapped[list[str]] = mapped_column(JSON)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    budget_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    accepted_forms: Mapped[list[str]] = mapped_column(JSON)
    deadline: Mapped[date | None]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)  # 24:00 Beijing of the deadline
    visibility: Mapped[str] = mapped_column(String(16))
    invited_org_ids: Mapped[list[str]] = mapped_column(JSON)
    confidential_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed as listings' details
    status: Mapped[str] = mapped_column(String(16), index=True)
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    change_seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # the change feed, in commit order


class DemandInvitation(Base):
    __tablename__ = "demand_invitations"

    demand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True, index=True)


class DemandNda(IdMixin, Base):
    """An organisation's acceptance of a demand's NDA (the listings' terms, SPEC §2.6)."""

    __tablename__ = "demand_ndas"
    __table_args__ = (UniqueConstraint("demand_id", "org_id", name="uq_demand_ndas_demand_id_org_id"),)

    demand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    terms_version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime]


class DemandConfidentialRead(IdMixin, Base):
    """Every read of a demand's confidential part."""

    __tablename__ = "demand_confidential_reads"

    demand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    basis: Mapped[str] = mapped_column(String(16))  # owner, operator, nda
    read_at: Mapped[datetime]


class Campaign(IdMixin, Base):
    """A call (需求征集) by an operator or a government program, for demands or for solutions."""

    __tablename__ = "demand_campaigns"

    organiser_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    organiser_name: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    rules: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[date]
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class CampaignSubmission(IdMixin, Base):
    """A demand (or a proposal) submitted to a campaign, and the organiser's screening of it."""

    __tablename__ = "campaign_submissions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "demand_id", name="uq_campaign_submissions_campaign_id_demand_id"),
        UniqueConstraint("campaign_id", "proposal_id", name="uq_campaign_submissions_campaign_id_proposal_id"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demand_campaigns.id"), index=True)
    demand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("demands.id"))
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("demand_proposals.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)  # who submitted
    submitted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime]
    screening: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    screened_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    screened_at: Mapped[datetime | None]


class Proposal(IdMixin, Base):
    """An institution's answer to a demand: a summary, its own linked listings or a new solution;
    the owner's shortlist, decline (with the reason the proposer reads) or negotiation path."""

    __tablename__ = "demand_proposals"

    demand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demands.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    org_name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    solution: Mapped[str] = mapped_column(Text)
    listing_ids: Mapped[list[str]] = mapped_column(JSON)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    feedback: Mapped[str] = mapped_column(Text, default="")  # the decline's reason, for the proposer
    # The negotiation opened: {"path": "listing", "listing_id", "kind": "intent"|"negotiation", "id"}
    # or {"path": "new_listing", "listing_id": None until the proposer creates its draft}.
    negotiation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    submitted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
