"""Pure rules of trading: fees, bids, anti-sniping, payment terms and schedules, negotiation turns,
and the state machines of intents, auctions, negotiations, offers, deals and instalments.

No database and no framework here; the services apply these rules inside their transactions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from kernel.errors import DomainError, InvalidState
from kernel.states import StateMachine
from kernel.time import rfc3339
from listings.domain import add_months
from listings.workdays import BEIJING, WorkingCalendar

BP = 10_000  # basis points in a whole


class TradingRuleBroken(DomainError):
    status = 422
    problem_type = "trading-rule-broken"
    title = "The request breaks a trading rule"


# --- fees -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeSchedule:
    """Marginal tiers charged to each side: ``(upper_bound_fen | None, basis_points)``.

    Each tier's rate applies to the part of the price inside it (like income tax brackets), so
    the fee is continuous in the price; the per-side minimum applies, but a fee never exceeds the
    amount it is charged on.
    """

    tiers: tuple[tuple[int | None, int], ...]
    minimum_fen: int

    def __post_init__(self) -> None:
        bounds = [upper for upper, _ in self.tiers[:-1]]
        if not self.tiers or self.tiers[-1][0] is not None or any(b is None for b in bounds):
            raise ValueError("only the last fee tier is open-ended")
        if bounds != sorted(bounds) or any(b <= 0 for b in bounds):  # type: ignore[operator]
            raise ValueError("fee tier bounds must increase")
        if any(not 0 <= bp <= BP for _, bp in self.tiers) or self.minimum_fen < 0:
            raise ValueError("fee rates must be 0..10000 bp and the minimum >= 0")

    def tiered(self, amount: int) -> int:
        """The tiered fee before the minimum, rounded half up to the fen."""
        total = 0  # in fen × basis points, exact
        lower = 0
        for upper, bp in self.tiers:
            top = amount if upper is None else min(amount, upper)
            if top > lower:
                total += (top - lower) * bp
            if upper is None or amount <= upper:
                break
            lower = upper
        return (total + BP // 2) // BP

    def fee(self, amount: int) -> int:
        if amount <= 0:
            return 0
        return min(amount, max(self.minimum_fen, self.tiered(amount)))


@dataclass(frozen=True)
class Settlement:
    """Where a deal's money goes when escrow holds the full price."""

    price: int
    seller_fee: int
    buyer_fee: int
    inventor_reward: int
    seller_proceeds: int

    @property
    def seller_net(self) -> int:
        return self.price - self.seller_fee

    @property
    def exchange_revenue(self) -> int:
        return self.seller_fee + self.buyer_fee


def settlement(price: int, schedule: FeeSchedule, *, inventor_reward_bp: int = 0) -> Settlement:
    """Split a settled price: the seller's fee from escrow, the buyer's fee on top, the inventors'
    share of the seller's net proceeds (rounded down: the institution keeps the fraction).

    ``inventor_reward_bp`` is the share the seller declared on its listing (0 for sellers other
    than public institutions)."""
    if price <= 0:
        raise ValueError("a deal's price is positive")
    if not 0 <= inventor_reward_bp <= BP:
        raise ValueError(f"an inventor reward share is 0 to {BP} basis points, not {inventor_reward_bp}")
    seller_fee = schedule.fee(price)
    reward = (price - seller_fee) * inventor_reward_bp // BP
    return Settlement(
        price=price,
        seller_fee=seller_fee,
        buyer_fee=schedule.fee(price),
        inventor_reward=reward,
        seller_proceeds=price - seller_fee - reward,
    )


def apportion(total: Settlement, amounts: Sequence[int]) -> list[Settlement]:
    """Split a deal's lump-sum settlement over the instalments of its price, fen-exact.

    Cumulative rounding: once instalments 1..k are paid, each part of the settlement has been
    settled in the proportion of the price paid so far, rounded down, and instalment k settles the
    difference; the last instalment therefore settles exactly what is left, and each part summed
    over the instalments equals the lump sum's. The seller's deductions (its fee and the inventors'
    reward) are apportioned together first and then split between fee and reward, so that no part
    of any instalment is negative and escrow pays out exactly what each instalment brought in.
    """
    if not amounts or any(a <= 0 for a in amounts) or sum(amounts) != total.price:
        raise ValueError("instalments are positive and add up to the price")
    deductions = total.seller_fee + total.inventor_reward
    if min(total.seller_fee, total.buyer_fee, total.inventor_reward, total.seller_proceeds) < 0 or (
        deductions > total.price
    ):
        raise ValueError("a settlement's parts are not negative and the seller's add up to the price")
    parts: list[Settlement] = []
    paid = deducted = fee = buyer_fee = 0
    for amount in amounts:
        paid += amount
        deducted_now = deductions * paid // total.price
        fee_now = total.seller_fee * deducted_now // deductions if deductions else 0
        buyer_fee_now = total.buyer_fee * paid // total.price
        share = deducted_now - deducted
        seller_fee = fee_now - fee
        parts.append(
            Settlement(
                price=amount,
                seller_fee=seller_fee,
                buyer_fee=buyer_fee_now - buyer_fee,
                inventor_reward=share - seller_fee,
                seller_proceeds=amount - share,
            )
        )
        deducted, fee, buyer_fee = deducted_now, fee_now, buyer_fee_now
    return parts


def forfeiture(deposit: int, schedule: FeeSchedule) -> tuple[int, int]:
    """A defaulting buyer's deposit: ``(to_seller, to_exchange)``; the exchange keeps its fee on it."""
    exchange_share = schedule.fee(deposit)
    return deposit - exchange_share, exchange_share


# --- intents --------------------------------------------------------------------------------


class IntentStatus(StrEnum):
    ACTIVE = "active"  # registered, its deposit held
    WITHDRAWN = "withdrawn"  # by the buyer during the announcement; the hold voided
    RELEASED = "released"  # the listing went elsewhere (stopped, unsold, another buyer); the hold voided
    WON = "won"  # the intent became a deal; its hold now belongs to the deal


class IntentAction(StrEnum):
    REGISTER = "register"  # the organisation registers again on the listing's (new) announcement
    WITHDRAW = "withdraw"
    RELEASE = "release"
    WIN = "win"


INTENT_TRANSITIONS = {
    "active": {"withdraw": "withdrawn", "release": "released", "win": "won"},
    # One row per organisation and listing: an ended intent is registered again when the listing
    # is announced again (relisted after an unsold close or a cancelled or defaulted deal).
    "withdrawn": {"register": "active"},
    "released": {"register": "active"},
    "won": {"register": "active"},
}
INTENTS = StateMachine("intent", IntentStatus, IntentAction, IntentStatus.ACTIVE, INTENT_TRANSITIONS)
next_intent_state = INTENTS.next


def takes_part(status: str, registered_at: datetime, ended_at: datetime | None, auction_starts_at: datetime) -> bool:
    """Whether an intent makes its organisation a participant of an auction (SPEC §3.2), and so one
    who sees it, its bids and its live events: an intent registered for the announcement the auction
    follows (before its opening) and active — or ended by the auction's own outcome (won, or released
    at or after its opening). A withdrawn intent, or one registered for a later announcement of the
    listing, takes no part."""
    if status == IntentStatus.WITHDRAWN or registered_at > auction_starts_at:
        return False
    if status == IntentStatus.ACTIVE:
        return True
    return ended_at is not None and ended_at >= auction_starts_at


# --- auctions -------------------------------------------------------------------------------


class BidRejected(TradingRuleBroken):
    problem_type = "bid-rejected"
    title = "The bid breaks an auction rule"


class BidBelowAsking(BidRejected):
    problem_type = "bid-below-asking-price"


class BidOffGrid(BidRejected):
    problem_type = "bid-off-increment-grid"


class BidTooLow(BidRejected):
    problem_type = "bid-below-minimum"


class AuctionClosed(InvalidState):
    problem_type = "auction-closed"
    title = "The auction is not open for bids"


class AuctionNotOpen(InvalidState):
    problem_type = "auction-not-open"
    title = "The auction has not opened yet"


def check_auction_open(*, closed: bool, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """Bids are taken from the opening (409 ``auction-not-open`` naming it) until the end (409
    ``auction-closed``)."""
    if closed or now >= ends_at:
        raise AuctionClosed(f"the auction ended at {rfc3339(ends_at)}", state="closed")
    if now < starts_at:
        raise AuctionNotOpen(
            f"the auction opens at {rfc3339(starts_at)}; bids are taken from then until {rfc3339(ends_at)}",
            state="scheduled",
            opens_at=rfc3339(starts_at),
        )


def minimum_bid(asking_price: int, increment: int, high: int | None) -> int:
    return asking_price if high is None else high + increment


def bid_grid(asking_price: int, increment: int, high: int | None, count: int = 5) -> list[int]:
    """The next ``count`` valid bids: the minimum, then a step of the increment each (all on the grid)."""
    lowest = minimum_bid(asking_price, increment, high)
    return [lowest + step * increment for step in range(count)]


def check_bid(amount: int, *, asking_price: int, increment: int, high: int | None) -> None:
    """First bid ≥ asking price; later bids ≥ high + increment; every bid on the increment grid."""
    if amount < asking_price:
        raise BidBelowAsking(f"the first acceptable bid is {asking_price} fen", field="amount", minimum=asking_price)
    if (amount - asking_price) % increment:
        raise BidOffGrid(
            f"bids are the asking price plus a multiple of the increment {increment} fen",
            field="amount",
            asking_price=asking_price,
            increment=increment,
        )
    if high is not None and amount < high + increment:
        raise BidTooLow(
            f"the current high bid is {high} fen; bid at least {high + increment}",
            field="amount",
            minimum=high + increment,
        )


def end_after_bid(ends_at: datetime, bid_at: datetime, window: timedelta) -> datetime:
    """Anti-sniping: a bid inside the last ``window`` moves the end to bid time + ``window``."""
    if bid_at >= ends_at:
        raise AuctionClosed("the auction has ended")
    return max(ends_at, bid_at + window) if ends_at - bid_at < window else ends_at


class AuctionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AuctionAction(StrEnum):
    BID = "bid"  # a bid leaves the auction open (its end may move: ``end_after_bid``)
    CLOSE = "close"  # its end came: the high bidder's deal, or unsold


AUCTION_TRANSITIONS = {
    "open": {"bid": "open", "close": "closed"},
}
AUCTIONS = StateMachine(
    "auction", AuctionStatus, AuctionAction, AuctionStatus.OPEN, AUCTION_TRANSITIONS, refusal=AuctionClosed
)
next_auction_state = AUCTIONS.next


# --- negotiation ----------------------------------------------------------------------------


class PaymentTermsInvalid(TradingRuleBroken):
    problem_type = "invalid-payment-terms"
    title = "The payment terms break the exchange's rules"


MIN_DOWN_PAYMENT_BP = 3000
MAX_INSTALLMENT_MONTHS = 12


@dataclass(frozen=True)
class Installment:
    due_months: int  # months after signing; 0 is the down payment
    amount: int


def check_installments(price: int, installments: Sequence[Installment]) -> None:
    """Down payment (month 0) ≥ 30% of the price, the last due within 12 months, the sum = price."""
    if not installments:
        raise PaymentTermsInvalid("instalment terms need at least a down payment", field="payment_terms.installments")
    months = [i.due_months for i in installments]
    if months != sorted(months) or len(set(months)) != len(months):
        raise PaymentTermsInvalid(
            "instalments are listed in strictly increasing months", field="payment_terms.installments"
        )
    if installments[0].due_months != 0:
        raise PaymentTermsInvalid(
            "the first instalment is the down payment, due at signing (month 0)",
            field="payment_terms.installments.0.due_months",
        )
    if installments[0].amount * BP < price * MIN_DOWN_PAYMENT_BP:
        raise PaymentTermsInvalid(
            "the down payment must be at least 30% of the price", field="payment_terms.installments.0.amount"
        )
    if months[-1] > MAX_INSTALLMENT_MONTHS:
        raise PaymentTermsInvalid(
            "the last instalment is due within 12 months of signing", field="payment_terms.installments"
        )
    if sum(i.amount for i in installments) != price:
        raise PaymentTermsInvalid("the instalments must add up to the price", field="payment_terms.installments")


def payment_schedule(price: int, payment_terms: Mapping[str, Any]) -> list[Installment]:
    """What the buyer pays when: a lump sum is one payment of the whole price at signing (month 0)."""
    if payment_terms.get("kind") != "installments":
        return [Installment(0, price)]
    parts = [Installment(int(i["due_months"]), int(i["amount"])) for i in payment_terms.get("installments") or []]
    check_installments(price, parts)
    return parts


@dataclass(frozen=True)
class InstalmentDates:
    """When an instalment is due, when the buyer is reminded, and the last moment to pay it.

    ``due_at``: the down payment at signing; a later instalment at the start (00:00 Beijing time)
    of the day ``due_months`` calendar months after the signing day (the 31st becomes the month's
    last day), when it is collected from the buyer's wallet.
    ``remind_at``: the start of the ``reminder_working_days``-th working day before that day; for
    the down payment (or the lump sum), before the last day to pay it, at signing at the earliest
    (none when reminders are off).
    ``deadline_at``: the end of the ``grace_working_days``-th working day after the due day: the
    down payment's deadline as SPEC §3.4 sets it, and the same grace for every later instalment.
    """

    due_at: datetime
    remind_at: datetime | None
    deadline_at: datetime


def _start_of(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING).astimezone(UTC)


def instalment_dates(
    calendar: WorkingCalendar,
    signed_at: datetime,
    due_months: int,
    *,
    grace_working_days: int,
    reminder_working_days: int,
) -> InstalmentDates:
    """The dates of one payment, counted on ``calendar`` (409 ``calendar-year-missing`` when they
    would count into a year it has no data for)."""
    if due_months == 0:
        deadline = calendar.working_days_end(signed_at, grace_working_days)
        remind = None
        if reminder_working_days > 0:
            last_day = (deadline - timedelta(microseconds=1)).astimezone(BEIJING).date()
            remind = max(signed_at, _start_of(calendar.working_days_before(last_day, reminder_working_days)))
        return InstalmentDates(signed_at, remind, deadline)
    day = add_months(signed_at.astimezone(BEIJING).date(), due_months)
    due_at = _start_of(day)
    remind = _start_of(calendar.working_days_before(day, reminder_working_days)) if reminder_working_days > 0 else None
    return InstalmentDates(due_at, remind, calendar.working_days_end(due_at, grace_working_days))


class Side(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"


class NegotiationStatus(StrEnum):
    OPEN = "open"
    AGREED = "agreed"  # an offer was accepted: the deal formed
    DECLINED = "declined"  # the standing offer was declined
    EXPIRED = "expired"  # the standing offer expired unanswered
    CLOSED = "closed"  # another buyer concluded the deal


class NegotiationAction(StrEnum):
    OFFER = "offer"  # a counter-offer: the thread stays open
    AGREE = "agree"
    DECLINE = "decline"
    EXPIRE = "expire"
    CLOSE = "close"


NEGOTIATION_TRANSITIONS = {
    "open": {"offer": "open", "agree": "agreed", "decline": "declined", "expire": "expired", "close": "closed"},
}
NEGOTIATIONS = StateMachine(
    "negotiation", NegotiationStatus, NegotiationAction, NegotiationStatus.OPEN, NEGOTIATION_TRANSITIONS
)
next_negotiation_state = NEGOTIATIONS.next


class OfferStatus(StrEnum):
    OPEN = "open"  # the standing offer
    SUPERSEDED = "superseded"  # countered, or its thread closed because another buyer concluded
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class OfferAction(StrEnum):
    SUPERSEDE = "supersede"
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"


OFFER_TRANSITIONS = {
    "open": {"supersede": "superseded", "accept": "accepted", "decline": "declined", "expire": "expired"},
}
OFFERS = StateMachine("offer", OfferStatus, OfferAction, OfferStatus.OPEN, OFFER_TRANSITIONS)
next_offer_state = OFFERS.next

# What ending a thread does to its standing offer (a declined thread's offer is already declined).
STANDING_OFFER_ON_END: Mapping[NegotiationAction, OfferAction] = {
    NegotiationAction.EXPIRE: OfferAction.EXPIRE,
    NegotiationAction.CLOSE: OfferAction.SUPERSEDE,
}


class OfferOutOfTurn(InvalidState):
    problem_type = "offer-out-of-turn"
    title = "It is the other party's turn"


class TooManyOffers(InvalidState):
    problem_type = "too-many-offers"
    title = "The negotiation has reached its offer limit"


def check_counter_offer(last_offer_side: Side | None, side: Side, offers_so_far: int, max_offers: int) -> None:
    """Parties alternate; the buyer opens unless the seller's listed price stands as the opening offer."""
    if offers_so_far >= max_offers:
        raise TooManyOffers(f"a negotiation holds at most {max_offers} offers")
    if last_offer_side is side:
        raise OfferOutOfTurn("wait for the other party's answer before making another offer")


def check_answer(offer_side: Side, answering_side: Side, *, expires_at: datetime, now: datetime) -> None:
    """Only the other party accepts or declines the standing offer, and only before it expires."""
    if offer_side is answering_side:
        raise OfferOutOfTurn("an offer is accepted or declined by the other party")
    if now >= expires_at:
        raise InvalidState("the offer has expired")


# --- deals ----------------------------------------------------------------------------------


class DealState(StrEnum):
    RESULT_NOTICE = "result_notice"
    AWAITING_SIGNATURES = "awaiting_signatures"
    AWAITING_PAYMENT = "awaiting_payment"
    PAYING_INSTALMENTS = "paying_instalments"  # the down payment settled, later instalments to come
    SETTLED = "settled"
    CANCELLED = "cancelled"
    DEFAULTED = "defaulted"


class DealAction(StrEnum):
    NOTICE_CLOSED = "notice_closed"
    OBJECTION_UPHELD = "objection_upheld"
    BOTH_SIGNED = "both_signed"
    PAID = "paid"  # the price is paid in full (a lump sum, or the last instalment)
    INSTALMENT_PAID = "instalment_paid"  # a part of it, with more instalments to come
    PAYMENT_MISSED = "payment_missed"
    CANCEL_BY_AGREEMENT = "cancel_by_agreement"


DEAL_TRANSITIONS = {
    "result_notice": {"notice_closed": "awaiting_signatures", "objection_upheld": "cancelled"},
    "awaiting_signatures": {"both_signed": "awaiting_payment", "cancel_by_agreement": "cancelled"},
    "awaiting_payment": {
        "paid": "settled",
        "instalment_paid": "paying_instalments",
        "payment_missed": "defaulted",
        "cancel_by_agreement": "cancelled",
    },
    "paying_instalments": {
        "instalment_paid": "paying_instalments",
        "paid": "settled",
        "payment_missed": "defaulted",
    },
}
DEALS = StateMachine("deal", DealState, DealAction, DealState.RESULT_NOTICE, DEAL_TRANSITIONS)
next_deal_state = DEALS.next


def payment_action(unpaid_after: int) -> DealAction:
    """A payment that leaves nothing unpaid pays the price; otherwise it is one instalment of it."""
    return DealAction.PAID if unpaid_after == 0 else DealAction.INSTALMENT_PAID


# --- instalments of a deal's payment schedule --------------------------------------------------


class InstalmentStatus(StrEnum):
    PENDING = "pending"  # not yet paid
    OVERDUE = "overdue"  # not collected on its due date: the buyer pays it before its deadline
    SETTLED = "settled"  # paid into escrow and settled, in one transaction
    DEFAULTED = "defaulted"  # unpaid when the deal defaulted
    CANCELLED = "cancelled"  # unpaid when the deal was cancelled


class InstalmentAction(StrEnum):
    PAID = "paid"
    COLLECTION_FAILED = "collection_failed"
    DEAL_DEFAULTED = "deal_defaulted"
    DEAL_CANCELLED = "deal_cancelled"


UNPAID = frozenset({InstalmentStatus.PENDING, InstalmentStatus.OVERDUE})


INSTALMENT_TRANSITIONS = {
    "pending": {
        "paid": "settled",
        "collection_failed": "overdue",
        "deal_defaulted": "defaulted",
        "deal_cancelled": "cancelled",
    },
    "overdue": {"paid": "settled", "deal_defaulted": "defaulted"},
}
INSTALMENTS = StateMachine(
    "instalment", InstalmentStatus, InstalmentAction, InstalmentStatus.PENDING, INSTALMENT_TRANSITIONS
)
next_instalment_status = INSTALMENTS.next


# --- a deal on hold while a party is suspended --------------------------------------------------------

Period = tuple[datetime, datetime | None]  # (from, until); until None while it lasts


def held_deadline(deadline: datetime, since: datetime, suspensions: Sequence[Period]) -> datetime | None:
    """A payment deadline moved by the time the deal was on hold: each period in which a party was
    suspended, after the deadline's clock started (``since``) and before the deadline (as moved so
    far), pushes it back by its length; overlapping periods count once. ``None`` while a suspension
    that began before the deadline lasts: the deal is on hold and has no deadline until it ends."""
    moved = deadline
    covered = since  # suspended time up to here is counted
    for start, end in sorted(suspensions, key=lambda p: p[0]):
        if end is not None and end <= covered:
            continue
        if start >= moved:
            break
        if end is None:
            return None
        moved += end - max(start, covered)
        covered = end
    return moved


# --- what a visitor of a listing may do next (the listing page's call to action) ---------------


class NextStep(StrEnum):
    SIGN_IN = "sign_in"  # the public, while intents are registered: sign in to take part
    GET_VERIFIED = "get_verified"  # a signed-in organisation that may not trade (unverified, suspended)
    OWN_LISTING = "own_listing"  # the seller: nothing to buy
    REGISTER_INTENT = "register_intent"  # register intent, the deposit held from its wallet
    INTENT_REGISTERED = "intent_registered"  # its deposit held; the announcement's end decides what follows
    GO_TO_AUCTION = "go_to_auction"  # a participant of the listing's scheduled or running auction


def next_step(
    *,
    open_for_intents: bool,
    signed_in: bool,
    operator: bool,
    seller: bool,
    may_trade: bool,
    intent_active: bool,
    in_running_auction: bool,
) -> NextStep | None:
    """The one step a visitor of a listing may take now, or None (nothing to do: an operator, a
    listing past its announcement with no auction of the visitor's). The rules behind each step are
    those the services enforce: intents only during the announcement (``intents.OPEN_FOR_INTENTS``),
    by a verified active organisation other than the seller, once; bids by the auction's participants."""
    if in_running_auction:
        return NextStep.GO_TO_AUCTION
    if not open_for_intents or operator:
        return None
    if not signed_in:
        return NextStep.SIGN_IN
    if seller:
        return NextStep.OWN_LISTING
    if intent_active:
        return NextStep.INTENT_REGISTERED
    return NextStep.REGISTER_INTENT if may_trade else NextStep.GET_VERIFIED


# -- what the workspaces show: a deposit's fate, and whose turn it is ----------------------------------


class DepositState(StrEnum):
    NONE = "none"  # the listing asked for no deposit
    HELD = "held"  # held on the buyer's wallet: the intent is active, or its deal not yet paid
    APPLIED = "applied"  # counted toward the deal's first payment (any excess released)
    RELEASED = "released"  # the hold voided: withdrawn, another buyer, unsold, the deal cancelled
    FORFEITED = "forfeited"  # the first payment was missed: paid to the seller and the exchange


def deposit_state(deposit: int, intent_status: str, deal_state: str | None, forfeited: int = 0) -> DepositState:
    """Where an intent's deposit is now, from the intent's state and, once it won, its deal's."""
    if deposit <= 0:
        return DepositState.NONE
    if intent_status in (IntentStatus.WITHDRAWN, IntentStatus.RELEASED):
        return DepositState.RELEASED
    if intent_status == IntentStatus.ACTIVE or deal_state is None:
        return DepositState.HELD
    if deal_state in (DealState.PAYING_INSTALMENTS, DealState.SETTLED):
        return DepositState.APPLIED
    if deal_state == DealState.DEFAULTED:
        return DepositState.FORFEITED if forfeited > 0 else DepositState.RELEASED
    if deal_state == DealState.CANCELLED:
        return DepositState.RELEASED
    return DepositState.HELD


class PartyTask(StrEnum):
    """What a deal or a negotiation waits for from one party."""

    ANSWER_OFFER = "answer_offer"  # the other side's offer stands: accept, counter or decline
    SIGN = "sign"  # the deal awaits this party's signature (an admin's)
    PAY = "pay"  # the buyer's payment is due (an admin's)


def deal_task(
    state: str, side: Side, *, signed: bool, next_payment_due: datetime | None, now: datetime
) -> PartyTask | None:
    """The deal's next step for ``side``: its signature while awaiting signatures, the buyer's
    payment while awaiting payment or when an instalment has come due; else nothing."""
    if state == DealState.AWAITING_SIGNATURES:
        return None if signed else PartyTask.SIGN
    if side != Side.BUYER:
        return None
    if state == DealState.AWAITING_PAYMENT:
        return PartyTask.PAY
    if state == DealState.PAYING_INSTALMENTS and next_payment_due is not None and next_payment_due <= now:
        return PartyTask.PAY
    return None


def negotiation_task(status: str, standing_side: str | None, side: Side) -> PartyTask | None:
    """An open negotiation waits for the side that did not make the standing offer."""
    if status == NegotiationStatus.OPEN and standing_side is not None and standing_side != side:
        return PartyTask.ANSWER_OFFER
    return None


def cash_due(amount: int, seq: int, deposit: int, deposit_held: bool, buyer_fee: int) -> int:
    """What a payment takes from the buyer's wallet: the payment less the deposit it absorbs (the
    first payment only, while the deposit is held), plus the buyer's fee on it (before any part of
    the fee paid with innovation vouchers)."""
    from_deposit = min(deposit, amount) if seq == 0 and deposit_held else 0
    return amount - from_deposit + buyer_fee
