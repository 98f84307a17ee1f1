"""Pure rules of innovation vouchers: programs, grants, orders, redemption, their state machines and
their invariants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import msgspec

from kernel.errors import DomainError, InvalidState
from kernel.states import StateMachine

BP = 10_000


class VoucherRuleBroken(DomainError):
    status = 422
    problem_type = "voucher-rule-broken"
    title = "The request breaks a voucher program rule"


class GrantOverCap(VoucherRuleBroken):
    problem_type = "grant-over-cap"
    title = "The grant would exceed the program's cap for this enterprise"


class GrantOverBudget(VoucherRuleBroken):
    problem_type = "grant-over-budget"
    title = "The grant would exceed the program's budget"


class VoucherOverCoverage(VoucherRuleBroken):
    problem_type = "voucher-over-coverage"
    title = "Vouchers may pay only part of a service's price"


class CategoryNotEligible(VoucherRuleBroken):
    problem_type = "category-not-eligible"
    title = "The program does not cover this service category"


class ProgramNotActive(VoucherRuleBroken):
    problem_type = "program-not-active"
    title = "The program is outside its validity window"


class RelatedParties(VoucherRuleBroken):
    problem_type = "related-parties"
    title = "An enterprise may not buy voucher services from itself or a related party"


class Category(StrEnum):
    TECH_SEARCH = "tech_search"
    PATENT_MANAGEMENT = "patent_management"
    VALUATION = "valuation"
    ENGINEERING_VERIFICATION = "engineering_verification"
    TESTING = "testing"
    BROKERAGE = "brokerage"
    R_AND_D = "r_and_d"
    CONSULTING = "consulting"


class ProgramStatus(StrEnum):
    """Where a program stands in its validity window."""

    UPCOMING = "upcoming"  # before valid_from: nothing can be ordered with its vouchers yet
    ACTIVE = "active"
    ENDED = "ended"  # from valid_until: unspent vouchers have returned to the program


@dataclass(frozen=True)
class ProgramRules:
    budget: int
    per_org_cap: int
    coverage_bp: int
    categories: frozenset[Category]
    valid_from: datetime
    valid_until: datetime

    def is_active(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until

    def status(self, now: datetime) -> ProgramStatus:
        if now < self.valid_from:
            return ProgramStatus.UPCOMING
        return ProgramStatus.ACTIVE if now < self.valid_until else ProgramStatus.ENDED

    def require_active(self, now: datetime) -> None:
        if not self.is_active(now):
            raise ProgramNotActive(
                f"the program is valid from {self.valid_from.isoformat()} until {self.valid_until.isoformat()}"
            )

    def max_voucher_amount(self, price: int) -> int:
        """The most of ``price`` payable with vouchers (rounded down to the fen)."""
        return price * self.coverage_bp // BP

    def check_grant(self, amount: int, *, granted_to_org: int, granted_total: int) -> None:
        if granted_to_org + amount > self.per_org_cap:
            raise GrantOverCap(
                f"this enterprise has {granted_to_org} of its {self.per_org_cap} cap; {amount} more exceeds it",
                field="amount",
            )
        if granted_total + amount > self.budget:
            raise GrantOverBudget(
                f"{granted_total} of the {self.budget} budget is granted; {amount} more exceeds it", field="amount"
            )

    def check_order(self, *, category: Category, price: int, voucher_amount: int) -> None:
        if category not in self.categories:
            raise CategoryNotEligible(f"the program does not cover '{category}'", field="service_id")
        if voucher_amount > self.max_voucher_amount(price):
            raise VoucherOverCoverage(
                f"vouchers may pay at most {self.coverage_bp / 100:g}% of the price: {self.max_voucher_amount(price)}",
                field="voucher_amount",
            )


def check_not_related(buyer_org: str, provider_org: str, related: set[frozenset[str]]) -> None:
    if buyer_org == provider_org or frozenset((buyer_org, provider_org)) in related:
        raise RelatedParties("the enterprise and the provider are the same or declared related parties")


class OrderState(StrEnum):
    ORDERED = "ordered"
    CONFIRMED = "confirmed"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


class OrderSide(StrEnum):
    """Which side of a service order an organisation is on."""

    BUYER = "buyer"  # the enterprise that ordered
    PROVIDER = "provider"


class OrderAction(StrEnum):
    CONFIRM = "confirm"
    DELIVER = "deliver"
    ACCEPT = "accept"
    CANCEL = "cancel"


ORDER_TRANSITIONS = {
    "ordered": {"confirm": "confirmed", "cancel": "cancelled"},
    "confirmed": {"deliver": "delivered", "cancel": "cancelled"},
    "delivered": {"accept": "accepted", "cancel": "cancelled"},
}
ORDERS = StateMachine("service order", OrderState, OrderAction, OrderState.ORDERED, ORDER_TRANSITIONS)
next_order_state = ORDERS.next


@dataclass(frozen=True)
class EnterpriseFigures:
    org_id: uuid.UUID
    granted: int
    held: int
    spent: int
    expired: int
    available: int


@dataclass(frozen=True)
class ProviderFigures:
    org_id: uuid.UUID
    orders: int
    received: int  # vouchers of accepted orders
    claimed: int  # in open redemption claims
    redeemed: int
    revoked: int


@dataclass(frozen=True)
class ProviderRecord:
    """A service provider's public record: who it is, what it offers, what it has delivered, and
    the programs that revoked it (the reasons stay in the credit records of program admins)."""

    org_id: uuid.UUID
    name: str
    verified: bool
    services: int
    completed_orders: int  # service orders the buyer accepted
    revoked_by: list[str]  # names of the programs that revoked the provider
    # Its credit (exchange.credit, docs/credit.md): grade A–D (None: unrated), score 0–100, ratings, 示范机构.
    grade: str | None = None
    score: float | None = None
    ratings: int = 0
    demonstration: bool = False


@dataclass(frozen=True)
class VoucherTotals:
    programs: int
    budget: int
    funded: int
    issued: int
    spent: int
    redeemed: int
    expired: int
    revoked: int
    outstanding: int


class ProgramFigures(msgspec.Struct, frozen=True):
    """A program's totals, in fen (VCH and CNY both count fen of face value)."""

    budget: int
    funded: int
    issued: int
    spent: int  # vouchers paid to providers on accepted orders
    redeemed: int  # vouchers retired against cash paid from funding
    expired: int
    revoked: int
    outstanding: int  # held by enterprises or providers, not yet retired, expired or revoked

    def broken_invariants(self) -> list[str]:
        problems = []
        if self.issued - self.redeemed - self.expired - self.revoked != self.outstanding:
            problems.append("issued − retired − expired − revoked ≠ outstanding")
        if self.redeemed > self.funded:
            problems.append("cash redeemed exceeds funding")
        if self.issued > self.budget:
            problems.append("issued exceeds the budget")
        if self.redeemed > self.spent:
            problems.append("more redeemed than spent")
        return problems


# -- errors of the voucher use cases ---------------------------------------------------------------


class ProviderRevoked(VoucherRuleBroken):
    problem_type = "provider-revoked"
    title = "The program has revoked this service provider"


class AlreadyRevoked(DomainError):
    status = 409
    problem_type = "already-revoked"
    title = "The program has already revoked this service provider"


class OrderAlreadyClaimed(DomainError):
    status = 409
    problem_type = "already-redeemed"
    title = "A service order is redeemed at most once"


class NoticeStillOpen(InvalidState):
    problem_type = "notice-open"
    title = "The redemption's public notice has not closed yet"


class RedemptionKind(StrEnum):
    SERVICE_ORDERS = "service_orders"  # a provider's accepted orders
    EXCHANGE_FEES = "exchange_fees"  # the exchange's brokerage fees paid with vouchers
    COMMISSIONS = "commissions"  # a broker organisation's commissions paid with vouchers


class RedemptionState(StrEnum):
    NOTICED = "noticed"  # the voucher_redemption notice is running
    SUSPENDED = "suspended"  # an objection was pending when the notice period ended
    READY = "ready"  # the notice closed: the program admin may approve
    APPROVED = "approved"
    REJECTED = "rejected"


class RedemptionAction(StrEnum):
    SUSPEND = "suspend"  # the notice period ended with an objection pending
    NOTICE_CLOSED = "notice_closed"  # the notice closed (its period ran, or the objection was dismissed)
    APPROVE = "approve"  # the program admin: vouchers retired, cash paid from funding
    REJECT = "reject"  # the program admin, an upheld objection, or the provider's revocation


REDEMPTION_TRANSITIONS = {
    "noticed": {"suspend": "suspended", "notice_closed": "ready", "reject": "rejected"},
    "suspended": {"notice_closed": "ready", "reject": "rejected"},
    "ready": {"approve": "approved", "reject": "rejected"},
}
REDEMPTIONS = StateMachine(
    "redemption", RedemptionState, RedemptionAction, RedemptionState.NOTICED, REDEMPTION_TRANSITIONS
)
next_redemption_state = REDEMPTIONS.next

# A claim is open (its orders are taken, it may still be rejected) until it is approved or rejected.
OPEN_REDEMPTION_STATES = REDEMPTIONS.sources(RedemptionAction.REJECT)


def split_price(price: int, voucher_amount: int) -> tuple[int, int]:
    """(voucher part, cash part) of a service price."""
    if voucher_amount < 0:
        raise VoucherRuleBroken("voucher_amount may not be negative", field="voucher_amount")
    if voucher_amount > price:
        raise VoucherOverCoverage("voucher_amount exceeds the price", field="voucher_amount")
    return voucher_amount, price - voucher_amount


def fee_voucher_share(fee: int, coverage_bp: int, already_paid: int, available: int) -> int:
    """How much of an exchange fee one program's vouchers pay: within coverage of the whole fee,
    less what other programs paid already, and no more than the buyer has available."""
    return max(0, min(available, fee * coverage_bp // BP - already_paid))
