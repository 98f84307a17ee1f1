"""Tables of payments and reconciliation. The schema is created by ``migrations/versions/0007_payments.py``."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class BankTransfer(IdMixin, Base):
    """An incoming bank transfer recorded by an operator; its bank reference is recorded once."""

    __tablename__ = "payment_bank_transfers"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    received_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(500), default="")
    entry_id: Mapped[uuid.UUID]
    recorded_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
    # From the bank statement, when the operator gives them (0016): the accounts an org pays from.
    payer_account: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    payer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Withdrawal(IdMixin, Base):
    """Money a party asked to be paid out by bank: held on its wallet until an operator decides."""

    __tablename__ = "payment_withdrawals"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # requested, completed, rejected
    payee: Mapped[str] = mapped_column(String(500))
    hold_entry_id: Mapped[uuid.UUID]
    entry_id: Mapped[uuid.UUID | None]  # the entry that posted or voided the hold
    bank_reference: Mapped[str | None] = mapped_column(String(200), unique=True)
    paid_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(500), default="")
    requested_by: Mapped[uuid.UUID]
    decided_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # The payer account when it is not the organisation's wallet (0027): ``inventor:<id>``, an
    # inventor's account whose institution is ``org_id``. NULL: the organisation's own wallet.
    payer: Mapped[str | None] = mapped_column(String(100), index=True, default=None)


class StripePayment(IdMixin, Base):
    """A top-up by card through a Stripe PaymentIntent; credited once, when Stripe says it succeeded."""

    __tablename__ = "payment_stripe_payments"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # creating, pending, succeeded, failed, canceled
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    charge_id: Mapped[str | None] = mapped_column(String(255))
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_id: Mapped[uuid.UUID | None]
    failure: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StripeRefund(Base):
    __tablename__ = "payment_stripe_refunds"

    refund_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_stripe_payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # recorded, unrecovered (the wallet could not cover it)
    entry_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class StripeEvent(Base):
    """Webhook events already processed, by Stripe's event id, and what became of each.

    ``status`` (``StripeEventStatus``) is ``unmatched`` for an event about an object the exchange
    does not know (added by ``0011_unmatched_events``): operators list those and reconciliation shows them.
    """

    __tablename__ = "payment_stripe_events"
    __table_args__ = (Index("ix_payment_stripe_events_status_received_at", "status", "received_at"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="processed")  # processed, ignored, unmatched
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]


class Booking(Base):
    """Where a ledger entry meets the provider: its reference and the time the money moved there.

    Reconciliation reads an entry's reference and date from here when present (a withdrawal is
    paid under the bank's reference; an adjustment belongs to the period of the difference it
    resolves), and from the entry itself otherwise.
    """

    __tablename__ = "payment_bookings"
    __table_args__ = (Index("ix_payment_bookings_provider_value_at", "provider", "value_at"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(200))
    value_at: Mapped[datetime]


class Reconciliation(IdMixin, Base):
    __tablename__ = "reconciliations"

    provider: Mapped[str] = mapped_column(String(16))
    period_from: Mapped[date]
    period_to: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))  # running, completed, failed
    statement_sha256: Mapped[str | None] = mapped_column(String(64))
    row_errors: Mapped[str] = mapped_column(Text, default="[]")
    totals: Mapped[str] = mapped_column(Text, default="{}")
    provider_records: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


# Byte order on PostgreSQL too, so that the database sorts references as Python compares them and
# the index on (run, reference) serves the ordered reads.
REFERENCE_ORDER = String(200).with_variant(String(200, collation="C"), "postgresql")


class ProviderRecord(Base):
    """The provider's side of a run, staged so that it can be read back in reference order."""

    __tablename__ = "reconciliation_records"
    __table_args__ = (Index("ix_reconciliation_records_run_reference", "reconciliation_id", "reference"),)

    reconciliation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reconciliations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reference: Mapped[str] = mapped_column(REFERENCE_ORDER)
    amount: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]


class ReconciliationLine(Base):
    """A difference found by a run (matched records are counted in the totals, not listed)."""

    __tablename__ = "reconciliation_lines"

    reconciliation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reconciliations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    outcome: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(200))
    ledger_amount: Mapped[int | None] = mapped_column(BigInteger)
    provider_amount: Mapped[int | None] = mapped_column(BigInteger)
    entry_id: Mapped[str | None] = mapped_column(String(36))


class Resolution(IdMixin, Base):
    """An adjustment proposed to resolve one difference of a run; posted when a second operator approves."""

    __tablename__ = "reconciliation_resolutions"

    reconciliation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)  # into the provider's account; negative: out of it
    counter_account: Mapped[str] = mapped_column(String(200))
    value_at: Mapped[datetime]
    adjustment_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16))  # proposed, approved
    entry_id: Mapped[uuid.UUID | None]
    maker_id: Mapped[uuid.UUID]
    checker_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
