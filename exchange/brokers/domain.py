"""Pure rules of technology brokers (技术经纪人): the credential number, the states of a broker and of
an engagement, the commission agreed and its apportionment over a deal's payments.

No database and no framework here; ``service.py`` and ``settlement.py`` apply these rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from kernel.errors import DomainError, InvalidState

BP = 10_000  # basis points in one whole
MAX_FEN = 10**15  # as listings: far above any price, far below integer overflow

# A credential number (证书编号) as the issuing bodies print them: 8–32 characters of capital
# letters and digits in groups joined by single hyphens, e.g. ``JSJJR-310000-2024-000123``.
CREDENTIAL_NUMBER = re.compile(r"^(?=.{8,32}$)[A-Z0-9]+(?:-[A-Z0-9]+)*$")


class BrokerRuleBroken(DomainError):
    problem_type = "broker-rule-broken"
    status = 422
    title = "The request breaks a rule of technology brokerage"


class BrokerNotVerified(DomainError):
    problem_type = "broker-not-verified"
    status = 409
    title = "The broker is not verified"


class BrokerStatus(StrEnum):
    PENDING = "pending"  # registered by its organisation, awaiting an operator
    VERIFIED = "verified"  # an operator checked the credential
    REJECTED = "rejected"  # with a reason; the organisation may register it again
    SUSPENDED = "suspended"  # by an operator, with a reason; engaged on nothing new


class BrokerAction(StrEnum):
    VERIFY = "verify"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


BROKER_TRANSITIONS: dict[tuple[BrokerStatus, BrokerAction], BrokerStatus] = {
    (BrokerStatus.PENDING, BrokerAction.VERIFY): BrokerStatus.VERIFIED,
    (BrokerStatus.PENDING, BrokerAction.REJECT): BrokerStatus.REJECTED,
    (BrokerStatus.VERIFIED, BrokerAction.SUSPEND): BrokerStatus.SUSPENDED,
    (BrokerStatus.SUSPENDED, BrokerAction.REINSTATE): BrokerStatus.VERIFIED,
}


def next_broker_status(status: BrokerStatus, action: BrokerAction) -> BrokerStatus:
    try:
        return BROKER_TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidState(f"a {status} broker cannot be {action}ed", state=status.value) from None


class SubjectKind(StrEnum):
    LISTING = "listing"
    DEMAND = "demand"  # referred to by id only
    NEGOTIATION = "negotiation"
    DEAL = "deal"


class Side(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"


class EngagementStatus(StrEnum):
    PROPOSED = "proposed"  # by a party; the broker's organisation has not answered
    ACCEPTED = "accepted"  # by the broker's organisation; charged at settlement once bound to a deal
    DECLINED = "declined"  # by the broker's organisation, with a reason
    WITHDRAWN = "withdrawn"  # by the party before it was bound to a deal
    LAPSED = "lapsed"  # the deal formed with a commission its side cannot bear: not charged


class EngagementAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    LAPSE = "lapse"


ENGAGEMENT_TRANSITIONS: dict[tuple[EngagementStatus, EngagementAction], EngagementStatus] = {
    (EngagementStatus.PROPOSED, EngagementAction.ACCEPT): EngagementStatus.ACCEPTED,
    (EngagementStatus.PROPOSED, EngagementAction.DECLINE): EngagementStatus.DECLINED,
    (EngagementStatus.PROPOSED, EngagementAction.WITHDRAW): EngagementStatus.WITHDRAWN,
    (EngagementStatus.ACCEPTED, EngagementAction.WITHDRAW): EngagementStatus.WITHDRAWN,
    (EngagementStatus.ACCEPTED, EngagementAction.LAPSE): EngagementStatus.LAPSED,
}


def next_engagement_status(status: EngagementStatus, action: EngagementAction) -> EngagementStatus:
    try:
        return ENGAGEMENT_TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidState(f"a {status} engagement cannot be {action}ed", state=status.value) from None


def check_credential_number(number: str) -> str:
    """The credential number as stored (upper case, trimmed); 422 naming ``credential_number``."""
    cleaned = number.strip().upper()
    if not CREDENTIAL_NUMBER.match(cleaned):
        raise BrokerRuleBroken(
            "a credential number is 8–32 capital letters and digits in groups joined by single hyphens, "
            "e.g. JSJJR-310000-2024-000123",
            field="credential_number",
        )
    return cleaned


def check_commission(bp: int | None, fixed: int | None) -> None:
    """Exactly one basis: a share of the price (1–10,000 basis points) or a fixed amount in fen."""
    if (bp is None) == (fixed is None):
        raise BrokerRuleBroken(
            "give either commission_bp or commission_fen, not both nor neither", field="commission_bp"
        )
    if bp is not None and not 0 < bp <= BP:
        raise BrokerRuleBroken(f"a commission share is 1 to {BP} basis points", field="commission_bp")
    if fixed is not None and not 0 < fixed <= MAX_FEN:
        raise BrokerRuleBroken("a fixed commission is a positive amount of fen", field="commission_fen")


def commission_of(price: int, *, bp: int | None, fixed: int | None) -> int:
    """The lump-sum commission on a deal of ``price``: the fixed amount, or the share rounded down."""
    if price < 0:
        raise ValueError("a price is not negative")
    return fixed if fixed is not None else price * (bp or 0) // BP


def bearable(commission: int, owed_by: Side, *, price: int, seller_proceeds: int) -> bool:
    """Can the side owing it bear the commission? The seller pays it out of its proceeds (after the
    exchange's fee and the inventors' share), so never more than them; the buyer never more than the price."""
    limit = seller_proceeds if owed_by is Side.SELLER else price
    return 0 <= commission <= limit


def refuse_unbearable(commission: int, owed_by: Side, *, price: int, seller_proceeds: int, field: str) -> None:
    if not bearable(commission, owed_by, price=price, seller_proceeds=seller_proceeds):
        bound = "the seller's proceeds" if owed_by is Side.SELLER else "the price"
        limit = seller_proceeds if owed_by is Side.SELLER else price
        raise BrokerRuleBroken(
            f"a commission of {commission} fen exceeds {bound} of {limit} fen, which the {owed_by} cannot bear",
            field=field,
        )


def commission_shares(total: int, weights: Sequence[int]) -> list[int]:
    """Split a lump-sum commission over a deal's payments in proportion to ``weights``, fen-exact.

    Cumulative rounding: once payments 1..k are settled, the commission paid so far is the share of
    the total in the proportion of the weights so far, rounded down; the last payment pays exactly
    what is left. The shares add up to ``total``, none is negative, and none exceeds its weight
    while the total does not exceed the weights' sum — so a seller paying out of each payment's
    proceeds (the weights) never nets below zero; a buyer's weights are the payments' amounts.
    """
    if any(w < 0 for w in weights) or not weights:
        raise ValueError("weights are not negative, and there is at least one")
    whole = sum(weights)
    if not 0 <= total <= whole:
        raise ValueError(f"a commission of {total} fen does not fit weights of {whole} fen")
    shares: list[int] = []
    so_far = paid = 0
    for weight in weights:
        so_far += weight
        now_paid = total * so_far // whole if whole else 0
        shares.append(now_paid - paid)
        paid = now_paid
    return shares


def basis_text(bp: int | None, fixed: int | None) -> str:
    """How a notice states the commission's basis: ``成交价的 3.00%`` or ``固定 ¥50,000.00``."""
    if fixed is not None:
        return f"固定金额 ¥{fixed // 100:,}.{fixed % 100:02d}"
    value = bp or 0
    return f"成交价的 {value // 100}.{value % 100:02d}%"
