"""Tables of technology brokers: the brokers, their engagements and the ledger entries that paid
their commissions. Money columns are fen; what a broker earned is read from the ledger through
``CommissionEntry.entry_id``, never tallied here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Broker(IdMixin, Base):
    """A person registered by a service-provider organisation, with the credential an operator checks."""

    __tablename__ = "brokers"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    credential_number: Mapped[str] = mapped_column(String(32), unique=True)
    issuing_body: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # domain.BrokerStatus
    reason: Mapped[str] = mapped_column(Text, default="")  # of a rejection or suspension
    registered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    verified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # the last operator's act
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Engagement(IdMixin, Base):
    """A party engages a broker on a listing, a demand (by id), a negotiation or a deal, with the
    commission agreed and the side that owes it; bound to the deal it is charged on."""

    __tablename__ = "broker_engagements"

    broker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brokers.id"), index=True)
    broker_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # domain.SubjectKind
    subject_id: Mapped[uuid.UUID] = mapped_column(index=True)  # no foreign key: demands are another module's
    listing_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    seller_org_id: Mapped[uuid.UUID | None]
    buyer_org_id: Mapped[uuid.UUID | None]
    engaged_by_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    engaged_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(String(8))  # the engaging party's side, which owes the commission
    commission_bp: Mapped[int | None] = mapped_column(Integer)
    commission_fen: Mapped[int | None] = mapped_column(BigInteger)  # a fixed amount
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # domain.EngagementStatus
    reason: Mapped[str] = mapped_column(Text, default="")  # of a decline or a lapse
    answered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    deal_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the deal it is charged on, once bound
    commission: Mapped[int | None] = mapped_column(BigInteger)  # the lump sum on that deal, fixed when bound
    bound_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CommissionEntry(IdMixin, Base):
    """A ledger entry that paid one payment's share of an engagement's commission (its cash part, or
    the part a program's innovation vouchers paid)."""

    __tablename__ = "broker_commission_entries"
    __table_args__ = (UniqueConstraint("engagement_id", "seq", "entry_id", name="uq_broker_commission_entries_entry"),)

    engagement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("broker_engagements.id"), index=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the deal's payment
    entry_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
