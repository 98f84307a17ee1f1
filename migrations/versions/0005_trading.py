"""trading: intents, auctions, bids, negotiations, offers, deals

Revision ID: 0005_trading
Revises: 0004_idempotency
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from kernel.columns import UTCDateTime

revision: str = "0005_trading"
down_revision: str | None = "0004_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEAL_STATES = ("result_notice", "awaiting_signatures", "awaiting_payment", "settled", "cancelled", "defaulted")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def _id(table: str) -> list[Any]:
    return [sa.Column("id", sa.Uuid(), nullable=False), sa.PrimaryKeyConstraint("id", name=f"pk_{table}")]


def upgrade() -> None:
    t = "trading_intents"
    op.create_table(
        t,
        *_id(t),
        sa.Column("listing_id", sa.Uuid(), _fk(t, "listing_id", "listings"), nullable=False),
        sa.Column("org_id", sa.Uuid(), _fk(t, "org_id", "orgs"), nullable=False),
        sa.Column("user_id", sa.Uuid(), _fk(t, "user_id", "users"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("hold_entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(500), nullable=False),
        sa.UniqueConstraint("listing_id", "org_id", name="uq_trading_intents_listing_id_org_id"),
        sa.CheckConstraint(_in("status", ("active", "withdrawn", "released", "won")), name=f"ck_{t}_status"),
        sa.CheckConstraint("deposit >= 0", name=f"ck_{t}_deposit"),
    )
    op.create_index("ix_trading_intents_listing_id", t, ["listing_id"])
    op.create_index("ix_trading_intents_org_id", t, ["org_id"])

    t = "trading_intent_notifications"
    op.create_table(
        t,
        *_id(t),
        sa.Column("intent_id", sa.Uuid(), _fk(t, "intent_id", "trading_intents"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_trading_intent_notifications_intent_id", t, ["intent_id"])

    t = "trading_auctions"
    op.create_table(
        t,
        *_id(t),
        sa.Column("listing_id", sa.Uuid(), _fk(t, "listing_id", "listings"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("asking_price", sa.BigInteger(), nullable=False),
        sa.Column("increment", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("scheduled_end", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("high_amount", sa.BigInteger(), nullable=True),
        sa.Column("high_bid_id", sa.Uuid(), nullable=True),
        sa.Column("high_org_id", sa.Uuid(), nullable=True),
        sa.Column("bid_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("deal_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(_in("status", ("open", "closed")), name=f"ck_{t}_status"),
        sa.CheckConstraint("increment > 0 AND asking_price > 0", name=f"ck_{t}_amounts"),
    )
    op.create_index("ix_trading_auctions_listing_id", t, ["listing_id"])
    op.create_index("ix_trading_auctions_status_ends_at", t, ["status", "ends_at"])

    t = "trading_bids"
    op.create_table(
        t,
        *_id(t),
        sa.Column("auction_id", sa.Uuid(), _fk(t, "auction_id", "trading_auctions"), nullable=False),
        sa.Column("intent_id", sa.Uuid(), _fk(t, "intent_id", "trading_intents"), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bidder_number", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("extended_to", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("auction_id", "seq", name="uq_trading_bids_auction_id_seq"),
        sa.CheckConstraint("amount > 0", name=f"ck_{t}_amount"),
    )
    op.create_index("ix_trading_bids_auction_id", t, ["auction_id"])

    t = "trading_negotiations"
    op.create_table(
        t,
        *_id(t),
        sa.Column("listing_id", sa.Uuid(), _fk(t, "listing_id", "listings"), nullable=False),
        sa.Column("intent_id", sa.Uuid(), _fk(t, "intent_id", "trading_intents"), nullable=False),
        sa.Column("buyer_org_id", sa.Uuid(), nullable=False),
        sa.Column("seller_org_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("offer_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(500), nullable=False),
        sa.UniqueConstraint("intent_id", name="uq_trading_negotiations_intent_id"),
        sa.CheckConstraint(_in("status", ("open", "agreed", "declined", "expired", "closed")), name=f"ck_{t}_status"),
    )
    op.create_index("ix_trading_negotiations_listing_id", t, ["listing_id"])

    t = "trading_offers"
    op.create_table(
        t,
        *_id(t),
        sa.Column("negotiation_id", sa.Uuid(), _fk(t, "negotiation_id", "trading_negotiations"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("payment_terms", sa.JSON(), nullable=False),
        sa.Column("adjustments", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("negotiation_id", "seq", name="uq_trading_offers_negotiation_id_seq"),
        sa.CheckConstraint(
            _in("status", ("open", "superseded", "accepted", "declined", "expired")), name=f"ck_{t}_status"
        ),
        sa.CheckConstraint("price > 0", name=f"ck_{t}_price"),
    )
    op.create_index("ix_trading_offers_negotiation_id", t, ["negotiation_id"])
    op.create_index("ix_trading_offers_expires_at", t, ["expires_at"])

    t = "trading_deals"
    op.create_table(
        t,
        *_id(t),
        sa.Column("listing_id", sa.Uuid(), _fk(t, "listing_id", "listings"), nullable=False),
        sa.Column("buyer_org_id", sa.Uuid(), _fk(t, "buyer_org_id", "orgs"), nullable=False),
        sa.Column("seller_org_id", sa.Uuid(), _fk(t, "seller_org_id", "orgs"), nullable=False),
        sa.Column("intent_id", sa.Uuid(), _fk(t, "intent_id", "trading_intents"), nullable=False),
        sa.Column("concluded_by", sa.String(16), nullable=False),
        sa.Column("deal_type", sa.String(16), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("seller_kind", sa.String(32), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("hold_entry_id", sa.Uuid(), nullable=True),
        sa.Column("seller_fee", sa.BigInteger(), nullable=False),
        sa.Column("buyer_fee", sa.BigInteger(), nullable=False),
        sa.Column("inventor_reward_bp", sa.Integer(), nullable=False),
        sa.Column("inventor_reward", sa.BigInteger(), nullable=False),
        sa.Column("seller_proceeds", sa.BigInteger(), nullable=False),
        sa.Column("buyer_fee_vouchers", sa.BigInteger(), nullable=False),
        sa.Column("related_party", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("notice_kind", sa.String(32), nullable=False),
        sa.Column("buyer_signed_by", sa.Uuid(), nullable=True),
        sa.Column("buyer_signed_at", UTCDateTime(), nullable=True),
        sa.Column("seller_signed_by", sa.Uuid(), nullable=True),
        sa.Column("seller_signed_at", UTCDateTime(), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("certificate_signature", sa.String(128), nullable=True),
        sa.Column("certificate_key_id", sa.String(64), nullable=True),
        sa.Column("payment_due_at", UTCDateTime(), nullable=True),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.Column("buyer_cancel_at", UTCDateTime(), nullable=True),
        sa.Column("seller_cancel_at", UTCDateTime(), nullable=True),
        sa.Column("forfeited_to_seller", sa.BigInteger(), nullable=False),
        sa.Column("forfeited_to_exchange", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("state", DEAL_STATES), name=f"ck_{t}_state"),
        sa.CheckConstraint("price > 0 AND seller_fee >= 0 AND buyer_fee >= 0", name=f"ck_{t}_amounts"),
        sa.CheckConstraint("seller_fee + inventor_reward + seller_proceeds = price", name=f"ck_{t}_settlement_adds_up"),
    )
    op.create_index("ix_trading_deals_listing_id", t, ["listing_id"])
    op.create_index("ix_trading_deals_buyer_org_id", t, ["buyer_org_id"])
    op.create_index("ix_trading_deals_seller_org_id", t, ["seller_org_id"])
    op.create_index("ix_trading_deals_state_payment_due_at", t, ["state", "payment_due_at"])


def downgrade() -> None:
    for table in (
        "trading_deals",
        "trading_offers",
        "trading_negotiations",
        "trading_bids",
        "trading_auctions",
        "trading_intent_notifications",
        "trading_intents",
    ):
        op.drop_table(table)
