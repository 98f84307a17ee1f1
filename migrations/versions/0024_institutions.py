"""institutions: a university's own transfer process, its income distribution and annual report

Revision ID: 0024_institutions
Revises: 0023_ledger_verifications
Create Date: 2026-12-04

Disclosures and their processes through the institution's workflow (every act a row of
``process_steps``), the institution's settings and role grants, contract registrations, income
receipts with their distribution plans, inventors' accounts, and the annual report's own inputs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0024_institutions"
down_revision: str | None = "0023_ledger_verifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contract_registrations",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("contract_number", sa.String(length=64), nullable=False),
        sa.Column("registry_name", sa.String(length=200), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("certified_amount", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_contract_registrations_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_contract_registrations_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_registrations")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_contract_registrations_deal_id")),
    )
    with op.batch_alter_table("contract_registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_registrations_org_id"), ["org_id"], unique=False)

    op.create_table(
        "disclosures",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("maturity", sa.Integer(), nullable=False),
        sa.Column("ip_assets", sa.JSON(), nullable=False),
        sa.Column("inventors", sa.JSON(), nullable=False),
        sa.Column("funding", sa.JSON(), nullable=False),
        sa.Column("intended_form", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["opened_by"], ["users.id"], name=op.f("fk_disclosures_opened_by_users")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_disclosures_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosures_org_id"), ["org_id"], unique=False)

    op.create_table(
        "institution_annual_inputs",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("contracts", sa.JSON(), nullable=False),
        sa.Column("joint_bodies", sa.JSON(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("plans", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_institution_annual_inputs_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_institution_annual_inputs_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("org_id", "year", name=op.f("pk_institution_annual_inputs")),
    )
    op.create_table(
        "institution_role_grants",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"], name=op.f("fk_institution_role_grants_granted_by_users")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_institution_role_grants_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_institution_role_grants_user_id_users")),
        sa.PrimaryKeyConstraint("org_id", "user_id", "role", name=op.f("pk_institution_role_grants")),
    )
    with op.batch_alter_table("institution_role_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_institution_role_grants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "institution_settings",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("workflow", sa.JSON(), nullable=False),
        sa.Column("decision_body", sa.String(length=200), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("notice_unit", sa.String(length=16), nullable=False),
        sa.Column("plan_notice_days", sa.Integer(), nullable=False),
        sa.Column("plan_notice_unit", sa.String(length=16), nullable=False),
        sa.Column("inventor_share_bp", sa.Integer(), nullable=False),
        sa.Column("extra_approval_threshold_fen", sa.BigInteger(), nullable=False),
        sa.Column("institution_parts", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_institution_settings_org_id_orgs")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_institution_settings_updated_by_users")),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_institution_settings")),
    )
    op.create_table(
        "inventor_accounts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("identity_checked_at", UTCDateTime(), nullable=True),
        sa.Column("identity_checked_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_checked_by"], ["users.id"], name=op.f("fk_inventor_accounts_identity_checked_by_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_inventor_accounts_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_inventor_accounts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventor_accounts")),
        sa.UniqueConstraint("org_id", "name", "affiliation", name=op.f("uq_inventor_accounts_org_id")),
    )
    with op.batch_alter_table("inventor_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inventor_accounts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "transfer_processes",
        sa.Column("disclosure_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("workflow", sa.JSON(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=True),
        sa.Column("pass_no", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("listing_id", sa.Uuid(), nullable=True),
        sa.Column("contract", sa.JSON(), nullable=True),
        sa.Column("remedy", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["disclosure_id"], ["disclosures.id"], name=op.f("fk_transfer_processes_disclosure_id_disclosures")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_transfer_processes_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_processes")),
        sa.UniqueConstraint("disclosure_id", name=op.f("uq_transfer_processes_disclosure_id")),
    )
    with op.batch_alter_table("transfer_processes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_processes_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfer_processes_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfer_processes_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfer_processes_status"), ["status"], unique=False)

    op.create_table(
        "income_receipts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reward_held", sa.BigInteger(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_income_receipts_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["process_id"], ["transfer_processes.id"], name=op.f("fk_income_receipts_process_id_transfer_processes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_income_receipts")),
        sa.UniqueConstraint("deal_id", "seq", name=op.f("uq_income_receipts_deal_id")),
    )
    with op.batch_alter_table("income_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_income_receipts_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_income_receipts_process_id"), ["process_id"], unique=False)

    op.create_table(
        "process_steps",
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("pass_no", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("returned_to", sa.String(length=16), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_process_steps_actor_user_id_users")),
        sa.ForeignKeyConstraint(
            ["process_id"], ["transfer_processes.id"], name=op.f("fk_process_steps_process_id_transfer_processes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_steps")),
        sa.UniqueConstraint("process_id", "seq", name=op.f("uq_process_steps_process_id")),
    )
    with op.batch_alter_table("process_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_steps_process_id"), ["process_id"], unique=False)

    op.create_table(
        "distribution_plans",
        sa.Column("receipt_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("inventor_share_bp", sa.Integer(), nullable=False),
        sa.Column("payouts", sa.JSON(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("extra_approval_needed", sa.Boolean(), nullable=False),
        sa.Column("extra_approval", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_distribution_plans_created_by_users")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_distribution_plans_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["income_receipts.id"], name=op.f("fk_distribution_plans_receipt_id_income_receipts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_plans")),
    )
    with op.batch_alter_table("distribution_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distribution_plans_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_plans_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_plans_receipt_id"), ["receipt_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_plans_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("distribution_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distribution_plans_status"))
        batch_op.drop_index(batch_op.f("ix_distribution_plans_receipt_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_plans_org_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_plans_notice_id"))

    op.drop_table("distribution_plans")
    with op.batch_alter_table("process_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_steps_process_id"))

    op.drop_table("process_steps")
    with op.batch_alter_table("income_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_income_receipts_process_id"))
        batch_op.drop_index(batch_op.f("ix_income_receipts_org_id"))

    op.drop_table("income_receipts")
    with op.batch_alter_table("transfer_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_processes_status"))
        batch_op.drop_index(batch_op.f("ix_transfer_processes_org_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_processes_notice_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_processes_listing_id"))

    op.drop_table("transfer_processes")
    with op.batch_alter_table("inventor_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventor_accounts_org_id"))

    op.drop_table("inventor_accounts")
    op.drop_table("institution_settings")
    with op.batch_alter_table("institution_role_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_role_grants_user_id"))

    op.drop_table("institution_role_grants")
    op.drop_table("institution_annual_inputs")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosures_org_id"))

    op.drop_table("disclosures")
    with op.batch_alter_table("contract_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_registrations_org_id"))

    op.drop_table("contract_registrations")
