"""credit: ratings, complaints and credit scores of service institutions; a program's minimum grade

Revision ID: 0033_credit
Revises: 0030_broker_vouchers
Create Date: 2026-12-26

``credit_ratings`` (one per engagement: a service order or a brokered deal, with the provider's one
answer), ``credit_complaints`` (decided by operators) and ``credit_scores`` (each provider's score
as last recomputed, its breakdown and its designation as a demonstration institution). Ratings and
scores are public (the catalogue, the providers' credit pages): they get the public-data triggers.

``voucher_programs.min_provider_grade``: the least credit grade of a provider a program's vouchers
pay (null: any). ``voucher_service_orders.cancelled_by_org_id``: which side cancelled an order (null
for the exchange or a program, and for every order cancelled before), so that a provider that
cancels an order it confirmed counts a missed delivery.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0033_credit"
down_revision: str | None = "0032_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLIC_TABLES = ("credit_ratings", "credit_scores")


def _public_triggers() -> None:
    """As 0014_public_data_version does for every table the public sees."""
    if op.get_bind().dialect.name == "sqlite":
        for name in PUBLIC_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {name}_public_{event.lower()} AFTER {event} ON {name} "
                    "BEGIN INSERT INTO public_data_versions (shard, version) VALUES (0, 1) "
                    "ON CONFLICT (shard) DO UPDATE SET version = version + 1; END"
                )
        return
    for name in PUBLIC_TABLES:
        op.execute(
            f"CREATE TRIGGER {name}_public_data AFTER INSERT OR UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION techx_public_data_changed()"
        )


def upgrade() -> None:
    op.create_table(
        "credit_ratings",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=False),
        sa.Column("client_org_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org_id", sa.Uuid(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("timeliness", sa.Integer(), nullable=False),
        sa.Column("professionalism", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by"], ["users.id"], name=op.f("fk_credit_ratings_answered_by_users")),
        sa.ForeignKeyConstraint(["client_org_id"], ["orgs.id"], name=op.f("fk_credit_ratings_client_org_id_orgs")),
        sa.ForeignKeyConstraint(["provider_org_id"], ["orgs.id"], name=op.f("fk_credit_ratings_provider_org_id_orgs")),
        sa.ForeignKeyConstraint(["rated_by"], ["users.id"], name=op.f("fk_credit_ratings_rated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ratings")),
        sa.UniqueConstraint("kind", "engagement_id", name="uq_credit_ratings_engagement"),
    )
    with op.batch_alter_table("credit_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_ratings_client_org_id"), ["client_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_ratings_provider_org_id"), ["provider_org_id"], unique=False)

    op.create_table(
        "credit_complaints",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=False),
        sa.Column("client_org_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["client_org_id"], ["orgs.id"], name=op.f("fk_credit_complaints_client_org_id_orgs")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_credit_complaints_decided_by_users")),
        sa.ForeignKeyConstraint(["filed_by"], ["users.id"], name=op.f("fk_credit_complaints_filed_by_users")),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["orgs.id"], name=op.f("fk_credit_complaints_provider_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_complaints")),
    )
    with op.batch_alter_table("credit_complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_complaints_client_org_id"), ["client_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_complaints_engagement_id"), ["engagement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_complaints_provider_org_id"), ["provider_org_id"], unique=False)

    op.create_table(
        "credit_scores",
        sa.Column("provider_org_id", sa.Uuid(), nullable=False),
        sa.Column("score_tenths", sa.Integer(), nullable=True),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("demonstration", sa.Boolean(), nullable=False),
        sa.Column("designated_by", sa.Uuid(), nullable=True),
        sa.Column("designated_at", UTCDateTime(), nullable=True),
        sa.Column("demonstration_ended_at", UTCDateTime(), nullable=True),
        sa.Column("demonstration_end_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["designated_by"], ["users.id"], name=op.f("fk_credit_scores_designated_by_users")),
        sa.ForeignKeyConstraint(["provider_org_id"], ["orgs.id"], name=op.f("fk_credit_scores_provider_org_id_orgs")),
        sa.PrimaryKeyConstraint("provider_org_id", name=op.f("pk_credit_scores")),
    )
    with op.batch_alter_table("credit_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_scores_grade"), ["grade"], unique=False)

    # Plain ADD COLUMN on both databases (no table rebuilt, its triggers and checks kept): nullable.
    op.add_column("voucher_programs", sa.Column("min_provider_grade", sa.String(length=1), nullable=True))
    op.add_column("voucher_service_orders", sa.Column("cancelled_by_org_id", sa.Uuid(), nullable=True))
    _public_triggers()


def downgrade() -> None:
    op.drop_column("voucher_service_orders", "cancelled_by_org_id")
    op.drop_column("voucher_programs", "min_provider_grade")
    op.drop_table("credit_scores")
    op.drop_table("credit_complaints")
    op.drop_table("credit_ratings")
