"""vouchers: programs, grants, services, service orders, redemptions

Revision ID: 0006_vouchers
Revises: 0005_trading
Create Date: 2026-11-27
"""

from collections.abc import Sequence

revision: str = "0006_vouchers"
down_revision: str | None = "0005_trading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the tables arrive with their module


def downgrade() -> None:
    pass
