"""payer withdrawals: a withdrawal from an account other than the organisation's wallet

Revision ID: 0026_payer_withdrawals
Revises: 0025_institution_notice_kinds
Create Date: 2026-12-20

An inventor paid by an institution withdraws from their own account (``inventor:<id>:cash``) as an
organisation withdraws from its wallet. ``payment_withdrawals.payer`` names that payer account
(``inventor:<id>``; NULL for the organisation's wallet, as every withdrawal before); ``org_id``
stays the organisation answerable for it (the institution). ``inventor_accounts.payee`` is the bank
account the institution checked with the inventor's identity, to which their withdrawals are paid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_payer_withdrawals"
down_revision: str | None = "0025_institution_notice_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: nothing stored changes, no table is rebuilt.
    op.add_column("payment_withdrawals", sa.Column("payer", sa.String(100), nullable=True))
    op.create_index("ix_payment_withdrawals_payer", "payment_withdrawals", ["payer"])
    op.add_column("inventor_accounts", sa.Column("payee", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("inventor_accounts") as batch:
        batch.drop_column("payee")
    with op.batch_alter_table("payment_withdrawals") as batch:
        batch.drop_index("ix_payment_withdrawals_payer")
        batch.drop_column("payer")
