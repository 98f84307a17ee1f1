"""objections carry the seller's answer: its text, when and by whom it was given

Revision ID: 0022_objection_answers
Revises: 0021_documents
Create Date: 2026-12-11

The side a notice is about (a listing's or a deal's seller, a redemption's provider) answers a
pending objection once (SPEC §2.3, docs/listings.md); operators weigh the answer when they resolve
it, and the objector is told its text. Objections filed before have no answer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0022_objection_answers"
down_revision: str | None = "0021_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notice_objections") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answered_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.Uuid(), nullable=True))
        # An answer comes with its time and author, or not at all.
        batch.create_check_constraint(
            "ck_notice_objections_answer",
            "(answer IS NULL AND answered_at IS NULL AND answered_by IS NULL)"
            " OR (answer IS NOT NULL AND answered_at IS NOT NULL AND answered_by IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("notice_objections") as batch:
        batch.drop_constraint("ck_notice_objections_answer", type_="check")
        batch.drop_column("answered_by")
        batch.drop_column("answered_at")
        batch.drop_column("answer")
