"""ledger: accounts, entries, postings, open holds, idempotency, seals, adjustments

Revision ID: 0002_ledger
Revises: 0001_parties
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0002_ledger"
down_revision: str | None = "0001_parties"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Entries, postings, blocks and leaves are written once. On PostgreSQL a trigger refuses any
# UPDATE or DELETE of them, whoever asks; corrections are new (reversal) entries.
IMMUTABLE_TABLES = ("ledger_entries", "ledger_postings", "ledger_blocks", "ledger_leaves")

IMMUTABLE_FUNCTION = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("no_overdraft", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_accounts"),
        sa.UniqueConstraint("code", name="uq_ledger_accounts_code"),
        sa.CheckConstraint(
            "type IN ('asset','liability','equity','revenue','expense')", name="ck_ledger_accounts_type"
        ),
        sa.CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
            name="ck_ledger_accounts_balances",
        ),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("idempotency_key", sa.String(300), nullable=True),
        sa.Column("timeout_seconds", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("resolves_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sa.ForeignKeyConstraint(
            ["resolves_id"], ["ledger_entries.id"], name="fk_ledger_entries_resolves_id_ledger_entries"
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["ledger_entries.id"], name="fk_ledger_entries_reverses_id_ledger_entries"
        ),
        sa.CheckConstraint(
            "phase IN ('posted','pending','post_pending','void_pending','expire_pending')",
            name="ck_ledger_entries_phase",
        ),
    )
    # Partial indexes: most entries resolve nothing, reverse nothing and carry no external reference.
    for name, column, unique in (
        ("uq_ledger_entries_resolves_id", "resolves_id", True),
        ("uq_ledger_entries_reverses_id", "reverses_id", True),
        ("ix_ledger_entries_external_ref", "external_ref", False),
    ):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "ledger_entries", [column], unique=unique, postgresql_where=where, sqlite_where=where)
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(6), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("posted_delta", sa.BigInteger(), nullable=False),
        sa.Column("pending_delta", sa.BigInteger(), nullable=False),
        sa.Column("account_seq", sa.BigInteger(), nullable=False),
        # No foreign keys on the hot path: see ledger.models.Posting; `techx ledger verify` checks them.
        sa.PrimaryKeyConstraint("id", name="pk_ledger_postings"),
        sa.UniqueConstraint("account_id", "account_seq", name="uq_ledger_postings_account_seq"),
        sa.CheckConstraint("side IN ('debit','credit')", name="ck_ledger_postings_side"),
        sa.CheckConstraint("amount > 0", name="ck_ledger_postings_amount"),
    )
    op.create_index("ix_ledger_postings_entry_id", "ledger_postings", ["entry_id"])
    op.create_table(
        "ledger_open_holds",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name="pk_ledger_open_holds"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name="fk_ledger_open_holds_entry_id_ledger_entries"
        ),
    )
    op.create_index("ix_ledger_open_holds_expires_at", "ledger_open_holds", ["expires_at"])
    op.create_table(
        "ledger_idempotency",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ledger_idempotency"),
    )
    op.create_table(
        "ledger_blocks",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("block_hash", sa.String(64), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("height", name="pk_ledger_blocks"),
    )
    op.create_table(
        "ledger_leaves",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_ledger_leaves"),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"], name="fk_ledger_leaves_entry_id_ledger_entries"),
        sa.ForeignKeyConstraint(["height"], ["ledger_blocks.height"], name="fk_ledger_leaves_height_ledger_blocks"),
        sa.UniqueConstraint("height", "leaf_index", name="uq_ledger_leaves_height_leaf_index"),
    )
    op.create_table(
        "ledger_adjustments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("entry_json", sa.Text(), nullable=False),
        sa.Column("maker_id", sa.Uuid(), nullable=False),
        sa.Column("checker_id", sa.Uuid(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_adjustments"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name="fk_ledger_adjustments_entry_id_ledger_entries"
        ),
        sa.CheckConstraint("status IN ('proposed','approved')", name="ck_ledger_adjustments_status"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(IMMUTABLE_FUNCTION)
        for table in IMMUTABLE_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    op.drop_table("ledger_adjustments")
    op.drop_table("ledger_leaves")
    op.drop_table("ledger_blocks")
    op.drop_table("ledger_idempotency")
    op.drop_index("ix_ledger_open_holds_expires_at", table_name="ledger_open_holds")
    op.drop_table("ledger_open_holds")
    op.drop_index("ix_ledger_postings_entry_id", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    for name in ("ix_ledger_entries_external_ref", "uq_ledger_entries_reverses_id", "uq_ledger_entries_resolves_id"):
        op.drop_index(name, table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_accounts")
