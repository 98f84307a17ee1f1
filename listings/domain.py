"""Pure rules of listings: the content of a listing, its validation, the lifecycle state machine,
notice periods and the deposit and increment defaults. No database, no web framework.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

import msgspec

from kernel.errors import Forbidden, InvalidState, check_operator, check_trader
from kernel.shapes import shaped
from listings.errors import InvalidListing, InvalidRequest, ObjectionAnswered
from listings.workdays import WorkingCalendar, calendar_days_end

# ----------------------------------------------------------------------------------------------
# Vocabulary

MAX_FEN = 10**15  # ¥10 trillion: far above any listing, far below integer overflow
BP = 10_000  # basis points in one whole
YUAN_100 = 10_000  # ¥100 in fen: increments are rounded up to a multiple of it


class Field(StrEnum):
    ELECTRONIC_INFORMATION = "electronic_information"
    BIOMEDICINE = "biomedicine"
    ADVANCED_MANUFACTURING = "advanced_manufacturing"
    NEW_MATERIALS = "new_materials"
    NEW_ENERGY = "new_energy"
    ENERGY_SAVING_ENVIRONMENT = "energy_saving_environment"
    AGRICULTURE = "agriculture"
    OTHER = "other"


FIELD_LABELS: Mapping[Field, str] = {
    Field.ELECTRONIC_INFORMATION: "电子信息 electronic information",
    Field.BIOMEDICINE: "生物医药 biomedicine",
    Field.ADVANCED_MANUFACTURING: "先进制造 advanced manufacturing",
    Field.NEW_MATERIALS: "新材料 new materials",
    Field.NEW_ENERGY: "新能源 new energy",
    Field.ENERGY_SAVING_ENVIRONMENT: "节能环保 energy saving environment",
    Field.AGRICULTURE: "现代农业 agriculture",
    Field.OTHER: "其他 other",
}


class IpKind(StrEnum):
    INVENTION_PATENT = "invention_patent"
    UTILITY_MODEL = "utility_model"
    DESIGN_PATENT = "design_patent"
    SOFTWARE_COPYRIGHT = "software_copyright"
    IC_LAYOUT = "ic_layout"
    PLANT_VARIETY = "plant_variety"
    KNOW_HOW = "know_how"


PATENT_KINDS = frozenset({IpKind.INVENTION_PATENT, IpKind.UTILITY_MODEL, IpKind.DESIGN_PATENT})


class DealType(StrEnum):
    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"


class LicenseScope(StrEnum):
    EXCLUSIVE = "exclusive"
    SOLE = "sole"
    NON_EXCLUSIVE = "non_exclusive"


class PricingMode(StrEnum):
    NEGOTIATED = "negotiated"
    LISTED = "listed"
    AUCTION = "auction"


COMPETITIVE_MODES = frozenset({PricingMode.LISTED, PricingMode.AUCTION})

# The kinds of organisation that list achievements (SPEC §1: sellers are universities,
# institutes and enterprises).
SELLER_KINDS = frozenset({"university", "research_institute", "enterprise"})

# ----------------------------------------------------------------------------------------------
# The content of a listing, as sellers send it and as notices publish it

# "Has a visible character": ``\S`` alone differs between Python and JSON Schema (ECMA) regexes
# on the separators U+001C-U+001F and U+0085, which Python counts as white space.
NON_BLANK = r"[^\s\x1c-\x1f\x85]"
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NON_BLANK)]
KEYWORD_MAX = 50
# ge=1 rather than gt=0: the OpenAPI generator drops a bound of 0 on optional fields.
Fen = Annotated[int, msgspec.Meta(ge=1, le=MAX_FEN)]
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class IpAsset(msgspec.Struct, forbid_unknown_fields=True):
    kind: IpKind
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NON_BLANK)]
    title: Text200
    expires_on: date | None = None


class Inventor(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NON_BLANK)]
    # Unified social credit codes of organisations this inventor is related to (shareholding,
    # employment, family): a buyer among them makes a deal a related-party deal.
    related_to_buyer: Annotated[list[str], msgspec.Meta(max_length=20)] = []


class TransferTerms(msgspec.Struct, tag_field="type", tag="transfer", forbid_unknown_fields=True):
    """Full assignment of the IP."""


class LicenseTerms(msgspec.Struct, tag_field="type", tag="license", forbid_unknown_fields=True):
    term_months: Annotated[int, msgspec.Meta(ge=1, le=240)]
    scope: LicenseScope = LicenseScope.NON_EXCLUSIVE
    territory: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NON_BLANK)] = "CN"
    field_of_use: Annotated[str, msgspec.Meta(max_length=500)] = ""
    royalty_bp: Annotated[int, msgspec.Meta(gt=-1, le=BP)] | None = None  # gt=-1: see Fen


class EquityTerms(msgspec.Struct, tag_field="type", tag="equity", forbid_unknown_fields=True):
    company_name: Text200
    shares_bp: Annotated[int, msgspec.Meta(ge=1, le=BP)]


DealTerms = TransferTerms | LicenseTerms | EquityTerms
DEAL_TYPE_OF: Mapping[type, DealType] = {
    TransferTerms: DealType.TRANSFER,
    LicenseTerms: DealType.LICENSE,
    EquityTerms: DealType.EQUITY,
}


class AppraisalReport(msgspec.Struct, forbid_unknown_fields=True):
    """The report behind an appraised value: its number, the appraiser (the firm) and its date."""

    report_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NON_BLANK)]
    appraiser: Text200
    report_date: date


class Pricing(msgspec.Struct, forbid_unknown_fields=True):
    mode: PricingMode
    asking_price: Fen
    appraised_value: Fen | None = None
    deposit: Annotated[int, msgspec.Meta(gt=-1, le=MAX_FEN)] | None = None  # 0: no deposit
    increment: Fen | None = None
    # Optional with a first appraisal; required to replace the appraisal of record (SPEC §2).
    appraisal_report: AppraisalReport | None = None


class ListingContent(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Text200
    summary: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    field: Field
    keywords: Annotated[list[str], msgspec.Meta(max_length=20)] = []  # each 1-50 characters
    maturity: Annotated[int, msgspec.Meta(ge=1, le=9)]
    ip_assets: Annotated[list[IpAsset], msgspec.Meta(min_length=1, max_length=50)]
    inventors: Annotated[list[Inventor], msgspec.Meta(max_length=50)] = []
    deal: DealTerms
    pricing: Pricing
    # The share of the seller's net income paid to the inventors (SPEC §3.4): declared by public
    # institutions (at least the exchange's minimum; the minimum when left out), none for others.
    inventor_reward_bp: Annotated[int, msgspec.Meta(gt=-1, le=BP)] | None = None  # gt=-1: see Fen


def deal_type_of(terms: DealTerms) -> DealType:
    return DEAL_TYPE_OF[type(terms)]


# ----------------------------------------------------------------------------------------------
# Settings the rules depend on (plain values handed in by the composition root)


@dataclass(frozen=True)
class ListingRules:
    announcement_working_days: int = 20
    relist_working_days: int = 5
    deposit_default_bp: int = 1000
    deposit_max_bp: int = 3000
    increment_default_bp: int = 100
    negotiated_price_notice_days: int = 15
    deal_result_notice_working_days: int = 5
    redemption_notice_working_days: int = 5
    max_relist_working_days: int = 60
    inventor_reward_min_bp: int = 7000  # the least share a public institution may declare
    auction_opens_at: time = time(10, 0)  # Beijing time, on the first working day after the announcement


# ----------------------------------------------------------------------------------------------
# Money rules


def default_deposit(asking_price: int, deposit_bp: int) -> int:
    """The deposit when the seller names none: ``deposit_bp`` of the asking price, in whole fen (down)."""
    return asking_price * deposit_bp // BP


def deposit_within_limit(deposit: int, asking_price: int, max_bp: int) -> bool:
    return deposit * BP <= asking_price * max_bp


def default_increment(asking_price: int, increment_bp: int) -> int:
    """``increment_bp`` of the asking price rounded UP to a multiple of ¥100 (at least ¥100)."""
    exact_times_bp = asking_price * increment_bp  # fen × BP
    unit = YUAN_100 * BP
    return max(1, -(-exact_times_bp // unit)) * YUAN_100


def relist_floor(appraised_value: int) -> int:
    """The lowest asking price of a public institution's relisting: 90% of the appraisal (up to whole fen)."""
    return -(-appraised_value * 9 // 10)


@dataclass(frozen=True)
class AppraisalOfRecord:
    """The appraisal a listing was announced with: it stays until a new report replaces it."""

    value: int
    report: AppraisalReport | None


@dataclass(frozen=True)
class ResolvedPricing:
    """What validation settles: the pricing with its defaults, the appraisal in force (of record
    unless replaced) and the declared inventor reward share."""

    mode: PricingMode
    asking_price: int
    appraised_value: int | None
    deposit: int
    increment: int | None
    appraisal_report: AppraisalReport | None = None
    inventor_reward_bp: int | None = None
    appraisal_replaced: AppraisalOfRecord | None = None  # the appraisal of record a new report replaced

    def pricing(self) -> Pricing:
        return shaped(Pricing, self)

    def appraisal_change(self) -> str:
        """The transition log's words for a replaced appraisal of record ("" when none was)."""
        if self.appraisal_replaced is None or self.appraised_value is None:
            return ""
        return (
            f"appraisal of record replaced: {describe_appraisal(self.appraised_value, self.appraisal_report)} "
            f"replaces {describe_appraisal(self.appraisal_replaced.value, self.appraisal_replaced.report)}"
        )


def describe_appraisal(value: int, report: AppraisalReport | None) -> str:
    if report is None:
        return f"{value} fen (no report cited)"
    return f"{value} fen (report {report.report_number} by {report.appraiser}, {report.report_date.isoformat()})"


Fail = Callable[[str, str], None]  # (field, message): record one problem of a request


def resolve_appraisal(
    pricing: Pricing, record: AppraisalOfRecord | None, today: date, fail: Fail
) -> tuple[int | None, AppraisalReport | None, AppraisalOfRecord | None]:
    """The appraisal in force after this request: ``(value, report, replaced record or None)``.

    Without a record (a listing never announced) the request's appraisal stands as given. Once a
    listing has been announced its appraisal is of record: a request that leaves the appraisal
    out keeps it; one that changes the value (or cites another report) replaces it, and needs a
    new report — another number, dated no earlier than the report it replaces.
    """
    report = pricing.appraisal_report
    if report is not None:
        if pricing.appraised_value is None:
            fail("pricing.appraised_value", "an appraisal report comes with the appraised value it states")
        if report.report_date > today:
            fail("pricing.appraisal_report.report_date", f"the report is dated after today ({today.isoformat()})")
    if record is None:
        return pricing.appraised_value, report, None
    if pricing.appraised_value is None or (pricing.appraised_value == record.value and report in (None, record.report)):
        return record.value, record.report, None
    if report is None:
        fail(
            "pricing.appraisal_report",
            f"the appraisal of record ({describe_appraisal(record.value, record.report)}) stays with the listing; "
            "replacing it needs a new appraisal report (report_number, appraiser, report_date)",
        )
        return record.value, record.report, None
    if record.report is not None:
        if report.report_number.strip().upper() == record.report.report_number.strip().upper():
            fail(
                "pricing.appraisal_report.report_number",
                f"report {record.report.report_number} is the appraisal of record; a new appraisal has a new report",
            )
        if report.report_date < record.report.report_date:
            fail(
                "pricing.appraisal_report.report_date",
                f"the new report predates the report of record ({record.report.report_date.isoformat()})",
            )
    return pricing.appraised_value, report, record


def resolve_reward_share(declared: int | None, *, public_institution: bool, minimum_bp: int, fail: Fail) -> int | None:
    """The inventors' share a listing settles with: a public institution's declaration (at least
    ``minimum_bp``; the minimum when it declares none), and none for other sellers."""
    if not public_institution:
        if declared is not None:
            fail(
                "inventor_reward_bp",
                "only public institutions (universities, research institutes) declare an inventor reward share",
            )
        return None
    if declared is None:
        return minimum_bp
    if declared < minimum_bp:
        fail(
            "inventor_reward_bp",
            f"a public institution's inventors receive at least {minimum_bp / 100:g}% ({minimum_bp} bp) "
            "of the net income",
        )
    return declared


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    if year > 9999:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validate_listing(
    content: ListingContent,
    *,
    rules: ListingRules,
    today: date,
    public_institution: bool,
    relisting: bool = False,
    appraisal_of_record: AppraisalOfRecord | None = None,
) -> ResolvedPricing:
    """Check every rule of SPEC §2 that a valid shape can still break; all problems at once.

    Returns the pricing with the defaults applied, the appraisal in force and the declared reward
    share. Raises ``InvalidListing`` (422) naming each field at fault. ``appraisal_of_record``:
    the appraisal the listing was announced with (None for a listing never announced).
    """
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    for i, keyword in enumerate(content.keywords):
        if not keyword.strip() or len(keyword) > KEYWORD_MAX:
            fail(f"keywords.{i}", f"a keyword has 1 to {KEYWORD_MAX} characters")
    for i, inventor in enumerate(content.inventors):
        for j, code in enumerate(inventor.related_to_buyer):
            if not CREDIT_CODE.match(code):
                fail(f"inventors.{i}.related_to_buyer.{j}", "not a unified social credit code (18 characters)")
    seen: dict[tuple[str, str], int] = {}
    for i, asset in enumerate(content.ip_assets):
        if asset.kind in PATENT_KINDS and asset.expires_on is None:
            fail(f"ip_assets.{i}.expires_on", "is required for patents")
        if asset.expires_on is not None and asset.expires_on <= today:
            fail(f"ip_assets.{i}.expires_on", f"the right expired on {asset.expires_on.isoformat()}")
        key = (asset.kind.value, asset.number.strip().upper())
        if key in seen:
            fail(f"ip_assets.{i}.number", f"the same {asset.kind.value} is listed as ip_assets.{seen[key]}")
        seen.setdefault(key, i)

    deal = content.deal
    pricing = content.pricing
    if isinstance(deal, LicenseTerms):
        expiries = [a.expires_on for a in content.ip_assets if a.expires_on is not None]
        if expiries:
            earliest = min(expiries)
            ends = add_months(today, deal.term_months)
            if ends > earliest:
                fail(
                    "deal.term_months",
                    f"a licence of {deal.term_months} months from {today.isoformat()} ends on {ends.isoformat()}, "
                    f"after the earliest expiry of the listed rights ({earliest.isoformat()})",
                )
    appraised_value, report, replaced = resolve_appraisal(pricing, appraisal_of_record, today, fail)
    if isinstance(deal, EquityTerms) and appraised_value is None:
        fail("pricing.appraised_value", "IP contributed as capital must be appraised")
    reward_bp = resolve_reward_share(
        content.inventor_reward_bp,
        public_institution=public_institution,
        minimum_bp=rules.inventor_reward_min_bp,
        fail=fail,
    )

    if pricing.deposit is not None and not deposit_within_limit(
        pricing.deposit, pricing.asking_price, rules.deposit_max_bp
    ):
        fail(
            "pricing.deposit",
            f"the deposit may be at most {rules.deposit_max_bp / 100:g}% of the asking price "
            f"({pricing.asking_price * rules.deposit_max_bp // BP} fen)",
        )
    if pricing.increment is not None:
        if pricing.mode is PricingMode.NEGOTIATED:
            fail("pricing.increment", "negotiated listings have no bid increment")
        elif pricing.increment > pricing.asking_price:
            fail("pricing.increment", "the increment may not exceed the asking price")

    if public_institution and pricing.mode in COMPETITIVE_MODES and appraised_value is not None:
        floor = relist_floor(appraised_value) if relisting else appraised_value
        if pricing.asking_price < floor:
            value = "the appraised value" + (" of record" if appraisal_of_record and not replaced else "")
            rule = f"90% of {value} on a relisting" if relisting else value
            fail(
                "pricing.asking_price",
                f"a public institution's asking price may not be below {rule} ({floor} fen)",
            )

    if errors:
        raise InvalidListing("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)

    deposit = pricing.deposit
    if deposit is None:
        deposit = default_deposit(pricing.asking_price, rules.deposit_default_bp)
    increment = None
    if pricing.mode is not PricingMode.NEGOTIATED:
        increment = pricing.increment or default_increment(pricing.asking_price, rules.increment_default_bp)
    return shaped(
        ResolvedPricing,
        pricing,
        appraised_value=appraised_value,
        appraisal_report=report,
        appraisal_replaced=replaced,
        inventor_reward_bp=reward_bp,
        deposit=deposit,
        increment=increment,
    )


# Changes to these parts of a listing during its announcement are material: they restart the
# announcement period (SPEC §2.2: price, deposit, deal terms; and what is offered, the IP).
MATERIAL_PARTS = ("pricing", "deal", "ip_assets")


def changed_parts(before: ListingContent, after: ListingContent) -> list[str]:
    return [name for name in before.__struct_fields__ if getattr(before, name) != getattr(after, name)]


def auction_opening(calendar: WorkingCalendar, closes_at: datetime, at: time) -> datetime:
    """When the auction after an announcement opens: at ``at`` (Beijing time) on the first working
    day after the announcement closes (an announcement closing at 24:00 closes with its day)."""
    return calendar.next_working_day_at(closes_at, at)


def auction_opening_at_close(
    calendar: WorkingCalendar, announced: datetime | None, closes_at: datetime, now: datetime, at: time
) -> datetime:
    """The opening an auction keeps when the announcement's close is processed at ``now``.

    The announced opening (or, for an announcement made without one, the opening its close
    implies) stands unless it has passed — the close was held up by an objection, or processed
    late: then the auction opens at ``at`` on the first working day after ``now``, so bidders
    always have notice.
    """
    opening = announced if announced is not None else auction_opening(calendar, closes_at, at)
    return opening if opening >= now else calendar.next_working_day_at(now, at)


# ----------------------------------------------------------------------------------------------
# The lifecycle (SPEC §2.1) as a table


class ListingStatus(StrEnum):
    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    REJECTED = "rejected"
    ANNOUNCED = "announced"
    SUSPENDED = "suspended"
    CLOSING = "closing"
    UNSOLD = "unsold"
    NEGOTIATING = "negotiating"
    AUCTIONING = "auctioning"
    DEAL_FORMED = "deal_formed"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    EDIT = "edit"  # seller changes a draft
    SUBMIT = "submit"  # seller asks for review
    APPROVE = "approve"  # operator: announce
    REJECT = "reject"  # operator
    REVISE = "revise"  # seller reopens a rejected listing as a draft
    AMEND = "amend"  # seller changes an announced listing (a material change restarts the period)
    SUSPEND = "suspend"  # an objection is pending when the announcement period ends
    UPHOLD_OBJECTION = "uphold_objection"  # operator upholds an objection: the listing is stopped
    END_ANNOUNCEMENT = "end_announcement"  # the period ran out (and no objection is pending)
    CLOSE_UNSOLD = "close_unsold"  # no buyer
    START_NEGOTIATION = "start_negotiation"
    START_AUCTION = "start_auction"
    RELIST = "relist"  # seller announces an unsold listing again
    FORM_DEAL = "form_deal"
    CANCEL_DEAL = "cancel_deal"  # the deal was cancelled: the listing is unsold and may be relisted
    COMPLETE_SALE = "complete_sale"  # the deal settled
    WITHDRAW = "withdraw"  # seller


S = ListingStatus
TRANSITIONS: Mapping[tuple[ListingStatus, Action], ListingStatus] = {
    (S.DRAFT, Action.EDIT): S.DRAFT,
    (S.DRAFT, Action.SUBMIT): S.UNDER_REVIEW,
    (S.DRAFT, Action.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, Action.APPROVE): S.ANNOUNCED,
    (S.UNDER_REVIEW, Action.REJECT): S.REJECTED,
    (S.UNDER_REVIEW, Action.WITHDRAW): S.WITHDRAWN,
    (S.REJECTED, Action.REVISE): S.DRAFT,
    (S.ANNOUNCED, Action.AMEND): S.ANNOUNCED,
    (S.ANNOUNCED, Action.SUSPEND): S.SUSPENDED,
    (S.ANNOUNCED, Action.UPHOLD_OBJECTION): S.REJECTED,
    (S.ANNOUNCED, Action.END_ANNOUNCEMENT): S.CLOSING,
    (S.ANNOUNCED, Action.WITHDRAW): S.WITHDRAWN,
    (S.SUSPENDED, Action.UPHOLD_OBJECTION): S.REJECTED,
    (S.SUSPENDED, Action.END_ANNOUNCEMENT): S.CLOSING,
    (S.CLOSING, Action.CLOSE_UNSOLD): S.UNSOLD,
    (S.CLOSING, Action.START_NEGOTIATION): S.NEGOTIATING,
    (S.CLOSING, Action.START_AUCTION): S.AUCTIONING,
    (S.UNSOLD, Action.RELIST): S.ANNOUNCED,
    (S.UNSOLD, Action.WITHDRAW): S.WITHDRAWN,
    (S.NEGOTIATING, Action.FORM_DEAL): S.DEAL_FORMED,
    (S.NEGOTIATING, Action.CLOSE_UNSOLD): S.UNSOLD,
    (S.AUCTIONING, Action.FORM_DEAL): S.DEAL_FORMED,
    (S.AUCTIONING, Action.CLOSE_UNSOLD): S.UNSOLD,
    (S.DEAL_FORMED, Action.CANCEL_DEAL): S.UNSOLD,
    (S.DEAL_FORMED, Action.COMPLETE_SALE): S.SOLD,
}

# Statuses the public sees: the listing has been announced and not taken back.
PUBLIC_STATUSES = frozenset(
    {
        S.ANNOUNCED,
        S.SUSPENDED,
        S.CLOSING,
        S.UNSOLD,
        S.NEGOTIATING,
        S.AUCTIONING,
        S.DEAL_FORMED,
        S.SOLD,
    }
)

# What the listing's announcement close handler may decide.
CLOSE_OUTCOMES: Mapping[ListingStatus, Action] = {
    S.UNSOLD: Action.CLOSE_UNSOLD,
    S.NEGOTIATING: Action.START_NEGOTIATION,
    S.AUCTIONING: Action.START_AUCTION,
}


def next_status(current: ListingStatus, action: Action) -> ListingStatus:
    """The state after ``action``; 409 ``invalid-state`` naming the current state if not allowed."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = ", ".join(a.value for a in allowed_actions(current)) or "none"
        raise InvalidState(
            f"cannot {action.value.replace('_', ' ')} a listing that is {current.value} (allowed: {allowed})",
            state=current.value,
            action=action.value,
        ) from None


def allowed_actions(current: ListingStatus) -> list[Action]:
    return [action for (state, action) in TRANSITIONS if state is current]


# ----------------------------------------------------------------------------------------------
# Notices


SUBJECT_LISTING = "listing"  # the subject type of a listing's announcement notices


class NoticeKind(StrEnum):
    LISTING_ANNOUNCEMENT = "listing_announcement"
    NEGOTIATED_PRICE = "negotiated_price"
    DEAL_RESULT = "deal_result"
    VOUCHER_REDEMPTION = "voucher_redemption"
    INSTITUTION_TRANSFER = "institution_transfer"  # a university's own transfer decision (成果转化公示)
    DISTRIBUTION_PLAN = "distribution_plan"  # a university's income-distribution plan (收益分配方案公示)


class NoticeStatus(StrEnum):
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class NoticeStatusFilter(StrEnum):
    """The board's status filter: one status, or ``all`` of them."""

    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ALL = "all"

    def status(self) -> NoticeStatus | None:
        return None if self is NoticeStatusFilter.ALL else NoticeStatus(self.value)


# Notices still running: the board lists them soonest-to-close first, every other choice newest first.
LIVE_NOTICE_STATUSES = (NoticeStatus.OPEN, NoticeStatus.SUSPENDED)


class ObjectionStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    LAPSED = "lapsed"  # the notice was cancelled (another objection upheld, the subject withdrawn)


class ObjectionSide(StrEnum):
    """Which of a caller's objections ``GET /objections?side=`` lists."""

    OBJECTOR = "objector"  # the ones the caller filed
    SELLER = "seller"  # the ones against notices the caller's organisation answers
    RESOLVER = "resolver"  # the ones the caller resolves besides the operators (an institution's own notices)


class ObjectionDecision(StrEnum):
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class NoticePeriod:
    count: int
    working_days: bool  # False: calendar days

    def end(self, opens_at: datetime, calendar: WorkingCalendar) -> datetime:
        """The period's end; working days count on ``calendar`` (409 ``calendar-year-missing`` when
        they would count into a year it has no data for)."""
        if self.working_days:
            return calendar.working_days_end(opens_at, self.count)
        return calendar_days_end(opens_at, self.count)


# An institution's own notices (SPEC §10): its transfer decision 15 days by default (the institution
# may choose calendar or working days and pass its own end), its income-distribution plan 15 working days.
INSTITUTION_TRANSFER_NOTICE_DAYS = 15
DISTRIBUTION_PLAN_NOTICE_WORKING_DAYS = 15


def notice_period(kind: NoticeKind, rules: ListingRules) -> NoticePeriod:
    """The default period of each kind of notice (SPEC §2.2, §3.5, §4, §10)."""
    if kind is NoticeKind.INSTITUTION_TRANSFER:
        return NoticePeriod(INSTITUTION_TRANSFER_NOTICE_DAYS, working_days=False)
    if kind is NoticeKind.DISTRIBUTION_PLAN:
        return NoticePeriod(DISTRIBUTION_PLAN_NOTICE_WORKING_DAYS, working_days=True)
    if kind is NoticeKind.LISTING_ANNOUNCEMENT:
        return NoticePeriod(rules.announcement_working_days, working_days=True)
    if kind is NoticeKind.NEGOTIATED_PRICE:
        return NoticePeriod(rules.negotiated_price_notice_days, working_days=False)
    if kind is NoticeKind.DEAL_RESULT:
        return NoticePeriod(rules.deal_result_notice_working_days, working_days=True)
    return NoticePeriod(rules.redemption_notice_working_days, working_days=True)


# An organisation files at most this many objections to one notice, whatever became of them: each
# pending at the close suspends the notice, so without a cap one objector could hold a notice up
# again and again.
MAX_OBJECTIONS_PER_ORG_PER_NOTICE = 3


def objection_window_open(status: NoticeStatus, closes_at: datetime, now: datetime) -> bool:
    return status is NoticeStatus.OPEN and now < closes_at


# The seller's answer to an objection (异议答复): as long as an objection's reason, and final once
# given — the objector is told its text and the operator weighs it as it was sent.
MIN_ANSWER, MAX_ANSWER = 10, 2000


def objection_answerable(status: ObjectionStatus, answered: bool) -> bool:
    """Whether the seller's side may still answer: the objection is pending and not yet answered."""
    return status is ObjectionStatus.PENDING and not answered


def checked_objection_answer(
    text: str, *, status: ObjectionStatus, answered: bool, answering_side: bool, objector: bool
) -> str:
    """The answer as filed (trimmed), or the refusal. Only the side that answers for the notice's
    subject (its seller; a redemption's provider) answers, never the objector itself; while the
    objection is pending; once."""
    if objector or not answering_side:
        raise Forbidden("only the seller's side of the notice answers an objection to it")
    if status is not ObjectionStatus.PENDING:
        raise InvalidState(f"the objection is already {status.value}", state=status.value)
    if answered:
        raise ObjectionAnswered("the objection has been answered; an answer cannot be changed")
    text = text.strip()
    if not MIN_ANSWER <= len(text) <= MAX_ANSWER:
        raise InvalidRequest(f"an answer gives its grounds in {MIN_ANSWER} to {MAX_ANSWER} characters", field="answer")
    return text


# ----------------------------------------------------------------------------------------------
# The caller, as the exchange describes it to this module


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    org_kind: str
    org_verified: bool
    org_active: bool
    is_operator: bool
    is_public_institution: bool
    is_admin: bool

    def require_trader(self) -> None:
        check_trader(self.org_id, active=self.org_active, verified=self.org_verified)

    def require_operator(self) -> None:
        check_operator(self.is_operator)

    def require_seller_kind(self) -> None:
        if self.org_kind not in SELLER_KINDS:
            raise Forbidden("only universities, research institutes and enterprises list achievements")


def to_plain(value: Any) -> Any:
    """JSON-native form (dicts, lists, strings, integers) of structs, dates, ids and enums."""
    return msgspec.to_builtins(value)
