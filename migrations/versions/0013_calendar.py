"""calendar: the working-day calendar operators maintain, seeded from the chinese-calendar package

Revision ID: 0013_calendar
Revises: 0010_common_keys
Create Date: 2026-12-02

``calendar_years`` (a year the exchange has data for, and the notice it comes from),
``calendar_days`` (its days off and make-up working days), ``calendar_changes`` (who changed what,
when) and ``calendar_notifications`` (what operators were told, once each).

The years 2004–2026 are seeded here from the ``chinese-calendar`` package, the one place the
package is read: from now on the table is the calendar, and a year is loaded by an operator
(``techx calendar import``). The seeded range is fixed so that this migration gives the same table
whatever version of the package is installed.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime, new_id

revision: str = "0013_calendar"
down_revision: str | None = "0012_sweep_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEEDED_YEARS = range(2004, 2027)
SEEDED_BY = "migration 0013_calendar"


def _package_days() -> tuple[str, dict[int, list[dict[str, object]]]]:
    import chinese_calendar

    version = getattr(chinese_calendar, "__version__", "")
    days: dict[int, list[dict[str, object]]] = {year: [] for year in SEEDED_YEARS}
    for kind, table in (("off", chinese_calendar.holidays), ("workday", chinese_calendar.workdays)):
        for day, name in table.items():
            if day.year in days:
                days[day.year].append({"day": day, "year": day.year, "kind": kind, "name": str(name)})
    return version, days


def upgrade() -> None:
    years = op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("notice", sa.String(500), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_calendar_years"),
    )
    days = op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "year",
            sa.Integer(),
            sa.ForeignKey("calendar_years.year", name="fk_calendar_days_year_calendar_years"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("notice", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_calendar_days"),
        sa.CheckConstraint("kind IN ('off', 'workday')", name="ck_calendar_days_kind"),
    )
    op.create_index("ix_calendar_days_year", "calendar_days", ["year"])
    changes = op.create_table(
        "calendar_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_changes"),
    )
    op.create_index("ix_calendar_changes_year", "calendar_changes", ["year"])
    op.create_table(
        "calendar_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_notifications"),
        sa.UniqueConstraint("year", "kind", name="uq_calendar_notifications_year"),
    )

    version, seeded = _package_days()
    now = datetime.now(UTC)
    year_rows, day_rows, change_rows = [], [], []
    for year, rows in seeded.items():
        if not rows:
            continue
        notice = f"chinese-calendar {version} package: the State Council's schedule for {year}".strip()
        year_rows.append(
            {"year": year, "notice": notice, "note": "", "loaded_by": SEEDED_BY, "loaded_at": now, "updated_at": now}
        )
        day_rows += [{**row, "notice": notice} for row in sorted(rows, key=lambda r: r["day"])]  # type: ignore[arg-type, return-value]
        counts = {
            "days_off": sum(r["kind"] == "off" for r in rows),
            "make_up_workdays": sum(r["kind"] == "workday" for r in rows),
        }
        change_rows.append(
            {
                "id": new_id(),
                "year": year,
                "action": "seed",
                "changed_by": SEEDED_BY,
                "user_id": None,
                "changed_at": now,
                "details": {"notice": notice, **counts},
            }
        )
    op.bulk_insert(years, year_rows)
    op.bulk_insert(days, day_rows)
    op.bulk_insert(changes, change_rows)


def downgrade() -> None:
    op.drop_table("calendar_notifications")
    op.drop_index("ix_calendar_changes_year", table_name="calendar_changes")
    op.drop_table("calendar_changes")
    op.drop_index("ix_calendar_days_year", table_name="calendar_days")
    op.drop_table("calendar_days")
    op.drop_table("calendar_years")
