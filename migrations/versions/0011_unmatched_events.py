"""webhook events keep what became of them: processed, ignored, or unmatched (an unknown object)

Revision ID: 0011_unmatched_events
Revises: 0010_common_keys
Create Date: 2026-12-02

A signed Stripe event about an object the exchange does not know is recorded as ``unmatched`` and
answered 200 (it used to be answered 502, and Stripe retried it for days); operators list such
events and reconciliation shows them. Events recorded before this revision are filed by their
outcome: the ones about a payment, charge or refund that was not the exchange's as ``unmatched``,
other ignored ones as ``ignored``, the rest as ``processed``; their object id is not known (empty).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_unmatched_events"
down_revision: str | None = "0010_common_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_stripe_events") as batch:
        batch.add_column(sa.Column("object_id", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="processed"))
    events = sa.table("payment_stripe_events", sa.column("outcome", sa.String), sa.column("status", sa.String))
    op.execute(events.update().where(events.c.outcome.like("ignored:%")).values(status="ignored"))
    unmatched = sa.or_(
        *(events.c.outcome.like(f"ignored: {what} %") for what in ("payment intent", "charge", "refund"))
    )
    op.execute(events.update().where(unmatched).values(status="unmatched"))
    op.create_index("ix_payment_stripe_events_status_received_at", "payment_stripe_events", ["status", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_stripe_events_status_received_at", table_name="payment_stripe_events")
    with op.batch_alter_table("payment_stripe_events") as batch:
        batch.drop_column("status")
        batch.drop_column("object_id")
