"""Request and response shapes of payments and reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from exchange.payments.domain import (
    MAX_AMOUNT,
    CardPaymentStatus,
    ReconciliationStatus,
    ResolutionStatus,
    StripeEventStatus,
    WithdrawalStatus,
)
from kernel.pagination import Page

Amount = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT, description="fen, > 0")]
Reference = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=200, pattern=r"^\s*[\w\-./:#]{1,200}\s*$", description="as on the bank statement"
    ),
]
Text = Annotated[str, msgspec.Meta(max_length=500)]
PayerAccount = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        pattern=r"^[0-9A-Za-z \-]*$",
        description="the payer's account number as on the bank statement (spaces and dashes are dropped)",
    ),
]
PayerName = Annotated[str, msgspec.Meta(max_length=200, description="the payer's account name as on the statement")]


class BankTransferIn(msgspec.Struct, forbid_unknown_fields=True):
    org_id: UUID
    amount: Amount
    reference: Reference
    received_on: date | None = None  # the value date; default: today in China
    note: Text = ""
    payer_account: PayerAccount = ""
    payer_name: PayerName = ""


class BankTransferOut(msgspec.Struct):
    id: UUID
    org_id: UUID
    amount: int
    reference: str
    received_on: date
    note: str
    entry_id: UUID
    recorded_by: UUID
    created_at: datetime
    payer_account: str = ""
    payer_name: str = ""


class PayerAccountOut(msgspec.Struct):
    """An account an organisation paid from: what its recorded bank transfers name as payer."""

    payer_account: str
    payer_name: str
    transfers: int
    first_received_on: date
    last_received_on: date


PayerAccountPage = Page[PayerAccountOut]


class AccountPayerOut(msgspec.Struct):
    """An organisation that paid from a bank account, under the payer name its transfers give."""

    org_id: UUID
    org_name: str
    payer_account: str
    payer_name: str
    transfers: int
    first_received_on: date
    last_received_on: date


AccountPayerPage = Page[AccountPayerOut]


class WithdrawalIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    payee: Annotated[
        str,
        msgspec.Meta(
            max_length=500,
            description="the bank account to pay (required for the organisation's wallet; a payer account's"
            " withdrawals go to the bank account on its record)",
        ),
    ] = ""
    payer: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=100,
                description="the payer account when it is not the caller's organisation's wallet:"
                " `inventor:<inventor account id>`",
            ),
        ]
        | None
    ) = None


class CompleteWithdrawalIn(msgspec.Struct, forbid_unknown_fields=True):
    bank_reference: Reference
    paid_on: date | None = None


class RejectWithdrawalIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class WithdrawalOut(msgspec.Struct):
    id: UUID
    org_id: UUID
    amount: int
    status: WithdrawalStatus
    payee: str
    hold_entry_id: UUID
    entry_id: UUID | None
    bank_reference: str | None
    paid_on: date | None
    reason: str
    created_at: datetime
    decided_at: datetime | None
    payer: str | None = None  # ``inventor:<id>``: not the organisation's wallet (the organisation answers for it)


WithdrawalPage = Page[WithdrawalOut]


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount


class PaymentOut(msgspec.Struct):
    id: UUID
    org_id: UUID
    amount: int
    currency: str
    status: CardPaymentStatus
    payment_intent_id: str | None
    client_secret: str | None
    entry_id: UUID | None
    created_at: datetime


class WebhookOut(msgspec.Struct):
    received: bool
    outcome: str


class StripeEventOut(msgspec.Struct):
    """A webhook event as the exchange recorded it (once per event id)."""

    id: str
    type: str
    object_id: str  # the object the event is about (pi_…, ch_…, re_…)
    status: StripeEventStatus
    outcome: str
    received_at: datetime


StripeEventPage = Page[StripeEventOut]


class ReconciliationIn(msgspec.Struct, forbid_unknown_fields=True):
    provider: Literal["stripe", "bank_transfer"]
    period_from: date
    period_to: date
    statement: Annotated[str, msgspec.Meta(max_length=1_000_000)] | None = None  # CSV: date, amount, reference


class RowErrorOut(msgspec.Struct):
    line: int
    message: str


class OutcomeTotals(msgspec.Struct):
    count: int
    ledger_amount: int
    provider_amount: int


class LineOut(msgspec.Struct):
    outcome: str
    reference: str
    ledger_amount: int | None
    provider_amount: int | None
    entry_id: str | None


class ReconciliationOut(msgspec.Struct):
    id: UUID
    provider: str
    period_from: date
    period_to: date
    status: ReconciliationStatus
    clean: bool
    provider_records: int
    totals: dict[str, OutcomeTotals]
    row_errors: list[RowErrorOut]
    differences: list[LineOut]
    created_at: datetime
    completed_at: datetime | None
    error: str = ""
    # Stripe runs: webhook events received in the period about objects the exchange does not know
    # (at most 100, newest first; all of them at GET /webhooks/stripe/events?status=unmatched).
    unmatched_events: list[StripeEventOut] = []


ReconciliationPage = Page[ReconciliationOut]


class ResolutionIn(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    counter_account: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="ledger account code")]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ResolutionOut(msgspec.Struct):
    id: UUID
    reconciliation_id: UUID
    reference: str
    amount: int
    counter_account: str
    adjustment_id: UUID
    status: ResolutionStatus
    entry_id: UUID | None
    maker_id: UUID
    checker_id: UUID | None
    created_at: datetime
    approved_at: datetime | None
