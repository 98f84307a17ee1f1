"""attachments: documents of listings, objections, organisations and service orders, and the log of
confidential downloads

Revision ID: 0021_documents
Revises: 0020_notification_reminders
Create Date: 2026-12-10

The files themselves are stored outside the database (TECHX_DOCUMENTS_DIR), named by SHA-256;
a row says what a file is, whose it is and who may read it (docs/documents.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0021_documents"
down_revision: str | None = "0020_notification_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_kind", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_org_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["uploaded_by_user_id"], ["users.id"], name="fk_documents_uploaded_by_user_id_users"),
        sa.ForeignKeyConstraint(["uploaded_by_org_id"], ["orgs.id"], name="fk_documents_uploaded_by_org_id_orgs"),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
    )
    op.create_index("ix_documents_owner", "documents", ["owner_kind", "owner_id"])
    op.create_index("ix_documents_sha256", "documents", ["sha256"])
    op.create_table(
        "document_downloads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("downloaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_document_downloads_document_id_documents"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_document_downloads_user_id_users"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_document_downloads_org_id_orgs"),
        sa.PrimaryKeyConstraint("id", name="pk_document_downloads"),
    )
    op.create_index("ix_document_downloads_document_id", "document_downloads", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_document_downloads_document_id", table_name="document_downloads")
    op.drop_table("document_downloads")
    op.drop_index("ix_documents_sha256", table_name="documents")
    op.drop_index("ix_documents_owner", table_name="documents")
    op.drop_table("documents")
