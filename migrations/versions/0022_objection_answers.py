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

ANSWERED = (
    "(answer IS NULL AND answered_at IS NULL AND answered_by IS NULL)"
    " OR (answer IS NOT NULL AND answered_at IS NOT NULL AND answered_by IS NOT NULL)"
)


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on both databases: a batch rebuild on SQLite would drop the
    # table's public-data triggers (0014_public_data_version).
    op.add_column("notice_objections", sa.Column("answer", sa.Text(), nullable=True))
    op.add_column("notice_objections", sa.Column("answered_at", UTCDateTime(), nullable=True))
    op.add_column("notice_objections", sa.Column("answered_by", sa.Uuid(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # An answer comes with its time and author, or not at all (SQLite adds no CHECK to a table
        # without rebuilding it; there ``notices.answer_objection`` sets the three together).
        op.create_check_constraint("ck_notice_objections_answer", "notice_objections", ANSWERED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ck_notice_objections_answer", "notice_objections", type_="check")
    # SQLite (3.35+) drops a column in place, keeping the triggers.
    op.drop_column("notice_objections", "answered_by")
    op.drop_column("notice_objections", "answered_at")
    op.drop_column("notice_objections", "answer")
