"""ledger: accounts, entries, postings, idempotency, seals

Revision ID: 0002_ledger
Revises: 0001_parties
Create Date: 2026-11-27
"""

from collections.abc import Sequence

revision: str = "0002_ledger"
down_revision: str | None = "0001_parties"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the ledger's tables arrive with the ledger module


def downgrade() -> None:
    pass
