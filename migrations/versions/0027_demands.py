"""demands: enterprises' technical demands, campaigns (需求征集) and proposals

Revision ID: 0027_demands
Revises: 0026_payer_withdrawals
Create Date: 2027-01-10

Demands with their invitations, NDAs and confidential reads (``change_seq``: the demands' changes
in commit order, for an incremental reader such as the matching index), campaigns with their screened submissions, and
the proposals answering demands.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0027_demands"
down_revision: str | None = "0026_payer_withdrawals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demand_campaigns",
        sa.Column("organiser_org_id", sa.Uuid(), nullable=False),
        sa.Column("organiser_name", sa.String(length=200), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_demand_campaigns_created_by_users")),
        sa.ForeignKeyConstraint(
            ["organiser_org_id"], ["orgs.id"], name=op.f("fk_demand_campaigns_organiser_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_campaigns")),
    )
    with op.batch_alter_table("demand_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_campaigns_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_campaigns_organiser_org_id"), ["organiser_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_campaigns_status"), ["status"], unique=False)

    op.create_table(
        "demands",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("performance", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("min_maturity", sa.Integer(), nullable=True),
        sa.Column("ipc_codes", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("budget_min_fen", sa.BigInteger(), nullable=True),
        sa.Column("budget_max_fen", sa.BigInteger(), nullable=True),
        sa.Column("accepted_forms", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("invited_org_ids", sa.JSON(), nullable=False),
        sa.Column("confidential_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("close_reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_demands_created_by_users")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_demands_change_seq")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_demands_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demands")),
    )
    with op.batch_alter_table("demands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demands_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_demands_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_demands_status"), ["status"], unique=False)

    op.create_table(
        "demand_confidential_reads",
        sa.Column("demand_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["demands.id"],
            name=op.f("fk_demand_confidential_reads_demand_id_demands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_demand_confidential_reads_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_demand_confidential_reads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_confidential_reads")),
    )
    with op.batch_alter_table("demand_confidential_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_confidential_reads_demand_id"), ["demand_id"], unique=False)

    op.create_table(
        "demand_invitations",
        sa.Column("demand_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"], ["demands.id"], name=op.f("fk_demand_invitations_demand_id_demands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_demand_invitations_org_id_orgs")),
        sa.PrimaryKeyConstraint("demand_id", "org_id", name=op.f("pk_demand_invitations")),
    )
    with op.batch_alter_table("demand_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_invitations_org_id"), ["org_id"], unique=False)

    op.create_table(
        "demand_ndas",
        sa.Column("demand_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("terms_version", sa.String(length=32), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"], ["demands.id"], name=op.f("fk_demand_ndas_demand_id_demands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_demand_ndas_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_demand_ndas_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_ndas")),
        sa.UniqueConstraint("demand_id", "org_id", name="uq_demand_ndas_demand_id_org_id"),
    )
    op.create_table(
        "demand_proposals",
        sa.Column("demand_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("solution", sa.Text(), nullable=False),
        sa.Column("listing_ids", sa.JSON(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("negotiation", sa.JSON(), nullable=True),
        sa.Column("submitted_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["demand_id"], ["demands.id"], name=op.f("fk_demand_proposals_demand_id_demands")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_demand_proposals_org_id_orgs")),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"], name=op.f("fk_demand_proposals_submitted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_proposals")),
    )
    with op.batch_alter_table("demand_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_proposals_demand_id"), ["demand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_proposals_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_proposals_status"), ["status"], unique=False)

    op.create_table(
        "campaign_submissions",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("demand_id", sa.Uuid(), nullable=True),
        sa.Column("proposal_id", sa.Uuid(), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_by", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("screening", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("screened_by", sa.Uuid(), nullable=True),
        sa.Column("screened_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["demand_campaigns.id"], name=op.f("fk_campaign_submissions_campaign_id_demand_campaigns")
        ),
        sa.ForeignKeyConstraint(["demand_id"], ["demands.id"], name=op.f("fk_campaign_submissions_demand_id_demands")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_campaign_submissions_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["demand_proposals.id"], name=op.f("fk_campaign_submissions_proposal_id_demand_proposals")
        ),
        sa.ForeignKeyConstraint(["screened_by"], ["users.id"], name=op.f("fk_campaign_submissions_screened_by_users")),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_campaign_submissions_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_submissions")),
        sa.UniqueConstraint("campaign_id", "demand_id", name="uq_campaign_submissions_campaign_id_demand_id"),
        sa.UniqueConstraint("campaign_id", "proposal_id", name="uq_campaign_submissions_campaign_id_proposal_id"),
    )
    with op.batch_alter_table("campaign_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_submissions_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_submissions_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    for table in (
        "campaign_submissions",
        "demand_proposals",
        "demand_ndas",
        "demand_invitations",
        "demand_confidential_reads",
        "demands",
        "demand_campaigns",
    ):
        op.drop_table(table)
