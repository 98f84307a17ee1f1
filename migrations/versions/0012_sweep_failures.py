"""due rows a sweeper step failed to process: backing off, or set aside for an operator

Revision ID: 0012_sweep_failures
Revises: 0011_unmatched_events
Create Date: 2026-12-10

A row whose processing raises is recorded here with its error and retried with growing gaps; after
``TECHX_SWEEP_MAX_ATTEMPTS`` failures it is set aside until an operator asks for a retry. The other
due rows are processed meanwhile. The row is deleted when it is processed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0012_sweep_failures"
down_revision: str | None = "0011_unmatched_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweep_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=False),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("set_aside_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sweep_failures"),
    )
    op.create_index("uq_sweep_failures_step_row_key", "sweep_failures", ["step", "row_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_sweep_failures_step_row_key", table_name="sweep_failures")
    op.drop_table("sweep_failures")
