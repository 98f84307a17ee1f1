"""Pure rules of enterprises' technical demands (需求挂牌), campaigns (需求征集) and the proposals
institutions answer demands with. No database, no web framework.

Every refusal names the field at fault and the rule it breaks; a check reports all its problems
at once, as listings and institutions do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kernel.errors import DomainError, Forbidden, InvalidState

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_FEN = 10**15  # as listings: far above any budget, far below integer overflow
MAX_INVITED = 50
MAX_IPC = 20
MAX_KEYWORDS = 20
DEADLINE_REMINDER = timedelta(days=3)  # a demand's owner is told this long before its deadline

# IPC: section, class, subclass, then optionally main group / subgroup ("H01M", "H01M 10/0525").
IPC_CODE = re.compile(r"^[A-H][0-9]{2}[A-Z](?: ?[0-9]{1,4}/[0-9]{2,6})?$")


class DemandStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class AcceptedForm(StrEnum):
    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"
    COMMISSIONED_DEVELOPMENT = "commissioned_development"
    TECHNICAL_SERVICE = "technical_service"


class Visibility(StrEnum):
    PUBLIC = "public"
    INVITED = "invited"


class DemandAction(StrEnum):
    EDIT = "edit"
    PUBLISH = "publish"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"  # the deadline passed (the sweeper)


DEMAND_MOVES: Mapping[tuple[DemandStatus, DemandAction], DemandStatus] = {
    (DemandStatus.DRAFT, DemandAction.EDIT): DemandStatus.DRAFT,
    (DemandStatus.DRAFT, DemandAction.PUBLISH): DemandStatus.PUBLISHED,
    (DemandStatus.DRAFT, DemandAction.WITHDRAW): DemandStatus.WITHDRAWN,
    (DemandStatus.PUBLISHED, DemandAction.CLOSE): DemandStatus.CLOSED,
    (DemandStatus.PUBLISHED, DemandAction.EXPIRE): DemandStatus.CLOSED,
    (DemandStatus.PUBLISHED, DemandAction.WITHDRAW): DemandStatus.WITHDRAWN,
}
SEEN_STATUSES = frozenset({DemandStatus.PUBLISHED, DemandStatus.CLOSED})  # beyond the owner


class CampaignKind(StrEnum):
    DEMANDS = "demands"  # 征集需求: enterprises submit their published demands
    SOLUTIONS = "solutions"  # 征集解决方案: institutions submit their proposals


class CampaignStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Screening(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    DECLINED = "declined"
    NEGOTIATING = "negotiating"


class ProposalAction(StrEnum):
    SHORTLIST = "shortlist"
    DECLINE = "decline"
    NEGOTIATE = "negotiate"


PROPOSAL_MOVES: Mapping[tuple[ProposalStatus, ProposalAction], ProposalStatus] = {
    (ProposalStatus.SUBMITTED, ProposalAction.SHORTLIST): ProposalStatus.SHORTLISTED,
    (ProposalStatus.SUBMITTED, ProposalAction.DECLINE): ProposalStatus.DECLINED,
    (ProposalStatus.SUBMITTED, ProposalAction.NEGOTIATE): ProposalStatus.NEGOTIATING,
    (ProposalStatus.SHORTLISTED, ProposalAction.DECLINE): ProposalStatus.DECLINED,
    (ProposalStatus.SHORTLISTED, ProposalAction.NEGOTIATE): ProposalStatus.NEGOTIATING,
}


class NegotiationPath(StrEnum):
    LISTING = "listing"  # on one of the proposal's linked listings, through trading
    NEW_LISTING = "new_listing"  # a listing draft of the proposer, prefilled from the proposal


# Who posts demands, who answers them, who organises campaigns (besides operators): org kinds.
POSTER_KINDS = frozenset({"enterprise"})
PROPOSER_KINDS = frozenset({"university", "research_institute", "enterprise"})
ORGANISER_KINDS = frozenset({"government"})  # a government program, as voucher programs' owners

# ----------------------------------------------------------------------------------------------
# Refusals


class DemandRuleBroken(DomainError):
    problem_type = "demand-rule-broken"
    status = 422
    title = "The request breaks a rule of technical demands"


class InvalidDemand(DemandRuleBroken):
    problem_type = "invalid-demand"
    title = "The demand breaks a demand rule"


class InvalidCampaign(DemandRuleBroken):
    problem_type = "invalid-campaign"
    title = "The campaign breaks a campaign rule"


class InvalidProposal(DemandRuleBroken):
    problem_type = "invalid-proposal"
    title = "The proposal breaks a proposal rule"


class DemandForbidden(Forbidden):
    problem_type = "forbidden"


class DemandStateRefused(InvalidState):
    """A move the record's state does not allow (409 ``invalid-state``)."""


class Problems:
    """The problems of one request, each ``{"field", "message"}``; raised together."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def __call__(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def raise_as(self, refusal: type[DemandRuleBroken]) -> None:
        if self.errors:
            first = self.errors[0]
            raise refusal(f"{first['field']}: {first['message']}", errors=self.errors)


# ----------------------------------------------------------------------------------------------
# Dates: a deadline is a Beijing date; the record closes at 24:00 of it


def closes_at(deadline: date) -> datetime:
    """The moment a Beijing date's deadline passes: 24:00 Beijing time of that day (in UTC)."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=BEIJING).astimezone(ZoneInfo("UTC"))


def beijing_today(now: datetime) -> date:
    return now.astimezone(BEIJING).date()


# ----------------------------------------------------------------------------------------------
# Demands


@dataclass(frozen=True)
class DemandContent:
    title: str
    description: str = ""
    performance: str = ""  # the performance the enterprise needs (技术指标)
    field: str = "other"
    min_maturity: int | None = None  # the least technology readiness (1–9) it can use; None: any
    ipc_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    budget_min_fen: int | None = None
    budget_max_fen: int | None = None
    accepted_forms: tuple[str, ...] = ()
    deadline: date | None = None
    visibility: str = Visibility.PUBLIC.value
    invited_org_ids: tuple[uuid.UUID, ...] = ()
    confidential: str = ""


def normal_ipc(code: str) -> str:
    """``h01m10/0525`` → ``H01M 10/0525``: upper case, one space between subclass and group."""
    text = "".join(code.split()).upper()
    return f"{text[:4]} {text[4:]}" if len(text) > 4 else text


def check_demand(content: DemandContent, *, today: date, owner_org_id: uuid.UUID, publishing: bool) -> None:
    """A draft needs a title and well-formed values; a demand to publish needs every part a reader
    answers to: the description, the performance needed, at least one accepted form, a budget and
    a deadline after today (Beijing)."""
    fail = Problems()
    if not content.title.strip():
        fail("title", "a demand has a title")
    for i, code in enumerate(content.ipc_codes):
        if not IPC_CODE.match(normal_ipc(code)):
            fail(f"ipc_codes.{i}", f"{code!r} is not an IPC code (e.g. H01M or H01M 10/0525)")
    if len(set(content.ipc_codes)) != len(content.ipc_codes):
        fail("ipc_codes", "each IPC code once")
    for i, word in enumerate(content.keywords):
        if not word.strip() or len(word) > 50:
            fail(f"keywords.{i}", "a keyword has 1 to 50 characters")
    low, high = content.budget_min_fen, content.budget_max_fen
    for name, value in (("budget_min_fen", low), ("budget_max_fen", high)):
        if value is not None and not 0 <= value <= MAX_FEN:
            fail(name, f"a budget is between 0 and {MAX_FEN} fen")
    if low is not None and high is not None and low > high:
        fail("budget_max_fen", "the budget's maximum is at least its minimum")
    if len(set(content.accepted_forms)) != len(content.accepted_forms):
        fail("accepted_forms", "each form once")
    if content.deadline is not None and content.deadline <= today:
        fail("deadline", "the deadline is after today (Beijing time)")
    if content.visibility == Visibility.INVITED.value:
        if owner_org_id in content.invited_org_ids:
            fail("invited_org_ids", "the demand's own organisation needs no invitation")
        if len(set(content.invited_org_ids)) != len(content.invited_org_ids):
            fail("invited_org_ids", "each organisation once")
        if publishing and not content.invited_org_ids:
            fail("invited_org_ids", "a demand shown only to invited organisations names at least one")
    elif content.invited_org_ids:
        fail("invited_org_ids", "a public demand invites nobody in particular; choose visibility invited")
    if publishing:
        if not content.description.strip():
            fail("description", "a published demand describes the problem")
        if not content.performance.strip():
            fail("performance", "a published demand states the performance it needs")
        if not content.accepted_forms:
            fail("accepted_forms", "a published demand accepts at least one form of cooperation")
        if high is None:
            fail("budget_max_fen", "a published demand states its budget")
        if content.deadline is None:
            fail("deadline", "a published demand has a deadline")
    fail.raise_as(InvalidDemand)


def next_demand_status(status: str, action: DemandAction) -> DemandStatus:
    moved = DEMAND_MOVES.get((DemandStatus(status), action))
    if moved is None:
        raise DemandStateRefused(f"a {status} demand cannot be {action.value}ed", state=status)
    return moved


def may_see(
    *, status: str, visibility: str, owner_org_id: uuid.UUID, invited: frozenset[uuid.UUID],
    viewer_org_id: uuid.UUID | None, operator: bool,
) -> bool:  # fmt: skip
    """Who sees a demand: its owner and operators always; others only a published or closed one,
    public to everyone, an invited-only one to the organisations it invited."""
    if operator or (viewer_org_id is not None and viewer_org_id == owner_org_id):
        return True
    if DemandStatus(status) not in SEEN_STATUSES:
        return False
    return visibility == Visibility.PUBLIC.value or (viewer_org_id is not None and viewer_org_id in invited)


# ----------------------------------------------------------------------------------------------
# Campaigns


@dataclass(frozen=True)
class CampaignContent:
    theme: str
    description: str
    rules: str
    kind: str
    deadline: date


def check_campaign(content: CampaignContent, *, today: date) -> None:
    fail = Problems()
    if not content.theme.strip():
        fail("theme", "a campaign has a theme")
    if not content.description.strip():
        fail("description", "a campaign describes what it calls for")
    if not content.rules.strip():
        fail("rules", "a campaign states its rules")
    if content.deadline <= today:
        fail("deadline", "the deadline is after today (Beijing time)")
    fail.raise_as(InvalidCampaign)


def campaign_open(status: str, deadline_at: datetime, now: datetime) -> bool:
    return status == CampaignStatus.OPEN.value and now < deadline_at


def check_screening(decision: str, reason: str) -> None:
    if decision == Screening.REJECTED.value and not reason.strip():
        raise InvalidCampaign("reason: a rejection gives its reason", field="reason")


# ----------------------------------------------------------------------------------------------
# Proposals


@dataclass(frozen=True)
class ProposalContent:
    summary: str
    solution: str = ""  # a new solution described, when no listing answers the demand
    listing_ids: tuple[uuid.UUID, ...] = field(default=())
    budget_fen: int | None = None


def check_proposal(content: ProposalContent) -> None:
    fail = Problems()
    if not content.summary.strip():
        fail("summary", "a proposal summarises how it answers the demand")
    if not content.listing_ids and not content.solution.strip():
        fail("solution", "a proposal links listings of its own or describes a new solution")
    if len(set(content.listing_ids)) != len(content.listing_ids):
        fail("listing_ids", "each listing once")
    if content.budget_fen is not None and not 0 <= content.budget_fen <= MAX_FEN:
        fail("budget_fen", f"a price is between 0 and {MAX_FEN} fen")
    fail.raise_as(InvalidProposal)


def next_proposal_status(status: str, action: ProposalAction) -> ProposalStatus:
    moved = PROPOSAL_MOVES.get((ProposalStatus(status), action))
    if moved is None:
        raise DemandStateRefused(f"a {status} proposal cannot be moved by {action.value}", state=status)
    return moved


def check_decline(reason: str) -> None:
    if not reason.strip():
        raise InvalidProposal("reason: a decline gives the proposer its reason", field="reason")
