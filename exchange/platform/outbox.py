"""The notification outbox: what happened, to whom it should be told, written in the transaction
of the event that causes it.

Every module tells people through ``notify(session, kind, to=..., ...)`` inside its own
transaction: if the event rolls back, nobody is told; once it commits, the notifications module's
worker expands the row into inbox items, emails and webhook deliveries (``exchange/notifications``),
after a crash too. Nothing here sends anything.

``data`` is what the templates need, JSON-safe: amounts as integers of fen under names ending in
``_fen``, times as RFC 3339 UTC strings under names ending in ``_at``, dates ISO under ``_on``.
A kind's fields named in ``SECRET_FIELDS`` (one-time tokens of account mail) are erased once
the row has been delivered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class Kind(StrEnum):
    """Every notification the exchange sends; docs/notifications.md says who gets each and how."""

    # listings and their announcements
    LISTING_APPROVED = "listing.approved"
    LISTING_REJECTED = "listing.rejected"
    OBJECTION_FILED = "objection.filed"
    OBJECTION_RESOLVED = "objection.resolved"
    OBJECTION_ANSWERED = "objection.answered"  # to the objector and operators: the seller's answer
    ANNOUNCEMENT_CLOSING = "announcement.closing"
    LISTING_AMENDED = "listing.amended"  # to intent holders: they may withdraw
    # intents and deposits
    INTENT_REGISTERED = "intent.registered"
    DEPOSIT_HELD = "deposit.held"
    DEPOSIT_RELEASED = "deposit.released"
    # auctions
    OUTBID = "auction.outbid"
    AUCTION_EXTENDED = "auction.extended"
    AUCTION_WON = "auction.won"
    AUCTION_LOST = "auction.lost"
    AUCTION_SOLD = "auction.sold"  # to the seller: its listing sold at auction
    AUCTION_UNSOLD = "auction.unsold"
    # negotiation
    OFFER_RECEIVED = "offer.received"
    OFFER_EXPIRING = "offer.expiring"
    OFFER_ACCEPTED = "offer.accepted"
    OFFER_DECLINED = "offer.declined"
    # deals and payments
    DEAL_AWAITING_SIGNATURE = "deal.awaiting_signature"
    PAYMENT_DUE = "payment.due"
    PAYMENT_OVERDUE = "payment.overdue"  # an instalment could not be collected: pay it before its deadline
    PAYMENT_DEFAULTED = "payment.defaulted"
    DEAL_SETTLED = "deal.settled"
    # vouchers and services
    VOUCHER_GRANTED = "voucher.granted"
    VOUCHER_EXPIRING = "voucher.expiring"
    VOUCHER_REDEEMED = "voucher.redeemed"
    SERVICE_ORDER_UPDATED = "service_order.updated"
    # wallets
    WITHDRAWAL_PAID = "withdrawal.paid"
    WITHDRAWAL_REJECTED = "withdrawal.rejected"
    # institutions: income from a deal its transfer process implemented, to distribute
    INCOME_RECEIVED = "income.received"
    # institutions: a distribution plan paid an inventor who is a member (into their own account)
    INVENTOR_PAID = "inventor.paid"
    # for operators
    ORG_TO_VERIFY = "operator.org_to_verify"
    LISTING_TO_REVIEW = "operator.listing_to_review"
    OBJECTION_TO_RESOLVE = "operator.objection_to_resolve"
    RECONCILIATION_DIFFERENCES = "operator.reconciliation_differences"
    WITHDRAWALS_WAITING = "operator.withdrawals_waiting"
    CALENDAR_YEAR_MISSING = "operator.calendar_year_missing"
    # accounts: by email only, to an address (which may have no account yet)
    EMAIL_CONFIRMATION = "account.email_confirmation"
    ALREADY_REGISTERED = "account.already_registered"
    INVITATION = "account.invitation"
    PASSWORD_RESET = "account.password_reset"
    PASSWORD_CHANGED = "account.password_changed"
    MEMBERSHIP_CHANGED = "account.membership_changed"
    # technical demands (exchange/demands): proposals, their answers, deadlines, campaigns' screening
    PROPOSAL_RECEIVED = "demand.proposal_received"
    PROPOSAL_SHORTLISTED = "proposal.shortlisted"
    PROPOSAL_DECLINED = "proposal.declined"
    PROPOSAL_NEGOTIATION = "proposal.negotiation_opened"
    DEMAND_DEADLINE = "demand.deadline"
    CAMPAIGN_SCREENED = "campaign.submission_screened"
    # matching (exchange/demands/matches.py): the daily digest of new matches
    MATCH_DIGEST = "matching.digest"
    # technology brokers (exchange/brokers): an engagement proposed and answered, a broker's credential decided
    ENGAGEMENT_PROPOSED = "broker_engagement.proposed"
    ENGAGEMENT_ACCEPTED = "broker_engagement.accepted"
    ENGAGEMENT_DECLINED = "broker_engagement.declined"
    BROKER_VERIFIED = "broker.verified"
    BROKER_REJECTED = "broker.rejected"
    BROKER_SUSPENDED = "broker.suspended"
    BROKER_REINSTATED = "broker.reinstated"
    # tracking after the deal (exchange/tracking): a report coming due, and one overdue
    TRACKING_REPORT_DUE = "tracking.report_due"
    TRACKING_REPORT_OVERDUE = "tracking.report_overdue"
    CREDIT_RATING_RECEIVED = "credit_rating.received"
    CREDIT_COMPLAINT_FILED = "credit_complaint.filed"
    CREDIT_COMPLAINT_DECIDED = "credit_complaint.decided"
    CREDIT_DEMONSTRATION_DESIGNATED = "credit_demonstration.designated"
    CREDIT_DEMONSTRATION_ENDED = "credit_demonstration.ended"
    # tracking after the deal: the buyer filed (or corrected) an implementation report; its seller is told
    TRACKING_REPORT_FILED = "tracking.report_filed"
    # the achievement registry (exchange/registry): a registration registered or returned, one to check
    REGISTRY_REGISTERED = "registry.registered"
    REGISTRY_RETURNED = "registry.returned"
    REGISTRY_TO_CHECK = "operator.registry_to_check"


# One-time tokens in account mail: erased from the outbox once delivered.
SECRET_FIELDS = ("token", "link")


@dataclass(frozen=True)
class Audience:
    """Who is told: every user of ``orgs`` (only their admins when ``admins_only``), the ``users``
    named, the exchange's operators, and bare ``emails`` (account mail to an address)."""

    orgs: tuple[uuid.UUID, ...] = ()
    users: tuple[uuid.UUID, ...] = ()
    operators: bool = False
    emails: tuple[str, ...] = ()
    admins_only: bool = False

    @classmethod
    def of_orgs(cls, *org_ids: uuid.UUID | None, admins_only: bool = False) -> Audience:
        return cls(orgs=tuple(dict.fromkeys(o for o in org_ids if o is not None)), admins_only=admins_only)


OPERATORS = Audience(operators=True)


@dataclass(frozen=True)
class Subject:
    """The resource a notification is about: the inbox links to it (``listing``, ``deal``…)."""

    type: str
    id: uuid.UUID | str


class OutboxEvent(IdMixin, Base):
    """One notification to deliver: expanded by the notifications worker into inbox items and
    deliveries (``expanded_at``), then its deliveries are sent."""

    __tablename__ = "notification_outbox"

    kind: Mapped[str] = mapped_column(String(48))
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expanded_at: Mapped[datetime | None] = mapped_column(index=True)
    has_secrets: Mapped[bool] = mapped_column(Boolean, default=False)


def notify(
    session: AsyncSession,
    kind: Kind,
    *,
    to: Audience,
    now: datetime,
    subject: Subject | None = None,
    data: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Record that ``to`` should be told of ``kind``; it leaves when ``session`` commits."""
    payload = dict(data or {})
    event = OutboxEvent(
        kind=Kind(kind).value,
        audience={
            "orgs": [str(o) for o in to.orgs],
            "users": [str(u) for u in to.users],
            "operators": to.operators,
            "emails": list(to.emails),
            "admins_only": to.admins_only,
        },
        subject_type=subject.type if subject else "",
        subject_id=str(subject.id) if subject else "",
        data=payload,
        created_at=now,
        expanded_at=None,
        has_secrets=any(name in payload for name in SECRET_FIELDS),
    )
    session.add(event)
    return event


def audience_of(row: dict[str, Any]) -> Audience:
    """The ``Audience`` stored in an outbox row."""
    return Audience(
        orgs=tuple(uuid.UUID(o) for o in row.get("orgs", ())),
        users=tuple(uuid.UUID(u) for u in row.get("users", ())),
        operators=bool(row.get("operators")),
        emails=tuple(row.get("emails", ())),
        admins_only=bool(row.get("admins_only")),
    )


__all__ = ["OPERATORS", "SECRET_FIELDS", "Audience", "Kind", "OutboxEvent", "Subject", "audience_of", "notify"]
