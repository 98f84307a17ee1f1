"""Request and response types of the matching API (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.matching.domain import DocKind


class FeedbackBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A mark on one match: for the query document, the matched document was relevant or not."""

    query_kind: DocKind
    query_id: uuid.UUID
    doc_kind: DocKind
    doc_id: uuid.UUID
    relevant: bool
    contacted: bool = False  # the organisation contacted the other side
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class FeedbackOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    query_kind: DocKind
    query_id: uuid.UUID
    doc_kind: DocKind
    doc_id: uuid.UUID
    relevant: bool
    contacted: bool
    note: str
    created_at: datetime
    created_by: uuid.UUID
