"""broker vouchers: innovation vouchers paying part of a buyer's broker commission

Revision ID: 0030_broker_vouchers
Revises: 0029_matching
Create Date: 2026-12-23

``voucher_fee_payments`` now also records vouchers that paid a further leg of a settlement (a
technology broker's commission) to a service provider: ``recipient_org_id`` (null: the exchange's
own fee) and ``ref`` (the leg's reference, the engagement; empty for the exchange's fee), one row
per program, payment of the deal and leg. ``broker_commission_entries`` may name several entries
for one payment's share of a commission (the cash part and each program's voucher part).

``brokers`` and ``broker_engagements`` are public (the broker pages, the brokers a listing's page
shows): they get the public-data triggers of 0014_public_data_version, so that the cache of public
pages is dropped when they change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_broker_vouchers"
down_revision: str | None = "0029_matching"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PUBLIC_TABLES = ("brokers", "broker_engagements")


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
    _public_triggers()
    with op.batch_alter_table("voucher_fee_payments") as batch:
        batch.add_column(sa.Column("recipient_org_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("ref", sa.String(length=64), nullable=False, server_default=""))
        batch.create_foreign_key("fk_voucher_fee_payments_recipient_org_id_orgs", "orgs", ["recipient_org_id"], ["id"])
        batch.drop_constraint("uq_voucher_fee_payments_deal_instalment", type_="unique")
        batch.create_unique_constraint(
            "uq_voucher_fee_payments_deal_instalment_ref", ["deal_id", "instalment", "ref", "program_id"]
        )
    with op.batch_alter_table("broker_commission_entries") as batch:
        batch.drop_constraint("uq_broker_commission_entries_engagement_seq", type_="unique")
        batch.create_unique_constraint("uq_broker_commission_entries_entry", ["engagement_id", "seq", "entry_id"])


def downgrade() -> None:
    for name in PUBLIC_TABLES:
        if op.get_bind().dialect.name == "sqlite":
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_public_{event}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_public_data ON {name}")
    with op.batch_alter_table("broker_commission_entries") as batch:
        batch.drop_constraint("uq_broker_commission_entries_entry", type_="unique")
        batch.create_unique_constraint("uq_broker_commission_entries_engagement_seq", ["engagement_id", "seq"])
    op.execute("DELETE FROM voucher_fee_payments WHERE ref <> ''")
    with op.batch_alter_table("voucher_fee_payments") as batch:
        batch.drop_constraint("uq_voucher_fee_payments_deal_instalment_ref", type_="unique")
        batch.create_unique_constraint(
            "uq_voucher_fee_payments_deal_instalment", ["deal_id", "instalment", "program_id"]
        )
        batch.drop_constraint("fk_voucher_fee_payments_recipient_org_id_orgs", type_="foreignkey")
        batch.drop_column("ref")
        batch.drop_column("recipient_org_id")
