"""Rules of payments, free of I/O: amounts, periods, the state machines of withdrawals, card
payments and reconciliations, and the problems they raise."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum

from kernel.errors import Conflict, DomainError, InvalidState, NotFound
from kernel.states import StateMachine

# China has one time zone and no daylight saving: a statement's "day" is a day in UTC+8.
CHINA = timezone(timedelta(hours=8), "CST")
MAX_AMOUNT = 10**15  # fen; ten trillion yuan, far above any single payment
MAX_PERIOD_DAYS = 366
REFERENCE = re.compile(r"^[\w\-./:#]{1,200}$")


class Provider(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    STRIPE = "stripe"


class PaymentError(DomainError):
    problem_type = "payment-error"
    title = "The payment request breaks a rule of the exchange"


class InvalidAmount(PaymentError):
    problem_type = "invalid-amount"
    title = "The amount must be a positive number of fen"


class InvalidReference(PaymentError):
    problem_type = "invalid-reference"
    title = "The reference is not usable"


class InvalidPeriod(PaymentError):
    problem_type = "invalid-period"
    title = "The period is not usable"


class UnknownOrg(PaymentError):
    problem_type = "unknown-org"
    title = "No organisation has this id"


class InvalidPayee(PaymentError):
    problem_type = "invalid-payee"
    title = "The bank account to pay is missing or not the one on record"

    def __init__(self, detail: str, *, field: str = "payee", **extra: object) -> None:
        super().__init__(detail, field=field, **extra)


class DuplicateBankReference(Conflict):
    problem_type = "duplicate-bank-reference"
    title = "This bank reference has already been recorded"


class WithdrawalNotFound(NotFound):
    problem_type = "withdrawal-not-found"


class WithdrawalDecided(InvalidState):
    problem_type = "withdrawal-decided"
    title = "The withdrawal has already been completed or rejected"


class ProviderNotConfigured(DomainError):
    problem_type = "provider-not-configured"
    status = 409
    title = "This payment provider is not configured"


class ProviderUnavailable(DomainError):
    problem_type = "provider-unavailable"
    status = 502
    title = "The payment provider did not answer as expected"


class UnknownAtProvider(ProviderUnavailable):
    """The provider answered that it has no such object (Stripe's 404). Where the webhook asks, the
    event is recorded as unmatched and answered 200; anywhere else it is the provider failing (502)."""


class InvalidSignature(DomainError):
    problem_type = "invalid-signature"
    status = 400
    title = "The webhook signature does not verify"


class MalformedEvent(DomainError):
    problem_type = "malformed-event"
    status = 400
    title = "The webhook body is not a Stripe event"


class InvalidStatement(PaymentError):
    problem_type = "invalid-statement"
    title = "The bank statement cannot be read"


class InvalidCounterAccount(PaymentError):
    problem_type = "invalid-counter-account"
    title = "The counter account of an adjustment must be another CNY account of the ledger"


class AlreadyResolving(Conflict):
    problem_type = "already-resolving"
    title = "A resolution of this difference has already been proposed"


class ReconciliationNotFound(NotFound):
    problem_type = "reconciliation-not-found"


class NothingToResolve(Conflict):
    problem_type = "nothing-to-resolve"
    title = "The reconciliation reports no difference under this reference"


def check_amount(amount: int, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount(f"{field} must be an integer number of fen from 1 to {MAX_AMOUNT}", field=field)
    return amount


def check_reference(reference: str, field: str = "reference") -> str:
    cleaned = reference.strip()
    if not REFERENCE.match(cleaned):
        raise InvalidReference(
            f"{field} must be 1-200 letters, digits or - . / : # _ (as printed on the bank statement)", field=field
        )
    return cleaned


def day_start(day: date) -> datetime:
    """The instant a day begins in China, in UTC."""
    return datetime.combine(day, time(0), CHINA).astimezone(UTC)


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def period_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of the days ``first`` to ``last`` inclusive."""
    if last < first:
        raise InvalidPeriod("period_to must not be before period_from", field="period_to")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"a period covers at most {MAX_PERIOD_DAYS} days", field="period_to")
    return day_start(first), day_start(last + timedelta(days=1))


def adjustment_direction(provider_amount: int | None, ledger_amount: int | None) -> int:
    """What the provider's account must still move for the ledger to agree with the provider."""
    return (provider_amount or 0) - (ledger_amount or 0)


# -- state machines ---------------------------------------------------------------------------------


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"  # the amount is held on the wallet
    COMPLETED = "completed"  # paid by bank: the hold posted to ``bank:settlement``
    REJECTED = "rejected"  # not paid: the hold voided


class WithdrawalAction(StrEnum):
    COMPLETE = "complete"
    REJECT = "reject"


WITHDRAWAL_TRANSITIONS = {
    "requested": {"complete": "completed", "reject": "rejected"},
}
WITHDRAWALS = StateMachine(
    "withdrawal",
    WithdrawalStatus,
    WithdrawalAction,
    WithdrawalStatus.REQUESTED,
    WITHDRAWAL_TRANSITIONS,
    refusal=WithdrawalDecided,
)
next_withdrawal_state = WITHDRAWALS.next


class CardPaymentStatus(StrEnum):
    """A card top-up (``StripePayment``), as far as Stripe has told the exchange."""

    CREATING = "creating"  # the row exists; the PaymentIntent is being made
    PENDING = "pending"  # the PaymentIntent exists; the payer has not paid yet
    SUCCEEDED = "succeeded"  # the wallet was credited (once)
    FAILED = "failed"  # the last attempt failed; the payer may try again with another card
    CANCELED = "canceled"  # Stripe's spelling: the PaymentIntent was canceled


class CardPaymentAction(StrEnum):
    ATTACH_INTENT = "attach_intent"  # the PaymentIntent is made and its id stored
    SUCCEED = "succeed"  # Stripe reports it succeeded: the wallet is credited
    FAIL = "fail"  # an attempt failed (or the money was not in CNY)
    CANCEL = "cancel"


# A payment is found by its PaymentIntent's metadata even before the id was stored, and a failed
# attempt may be followed by one that succeeds: each live state (creating, pending, failed) may
# succeed, fail (again: the latest failure is kept) or be canceled. Succeeded and canceled are final.
CARD_PAYMENT_TRANSITIONS = {
    "creating": {"attach_intent": "pending", "succeed": "succeeded", "fail": "failed", "cancel": "canceled"},
    "pending": {"succeed": "succeeded", "fail": "failed", "cancel": "canceled"},
    "failed": {"succeed": "succeeded", "fail": "failed", "cancel": "canceled"},
}
CARD_PAYMENTS = StateMachine(
    "card payment", CardPaymentStatus, CardPaymentAction, CardPaymentStatus.CREATING, CARD_PAYMENT_TRANSITIONS
)
next_card_payment_state = CARD_PAYMENTS.next


def card_payment_action(stripe_status: str, *, attempt_failed: bool) -> CardPaymentAction:
    """What a PaymentIntent's status at Stripe means for the exchange's payment. Any status not
    final at Stripe (processing, requires_action, …) only says that the PaymentIntent exists."""
    if stripe_status == "succeeded":
        return CardPaymentAction.SUCCEED
    if stripe_status == "canceled":
        return CardPaymentAction.CANCEL
    if stripe_status == "requires_payment_method" and attempt_failed:
        return CardPaymentAction.FAIL
    return CardPaymentAction.ATTACH_INTENT


class RefundStatus(StrEnum):
    """A Stripe refund is recorded once, in one of these; it never changes."""

    RECORDED = "recorded"  # reversed on the wallet
    UNRECOVERED = "unrecovered"  # the wallet could not cover it: reconciliation shows the difference


class StripeEventStatus(StrEnum):
    """What became of a verified webhook event; recorded once per event id, it never changes."""

    PROCESSED = "processed"  # the ledger was brought in line with Stripe
    IGNORED = "ignored"  # an event type the exchange does not act on
    UNMATCHED = "unmatched"  # about an object the exchange does not know: for an operator to look at


class ReconciliationStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ReconciliationAction(StrEnum):
    COMPLETE = "complete"
    FAIL = "fail"


RECONCILIATION_TRANSITIONS = {
    "running": {"complete": "completed", "fail": "failed"},
}
RECONCILIATIONS = StateMachine(
    "reconciliation",
    ReconciliationStatus,
    ReconciliationAction,
    ReconciliationStatus.RUNNING,
    RECONCILIATION_TRANSITIONS,
)
next_reconciliation_state = RECONCILIATIONS.next


class ResolutionStatus(StrEnum):
    PROPOSED = "proposed"  # the maker's adjustment waits for a second operator
    APPROVED = "approved"  # posted


class ResolutionAction(StrEnum):
    APPROVE = "approve"


RESOLUTION_TRANSITIONS = {
    "proposed": {"approve": "approved"},
}
RESOLUTIONS = StateMachine(
    "resolution", ResolutionStatus, ResolutionAction, ResolutionStatus.PROPOSED, RESOLUTION_TRANSITIONS
)
next_resolution_state = RESOLUTIONS.next
