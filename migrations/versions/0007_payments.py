"""payments: top-ups, bank transfers, withdrawals, webhooks, reconciliations

Revision ID: 0007_payments
Revises: 0006_vouchers
Create Date: 2026-11-27
"""

from collections.abc import Sequence

revision: str = "0007_payments"
down_revision: str | None = "0006_vouchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the tables arrive with their module


def downgrade() -> None:
    pass
