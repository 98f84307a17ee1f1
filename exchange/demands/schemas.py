"""Request and response types of the demands API (msgspec). Amounts are fen; deadlines Beijing dates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from exchange.demands.domain import (
    MAX_INVITED,
    MAX_IPC,
    MAX_KEYWORDS,
    AcceptedForm,
    CampaignKind,
    NegotiationPath,
    Screening,
    Visibility,
)
from kernel.pagination import Page
from listings.domain import Field, Text200

LongText = Annotated[str, msgspec.Meta(max_length=5000)]
# gt=-1 rather than ge=0: the OpenAPI generator drops a bound of 0 on optional fields (listings' Fen).
Fen = Annotated[int, msgspec.Meta(gt=-1, le=10**15)]
Short = Annotated[str, msgspec.Meta(max_length=50)]


class DemandIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A demand's content; a draft needs only its title, publishing checks the rest."""

    title: Text200
    description: LongText = ""
    performance: LongText = ""
    field: Field = Field.OTHER
    # the least technology readiness level (1–9, as listings' maturity) the enterprise can use
    min_maturity: Annotated[int, msgspec.Meta(ge=1, le=9)] | None = None
    ipc_codes: Annotated[list[Short], msgspec.Meta(max_length=MAX_IPC)] = []
    keywords: Annotated[list[Short], msgspec.Meta(max_length=MAX_KEYWORDS)] = []
    budget_min_fen: Fen | None = None
    budget_max_fen: Fen | None = None
    accepted_forms: Annotated[list[AcceptedForm], msgspec.Meta(max_length=5)] = []
    deadline: date | None = None
    visibility: Visibility = Visibility.PUBLIC
    invited_org_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_INVITED)] = []
    confidential: LongText = ""


class CloseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


class DemandOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    title: str
    description: str
    performance: str
    field: str
    min_maturity: int | None
    ipc_codes: list[str]
    keywords: list[str]
    budget_min_fen: int | None
    budget_max_fen: int | None
    accepted_forms: list[str]
    deadline: date | None
    deadline_at: datetime | None
    visibility: str
    invited_org_ids: list[uuid.UUID] | None  # the owner and operators only
    has_confidential: bool
    status: str
    close_reason: str
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    proposal_count: int | None = None  # the owner and operators only


DemandPage = Page[DemandOut]


class NdaOut(msgspec.Struct):
    demand_id: uuid.UUID
    org_id: uuid.UUID
    terms_version: str
    accepted_at: datetime


class ConfidentialOut(msgspec.Struct):
    demand_id: uuid.UUID
    confidential: str
    access: str  # owner, operator, nda


# ----------------------------------------------------------------------------------------------
# Campaigns


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    theme: Text200
    description: LongText
    rules: LongText
    kind: CampaignKind
    deadline: date


class CampaignOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organiser_org_id: uuid.UUID
    organiser_name: str
    theme: str
    description: str
    rules: str
    kind: str
    deadline: date
    deadline_at: datetime
    status: str
    open: bool
    created_at: datetime
    closed_at: datetime | None


CampaignPage = Page[CampaignOut]


class SubmissionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A demand of the caller's (a demands campaign) or a proposal of the caller's (a solutions campaign)."""

    demand_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None


class ScreeningIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    decision: Annotated[Screening, msgspec.Meta(description="accepted or rejected")]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class SubmissionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    campaign_id: uuid.UUID
    demand_id: uuid.UUID | None
    proposal_id: uuid.UUID | None
    title: str  # the demand's title, or the proposal's demand's
    org_id: uuid.UUID
    submitted_at: datetime
    screening: str
    reason: str
    screened_at: datetime | None


SubmissionPage = Page[SubmissionOut]


# ----------------------------------------------------------------------------------------------
# Proposals


class ProposalIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    summary: LongText
    solution: LongText = ""
    listing_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = []
    budget_fen: Fen | None = None


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True):
    # Not blank: the rule's (``check_decline``), refused 422 naming ``reason`` as every rule.
    reason: Annotated[str, msgspec.Meta(max_length=2000)]


class NegotiateIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    path: NegotiationPath
    listing_id: uuid.UUID | None = None  # path listing: one of the proposal's linked listings


class ProposalListingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a listing needs beyond what the proposal and its demand prefill (title, summary, field,
    keywords): the listing content of ``POST /listings`` in whole, any field left out prefilled."""

    content: dict[str, Any]
    confidential_details: Annotated[str, msgspec.Meta(max_length=20000)] | None = None


class ProposalOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    demand_id: uuid.UUID
    demand_title: str
    org_id: uuid.UUID
    org_name: str
    summary: str
    solution: str
    listing_ids: list[uuid.UUID]
    budget_fen: int | None
    status: str
    feedback: str
    negotiation: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


ProposalPage = Page[ProposalOut]
