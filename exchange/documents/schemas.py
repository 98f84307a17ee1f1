"""Request and response shapes of attachments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec
from litestar.datastructures import UploadFile

from exchange.documents.domain import DocumentKind, OwnerKind


@dataclass
class UploadForm:
    """``multipart/form-data``: the file, what it is, and whether it is confidential (encrypted at
    rest, shown only under the resource's confidential rule)."""

    file: UploadFile
    kind: DocumentKind = DocumentKind.OTHER
    confidential: bool = False
    label: str = ""


class DocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    owner_kind: OwnerKind
    owner_id: uuid.UUID
    filename: str
    media_type: str
    size: int
    sha256: str
    kind: DocumentKind
    label: str
    confidential: bool
    uploaded_by_org_id: uuid.UUID
    created_at: datetime
    content_url: str


class DocumentList(msgspec.Struct, kw_only=True):
    items: list[DocumentOut]
    may_upload: bool  # the caller may attach documents to the resource now
