"""Request and response types of the registry API (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.registry.domain import EMAIL, PHONE, Category, Level, Stage
from listings.domain import Field

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Keyword = Annotated[str, msgspec.Meta(max_length=20)]
ProjectNumber = Annotated[str, msgspec.Meta(max_length=64)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
# The form's checks of a phone and an e-mail address (domain.PHONE, domain.EMAIL), stated in the schema so
# that what it calls well formed the rules accept: blank, or the value between spaces.
Phone = Annotated[str, msgspec.Meta(max_length=32, pattern=rf"^ *({PHONE.pattern[1:-1]})? *$")]
Email = Annotated[str, msgspec.Meta(max_length=200, pattern=rf"^ *({EMAIL.pattern[1:-1]})? *$")]


class AchievementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A registration's form (科技成果登记表). Every field may be left out of a draft: the listing or
    disclosure it comes from fills what is left out; submitting needs what the national form requires."""

    listing_id: uuid.UUID | None = None  # prefill from the organisation's listing
    disclosure_id: uuid.UUID | None = None  # or from its institution's disclosure
    title: Text200 | None = None
    summary: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    category: Category | None = None  # J 基础理论, Y 应用技术, R 软科学: the number's flag
    keywords: Annotated[list[Keyword], msgspec.Meta(max_length=3)] | None = None
    level: Level | None = None
    stage: Stage | None = None
    field: Field | None = None
    funding_source: Text200 | None = None
    project_numbers: Annotated[list[ProjectNumber], msgspec.Meta(max_length=10)] | None = None
    contact_name: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    org_name: Text200 | None = None


class CorrectionIn(AchievementIn, forbid_unknown_fields=True, kw_only=True):
    reason: Reason  # why the registered record changes: carried by the feed's event


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = ""  # required to return or withdraw


class AchievementOut(msgspec.Struct):
    id: uuid.UUID
    number: str | None
    status: str
    reason: str
    title: str
    summary: str
    category: str
    keywords: list[str]
    level: str
    stage: str
    field: str
    funding_source: str
    project_numbers: list[str]
    contact_name: str
    contact_phone: str
    contact_email: str
    org_name: str
    org_id: uuid.UUID | None
    origin: str
    listing_id: uuid.UUID | None
    disclosure_id: uuid.UUID | None
    source: str | None
    source_id: str | None
    version: int
    submitted_at: datetime | None
    registered_at: datetime | None
    created_at: datetime


class AchievementPage(msgspec.Struct):
    """A keyset page of achievements (``kernel.pagination``): ``next_cursor`` asks for the next."""

    items: list[AchievementOut]
    next_cursor: str | None = None


class ImportRunOut(msgspec.Struct):
    id: uuid.UUID
    source: str
    filename: str
    total_rows: int
    last_line: int
    last_row_line: int
    created: int
    corrected: int
    unchanged: int
    status: str
    created_at: datetime
    updated_at: datetime
