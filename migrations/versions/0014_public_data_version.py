"""public data version: a counter every change to public data moves, for the pages' cache

Revision ID: 0014_public_data_version
Revises: 0013_calendar
Create Date: 2026-12-03

``public_data_versions`` holds a few counters (shards) whose sum is the version of everything the
public portal and the public JSON reads show: listings, notices and objections, auctions and bids,
deals, voucher programs and services, organisations' public facts, the working-day calendar. A
trigger on each of those tables adds one to a shard in the same transaction as the change, so the
new version becomes visible exactly when the change does (a cache keyed by the version can never
keep a page that predates a committed change). Every writer is covered: the API, the sweeper,
the CLI, another server process. (The counters are written as upserts: a database restored or
emptied without their rows starts them again.)

PostgreSQL: a transaction moves its connection's shard (``pg_backend_pid() % 16``) once, however
many rows it writes, so concurrent writers (bids on different auctions) do not queue on one
counter row. SQLite has one writer at a time and moves shard 0 on every row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_public_data_version"
down_revision: str | None = "0013_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 16

# What the public can see, directly or through a figure (GET /stats, the home page).
PUBLIC_TABLES = (
    "orgs",
    "listings",
    "listing_ip_assets",
    "listing_transitions",
    "notices",
    "notice_objections",
    "trading_auctions",
    "trading_bids",
    "trading_intents",
    "trading_negotiations",
    "trading_deals",
    "voucher_programs",
    "voucher_grants",
    "voucher_redemptions",
    "voucher_services",
    "voucher_provider_revocations",
    "calendar_years",
    "calendar_days",
)

PG_FUNCTION = f"""
CREATE FUNCTION techx_public_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once per transaction: the flag is local to the transaction (and to a rolled-back savepoint)
    IF coalesce(current_setting('techx.public_data_changed', true), '') <> '1' THEN
        PERFORM set_config('techx.public_data_changed', '1', true);
        INSERT INTO public_data_versions AS v (shard, version) VALUES (pg_backend_pid() % {SHARDS}, 1)
            ON CONFLICT (shard) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "public_data_versions",
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("shard", name="pk_public_data_versions"),
    )
    table = sa.table("public_data_versions", sa.column("shard"), sa.column("version"))
    op.bulk_insert(table, [{"shard": shard, "version": 0} for shard in range(SHARDS)])
    if op.get_bind().dialect.name == "sqlite":
        for name in PUBLIC_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {name}_public_{event.lower()} AFTER {event} ON {name} "
                    "BEGIN INSERT INTO public_data_versions (shard, version) VALUES (0, 1) "
                    "ON CONFLICT (shard) DO UPDATE SET version = version + 1; END"
                )
        return
    op.execute(PG_FUNCTION)
    for name in PUBLIC_TABLES:
        # Row-level, so that a statement changing no row (a sweep finding nothing due) moves nothing.
        op.execute(
            f"CREATE TRIGGER {name}_public_data AFTER INSERT OR UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION techx_public_data_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in PUBLIC_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_public_{event}")
    else:
        for name in PUBLIC_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_public_data ON {name}")
        op.execute("DROP FUNCTION IF EXISTS techx_public_data_changed()")
    op.drop_table("public_data_versions")
