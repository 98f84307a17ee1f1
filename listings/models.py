"""Tables of listings, notices and objections. The schema itself comes from migrations/0003_listings
(and the listing terms of 0008_listing_terms).

Search indexes are not mapped: PostgreSQL has a generated ``listings.search_vector`` tsvector with
a GIN index, SQLite an FTS5 table ``listing_search`` kept in step by triggers (see search.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kernel.columns import NAMING, UTCDateTime, new_id


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Listing(Base):
    __tablename__ = "listings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)  # public listing number; FTS5 rowid on SQLite
    seller_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seller_org_name: Mapped[str] = mapped_column(String(200))
    seller_kind: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID]

    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(40))
    keywords: Mapped[list[Any]]
    maturity: Mapped[int] = mapped_column(Integer)
    inventors: Mapped[list[Any]]
    deal_type: Mapped[str] = mapped_column(String(16))
    deal_terms: Mapped[dict[str, Any]]
    pricing_mode: Mapped[str] = mapped_column(String(16))
    asking_price: Mapped[int] = mapped_column(BigInteger)
    appraised_value: Mapped[int | None] = mapped_column(BigInteger)
    # The report behind the appraisal (migrations/0008_listing_terms): once announced, the
    # appraisal is of record and only a new report replaces it.
    appraisal_report_number: Mapped[str | None] = mapped_column(String(64))
    appraiser: Mapped[str | None] = mapped_column(String(200))
    appraisal_report_date: Mapped[date | None] = mapped_column(Date)
    deposit: Mapped[int] = mapped_column(BigInteger)
    increment: Mapped[int | None] = mapped_column(BigInteger)
    confidential_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    inventor_reward_bp: Mapped[int | None] = mapped_column(Integer)  # public institutions' declared share

    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    notice_id: Mapped[uuid.UUID | None]
    announcement_round: Mapped[int] = mapped_column(Integer, default=0)
    period_working_days: Mapped[int | None] = mapped_column(Integer)
    announced_at: Mapped[datetime | None]  # start of the current announcement period
    closes_at: Mapped[datetime | None]  # end of the current announcement period
    auction_opens_at: Mapped[datetime | None]  # listed and auction modes: when an auction would open
    first_announced_at: Mapped[datetime | None]
    published_at: Mapped[datetime]  # "newest" order: the latest announcement (creation for drafts)

    search_title: Mapped[str] = mapped_column(Text)  # segmented words of title and keywords
    search_body: Mapped[str] = mapped_column(Text)  # segmented words of the rest
    feed_seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # open-data change order
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    ip_assets: Mapped[list[ListingIpAsset]] = relationship(
        lazy="raise", order_by="ListingIpAsset.position", cascade="all, delete-orphan"
    )


class ListingIpAsset(Base):
    __tablename__ = "listing_ip_assets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date | None] = mapped_column(Date)


class ListingTransition(Base):
    """Who moved a listing from which state to which, when and why (amendments too)."""

    __tablename__ = "listing_transitions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[uuid.UUID | None]  # None: the exchange itself (sweeper, close handler)
    actor_org_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime]


class ListingNda(Base):
    """An organisation's acceptance of a listing's non-disclosure agreement."""

    __tablename__ = "listing_ndas"
    __table_args__ = (UniqueConstraint("listing_id", "org_id", name="uq_listing_ndas_listing_id_org_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    org_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    terms_version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime]


class ConfidentialRead(Base):
    """Every read of a listing's confidential details."""

    __tablename__ = "listing_confidential_reads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID]
    org_id: Mapped[uuid.UUID]
    basis: Mapped[str] = mapped_column(String(16))  # seller | operator | nda
    read_at: Mapped[datetime]


class Counter(Base):
    """Named counters: listing numbers, and the open-data change sequence.

    Bumping a counter locks its row until commit, so values are handed out in commit order —
    a reader that has seen value N has seen every change numbered below N.
    """

    __tablename__ = "listing_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Notice(Base):
    """An immutable, signed public notice. Only ``status`` and the end fields ever change."""

    __tablename__ = "notices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    content: Mapped[str] = mapped_column(Text)  # canonical JSON: exactly the signed bytes, UTF-8
    signature: Mapped[str] = mapped_column(String(128))  # base64 Ed25519 signature over ``content``
    key_id: Mapped[str] = mapped_column(String(64))
    supersedes_id: Mapped[uuid.UUID | None]
    superseded_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(500), default="")


class Objection(Base):
    __tablename__ = "notice_objections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notices.id"), index=True)
    objector_user_id: Mapped[uuid.UUID]
    objector_org_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    filed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[uuid.UUID | None]
    resolution_note: Mapped[str] = mapped_column(String(2000), default="")
    # The seller's answer (migrations/0022_objection_answers): given once, while pending.
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[uuid.UUID | None]  # the user of the seller's side who answered (never shown to the objector)


# ----------------------------------------------------------------------------------------------
# The working-day calendar operators maintain (migrations/0013_calendar; see listings/calendar.py)


class CalendarYear(Base):
    """A year the calendar has data for, and the notice it comes from."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notice: Mapped[str] = mapped_column(String(500))  # the State Council notice (or its URL)
    note: Mapped[str] = mapped_column(String(2000), default="")
    loaded_by: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CalendarDay(Base):
    """A day off or a make-up working day; every other day of a loaded year is Monday to Friday."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # off | workday
    name: Mapped[str] = mapped_column(String(100))
    notice: Mapped[str] = mapped_column(String(500))  # the notice this day comes from


class CalendarChange(Base):
    """Every change to the calendar: who, when, what. Append-only; its (count, last id) is the
    calendar's version, which each process checks before it uses its cached snapshot."""

    __tablename__ = "calendar_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    year: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))  # seed | import | replace | correct
    changed_by: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime]
    details: Mapped[dict[str, Any]]


class CalendarNotification(Base):
    """What operators are told about the calendar (the next year missing from 1 November), once each."""

    __tablename__ = "calendar_notifications"
    __table_args__ = (UniqueConstraint("year", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
