"""bank transfers name their payer: the account and account name the money came from

Revision ID: 0016_bank_transfer_payer
Revises: 0015_notices_by_closing
Create Date: 2026-12-03

An operator recording an incoming transfer may copy the payer's account number and name from the
bank statement; the organisation's page then lists the accounts it pays from
(``GET /orgs/{id}/bank-accounts``), so that the next transfer from the same account is matched.
Transfers recorded before keep empty values.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_bank_transfer_payer"
down_revision: str | None = "0015_notices_by_closing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_bank_transfers") as batch:
        batch.add_column(sa.Column("payer_account", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("payer_name", sa.String(200), nullable=False, server_default=""))
    op.create_index("ix_payment_bank_transfers_payer_account", "payment_bank_transfers", ["payer_account"])


def downgrade() -> None:
    op.drop_index("ix_payment_bank_transfers_payer_account", table_name="payment_bank_transfers")
    with op.batch_alter_table("payment_bank_transfers") as batch:
        batch.drop_column("payer_name")
        batch.drop_column("payer_account")
