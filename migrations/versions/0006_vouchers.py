"""vouchers: programs, grants, services, service orders, redemptions

Revision ID: 0006_vouchers
Revises: 0005_trading
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0006_vouchers"
down_revision: str | None = "0005_trading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voucher_programs",
        sa.Column(
            "owner_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_programs_owner_org_id_orgs"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("per_org_cap", sa.BigInteger(), nullable=False),
        sa.Column("coverage_bp", sa.Integer(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("funded", sa.BigInteger(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("redeemed", sa.BigInteger(), nullable=False),
        sa.Column("expired", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_programs_created_by_users"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_programs"),
        sa.CheckConstraint("budget >= 0 AND per_org_cap >= 0", name="ck_voucher_programs_amounts"),
        sa.CheckConstraint("coverage_bp BETWEEN 0 AND 10000", name="ck_voucher_programs_coverage"),
        sa.CheckConstraint("issued <= budget", name="ck_voucher_programs_issued_within_budget"),
        sa.CheckConstraint("redeemed <= funded", name="ck_voucher_programs_redeemed_within_funding"),
    )
    op.create_index("ix_voucher_programs_owner_org_id", "voucher_programs", ["owner_org_id"])
    op.create_table(
        "voucher_wallets",
        sa.Column(
            "program_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_programs.id", name="fk_voucher_wallets_program_id_voucher_programs"),
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("orgs.id", name="fk_voucher_wallets_org_id_orgs"), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("expired", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "org_id", name="pk_voucher_wallets"),
        sa.CheckConstraint("held >= 0 AND granted - held - spent - expired >= 0", name="ck_voucher_wallets_available"),
    )
    op.create_index("ix_voucher_wallets_org_id", "voucher_wallets", ["org_id"])
    op.create_table(
        "voucher_grants",
        sa.Column(
            "program_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_programs.id", name="fk_voucher_grants_program_id_voucher_programs"),
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("orgs.id", name="fk_voucher_grants_org_id_orgs"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column(
            "granted_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_grants_granted_by_users"),
            nullable=False,
        ),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_grants"),
    )
    op.create_index("ix_voucher_grants_program_id", "voucher_grants", ["program_id"])
    op.create_table(
        "voucher_related_parties",
        sa.Column(
            "org_a", sa.Uuid(), sa.ForeignKey("orgs.id", name="fk_voucher_related_parties_org_a_orgs"), nullable=False
        ),
        sa.Column(
            "org_b", sa.Uuid(), sa.ForeignKey("orgs.id", name="fk_voucher_related_parties_org_b_orgs"), nullable=False
        ),
        sa.Column(
            "declared_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_related_parties_declared_by_users"),
            nullable=False,
        ),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_related_parties"),
        sa.UniqueConstraint("org_a", "org_b", name="uq_voucher_related_parties_pair"),
    )
    op.create_table(
        "voucher_services",
        sa.Column(
            "provider_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_services_provider_org_id_orgs"),
            nullable=False,
        ),
        sa.Column("provider_name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_services"),
        sa.CheckConstraint("price > 0", name="ck_voucher_services_price"),
    )
    op.create_index("ix_voucher_services_category", "voucher_services", ["category"])
    op.create_index("ix_voucher_services_provider_org_id", "voucher_services", ["provider_org_id"])
    op.create_table(
        "voucher_service_orders",
        sa.Column(
            "service_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_services.id", name="fk_voucher_service_orders_service_id_voucher_services"),
            nullable=False,
        ),
        sa.Column(
            "buyer_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_service_orders_buyer_org_id_orgs"),
            nullable=False,
        ),
        sa.Column(
            "provider_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_service_orders_provider_org_id_orgs"),
            nullable=False,
        ),
        sa.Column(
            "program_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_programs.id", name="fk_voucher_service_orders_program_id_voucher_programs"),
            nullable=True,
        ),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("voucher_amount", sa.BigInteger(), nullable=False),
        sa.Column("cash_amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("voucher_hold_id", sa.Uuid(), nullable=True),
        sa.Column("cash_hold_id", sa.Uuid(), nullable=True),
        sa.Column("results_summary", sa.Text(), nullable=False),
        sa.Column("cancel_reason", sa.String(500), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=True),
        sa.Column("redeemed", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column(
            "created_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_service_orders_created_by_users"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_service_orders"),
        sa.CheckConstraint(
            "voucher_amount >= 0 AND cash_amount >= 0 AND voucher_amount + cash_amount = price",
            name="ck_voucher_service_orders_split",
        ),
    )
    op.create_index("ix_voucher_service_orders_buyer_org_id", "voucher_service_orders", ["buyer_org_id"])
    op.create_index("ix_voucher_service_orders_redemption_id", "voucher_service_orders", ["redemption_id"])
    op.create_index("ix_voucher_service_orders_provider_org_id", "voucher_service_orders", ["provider_org_id"])
    op.create_index("ix_voucher_service_orders_program_id", "voucher_service_orders", ["program_id"])
    op.create_table(
        "voucher_redemptions",
        sa.Column(
            "program_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_programs.id", name="fk_voucher_redemptions_program_id_voucher_programs"),
            nullable=False,
        ),
        sa.Column(
            "provider_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_redemptions_provider_org_id_orgs"),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("order_ids", sa.JSON(), nullable=False),
        sa.Column("fee_payment_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column(
            "decided_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_redemptions_decided_by_users"),
            nullable=True,
        ),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column(
            "created_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_redemptions_created_by_users"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_redemptions"),
    )
    op.create_index("ix_voucher_redemptions_program_id", "voucher_redemptions", ["program_id"])
    op.create_index("ix_voucher_redemptions_provider_org_id", "voucher_redemptions", ["provider_org_id"])
    op.create_table(
        "voucher_provider_revocations",
        sa.Column(
            "program_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_programs.id", name="fk_voucher_provider_revocations_program_id_voucher_programs"),
            nullable=False,
        ),
        sa.Column(
            "provider_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_provider_revocations_provider_org_id_orgs"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("vouchers_revoked", sa.BigInteger(), nullable=False),
        sa.Column("orders_cancelled", sa.Integer(), nullable=False),
        sa.Column("redemptions_rejected", sa.Integer(), nullable=False),
        sa.Column(
            "revoked_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_voucher_provider_revocations_revoked_by_users"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_provider_revocations"),
        sa.UniqueConstraint("program_id", "provider_org_id", name="uq_voucher_revocations_pair"),
    )
    op.create_index(
        "ix_voucher_provider_revocations_provider_org_id", "voucher_provider_revocations", ["provider_org_id"]
    )
    op.create_table(
        "voucher_fee_payments",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column(
            "program_id",
            sa.Uuid(),
            sa.ForeignKey("voucher_programs.id", name="fk_voucher_fee_payments_program_id_voucher_programs"),
            nullable=False,
        ),
        sa.Column(
            "buyer_org_id",
            sa.Uuid(),
            sa.ForeignKey("orgs.id", name="fk_voucher_fee_payments_buyer_org_id_orgs"),
            nullable=False,
        ),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=True),
        sa.Column("redeemed", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_fee_payments"),
        sa.UniqueConstraint("deal_id", "program_id", name="uq_voucher_fee_payments_deal"),
    )
    op.create_index("ix_voucher_fee_payments_redemption_id", "voucher_fee_payments", ["redemption_id"])


def downgrade() -> None:
    op.drop_table("voucher_fee_payments")
    op.drop_table("voucher_provider_revocations")
    op.drop_table("voucher_redemptions")
    op.drop_table("voucher_service_orders")
    op.drop_table("voucher_services")
    op.drop_table("voucher_related_parties")
    op.drop_table("voucher_grants")
    op.drop_table("voucher_wallets")
    op.drop_table("voucher_programs")
