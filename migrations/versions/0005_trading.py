"""trading: intents, auctions, bids, negotiations, offers, deals

Revision ID: 0005_trading
Revises: 0004_idempotency
Create Date: 2026-11-27
"""

from collections.abc import Sequence

revision: str = "0005_trading"
down_revision: str | None = "0004_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the tables arrive with their module


def downgrade() -> None:
    pass
