"""registry: achievement registrations (科技成果登记), the synchronisation feed's events, import runs

Revision ID: 0031_registry
Revises: 0030_broker_vouchers
Create Date: 2026-12-28

``registry_achievements`` holds the national form's fields and the registration number, unique
by itself and by (code, year, flag, serial), and an import's (source, source_id).
``registry_events`` is the append-only feed (``seq`` from the ``registry_feed`` counter of
``listing_counters``, handed out in commit order). ``registry_import_runs`` remembers the last
committed line of each bulk import. The achievements are public (the library's pages): they get the
public-data triggers of 0014_public_data_version.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0031_registry"
down_revision: str | None = "0030_broker_vouchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLIC_TABLES = ("registry_achievements",)


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


def _drop_public_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in PUBLIC_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_public_{event}")
        return
    for name in PUBLIC_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}_public_data ON {name}")


def upgrade() -> None:
    op.create_table(
        "registry_achievements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(12), nullable=True),
        sa.Column("code", sa.String(3), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("flag", sa.String(1), nullable=True),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("category", sa.String(1), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("funding_source", sa.String(200), nullable=False),
        sa.Column("project_numbers", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(50), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=False),
        sa.Column("contact_email", sa.String(200), nullable=False),
        sa.Column("org_name", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=True),
        sa.Column("disclosure_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("source_id", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("registered_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_registry_achievements_org_id_orgs")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_registry_achievements_created_by_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_registry_achievements_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_achievements")),
        sa.UniqueConstraint("number", name=op.f("uq_registry_achievements_number")),
        sa.UniqueConstraint("code", "year", "flag", "serial", name="uq_registry_achievements_serial"),
        sa.UniqueConstraint("source", "source_id", name="uq_registry_achievements_source"),
    )
    op.create_index("ix_registry_achievements_org_id", "registry_achievements", ["org_id"])
    op.create_index("ix_registry_achievements_listing_id", "registry_achievements", ["listing_id"])
    op.create_index("ix_registry_achievements_status", "registry_achievements", ["status"])
    op.create_table(
        "registry_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("achievement_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.String(12), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["registry_achievements.id"],
            name=op.f("fk_registry_events_achievement_id_registry_achievements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_registry_events_seq")),
    )
    op.create_index("ix_registry_events_achievement_id", "registry_events", ["achievement_id"])
    op.create_table(
        "registry_import_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("last_line", sa.Integer(), nullable=False),
        sa.Column("last_row_line", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_import_runs")),
    )
    op.create_index("ix_registry_import_runs_sha256", "registry_import_runs", ["sha256"])
    _public_triggers()


def downgrade() -> None:
    _drop_public_triggers()
    op.drop_index("ix_registry_import_runs_sha256", table_name="registry_import_runs")
    op.drop_table("registry_import_runs")
    op.drop_index("ix_registry_events_achievement_id", table_name="registry_events")
    op.drop_table("registry_events")
    for name in ("status", "listing_id", "org_id"):
        op.drop_index(f"ix_registry_achievements_{name}", table_name="registry_achievements")
    op.drop_table("registry_achievements")
