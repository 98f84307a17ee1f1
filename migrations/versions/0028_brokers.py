"""brokers: technology brokers (技术经纪人), their engagements and the entries of their commissions

Revision ID: 0028_brokers
Revises: 0027_demands
Create Date: 2026-12-21

A broker is registered by a service-provider organisation and verified by an operator; a party
engages one on a listing, a demand (by id), a negotiation or a deal with an agreed commission,
charged at settlement as a further leg of the payment's ledger batch. ``broker_commission_entries``
names the ledger entry that paid each payment's share (the amounts are read from the ledger).
``trading_deal_instalments.settlement_legs`` keeps each payment's further legs for its statement.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0028_brokers"
down_revision: str | None = "0027_demands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brokers",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credential_number", sa.String(length=32), nullable=False),
        sa.Column("issuing_body", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Uuid(), nullable=False),
        sa.Column("verified_by", sa.Uuid(), nullable=True),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_brokers_decided_by_users")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_brokers_org_id_orgs")),
        sa.ForeignKeyConstraint(["registered_by"], ["users.id"], name=op.f("fk_brokers_registered_by_users")),
        sa.ForeignKeyConstraint(["verified_by"], ["users.id"], name=op.f("fk_brokers_verified_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brokers")),
        sa.UniqueConstraint("credential_number", name=op.f("uq_brokers_credential_number")),
    )
    with op.batch_alter_table("brokers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_brokers_org_id"), ["org_id"], unique=False)

    op.create_table(
        "broker_engagements",
        sa.Column("broker_id", sa.Uuid(), nullable=False),
        sa.Column("broker_org_id", sa.Uuid(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=True),
        sa.Column("seller_org_id", sa.Uuid(), nullable=True),
        sa.Column("buyer_org_id", sa.Uuid(), nullable=True),
        sa.Column("engaged_by_org_id", sa.Uuid(), nullable=False),
        sa.Column("engaged_by", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("commission_bp", sa.Integer(), nullable=True),
        sa.Column("commission_fen", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("deal_id", sa.Uuid(), nullable=True),
        sa.Column("commission", sa.BigInteger(), nullable=True),
        sa.Column("bound_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by"], ["users.id"], name=op.f("fk_broker_engagements_answered_by_users")),
        sa.ForeignKeyConstraint(["broker_id"], ["brokers.id"], name=op.f("fk_broker_engagements_broker_id_brokers")),
        sa.ForeignKeyConstraint(["broker_org_id"], ["orgs.id"], name=op.f("fk_broker_engagements_broker_org_id_orgs")),
        sa.ForeignKeyConstraint(["engaged_by"], ["users.id"], name=op.f("fk_broker_engagements_engaged_by_users")),
        sa.ForeignKeyConstraint(
            ["engaged_by_org_id"], ["orgs.id"], name=op.f("fk_broker_engagements_engaged_by_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broker_engagements")),
    )
    with op.batch_alter_table("broker_engagements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broker_engagements_broker_id"), ["broker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broker_engagements_broker_org_id"), ["broker_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broker_engagements_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_broker_engagements_engaged_by_org_id"), ["engaged_by_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_broker_engagements_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broker_engagements_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "broker_commission_entries",
        sa.Column("engagement_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["broker_engagements.id"],
            name=op.f("fk_broker_commission_entries_engagement_id_broker_engagements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broker_commission_entries")),
        sa.UniqueConstraint("engagement_id", "seq", name="uq_broker_commission_entries_engagement_seq"),
    )
    with op.batch_alter_table("broker_commission_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broker_commission_entries_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broker_commission_entries_engagement_id"), ["engagement_id"], unique=False)

    # Plain ADD COLUMN on both databases: every payment settled before had no further legs.
    op.add_column(
        "trading_deal_instalments", sa.Column("settlement_legs", sa.JSON(), nullable=False, server_default="[]")
    )


def downgrade() -> None:
    with op.batch_alter_table("trading_deal_instalments") as batch:
        batch.drop_column("settlement_legs")
    op.drop_table("broker_commission_entries")
    op.drop_table("broker_engagements")
    op.drop_table("brokers")
