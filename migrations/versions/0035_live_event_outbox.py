"""live event outbox: live events written in their transaction, relayed to NATS JetStream

Revision ID: 0035_live_event_outbox
Revises: 0034_ledger_shards
Create Date: 2026-12-05

With ``TECHX_CHANNELS_BACKEND=jetstream`` a transaction's live events (an auction's bids and
close) are rows of ``live_event_outbox``, committed with it; the relay publishes them in ``id``
order with ``event_id`` as the message's ``Nats-Msg-Id`` and deletes them (docs/scaling.md). The
id is an integer the database assigns (SQLite: an INTEGER PRIMARY KEY; PostgreSQL: a BIGINT
identity), so that it follows the order of insertion.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0035_live_event_outbox"
down_revision: str | None = "0034_ledger_shards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_event_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_live_event_outbox"),
        sa.UniqueConstraint("event_id", name="uq_live_event_outbox_event_id"),
    )


def downgrade() -> None:
    op.drop_table("live_event_outbox")
