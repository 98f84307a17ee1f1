"""listings: listings, notices, objections, search

Revision ID: 0003_listings
Revises: 0002_ledger
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0003_listings"
down_revision: str | None = "0002_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTING_STATUSES = (
    "draft",
    "under_review",
    "rejected",
    "announced",
    "suspended",
    "closing",
    "unsold",
    "negotiating",
    "auctioning",
    "deal_formed",
    "sold",
    "withdrawn",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "listing_counters",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_listing_counters"),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column(
            "seller_org_id", sa.Uuid(), sa.ForeignKey("orgs.id", name="fk_listings_seller_org_id_orgs"), nullable=False
        ),
        sa.Column("seller_org_name", sa.String(200), nullable=False),
        sa.Column("seller_kind", sa.String(32), nullable=False),
        sa.Column(
            "created_by", sa.Uuid(), sa.ForeignKey("users.id", name="fk_listings_created_by_users"), nullable=False
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("maturity", sa.Integer(), nullable=False),
        sa.Column("inventors", sa.JSON(), nullable=False),
        sa.Column("deal_type", sa.String(16), nullable=False),
        sa.Column("deal_terms", sa.JSON(), nullable=False),
        sa.Column("pricing_mode", sa.String(16), nullable=False),
        sa.Column("asking_price", sa.BigInteger(), nullable=False),
        sa.Column("appraised_value", sa.BigInteger(), nullable=True),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("increment", sa.BigInteger(), nullable=True),
        sa.Column("confidential_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("announcement_round", sa.Integer(), nullable=False),
        sa.Column("period_working_days", sa.Integer(), nullable=True),
        sa.Column("announced_at", UTCDateTime(), nullable=True),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.Column("first_announced_at", UTCDateTime(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("search_title", sa.Text(), nullable=False),
        sa.Column("search_body", sa.Text(), nullable=False),
        sa.Column("feed_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listings"),
        sa.UniqueConstraint("number", name="uq_listings_number"),
        sa.UniqueConstraint("feed_seq", name="uq_listings_feed_seq"),
        sa.CheckConstraint(_in("status", LISTING_STATUSES), name="ck_listings_status"),
        sa.CheckConstraint(_in("deal_type", ("transfer", "license", "equity")), name="ck_listings_deal_type"),
        sa.CheckConstraint(_in("pricing_mode", ("negotiated", "listed", "auction")), name="ck_listings_pricing_mode"),
        sa.CheckConstraint("asking_price > 0", name="ck_listings_asking_price_positive"),
        sa.CheckConstraint("deposit >= 0 AND deposit <= asking_price", name="ck_listings_deposit_range"),
    )
    op.create_index("ix_listings_seller_org_id", "listings", ["seller_org_id"])
    # Newest first walks this index; the filters' indexes combine with the text index (BitmapAnd).
    op.create_index("ix_listings_published", "listings", ["published_at", "id"])
    op.create_index("ix_listings_field", "listings", ["field"])
    op.create_index("ix_listings_deal_type", "listings", ["deal_type"])
    op.create_index("ix_listings_pricing_mode", "listings", ["pricing_mode"])
    op.create_index("ix_listings_asking_price", "listings", ["asking_price"])
    op.create_index("ix_listings_first_announced_at", "listings", ["first_announced_at"])

    op.create_table(
        "listing_ip_assets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "listing_id",
            sa.Uuid(),
            sa.ForeignKey("listings.id", name="fk_listing_ip_assets_listing_id_listings", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_listing_ip_assets"),
    )
    op.create_index("ix_listing_ip_assets_listing_id", "listing_ip_assets", ["listing_id"])
    op.create_index("ix_listing_ip_assets_kind_listing", "listing_ip_assets", ["kind", "listing_id"])

    op.create_table(
        "listing_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "listing_id",
            sa.Uuid(),
            sa.ForeignKey("listings.id", name="fk_listing_transitions_listing_id_listings", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_org_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listing_transitions"),
    )
    op.create_index("ix_listing_transitions_listing_id", "listing_transitions", ["listing_id"])

    op.create_table(
        "listing_ndas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "listing_id",
            sa.Uuid(),
            sa.ForeignKey("listings.id", name="fk_listing_ndas_listing_id_listings", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("orgs.id", name="fk_listing_ndas_org_id_orgs"), nullable=False),
        sa.Column(
            "user_id", sa.Uuid(), sa.ForeignKey("users.id", name="fk_listing_ndas_user_id_users"), nullable=False
        ),
        sa.Column("terms_version", sa.String(32), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listing_ndas"),
        sa.UniqueConstraint("listing_id", "org_id", name="uq_listing_ndas_listing_id_org_id"),
    )
    op.create_table(
        "listing_confidential_reads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "listing_id",
            sa.Uuid(),
            sa.ForeignKey("listings.id", name="fk_listing_confidential_reads_listing_id_listings", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listing_confidential_reads"),
    )
    op.create_index("ix_listing_confidential_reads_listing_id", "listing_confidential_reads", ["listing_id"])

    op.create_table(
        "notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opens_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("superseded_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.CheckConstraint(
            _in("kind", ("listing_announcement", "negotiated_price", "deal_result", "voucher_redemption")),
            name="ck_notices_kind",
        ),
        sa.CheckConstraint(_in("status", ("open", "suspended", "closed", "cancelled")), name="ck_notices_status"),
    )
    op.create_index("ix_notices_status_closes_at", "notices", ["status", "closes_at"])
    op.create_index("ix_notices_subject", "notices", ["subject_type", "subject_id"])

    op.create_table(
        "notice_objections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "notice_id",
            sa.Uuid(),
            sa.ForeignKey("notices.id", name="fk_notice_objections_notice_id_notices"),
            nullable=False,
        ),
        sa.Column(
            "objector_user_id",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_notice_objections_objector_user_id_users"),
            nullable=False,
        ),
        sa.Column("objector_org_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolution_note", sa.String(2000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notice_objections"),
        sa.CheckConstraint(
            _in("status", ("pending", "upheld", "dismissed", "lapsed")), name="ck_notice_objections_status"
        ),
    )
    op.create_index("ix_notice_objections_notice_id", "notice_objections", ["notice_id", "status"])
    op.create_index("ix_notice_objections_status", "notice_objections", ["status", "filed_at"])

    # Full-text search over the jieba-segmented words (listings/search.py).
    if sqlite:
        op.execute("CREATE VIRTUAL TABLE listing_search USING fts5(title, body, tokenize = 'unicode61')")
        op.execute(
            "CREATE TRIGGER listings_search_insert AFTER INSERT ON listings BEGIN "
            "INSERT INTO listing_search (rowid, title, body) VALUES (new.number, new.search_title, new.search_body); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER listings_search_update AFTER UPDATE OF search_title, search_body ON listings BEGIN "
            "UPDATE listing_search SET title = new.search_title, body = new.search_body WHERE rowid = new.number; "
            "END"
        )
        op.execute(
            "CREATE TRIGGER listings_search_delete AFTER DELETE ON listings BEGIN "
            "DELETE FROM listing_search WHERE rowid = old.number; "
            "END"
        )
    else:
        op.execute(
            "ALTER TABLE listings ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
            "setweight(to_tsvector('simple'::regconfig, search_body), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_listings_search_vector ON listings USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("listings_search_insert", "listings_search_update", "listings_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS listing_search")
    for table in (
        "notice_objections",
        "notices",
        "listing_confidential_reads",
        "listing_ndas",
        "listing_transitions",
        "listing_ip_assets",
        "listings",
        "listing_counters",
    ):
        op.drop_table(table)
