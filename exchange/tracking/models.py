"""Tables of tracking after the deal: each settled deal tracked (a copy of trading's facts taken
when its schedule was made, so that the pages never read trading) and its implementation reports,
one row per slot of the schedule, filed or not."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class TrackedDeal(IdMixin, Base):
    """A settled deal whose buyer reports on the technology's implementation."""

    __tablename__ = "tracked_deals"

    deal_id: Mapped[uuid.UUID] = mapped_column(unique=True)  # trading's deal; no foreign key across modules
    listing_id: Mapped[uuid.UUID]
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    seller_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    deal_type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    settled_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]


class TrackingReport(IdMixin, Base):
    """One report of a tracked deal's schedule (``seq`` from 0): its moments, and what the buyer
    filed (``filed_at`` set), corrected in place until ``corrections_until``."""

    __tablename__ = "tracking_reports"
    __table_args__ = (UniqueConstraint("tracked_deal_id", "seq", name="uq_tracking_reports_tracked_deal_id_seq"),)

    tracked_deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracked_deals.id"))
    deal_id: Mapped[uuid.UUID] = mapped_column(index=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seller_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)  # after settlement
    due_on: Mapped[date] = mapped_column(Date)  # a Beijing date
    opens_at: Mapped[datetime]
    overdue_at: Mapped[datetime] = mapped_column(index=True)
    corrections_until: Mapped[datetime]
    next_remind_at: Mapped[datetime | None] = mapped_column(index=True)  # the next reminder; None: none left
    overdue_told_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(24))  # domain.ReportStatus, once filed
    reason: Mapped[str] = mapped_column(Text, default="")
    products: Mapped[str] = mapped_column(Text, default="")
    revenue_band: Mapped[str | None] = mapped_column(String(16))  # domain.RevenueBand
    jobs_created: Mapped[int | None] = mapped_column(Integer)
    further_ip_count: Mapped[int | None] = mapped_column(Integer)
    further_ip: Mapped[str] = mapped_column(Text, default="")
    filed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime | None]
    corrected_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
