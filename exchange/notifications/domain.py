"""Pure rules of notifications: the catalogue of kinds (who gets each, by which channels, whether
it may be switched off, where it links), the retry schedule of deliveries, the webhook signature
and the addresses a webhook may not reach (SSRF). Kinds are named by their values
(``exchange.platform.outbox.Kind``), which this pure module does not import."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from kernel.errors import DomainError


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


DEFAULT_LANGUAGE = Language.ZH


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # email while no SMTP server is configured


ALL = frozenset({Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK})
EMAIL_ONLY = frozenset({Channel.EMAIL})


@dataclass(frozen=True)
class KindInfo:
    """One kind of notification as the catalogue describes it."""

    kind: str
    audience: str  # who gets it, for docs/notifications.md
    channels: frozenset[Channel] = ALL  # the default channels
    mandatory: bool = False  # cannot be switched off
    token_path: str = ""  # account mail: the page its token opens (``/password-reset``)

    @property
    def inbox(self) -> bool:
        """Shown in the inbox; False for email-only kinds (account mail, to bare addresses)."""
        return Channel.INBOX in self.channels

    @property
    def email_only(self) -> bool:
        return self.channels == EMAIL_ONLY


def _info(kind: str, audience: str, **kw: object) -> tuple[str, KindInfo]:
    return kind, KindInfo(kind, audience, **kw)  # type: ignore[arg-type]


def _account(kind: str, audience: str, token_path: str = "") -> tuple[str, KindInfo]:
    return _info(kind, audience, channels=EMAIL_ONLY, mandatory=True, token_path=token_path)


CATALOGUE: Mapping[str, KindInfo] = dict(
    [
        _info("listing.approved", "the seller"),
        _info("listing.rejected", "the seller"),
        _info("objection.filed", "the seller and the objector"),
        _info("objection.resolved", "the seller and the objector"),
        _info("objection.answered", "the objector and operators (the seller's answer)"),
        _info("listing.amended", "the intent holders (they may withdraw)"),
        _info("announcement.closing", "the seller and the intent holders (3 working days before)"),
        _info("intent.registered", "the buyer and the seller"),
        _info("deposit.held", "the buyer", mandatory=True),
        _info("deposit.released", "the buyer", mandatory=True),
        _info("auction.outbid", "the bidder outbid"),
        _info("auction.extended", "the organisations with an intent in the auction"),
        _info("auction.won", "the winner"),
        _info("auction.lost", "the other bidders"),
        _info("auction.sold", "the seller"),
        _info("auction.unsold", "the seller"),
        _info("offer.received", "the other side of the negotiation"),
        _info("offer.expiring", "the side the offer waits for"),
        _info("offer.accepted", "the side that made the offer"),
        _info("offer.declined", "the side that made the offer"),
        _info("deal.awaiting_signature", "the admins of the side that has not signed"),
        _info("payment.due", "the buyer (3 working days before the due date)", mandatory=True),
        _info("payment.overdue", "the buyer (an instalment could not be collected)", mandatory=True),
        _info("payment.defaulted", "the buyer and the seller", mandatory=True),
        _info("deal.settled", "the buyer and the seller", mandatory=True),
        _info("voucher.granted", "the enterprise"),
        _info("voucher.expiring", "the enterprise (30 days before)"),
        _info("voucher.redeemed", "the service provider"),
        _info("service_order.updated", "the enterprise and the service provider"),
        _info("withdrawal.paid", "the organisation", mandatory=True),
        _info("withdrawal.rejected", "the organisation", mandatory=True),
        _info(
            "income.received",
            "the institution's office (its admins and members granted the office role)",
            mandatory=True,
        ),
        _info("inventor.paid", "the inventor (the member the office linked)", mandatory=True),
        _info(
            "operator.org_to_verify", "operators", channels=frozenset({Channel.INBOX, Channel.EMAIL}), mandatory=True
        ),
        _info(
            "operator.listing_to_review",
            "operators",
            channels=frozenset({Channel.INBOX, Channel.EMAIL}),
            mandatory=True,
        ),
        _info(
            "operator.objection_to_resolve",
            "operators (and an institution's office, for its own transfer and plan notices)",
            channels=frozenset({Channel.INBOX, Channel.EMAIL}),
            mandatory=True,
        ),
        _info(
            "operator.reconciliation_differences",
            "operators",
            channels=frozenset({Channel.INBOX, Channel.EMAIL}),
            mandatory=True,
        ),
        _info(
            "operator.withdrawals_waiting",
            "operators",
            channels=frozenset({Channel.INBOX, Channel.EMAIL}),
            mandatory=True,
        ),
        _info(
            "operator.calendar_year_missing",
            "operators",
            channels=frozenset({Channel.INBOX, Channel.EMAIL}),
            mandatory=True,
        ),
        _account("account.email_confirmation", "the address registered", "/confirm-email"),
        _account("account.already_registered", "the address registered again", "/password-reset"),
        _account("account.invitation", "the address invited", "/invitations/accept"),
        _account("account.password_reset", "the address asking", "/password-reset"),
        _account("account.password_changed", "the user"),
        _account("account.membership_changed", "the member"),
        _info("demand.proposal_received", "the demand's organisation"),
        _info("proposal.shortlisted", "the proposer"),
        _info("proposal.declined", "the proposer (with the reason, as feedback)"),
        _info("proposal.negotiation_opened", "the proposer"),
        _info("demand.deadline", "the demand's organisation (3 days before its deadline)"),
        _info("campaign.submission_screened", "the organisation that submitted"),
        _info("matching.digest", "an organisation with published demands or listings (daily, new matches only)"),
        _info("broker_engagement.proposed", "the broker's organisation (its admins answer)"),
        _info("broker_engagement.accepted", "the party that engaged the broker"),
        _info("broker_engagement.declined", "the party that engaged the broker (with the reason)"),
        _info("broker.verified", "the broker's organisation"),
        _info("broker.rejected", "the broker's organisation (with the reason)"),
        _info("broker.suspended", "the broker's organisation (with the reason)"),
        _info("broker.reinstated", "the broker's organisation"),
        _info("tracking.report_due", "the deal's buyer (14 days before the report is due, and on the day)"),
        _info("tracking.report_overdue", "the deal's buyer and seller, and operators"),
        _info("credit_rating.received", "the rated provider's organisation"),
        _info("credit_complaint.filed", "the provider complained about"),
        _info("credit_complaint.decided", "the client and the provider (upheld or dismissed, with the reason)"),
        _info("credit_demonstration.designated", "the provider designated a demonstration institution"),
        _info("credit_demonstration.ended", "the provider whose designation ended (with the reason)"),
        _info("tracking.report_filed", "the deal's seller (the buyer filed or corrected an implementation report)"),
        _info("registry.registered", "the registering organisation (with the registration number)"),
        _info("registry.returned", "the registering organisation (with the reason)"),
        _info(
            "operator.registry_to_check",
            "operators",
            channels=frozenset({Channel.INBOX, Channel.EMAIL}),
            mandatory=True,
        ),
    ]
)


def info(kind: str) -> KindInfo:
    """The catalogue's entry for ``kind``; a kind the catalogue does not know yet goes to the inbox
    and by email, and may be switched off."""
    return CATALOGUE.get(kind) or KindInfo(kind, "")


# Where the inbox and the mail link, by the subject's type.
SUBJECT_LINKS: Mapping[str, str] = {
    "listing": "/listings/{id}",
    "auction": "/auctions/{id}",
    "deal": "/deals/{id}",
    "notice": "/notices/{id}",
    "org": "/orgs/{id}",
    "intent": "/intents/{id}",
    "negotiation": "/negotiations/{id}",
    "objection": "/objections/{id}",
    "voucher": "/workspace/vouchers",
    "voucher_grant": "/workspace/vouchers",
    "voucher_program": "/workspace/vouchers#program-{id}",  # the enterprise's vouchers of the program
    "service_order": "/workspace/orders/{id}",  # one page for both parties of the order
    "withdrawal": "/withdrawals/{id}",
    "reconciliation": "/reconciliations/{id}",
    "calendar": "/calendar/{id}",
    "demand": "/demands/{id}",
    "proposal": "/workspace/proposals#proposal-{id}",
    "campaign": "/campaigns/{id}",
    "matches": "/workspace/matches",  # an organisation's matches, both ways
    "broker": "/brokers/{id}",
    "broker_engagement": "/workspace/brokerage#engagement-{id}",
    "tracking_report": "/workspace/tracking#report-{id}",
    "credit_rating": "/workspace/credit#rating-{id}",  # the provider's credit page
    "credit_complaint": "/workspace/credit#complaint-{id}",  # both sides' credit page
    "credit_score": "/workspace/credit",
    "tracked_deal": "/workspace/tracking/transferred#deal-{id}",  # the seller's view of what it transferred
    "registration": "/workspace/registry/{id}",  # the registering organisation's registration
    "registration_to_check": "/console/registry#achievement-{id}",  # the operators' check
}


def link_path(subject_type: str, subject_id: str) -> str:
    """The path of the resource a notification is about; empty when it is about none."""
    pattern = SUBJECT_LINKS.get(subject_type)
    return pattern.format(id=subject_id) if pattern and subject_id else ""


# -- preferences ---------------------------------------------------------------------------------

SWITCHABLE = (Channel.INBOX, Channel.EMAIL)  # per user; webhooks are per endpoint


class MandatoryKind(DomainError):
    problem_type = "notification-mandatory"
    title = "This notification cannot be switched off"


class UnknownKind(DomainError):
    problem_type = "unknown-notification-kind"
    title = "No such kind of notification"


def check_switches(switches: Mapping[str, Mapping[str, bool]]) -> None:
    """Refuse switching off a mandatory kind, and kinds or channels that do not exist."""
    for kind, channels in switches.items():
        entry = CATALOGUE.get(kind)
        if entry is None:
            raise UnknownKind(f"{kind!r} is not a kind of notification", field=f"kinds.{kind}")
        for channel, on in channels.items():
            if channel not in SWITCHABLE:
                raise UnknownKind(f"{channel!r} is not a channel (inbox or email)", field=f"kinds.{kind}.{channel}")
            if not on and entry.mandatory:
                raise MandatoryKind(f"{kind} cannot be switched off", field=f"kinds.{kind}.{channel}", kind=kind)


def wants(entry: KindInfo, channel: Channel, switches: Mapping[str, Mapping[str, bool]] | None) -> bool:
    """Whether a user with ``switches`` gets ``entry``'s kind by ``channel``."""
    if channel not in entry.channels:
        return False
    if entry.mandatory or not switches:
        return True
    return bool(switches.get(entry.kind, {}).get(channel, True))


# -- retries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: ``base`` after the first failure, doubled after each, at most ``cap``;
    no more attempts after ``max_attempts`` or once ``give_up_at`` has passed."""

    base: timedelta
    cap: timedelta
    max_attempts: int
    window: timedelta = timedelta(hours=24)

    def next_attempt(self, attempts: int, give_up_at: datetime, now: datetime) -> datetime | None:
        """After the ``attempts``-th failed attempt at ``now``: when to try again, or None (failed)."""
        if attempts >= self.max_attempts:
            return None
        gap = min(self.cap, self.base * 2 ** (attempts - 1))
        at = now + gap
        return at if at <= give_up_at else None


RETRIES: Mapping[Channel, RetryPolicy] = {
    Channel.WEBHOOK: RetryPolicy(timedelta(seconds=30), timedelta(hours=1), max_attempts=40),
    Channel.EMAIL: RetryPolicy(timedelta(minutes=1), timedelta(hours=2), max_attempts=8),
}

LEASE = timedelta(minutes=2)  # a claimed delivery is someone's for this long; then it is due again


# -- webhooks ------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>``: the ``TechX-Signature`` header."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


class WebhookUrlRefused(DomainError):
    problem_type = "webhook-url-refused"
    title = "The webhook URL is not allowed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="url")


METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
CGNAT = ipaddress.ip_network("100.64.0.0/10")


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook may not be delivered to ``address`` (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_refusal(address.ipv4_mapped)
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (isinstance(address, ipaddress.IPv4Address) and address in CGNAT, "a shared (CGNAT) address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
    )
    for refused, why in checks:
        if refused:
            return f"{address} is {why}"
    return None


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int


def parse_webhook_url(url: str, *, allow_http: bool) -> WebhookTarget:
    """The scheme, host and port of a webhook URL; ``WebhookUrlRefused`` for anything but an
    absolute ``https://`` URL without credentials (``http://`` too when ``allow_http``)."""
    if len(url) > 2000:
        raise WebhookUrlRefused("the URL is longer than 2000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(f"not a URL: {exc}") from None
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise WebhookUrlRefused("the URL must start with https://")
    if not parts.hostname:
        raise WebhookUrlRefused("the URL names no host")
    if parts.username or parts.password:
        raise WebhookUrlRefused("the URL may not carry a user name or password")
    if parts.fragment:
        raise WebhookUrlRefused("the URL may not have a fragment")
    return WebhookTarget(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


def check_addresses(host: str, addresses: list[str], *, allow_private: bool) -> None:
    """Refuse when ``host`` resolved to nothing or to any address a webhook may not reach."""
    if not addresses:
        raise WebhookUrlRefused(f"{host} does not resolve to an address")
    if allow_private:
        return
    for text in addresses:
        why = address_refusal(ipaddress.ip_address(text.split("%", 1)[0]))
        if why:
            raise WebhookUrlRefused(f"{host} resolves to {why}")


# -- the table of docs/notifications.md -------------------------------------------------------------


def kinds_table() -> str:
    """The Markdown table of every kind: who gets it, by which channels, whether it may be switched off."""
    order = (Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK)
    lines = [
        "| kind | who gets it | channels | may be switched off |",
        "|---|---|---|---|",
    ]
    for entry in CATALOGUE.values():
        channels = ", ".join(c.value for c in order if c in entry.channels)
        off = "no (mandatory)" if entry.mandatory else "yes (inbox, email)"
        lines.append(f"| `{entry.kind}` | {entry.audience} | {channels} | {off} |")
    return "\n".join(lines)
