"""Tables of attachments, created by ``migrations/versions/0021_documents.py``: the documents
(what a stored blob is, whose it is, who may read it) and the log of confidential downloads."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Document(IdMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_owner", "owner_kind", "owner_id"),)

    # What it belongs to: no foreign key, as the owner may be a row of any module's table.
    owner_kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[uuid.UUID]
    uploaded_by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_by_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the file as uploaded
    storage_key: Mapped[str] = mapped_column(String(64))  # of the bytes stored: the ciphertext when confidential
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class DocumentDownload(IdMixin, Base):
    """One download of a confidential document: who, for which organisation, on what basis, when."""

    __tablename__ = "document_downloads"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    basis: Mapped[str] = mapped_column(String(32))
    downloaded_at: Mapped[datetime]
