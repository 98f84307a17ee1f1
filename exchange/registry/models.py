"""Tables of the achievement registry: the achievements with their national form's fields, the
append-only events of the synchronisation feed, and the runs of bulk imports.

``registry_events.seq`` is handed out by a counter whose row stays locked until commit (listings'
``bump_counter``), so the feed's sequence follows commit order; the serials of registration numbers
come from one such counter per (code, year, flag). The unique constraints are the last word on both."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Achievement(IdMixin, Base):
    """An achievement's registration (科技成果登记): a draft of its organisation, checked by an operator,
    numbered and published once registered; or a row of a bulk import, registered as imported."""

    __tablename__ = "registry_achievements"
    __table_args__ = (
        UniqueConstraint("code", "year", "flag", "serial", name="uq_registry_achievements_serial"),
        UniqueConstraint("source", "source_id", name="uq_registry_achievements_source"),
    )

    number: Mapped[str | None] = mapped_column(String(12), unique=True)  # e.g. 3102026Y0042, once registered
    code: Mapped[str | None] = mapped_column(String(3))
    year: Mapped[int | None] = mapped_column(Integer)
    flag: Mapped[str | None] = mapped_column(String(1))
    serial: Mapped[int | None] = mapped_column(Integer)

    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(1))  # domain.Category ("" while a draft lacks it)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(40))
    funding_source: Mapped[str] = mapped_column(String(200))
    project_numbers: Mapped[list[str]] = mapped_column(JSON)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_email: Mapped[str] = mapped_column(String(200))
    org_name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orgs.id"), index=True)  # none for an imported row

    search_text: Mapped[str] = mapped_column(Text, default="")  # number, title, keywords, organisation: the search
    origin: Mapped[str] = mapped_column(String(16))  # domain.Origin
    listing_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # no foreign key: another package's table
    disclosure_id: Mapped[uuid.UUID | None]  # an institution's disclosure (another module's)
    source: Mapped[str | None] = mapped_column(String(64))  # a bulk import's source
    source_id: Mapped[str | None] = mapped_column(String(100))

    status: Mapped[str] = mapped_column(String(16), index=True)  # domain.Status
    reason: Mapped[str] = mapped_column(Text, default="")  # of a return or a withdrawal
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # the operator's last act
    version: Mapped[int] = mapped_column(Integer, default=1)  # moves with each correction
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RegistryEvent(IdMixin, Base):
    """One event of the synchronisation feed: an achievement registered, corrected or withdrawn, with
    the record as it stood then. Never updated nor deleted."""

    __tablename__ = "registry_events"

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # the feed's cursor, in commit order
    achievement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registry_achievements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # domain.EventKind
    number: Mapped[str] = mapped_column(String(12))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)  # the feed line's content
    at: Mapped[datetime]


class ImportRun(IdMixin, Base):
    """A bulk import of one file from one source: the last line committed, so a rerun resumes."""

    __tablename__ = "registry_import_runs"

    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    total_rows: Mapped[int] = mapped_column(Integer)
    last_line: Mapped[int] = mapped_column(Integer)  # the last line committed (the header is line 1)
    last_row_line: Mapped[int] = mapped_column(Integer)  # the line of the file's last data row
    created: Mapped[int] = mapped_column(Integer, default=0)
    corrected: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # running | done
    started_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
