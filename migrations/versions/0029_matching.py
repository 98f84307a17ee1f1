"""matching: the feedback table, and the library's index words rewritten by the new analyzer

Revision ID: 0029_matching
Revises: 0028_brokers
Create Date: 2026-12-22

``match_feedback`` keeps organisations' marks on matches (exchange/matching/models.py).

The analyzer of listings/search.py now knows a domain dictionary and adds the character unigrams
and bigrams of Chinese text, so ``氢`` finds ``储氢合金``. ``listings.search_title`` and
``search_body`` are stored words: every listing's are rewritten here, and the FTS5 table (SQLite,
by its update trigger) and the generated tsvector (PostgreSQL) follow. Downgrade leaves the words
as they are (the old analyzer's words are a subset of the new ones: searches still work).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime
from listings.domain import FIELD_LABELS, Field
from listings.search import listing_index_texts

revision: str = "0029_matching"
down_revision: str | None = "0028_brokers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1_000


def _reindex() -> None:
    bind = op.get_bind()
    listings = sa.table(
        "listings",
        sa.column("id"),
        sa.column("number", sa.BigInteger),
        sa.column("title", sa.String),
        sa.column("summary", sa.Text),
        sa.column("field", sa.String),
        sa.column("keywords", sa.JSON),
        sa.column("inventors", sa.JSON),
        sa.column("seller_org_name", sa.String),
        sa.column("search_title", sa.Text),
        sa.column("search_body", sa.Text),
    )
    assets = sa.table(
        "listing_ip_assets",
        sa.column("listing_id"),
        sa.column("position", sa.Integer),
        sa.column("number", sa.String),
        sa.column("title", sa.String),
    )
    after = -1
    while True:
        rows = bind.execute(
            sa.select(listings).where(listings.c.number > after).order_by(listings.c.number).limit(BATCH)
        ).all()
        if not rows:
            return
        owned: dict[object, list[tuple[str, str]]] = {}
        for a in bind.execute(
            sa.select(assets)
            .where(assets.c.listing_id.in_([r.id for r in rows]))
            .order_by(assets.c.listing_id, assets.c.position)
        ):
            owned.setdefault(a.listing_id, []).append((a.title, a.number))
        for r in rows:
            field = FIELD_LABELS[Field(r.field)] if r.field in Field._value2member_map_ else r.field
            title, body = listing_index_texts(
                r.title,
                r.keywords or [],
                r.summary,
                field,
                owned.get(r.id, []),
                [i.get("name", "") for i in r.inventors or []],
                r.seller_org_name,
            )
            bind.execute(listings.update().where(listings.c.id == r.id).values(search_title=title, search_body=body))
        after = rows[-1].number


def upgrade() -> None:
    op.create_table(
        "match_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("query_kind", sa.String(16), nullable=False),
        sa.Column("query_id", sa.Uuid(), nullable=False),
        sa.Column("doc_kind", sa.String(16), nullable=False),
        sa.Column("doc_id", sa.Uuid(), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("contacted", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_feedback")),
    )
    op.create_index("ix_match_feedback_org_id_created_at", "match_feedback", ["org_id", "created_at"])
    _reindex()


def downgrade() -> None:
    op.drop_index("ix_match_feedback_org_id_created_at", table_name="match_feedback")
    op.drop_table("match_feedback")
