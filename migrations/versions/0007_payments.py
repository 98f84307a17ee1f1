"""payments: top-ups, bank transfers, withdrawals, webhooks, reconciliations

Revision ID: 0007_payments
Revises: 0006_vouchers
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0007_payments"
down_revision: str | None = "0006_vouchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_bank_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_bank_transfers"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_payment_bank_transfers_org_id_orgs"),
        sa.UniqueConstraint("reference", name="uq_payment_bank_transfers_reference"),
    )
    op.create_index("ix_payment_bank_transfers_org_id", "payment_bank_transfers", ["org_id"])

    op.create_table(
        "payment_withdrawals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payee", sa.String(500), nullable=False),
        sa.Column("hold_entry_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("bank_reference", sa.String(200), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_withdrawals"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_payment_withdrawals_org_id_orgs"),
        sa.UniqueConstraint("bank_reference", name="uq_payment_withdrawals_bank_reference"),
    )
    op.create_index("ix_payment_withdrawals_org_id", "payment_withdrawals", ["org_id"])
    op.create_index("ix_payment_withdrawals_status", "payment_withdrawals", ["status"])

    op.create_table(
        "payment_stripe_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("payment_intent_id", sa.String(255), nullable=True),
        sa.Column("charge_id", sa.String(255), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("failure", sa.String(500), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_stripe_payments"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_payment_stripe_payments_org_id_orgs"),
        sa.UniqueConstraint("org_id", "request_key", name="uq_payment_stripe_payments_org_key"),
        sa.UniqueConstraint("payment_intent_id", name="uq_payment_stripe_payments_payment_intent_id"),
    )
    op.create_index("ix_payment_stripe_payments_org_id", "payment_stripe_payments", ["org_id"])

    op.create_table(
        "payment_stripe_refunds",
        sa.Column("refund_id", sa.String(255), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("refund_id", name="pk_payment_stripe_refunds"),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment_stripe_payments.id"],
            name="fk_payment_stripe_refunds_payment_id_payment_stripe_payments",
        ),
    )
    op.create_index("ix_payment_stripe_refunds_payment_id", "payment_stripe_refunds", ["payment_id"])

    op.create_table(
        "payment_stripe_events",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(200), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_stripe_events"),
    )

    op.create_table(
        "payment_bookings",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("value_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_payment_bookings"),
    )
    op.create_index("ix_payment_bookings_provider_value_at", "payment_bookings", ["provider", "value_at"])

    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request_key", sa.String(255), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("statement_sha256", sa.String(64), nullable=True),
        sa.Column("row_errors", sa.Text(), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("provider_records", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.String(1000), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliations"),
        sa.UniqueConstraint("request_key", name="uq_reconciliations_request_key"),
    )

    op.create_table(
        "reconciliation_records",
        sa.Column("reconciliation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "reference", sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("reconciliation_id", "seq", name="pk_reconciliation_records"),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name="fk_reconciliation_records_reconciliation_id_reconciliations",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_reconciliation_records_run_reference", "reconciliation_records", ["reconciliation_id", "reference"]
    )

    op.create_table(
        "reconciliation_lines",
        sa.Column("reconciliation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("ledger_amount", sa.BigInteger(), nullable=True),
        sa.Column("provider_amount", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("reconciliation_id", "seq", name="pk_reconciliation_lines"),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name="fk_reconciliation_lines_reconciliation_id_reconciliations",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "reconciliation_resolutions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reconciliation_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("counter_account", sa.String(200), nullable=False),
        sa.Column("value_at", UTCDateTime(), nullable=False),
        sa.Column("adjustment_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("maker_id", sa.Uuid(), nullable=False),
        sa.Column("checker_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_resolutions"),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name="fk_reconciliation_resolutions_reconciliation_id_reconciliations",
        ),
    )
    op.create_index(
        "ix_reconciliation_resolutions_reconciliation_id", "reconciliation_resolutions", ["reconciliation_id"]
    )


def downgrade() -> None:
    for table in (
        "reconciliation_resolutions",
        "reconciliation_lines",
        "reconciliation_records",
        "reconciliations",
        "payment_bookings",
        "payment_stripe_events",
        "payment_stripe_refunds",
        "payment_stripe_payments",
        "payment_withdrawals",
        "payment_bank_transfers",
    ):
        op.drop_table(table)
