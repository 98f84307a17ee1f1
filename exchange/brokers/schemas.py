"""Request and response types of the brokers API (msgspec). Amounts are fen, shares basis points."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.brokers.domain import BP, MAX_FEN, Side, SubjectKind
from listings.domain import NON_BLANK

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NON_BLANK)]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NON_BLANK)]
Credential = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


class BrokerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    credential_number: Credential  # 证书编号, e.g. JSJJR-310000-2024-000123
    issuing_body: Text200  # 发证机构
    contact: Text200


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = ""  # required to reject or suspend


class BrokerOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    name: str
    credential_number: str
    issuing_body: str
    contact: str
    status: str
    reason: str
    verified_by: uuid.UUID | None
    verified_at: datetime | None
    created_at: datetime


class BrokerList(msgspec.Struct):
    items: list[BrokerOut]


class EngagementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    broker_id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    owed_by: Side  # the engaging party's own side
    # gt=-1 rather than ge=0 or gt=0: the OpenAPI generator drops a bound of 0 on optional fields;
    # a zero commission is refused by the rule (422 naming the field).
    commission_bp: Annotated[int, msgspec.Meta(gt=-1, le=BP)] | None = None  # a share of the price
    commission_fen: Annotated[int, msgspec.Meta(gt=-1, le=MAX_FEN)] | None = None  # or a fixed amount
    note: Note = ""


class EngagementOut(msgspec.Struct):
    id: uuid.UUID
    broker_id: uuid.UUID
    broker_org_id: uuid.UUID
    subject_kind: str
    subject_id: uuid.UUID
    listing_id: uuid.UUID | None
    seller_org_id: uuid.UUID | None
    buyer_org_id: uuid.UUID | None
    engaged_by_org_id: uuid.UUID
    owed_by: str
    commission_bp: int | None
    commission_fen: int | None
    basis: str
    note: str
    status: str
    reason: str
    deal_id: uuid.UUID | None
    commission: int | None  # the lump sum on the deal, fixed when bound
    earned: int  # fen paid to the broker's organisation so far, from the ledger
    created_at: datetime
    answered_at: datetime | None


class EngagementList(msgspec.Struct):
    items: list[EngagementOut]


class EarnedOnDeal(msgspec.Struct):
    deal_id: uuid.UUID
    earned: int


class CreditOut(msgspec.Struct):
    """The broker organisation's published credit (docs/credit.md), as the service catalogue shows it."""

    grade: str | None  # A–D; None: unrated
    score: float | None  # 0–100
    ratings: int  # the clients' ratings of its service orders and brokered deals
    demonstration: bool  # a demonstration institution (示范机构)


class RecordOut(msgspec.Struct):
    broker: BrokerOut
    engagements: dict[str, int]  # by status
    deals: int  # deals it was engaged on
    deals_closed: int  # of them, settled
    earned: int  # commission paid to its organisation, fen, from the ledger
    earned_by_deal: list[EarnedOnDeal]
    ratings: list[dict[str, str]] | None  # always null: the ratings are its organisation's, in ``credit``
    credit: CreditOut | None = None  # its organisation's credit; its ratings: GET /credit/providers/{org_id}/ratings
