"""tracking: settled deals tracked after the deal and their implementation reports

Revision ID: 0032_tracking
Revises: 0030_broker_vouchers
Create Date: 2026-12-24

``tracked_deals`` keeps each settled deal's facts as tracking read them from trading (parties,
title, field, deal type, price, settlement); ``tracking_reports`` one row per report of its
schedule (exchange/tracking/models.py, docs/tracking.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0032_tracking"
down_revision: str | None = "0031_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracked_deals",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_org_id", sa.Uuid(), nullable=False),
        sa.Column("seller_org_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("deal_type", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["buyer_org_id"], ["orgs.id"], name=op.f("fk_tracked_deals_buyer_org_id_orgs")),
        sa.ForeignKeyConstraint(["seller_org_id"], ["orgs.id"], name=op.f("fk_tracked_deals_seller_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_deals")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_tracked_deals_deal_id")),
    )
    with op.batch_alter_table("tracked_deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracked_deals_buyer_org_id"), ["buyer_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracked_deals_seller_org_id"), ["seller_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracked_deals_settled_at"), ["settled_at"], unique=False)

    op.create_table(
        "tracking_reports",
        sa.Column("tracked_deal_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_org_id", sa.Uuid(), nullable=False),
        sa.Column("seller_org_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("opens_at", UTCDateTime(), nullable=False),
        sa.Column("overdue_at", UTCDateTime(), nullable=False),
        sa.Column("corrections_until", UTCDateTime(), nullable=False),
        sa.Column("next_remind_at", UTCDateTime(), nullable=True),
        sa.Column("overdue_told_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("revenue_band", sa.String(length=16), nullable=True),
        sa.Column("jobs_created", sa.Integer(), nullable=True),
        sa.Column("further_ip_count", sa.Integer(), nullable=True),
        sa.Column("further_ip", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=True),
        sa.Column("filed_at", UTCDateTime(), nullable=True),
        sa.Column("corrected_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["filed_by"], ["users.id"], name=op.f("fk_tracking_reports_filed_by_users")),
        sa.ForeignKeyConstraint(
            ["tracked_deal_id"], ["tracked_deals.id"], name=op.f("fk_tracking_reports_tracked_deal_id_tracked_deals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_reports")),
        sa.UniqueConstraint("tracked_deal_id", "seq", name="uq_tracking_reports_tracked_deal_id_seq"),
    )
    with op.batch_alter_table("tracking_reports", schema=None) as batch_op:
        for column in ("deal_id", "buyer_org_id", "seller_org_id", "overdue_at", "next_remind_at"):
            batch_op.create_index(batch_op.f(f"ix_tracking_reports_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("tracking_reports")
    op.drop_table("tracked_deals")
