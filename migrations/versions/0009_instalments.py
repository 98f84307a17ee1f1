"""instalments: a deal's payment schedule and notifications, the paying_instalments state, voucher
fee payments per instalment

Every deal gets a payment schedule (``trading_deal_instalments``): one row per payment, with its
share of the settlement and its dates. Deals formed before this revision were formed under the rule
that the whole price is collected at payment, and keep it: each gets a schedule of one payment of
the whole price, in the status its deal's state implies (their instalment terms, if any, stay
recorded in the deal's terms as before).

Revision ID: 0009_instalments
Revises: 0008_listing_terms
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from uuid6 import uuid7

from kernel.columns import UTCDateTime

revision: str = "0009_instalments"
down_revision: str | None = "0008_listing_terms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEAL_STATES = ("result_notice", "awaiting_signatures", "awaiting_payment", "settled", "cancelled", "defaulted")
WITH_INSTALMENTS = (*DEAL_STATES[:3], "paying_instalments", *DEAL_STATES[3:])
INSTALMENT_STATUSES = ("pending", "overdue", "settled", "defaulted", "cancelled")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _deal_states(states: Sequence[str]) -> None:
    with op.batch_alter_table("trading_deals") as batch:
        batch.drop_constraint("ck_trading_deals_state", type_="check")
        batch.create_check_constraint("ck_trading_deals_state", _in("state", states))


def upgrade() -> None:
    _deal_states(WITH_INSTALMENTS)  # first: SQLite rebuilds the table, before any table refers to it

    t = "trading_deal_instalments"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "deal_id",
            sa.Uuid(),
            sa.ForeignKey("trading_deals.id", name=f"fk_{t}_deal_id_trading_deals"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_months", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("seller_fee", sa.BigInteger(), nullable=False),
        sa.Column("buyer_fee", sa.BigInteger(), nullable=False),
        sa.Column("buyer_fee_vouchers", sa.BigInteger(), nullable=False),
        sa.Column("inventor_reward", sa.BigInteger(), nullable=False),
        sa.Column("seller_proceeds", sa.BigInteger(), nullable=False),
        sa.Column("from_deposit", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("remind_at", UTCDateTime(), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.Column("payment_entry_ids", sa.JSON(), nullable=False),
        sa.Column("settlement_entry_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("deal_id", "seq", name=f"uq_{t}_deal_id_seq"),
        sa.CheckConstraint(_in("status", INSTALMENT_STATUSES), name=f"ck_{t}_status"),
        sa.CheckConstraint(
            "seq >= 0 AND due_months >= 0 AND amount > 0 AND seller_fee >= 0 AND buyer_fee >= 0 "
            "AND buyer_fee_vouchers >= 0 AND buyer_fee_vouchers <= buyer_fee AND inventor_reward >= 0 "
            "AND seller_proceeds >= 0 AND from_deposit >= 0 AND from_deposit <= amount",
            name=f"ck_{t}_amounts",
        ),
        sa.CheckConstraint(
            "seller_fee + inventor_reward + seller_proceeds = amount", name=f"ck_{t}_settlement_adds_up"
        ),
    )
    # The sweeper's claims: reminders, collections on the due date, defaults at the deadline.
    op.create_index(f"ix_{t}_status_remind_at", t, ["status", "remind_at"])
    op.create_index(f"ix_{t}_status_due_at", t, ["status", "due_at"])
    op.create_index(f"ix_{t}_status_deadline_at", t, ["status", "deadline_at"])

    t = "trading_deal_notifications"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "deal_id",
            sa.Uuid(),
            sa.ForeignKey("trading_deals.id", name=f"fk_{t}_deal_id_trading_deals"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(f"ix_{t}_deal_id", t, ["deal_id"])

    # A deal's buyer-side fee is paid in parts, one per instalment; vouchers may pay each part.
    with op.batch_alter_table("voucher_fee_payments") as batch:
        batch.add_column(sa.Column("instalment", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_voucher_fee_payments_deal", type_="unique")
        batch.create_unique_constraint(
            "uq_voucher_fee_payments_deal_instalment", ["deal_id", "instalment", "program_id"]
        )

    _backfill()


def _backfill() -> None:
    """Existing deals: one payment of the whole price each, as they were formed to be paid."""
    bind = op.get_bind()
    meta = sa.MetaData()
    deals = sa.Table(
        "trading_deals",
        meta,
        sa.Column("id", sa.Uuid()),
        sa.Column("price", sa.BigInteger()),
        sa.Column("deposit", sa.BigInteger()),
        sa.Column("hold_entry_id", sa.Uuid()),
        sa.Column("seller_fee", sa.BigInteger()),
        sa.Column("buyer_fee", sa.BigInteger()),
        sa.Column("buyer_fee_vouchers", sa.BigInteger()),
        sa.Column("inventor_reward", sa.BigInteger()),
        sa.Column("seller_proceeds", sa.BigInteger()),
        sa.Column("state", sa.String(24)),
        sa.Column("buyer_signed_at", UTCDateTime()),
        sa.Column("seller_signed_at", UTCDateTime()),
        sa.Column("payment_due_at", UTCDateTime()),
        sa.Column("paid_at", UTCDateTime()),
        sa.Column("settled_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime()),
    )
    rows = sa.Table(
        "trading_deal_instalments",
        meta,
        sa.Column("id", sa.Uuid()),
        sa.Column("deal_id", sa.Uuid()),
        *(sa.Column(name, sa.Integer()) for name in ("seq", "due_months")),
        *(
            sa.Column(name, sa.BigInteger())
            for name in (
                "amount",
                "seller_fee",
                "buyer_fee",
                "buyer_fee_vouchers",
                "inventor_reward",
                "seller_proceeds",
                "from_deposit",
            )
        ),
        sa.Column("status", sa.String(16)),
        *(sa.Column(name, UTCDateTime()) for name in ("due_at", "deadline_at", "paid_at", "settled_at")),
        *(sa.Column(name, sa.JSON()) for name in ("payment_entry_ids", "settlement_entry_ids")),
        *(sa.Column(name, UTCDateTime()) for name in ("created_at", "updated_at")),
    )
    status = {"settled": "settled", "defaulted": "defaulted", "cancelled": "cancelled"}
    for deal in bind.execute(sa.select(deals)).mappings():
        signed = [t for t in (deal["buyer_signed_at"], deal["seller_signed_at"]) if t is not None]
        settled = deal["state"] == "settled"
        bind.execute(
            rows.insert().values(
                id=uuid7(),
                deal_id=deal["id"],
                seq=0,
                due_months=0,
                amount=deal["price"],
                seller_fee=deal["seller_fee"],
                buyer_fee=deal["buyer_fee"],
                buyer_fee_vouchers=deal["buyer_fee_vouchers"] if settled else 0,
                inventor_reward=deal["inventor_reward"],
                seller_proceeds=deal["seller_proceeds"],
                from_deposit=min(deal["deposit"], deal["price"]) if settled and deal["hold_entry_id"] else 0,
                status=status.get(deal["state"], "pending"),
                due_at=max(signed) if deal["payment_due_at"] is not None and len(signed) == 2 else None,
                deadline_at=deal["payment_due_at"],
                paid_at=deal["paid_at"] if settled else None,
                settled_at=deal["settled_at"] if settled else None,
                payment_entry_ids=[],
                settlement_entry_ids=[],
                created_at=deal["created_at"],
                updated_at=deal["updated_at"],
            )
        )


def downgrade() -> None:
    bind = op.get_bind()
    paying = bind.execute(sa.text("SELECT count(*) FROM trading_deals WHERE state = 'paying_instalments'")).scalar()
    parts = bind.execute(sa.text("SELECT count(*) FROM voucher_fee_payments WHERE instalment > 0")).scalar()
    if paying or parts:
        raise RuntimeError(
            f"{paying} deals are paying instalments and {parts} voucher fee payments are on later instalments: "
            "the schema before 0009_instalments cannot hold them"
        )
    with op.batch_alter_table("voucher_fee_payments") as batch:
        batch.drop_constraint("uq_voucher_fee_payments_deal_instalment", type_="unique")
        batch.create_unique_constraint("uq_voucher_fee_payments_deal", ["deal_id", "program_id"])
        batch.drop_column("instalment")
    op.drop_table("trading_deal_notifications")
    op.drop_table("trading_deal_instalments")
    _deal_states(DEAL_STATES)
