"""notifications: inbox items, deliveries, preferences and webhook endpoints

Revision ID: 0019_notifications
Revises: 0018_accounts
Create Date: 2026-12-03

The notifications worker expands each outbox row into inbox items (one per user, unique) and
deliveries (one per email address or webhook endpoint, unique), sent with retries; the index on
(status, next_attempt_at) finds the deliveries due. Users keep their language and switches;
organisations register webhook endpoints whose secrets are sealed with the data key ring.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0019_notifications"
down_revision: str | None = "0018_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_notification_webhooks_org_id_orgs"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_notification_webhooks_created_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_webhooks"),
    )
    op.create_index("ix_notification_webhooks_org_id", "notification_webhooks", ["org_id"])

    op.create_table(
        "notification_inbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["notification_outbox.id"], name="fk_notification_inbox_event_id_notification_outbox"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_notification_inbox_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_inbox"),
        sa.UniqueConstraint("event_id", "user_id", name="uq_notification_inbox_event_user"),
    )
    op.create_index("ix_notification_inbox_user_id_id", "notification_inbox", ["user_id", "id"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("endpoint_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("give_up_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["notification_outbox.id"], name="fk_notification_deliveries_event_id_notification_outbox"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_notification_deliveries_user_id_users"),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["notification_webhooks.id"],
            name="fk_notification_deliveries_endpoint_id_notification_webhooks",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint("event_id", "channel", "recipient", name="uq_notification_deliveries_event_recipient"),
    )
    op.create_index("ix_notification_deliveries_event_id", "notification_deliveries", ["event_id"])
    op.create_index(
        "ix_notification_deliveries_status_next_attempt_at", "notification_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("ix_notification_deliveries_endpoint_id_id", "notification_deliveries", ["endpoint_id", "id"])

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("switches", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_notification_preferences_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_preferences"),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index("ix_notification_deliveries_endpoint_id_id", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_status_next_attempt_at", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_event_id", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notification_inbox_user_id_id", table_name="notification_inbox")
    op.drop_table("notification_inbox")
    op.drop_index("ix_notification_webhooks_org_id", table_name="notification_webhooks")
    op.drop_table("notification_webhooks")
