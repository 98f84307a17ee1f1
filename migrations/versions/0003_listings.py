"""listings: listings, notices, objections, search

Revision ID: 0003_listings
Revises: 0002_ledger
Create Date: 2026-11-27
"""

from collections.abc import Sequence

revision: str = "0003_listings"
down_revision: str | None = "0002_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the listings' tables arrive with the listings module


def downgrade() -> None:
    pass
