"""Request and response types of the voucher API (msgspec). Money is integer fen."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.credit import Grade
from exchange.vouchers.domain import (
    Category,
    OrderState,
    ProgramFigures,
    ProgramStatus,
    RedemptionKind,
    RedemptionState,
)
from exchange.vouchers.models import (
    RelatedParty,
)
from exchange.vouchers.reports import EnterpriseFigures, ProviderFigures
from kernel.pagination import Page
from kernel.shapes import shaped

MAX_FEN = 10**15
# "Has a visible character", the same in Python and JSON Schema (ECMA) regexes: ``\S`` alone
# differs on U+001C-U+001F and U+0085, which Python counts as white space.
NON_BLANK = r"[^\s\x1c-\x1f\x85]"
Fen = Annotated[int, msgspec.Meta(ge=1, le=MAX_FEN)]
FenOrZero = Annotated[int, msgspec.Meta(ge=0, le=MAX_FEN)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NON_BLANK)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NON_BLANK)]
Note = Annotated[str, msgspec.Meta(max_length=500)]


class ProgramIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Title
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    budget: Fen
    categories: Annotated[list[Category], msgspec.Meta(min_length=1, max_length=8)]
    valid_from: datetime
    valid_until: datetime
    per_org_cap: Fen | None = None  # default: TECHX_VOUCHER_PER_ORG_CAP_FEN
    coverage_bp: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None  # default: TECHX_VOUCHER_COVERAGE_BP
    min_provider_grade: Grade | None = None  # the least credit grade of a provider its vouchers pay (docs/credit.md)


class FundIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Fen
    bank_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NON_BLANK)]


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    org_id: uuid.UUID
    amount: Fen
    note: Note = ""


class RevokeIn(msgspec.Struct, forbid_unknown_fields=True):
    provider_org_id: uuid.UUID
    reason: Reason


class RelatedIn(msgspec.Struct, forbid_unknown_fields=True):
    org_id: uuid.UUID
    note: Note = ""


class ServiceIn(msgspec.Struct, forbid_unknown_fields=True):
    category: Category
    title: Title
    description: Annotated[str, msgspec.Meta(max_length=5000)]
    price: Fen


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    service_id: uuid.UUID
    voucher_amount: FenOrZero
    program_id: uuid.UUID | None = None  # default: the buyer's program that covers it and expires first


class DeliverIn(msgspec.Struct, forbid_unknown_fields=True):
    results_summary: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000, pattern=NON_BLANK)]


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note = ""


class RedemptionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A provider lists its accepted service orders; the exchange lists fee payments instead."""

    order_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] = []
    fee_payment_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] = []


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


# -- responses -------------------------------------------------------------------------------------


class ProgramOut(msgspec.Struct):
    id: uuid.UUID
    owner_org_id: uuid.UUID
    name: str
    year: int
    budget: int
    per_org_cap: int
    coverage_bp: int
    categories: list[Category]
    valid_from: datetime
    valid_until: datetime
    funded: int
    issued: int
    created_at: datetime
    status: ProgramStatus  # by its validity window, at the time of the answer
    min_provider_grade: Grade | None = None  # None: any provider, graded or not


ProgramPage = Page[ProgramOut]


class GrantOut(msgspec.Struct):
    id: uuid.UUID
    program_id: uuid.UUID
    org_id: uuid.UUID
    amount: int
    entry_id: uuid.UUID
    note: str
    created_at: datetime


GrantPage = Page[GrantOut]


class RelatedOut(msgspec.Struct):
    id: uuid.UUID
    org_ids: list[uuid.UUID]
    note: str
    created_at: datetime

    @classmethod
    def of(cls, r: RelatedParty) -> RelatedOut:
        return shaped(cls, r, org_ids=[r.org_a, r.org_b])


class ServiceOut(msgspec.Struct):
    id: uuid.UUID
    provider_org_id: uuid.UUID
    provider_name: str
    category: Category
    title: str
    description: str
    price: int
    created_at: datetime


ServicePage = Page[ServiceOut]


class ProviderOut(msgspec.Struct):
    """A service provider's public record."""

    org_id: uuid.UUID
    name: str
    verified: bool
    services: int
    completed_orders: int  # service orders the buyer accepted
    revoked_by: list[str]  # the programs that revoked the provider: it takes no voucher orders of theirs
    grade: Grade | None = None  # its credit grade (docs/credit.md); None: unrated
    score: float | None = None  # its credit score, 0–100
    ratings: int = 0  # the clients' ratings its score is made of
    demonstration: bool = False  # a demonstration institution (示范机构)


ProviderPage = Page[ProviderOut]


class OrderOut(msgspec.Struct):
    id: uuid.UUID
    service_id: uuid.UUID
    buyer_org_id: uuid.UUID
    provider_org_id: uuid.UUID
    program_id: uuid.UUID | None
    category: Category
    price: int
    voucher_amount: int
    cash_amount: int
    state: OrderState
    voucher_hold_id: uuid.UUID | None
    cash_hold_id: uuid.UUID | None
    results_summary: str
    cancel_reason: str
    redemption_id: uuid.UUID | None
    redeemed: bool
    revoked: bool
    created_at: datetime
    updated_at: datetime


OrderPage = Page[OrderOut]


class RedemptionOut(msgspec.Struct):
    id: uuid.UUID
    program_id: uuid.UUID
    provider_org_id: uuid.UUID
    amount: int
    kind: RedemptionKind
    order_ids: list[uuid.UUID]
    fee_payment_ids: list[uuid.UUID]
    state: RedemptionState
    notice_id: uuid.UUID | None
    reason: str
    decided_at: datetime | None
    created_at: datetime


class FeePaymentOut(msgspec.Struct):
    id: uuid.UUID
    deal_id: uuid.UUID
    program_id: uuid.UUID
    buyer_org_id: uuid.UUID
    fee: int
    amount: int
    redemption_id: uuid.UUID | None
    redeemed: bool
    created_at: datetime
    instalment: int = 0  # which payment of the deal's schedule the fee was charged on
    recipient_org_id: uuid.UUID | None = None  # None: the exchange's fee; else the broker's organisation paid
    ref: str = ""  # the settlement leg paid (a broker engagement's id); "" for the exchange's fee


FeePaymentPage = Page[FeePaymentOut]


class RevocationOut(msgspec.Struct):
    id: uuid.UUID
    program_id: uuid.UUID
    provider_org_id: uuid.UUID
    reason: str
    vouchers_revoked: int
    orders_cancelled: int
    redemptions_rejected: int
    created_at: datetime


RevocationPage = Page[RevocationOut]


class FiguresOut(ProgramFigures, frozen=True):
    """The program's totals and the invariants they break (none in a sound program)."""

    broken_invariants: list[str]


class ReportOut(msgspec.Struct):
    program: ProgramOut
    figures: FiguresOut
    enterprises: list[EnterpriseFigures]
    providers: list[ProviderFigures]
