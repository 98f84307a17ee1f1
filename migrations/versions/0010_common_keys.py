"""card payments and reconciliations keep their Idempotency-Keys in the common store

Revision ID: 0010_common_keys
Revises: 0009_instalments
Create Date: 2026-12-02

Both now claim their row under the key in ``idempotency_keys`` (the scope rule of
``exchange.platform.keyed``), so their own key and fingerprint columns go. Keys given before
this revision are not carried over: a replay of a request made before the upgrade starts anew.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_common_keys"
down_revision: str | None = "0009_instalments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_stripe_payments") as batch:
        batch.drop_constraint("uq_payment_stripe_payments_org_key", type_="unique")
        batch.drop_column("request_key")
        batch.drop_column("fingerprint")
    with op.batch_alter_table("reconciliations") as batch:
        batch.drop_constraint("uq_reconciliations_request_key", type_="unique")
        batch.drop_column("request_key")
        batch.drop_column("fingerprint")


def downgrade() -> None:
    with op.batch_alter_table("reconciliations") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("request_key", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_reconciliations_request_key", ["request_key"])
    with op.batch_alter_table("payment_stripe_payments") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("request_key", sa.String(255), nullable=False, server_default=""))
        batch.create_unique_constraint("uq_payment_stripe_payments_org_key", ["org_id", "request_key"])
