"""Request and response types of the tracking API (msgspec). Amounts are fen, dates Beijing dates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from exchange.tracking.domain import MAX_IP, MAX_JOBS, MAX_TEXT, ReportStatus, RevenueBand

Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An implementation report: filed once per slot, corrected (filed again) until the next is due."""

    status: ReportStatus  # in_development 研发中 | in_production 已投产 | abandoned 已终止
    reason: Text = ""  # required when abandoned
    products: Text = ""  # the products or processes made with the technology
    revenue_band: RevenueBand = RevenueBand.NONE  # revenue from it in the period reported
    # gt=-1 rather than ge=0: the OpenAPI generator drops a bound of 0 (see the brokers' schemas).
    jobs_created: Annotated[int, msgspec.Meta(gt=-1, le=MAX_JOBS)] = 0
    further_ip_count: Annotated[int, msgspec.Meta(gt=-1, le=MAX_IP)] = 0  # patents and other IP filed since
    further_ip: Text = ""  # their titles or numbers; required when counted


class ReportOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    deal_id: uuid.UUID
    seq: int
    months: int  # after settlement
    due_on: date
    opens_at: datetime
    overdue_at: datetime
    corrections_until: datetime
    state: str  # upcoming | open | overdue | filed
    may_file: bool  # for its buyer, now: open, overdue, or filed and still correctable
    status: str | None
    reason: str
    products: str
    revenue_band: str | None
    jobs_created: int | None
    further_ip_count: int | None
    further_ip: str
    filed_by: uuid.UUID | None
    filed_at: datetime | None
    corrected_at: datetime | None


class TrackedDealOut(msgspec.Struct, kw_only=True):
    deal_id: uuid.UUID
    listing_id: uuid.UUID
    title: str
    field: str
    deal_type: str
    amount: int
    settled_at: datetime
    buyer_org_id: uuid.UUID
    buyer_name: str
    seller_org_id: uuid.UUID
    seller_name: str
    latest_status: str | None  # of the latest filed report
    overdue: int  # reports past due and not filed
    next_due_on: date | None  # the next report not filed
    reports: list[ReportOut]


class TrackedDealList(msgspec.Struct):
    items: list[TrackedDealOut]
    next_cursor: str | None = None


class OverdueOut(msgspec.Struct, kw_only=True):
    report: ReportOut
    title: str
    buyer_org_id: uuid.UUID
    buyer_name: str
    seller_org_id: uuid.UUID
    seller_name: str
    days_overdue: int


class OverdueList(msgspec.Struct):
    items: list[OverdueOut]
    next_cursor: str | None = None
