"""ledger verifications: the outcome of every verification of the whole ledger

Revision ID: 0023_ledger_verifications
Revises: 0022_objection_answers
Create Date: 2026-12-03

``techx ledger verify`` (the operators' schedule) and the console's button record what they found,
so the console shows when the ledger was last proved whole.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0023_ledger_verifications"
down_revision: str | None = "0022_objection_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_verifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("discrepancy", sa.String(2000), nullable=True),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("sealed_entries", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("postings", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_verifications"),
    )
    op.create_index("ix_ledger_verifications_finished_at", "ledger_verifications", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_verifications_finished_at", table_name="ledger_verifications")
    op.drop_table("ledger_verifications")
