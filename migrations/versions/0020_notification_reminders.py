"""reminders told once: a row per kind and subject a sweep step has reminded of

Revision ID: 0020_notification_reminders
Revises: 0019_notifications
Create Date: 2026-12-03

The sweep steps that remind (an announcement closing, an offer expiring, vouchers expiring)
insert a row here in the transaction of the reminder's outbox row; the unique key keeps a
reminder from being told twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0020_notification_reminders"
down_revision: str | None = "0019_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("subject_key", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_reminders"),
        sa.UniqueConstraint("kind", "subject_key", name="uq_notification_reminders_kind_subject_key"),
    )


def downgrade() -> None:
    op.drop_table("notification_reminders")
