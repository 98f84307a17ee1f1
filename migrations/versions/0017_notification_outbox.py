"""the notification outbox: what to tell whom, written in the transaction of the event

Revision ID: 0017_notification_outbox
Revises: 0016_bank_transfer_payer
Create Date: 2026-12-03

Every module records a notification in ``notification_outbox`` inside the transaction of the
event that causes it; the notifications worker expands each row (``expanded_at``) into inbox
items and deliveries. The index on ``expanded_at`` finds the rows still to expand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0017_notification_outbox"
down_revision: str | None = "0016_bank_transfer_payer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expanded_at", UTCDateTime(), nullable=True),
        sa.Column("has_secrets", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_outbox"),
    )
    op.create_index("ix_notification_outbox_expanded_at", "notification_outbox", ["expanded_at"])


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_expanded_at", table_name="notification_outbox")
    op.drop_table("notification_outbox")
