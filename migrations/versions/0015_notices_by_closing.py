"""notices by closing time: the board of every status, the latest to close first, read from an index

Revision ID: 0015_notices_by_closing
Revises: 0014_public_data_version
Create Date: 2026-12-03

The portal's notice board shows every status together, ordered by ``closes_at`` and ``id``
(``listings.notices.list_notices``); ``ix_notices_status_closes_at`` serves one status only, so
the board sorted every notice for each page (72 ms at 100,000 notices, docs/performance.md).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_notices_by_closing"
down_revision: str | None = "0014_public_data_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notices_closes_at_id", "notices", ["closes_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_closes_at_id", table_name="notices")
