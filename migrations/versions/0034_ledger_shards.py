"""ledger shards: sub-accounts of a hot account

Revision ID: 0034_ledger_shards
Revises: 0033_credit
Create Date: 2026-12-27

``ledger_accounts.shard_of``: for a shard, the id of the logical account it is part of (null for
every other account, and for the logical account itself, which is its own first shard). A shard is an
ordinary account row (code ``<logical code>#<n>``), so postings, locking and ``verify`` treat it as
any row; reads sum a logical account's shards (docs/ledger.md, "Hot accounts (shards)"). The index is
partial: only shards have a value, and reads look a logical account's shards up by it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_ledger_shards"
down_revision: str | None = "0033_credit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL = {"postgresql_where": sa.text("shard_of IS NOT NULL"), "sqlite_where": sa.text("shard_of IS NOT NULL")}


def upgrade() -> None:
    op.add_column("ledger_accounts", sa.Column("shard_of", sa.Uuid(), nullable=True))
    op.create_index("ix_ledger_accounts_shard_of", "ledger_accounts", ["shard_of"], **_NOT_NULL)


def downgrade() -> None:
    op.drop_index("ix_ledger_accounts_shard_of", table_name="ledger_accounts")
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.drop_column("shard_of")
