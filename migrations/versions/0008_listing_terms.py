"""listing terms: the appraisal report of record, the declared inventor reward share, the auction opening

Revision ID: 0008_listing_terms
Revises: 0007_payments
Create Date: 2026-12-02

Existing rows: listings keep their appraisal with no report cited (a later change of it needs
one); public institutions' listings (universities, research institutes) declare the share the
exchange applied until now, ``TECHX_INVENTOR_REWARD_BP`` of the environment that upgrades (7000,
70 %, by default), other sellers none; the auction opening stays empty, and the close of an
announcement made before this revision sets it by the rule (the set time of the next working day).

Plain ADD COLUMN on both databases: SQLite adds a nullable column in place, so the listings table
keeps its full-text triggers (a batch copy of the table would drop them).
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0008_listing_terms"
down_revision: str | None = "0007_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def columns() -> list[sa.Column]:
    return [
        sa.Column("appraisal_report_number", sa.String(64), nullable=True),
        sa.Column("appraiser", sa.String(200), nullable=True),
        sa.Column("appraisal_report_date", sa.Date(), nullable=True),
        sa.Column("inventor_reward_bp", sa.Integer(), nullable=True),
        sa.Column("auction_opens_at", UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    for column in columns():
        op.add_column("listings", column)
    share = int(os.environ.get("TECHX_INVENTOR_REWARD_BP", "7000"))
    listings = sa.table("listings", sa.column("seller_kind", sa.String), sa.column("inventor_reward_bp", sa.Integer))
    op.execute(
        listings.update()
        .where(listings.c.seller_kind.in_(("university", "research_institute")))
        .values(inventor_reward_bp=share)
    )


def downgrade() -> None:
    for column in reversed(columns()):
        op.drop_column("listings", column.name)
