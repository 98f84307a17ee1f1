"""institution notice kinds: a university's transfer decision and its income-distribution plan

Revision ID: 0024_institution_notice_kinds
Revises: 0024_institutions
Create Date: 2026-12-12

An institution publishes its own notices on the exchange's board (SPEC §10): the public notice of
its decision to transfer an achievement (``institution_transfer``, 成果转化公示) and of its
income-distribution plan (``distribution_plan``, 收益分配方案公示). ``ck_notices_kind`` admits them.

SQLite changes a CHECK only by rebuilding the table, which would drop the table's public-data
triggers (0014_public_data_version) and, with foreign keys on, refuse to drop a table that
objections refer to. A wider CHECK changes nothing stored, so there the constraint's text is
rewritten in the schema in place, as SQLite documents for such changes (``writable_schema`` and
one more ``schema_version``, in the migration's transaction); the downgrade refuses while a notice
of the new kinds exists.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_institution_notice_kinds"
down_revision: str | None = "0024_institutions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("listing_announcement", "negotiated_price", "deal_result", "voucher_redemption")
AFTER = (*BEFORE, "institution_transfer", "distribution_plan")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _kinds(old: Sequence[str], new: Sequence[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint("ck_notices_kind", "notices", type_="check")
        op.create_check_constraint("ck_notices_kind", "notices", _in("kind", new))
        return
    sql = bind.scalar(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'notices'"))
    if sql is None or sql.count(_in("kind", old)) != 1:
        raise RuntimeError("the notices table's kind constraint is not the one this migration rewrites")
    version = int(bind.scalar(sa.text("PRAGMA schema_version")))
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'notices'"),
            {"sql": sql.replace(_in("kind", old), _in("kind", new))},
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _kinds(BEFORE, AFTER)


def downgrade() -> None:
    new_kinds = ", ".join(repr(k) for k in AFTER[len(BEFORE) :])
    held = op.get_bind().scalar(sa.text(f"SELECT count(*) FROM notices WHERE kind IN ({new_kinds})"))
    if held:
        raise RuntimeError(f"{held} institution notices exist; the downgrade would leave them outside ck_notices_kind")
    _kinds(AFTER, BEFORE)
