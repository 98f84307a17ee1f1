"""Tables of innovation vouchers. Money columns are fen (VCH face value is one fen).

The ledger holds the balances; these tables hold what the ledger cannot know: which program a
voucher came from (an enterprise's ``org:<id>:vouchers`` account pools every program), the
per-program counters the invariants are checked against, and the state of orders and claims.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class VoucherProgram(IdMixin, Base):
    __tablename__ = "voucher_programs"

    owner_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    budget: Mapped[int] = mapped_column(BigInteger)
    per_org_cap: Mapped[int] = mapped_column(BigInteger)
    coverage_bp: Mapped[int]
    categories: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    # Counters, moved in the same transaction as the ledger entry they describe.
    funded: Mapped[int] = mapped_column(BigInteger, default=0)
    issued: Mapped[int] = mapped_column(BigInteger, default=0)
    spent: Mapped[int] = mapped_column(BigInteger, default=0)
    redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    expired: Mapped[int] = mapped_column(BigInteger, default=0)
    revoked: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # The least credit grade (A–D) of a provider whose services its vouchers pay; None: any provider.
    min_provider_grade: Mapped[str | None] = mapped_column(String(1))


class VoucherWallet(Base):
    """One enterprise's vouchers of one program. available = granted − held − spent − expired."""

    __tablename__ = "voucher_wallets"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher_programs.id"), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True, index=True)
    granted: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    spent: Mapped[int] = mapped_column(BigInteger, default=0)
    expired: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def available(self) -> int:
        return self.granted - self.held - self.spent - self.expired


class VoucherGrant(IdMixin, Base):
    __tablename__ = "voucher_grants"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[uuid.UUID]
    granted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class RelatedParty(IdMixin, Base):
    """A declared relation between two organisations (stored with the smaller id first)."""

    __tablename__ = "voucher_related_parties"
    __table_args__ = (UniqueConstraint("org_a", "org_b", name="uq_voucher_related_parties_pair"),)

    org_a: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    org_b: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    declared_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class Service(IdMixin, Base):
    __tablename__ = "voucher_services"

    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    provider_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class ServiceOrder(IdMixin, Base):
    __tablename__ = "voucher_service_orders"

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher_services.id"))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    program_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(BigInteger)
    voucher_amount: Mapped[int] = mapped_column(BigInteger)
    cash_amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    voucher_hold_id: Mapped[uuid.UUID | None]
    cash_hold_id: Mapped[uuid.UUID | None]
    results_summary: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    redemption_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    redeemed: Mapped[bool] = mapped_column(default=False)
    revoked: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Who cancelled it: the buyer's or the provider's organisation; None for the exchange or a program.
    cancelled_by_org_id: Mapped[uuid.UUID | None]  # an organisation's id (no foreign key: added in place)


class Redemption(IdMixin, Base):
    __tablename__ = "voucher_redemptions"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # service_orders | exchange_fees | commissions
    order_ids: Mapped[list[str]] = mapped_column(JSON)
    fee_payment_ids: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    notice_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(2000), default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class ProviderRevocation(IdMixin, Base):
    """The credit record of a provider revoked by a program."""

    __tablename__ = "voucher_provider_revocations"
    __table_args__ = (UniqueConstraint("program_id", "provider_org_id", name="uq_voucher_revocations_pair"),)

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher_programs.id"))
    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    reason: Mapped[str] = mapped_column(String(2000))
    vouchers_revoked: Mapped[int] = mapped_column(BigInteger)
    orders_cancelled: Mapped[int]
    redemptions_rejected: Mapped[int]
    revoked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class FeePayment(IdMixin, Base):
    """Vouchers that paid part of a buyer's exchange fee on a deal (brokerage), or part of a further
    leg of its settlement owed to a service provider (a technology broker's commission:
    ``recipient_org_id`` the broker's organisation, ``ref`` the leg's reference): once per program,
    payment of the deal's schedule (``instalment``: 0 for a lump sum or the down payment) and leg."""

    __tablename__ = "voucher_fee_payments"
    __table_args__ = (
        UniqueConstraint(
            "deal_id", "instalment", "ref", "program_id", name="uq_voucher_fee_payments_deal_instalment_ref"
        ),
    )

    deal_id: Mapped[uuid.UUID]
    instalment: Mapped[int] = mapped_column(Integer, default=0)
    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher_programs.id"))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    fee: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[uuid.UUID]
    recipient_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orgs.id"))  # None: the exchange
    ref: Mapped[str] = mapped_column(String(64), default="")  # the leg's reference; "" the exchange's fee
    redemption_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    redeemed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
