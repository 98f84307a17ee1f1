"""Tables of an institution's own transfer process. Money columns are fen.

The rules live in ``domain.py``; these tables keep what the rules are applied to: an institution's
settings and who holds its roles, disclosures, each disclosure's process with its history of step
records (never changed, only added to), the registrations of contracts, the receipts of income,
their distribution plans and the inventors' accounts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class InstitutionSettings(Base):
    """An institution's configuration; an institution without a row runs on the defaults."""

    __tablename__ = "institution_settings"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    public: Mapped[bool] = mapped_column(default=True)
    # The ordered steps, each {"step": ..., "roles": [...]} (``domain.configure_workflow`` checks it).
    workflow: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decision_body: Mapped[str] = mapped_column(String(200))  # e.g. 成果转化领导小组
    notice_days: Mapped[int] = mapped_column(Integer)
    notice_unit: Mapped[str] = mapped_column(String(16))
    plan_notice_days: Mapped[int] = mapped_column(Integer)
    plan_notice_unit: Mapped[str] = mapped_column(String(16))
    inventor_share_bp: Mapped[int] = mapped_column(Integer)
    extra_approval_threshold_fen: Mapped[int] = mapped_column(BigInteger)
    # The parts of the institution's remainder: [{"name": ..., "weight": ...}].
    institution_parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class RoleGrant(Base):
    """A member's role in the institution's process (the office, an evaluator, the expert panel's
    secretary, the decision body's secretary). The organisation's admins hold the office role
    without a grant; every member may disclose (the inventor's role)."""

    __tablename__ = "institution_role_grants"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime]


class Disclosure(IdMixin, Base):
    """A service invention disclosed (职务科技成果披露): the achievement as a listing describes it,
    its IP assets, the inventors with their contribution shares, the funding and the intended form."""

    __tablename__ = "disclosures"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(32))
    keywords: Mapped[list[str]] = mapped_column(JSON)
    maturity: Mapped[int] = mapped_column(Integer)
    ip_assets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # listings' IpAsset shape
    inventors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # {name, affiliation, share_bp}
    funding: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # {kind, funder, project_number}
    intended_form: Mapped[str] = mapped_column(String(16))
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]


class TransferProcess(IdMixin, Base):
    """A disclosure's way through its institution's workflow. ``step``/``pass_no``/``status`` repeat
    what the history says (``domain.Process.position``) so that lists can filter on them; the
    history in ``process_steps`` is the record. ``version`` guards against two acts at once."""

    __tablename__ = "transfer_processes"

    disclosure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("disclosures.id"), unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    workflow: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the institution's, as it began
    public: Mapped[bool]  # whether the institution was a public one when the process began
    status: Mapped[str] = mapped_column(String(16), index=True)
    step: Mapped[str | None] = mapped_column(String(16))
    pass_no: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The records in force: the last completed evaluation (the appraisal of record) and decision.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notice_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the transfer's public notice
    listing_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the exchange listing (step 7)
    contract: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a negotiated price's signed contract
    # What the office chose when it upheld an objection to the notice: {"return_to": step} or
    # {"stop": true}; read by the notice handler in the same transaction, then cleared.
    remedy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StepEntry(IdMixin, Base):
    """One act at a step (``domain.StepRecord``) with the step's record, in the order it happened."""

    __tablename__ = "process_steps"
    __table_args__ = (UniqueConstraint("process_id", "seq"),)

    process_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfer_processes.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))
    pass_no: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)
    returned_to: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ContractRegistration(IdMixin, Base):
    """技术合同认定登记: the registration of a signed deal's contract at a technology-contract registry."""

    __tablename__ = "contract_registrations"

    deal_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    contract_number: Mapped[str] = mapped_column(String(64))
    registry_name: Mapped[str] = mapped_column(String(200))
    registered_on: Mapped[date]
    certified_amount: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class InventorAccount(IdMixin, Base):
    """An inventor paid by an institution: a person with a ledger account of their own
    (``inventor:<id>:cash``), whose identity the institution checked before the first payout."""

    __tablename__ = "inventor_accounts"
    __table_args__ = (UniqueConstraint("org_id", "name", "affiliation"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    identity_checked_at: Mapped[datetime | None]
    identity_checked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # The bank account in the inventor's name the office checked with their identity (0027): their
    # withdrawals are paid there and nowhere else.
    payee: Mapped[str] = mapped_column(String(500), default="", server_default="")


class IncomeReceipt(IdMixin, Base):
    """The institution's income from one settled payment of a deal that its process implemented."""

    __tablename__ = "income_receipts"
    __table_args__ = (UniqueConstraint("deal_id", "seq"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    process_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfer_processes.id"), index=True)
    deal_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(Integer)  # the deal's payment (0: the price or the down payment)
    amount: Mapped[int] = mapped_column(BigInteger)  # the institution's net income of the payment
    reward_held: Mapped[int] = mapped_column(BigInteger)  # of it, held for the inventors at settlement
    received_at: Mapped[datetime]


class DistributionPlan(IdMixin, Base):
    """The office's plan for one receipt: every payout, its own public notice, an extra approval
    when a person's payout is above the threshold, then the payouts as ledger entries."""

    __tablename__ = "distribution_plans"

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("income_receipts.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    inventor_share_bp: Mapped[int] = mapped_column(Integer)
    # [{"kind": inventor|institution, "name", "affiliation", "inventor_account_id", "amount"}]
    payouts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    notice_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    extra_approval_needed: Mapped[bool] = mapped_column(default=False)
    extra_approval: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {minutes, by, at}
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)


class AnnualReportInput(Base):
    """What an institution's annual report needs that the exchange does not record: its technology
    development, consulting and service contracts, its joint R&D bodies, its problems and plans."""

    __tablename__ = "institution_annual_inputs"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    # {"development": {"count", "amount"}, "consulting": {...}, "service": {...}}
    contracts: Mapped[dict[str, Any]] = mapped_column(JSON)
    joint_bodies: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"name", "partner", "founded_on"}]
    problems: Mapped[str] = mapped_column(Text)
    plans: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]
