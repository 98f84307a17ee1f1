"""Request and response types of the institutions API (msgspec). Amounts are fen, shares basis points."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from exchange.institutions.domain import (
    BP,
    DEFAULT_DECISION_BODY,
    MAX_INVENTORS,
    EvaluationKind,
    FundingKind,
    IntendedForm,
    PeriodUnit,
    Role,
    Step,
    Vote,
)
from listings.domain import NON_BLANK, DealTerms, Field, IpAsset, ObjectionDecision, PricingMode, Text200

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NON_BLANK)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NON_BLANK)]
# gt=-1 rather than ge=0: the OpenAPI generator drops a bound of 0 on optional fields (listings' Fen).
Fen = Annotated[int, msgspec.Meta(gt=-1, le=10**15)]
Bp = Annotated[int, msgspec.Meta(gt=-1, le=BP)]

# ----------------------------------------------------------------------------------------------
# Settings and roles


class WorkflowStepIn(msgspec.Struct, forbid_unknown_fields=True):
    step: Step
    roles: Annotated[list[Role], msgspec.Meta(max_length=5)] = []  # empty: the step's default roles


class InstitutionPartIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    weight: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole configuration; every field left out keeps the default."""

    workflow: Annotated[list[WorkflowStepIn], msgspec.Meta(min_length=1, max_length=7)] | None = None
    decision_body: Text200 = DEFAULT_DECISION_BODY
    notice_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 15
    notice_unit: PeriodUnit = PeriodUnit.CALENDAR_DAYS
    plan_notice_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 15
    plan_notice_unit: PeriodUnit = PeriodUnit.WORKING_DAYS
    inventor_share_bp: Bp | None = None  # left out: the least share the exchange accepts (70% by default)
    extra_approval_threshold_fen: Annotated[int, msgspec.Meta(ge=1, le=10**15)] = 30_000_000
    institution_parts: Annotated[list[InstitutionPartIn], msgspec.Meta(min_length=1, max_length=20)] = msgspec.field(
        default_factory=lambda: [InstitutionPartIn("学校", 1)]
    )


class WorkflowStepOut(msgspec.Struct):
    step: Step
    label: str
    roles: list[Role]


class SettingsOut(msgspec.Struct):
    org_id: uuid.UUID
    public: bool
    workflow: list[WorkflowStepOut]
    decision_body: str
    notice_days: int
    notice_unit: PeriodUnit
    plan_notice_days: int
    plan_notice_unit: PeriodUnit
    inventor_share_bp: int
    extra_approval_threshold_fen: int
    institution_parts: list[InstitutionPartIn]
    configured: bool  # False: the defaults, never saved


class RoleGrantIn(msgspec.Struct, forbid_unknown_fields=True):
    user_id: uuid.UUID
    role: Role


class RoleGrantOut(msgspec.Struct):
    user_id: uuid.UUID
    display_name: str
    role: Role
    granted_at: datetime | None  # None: an admin, who holds the office role without a grant


class RoleList(msgspec.Struct):
    items: list[RoleGrantOut]


# ----------------------------------------------------------------------------------------------
# Disclosures and processes


class InventorIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    affiliation: Text200
    share_bp: Annotated[int, msgspec.Meta(ge=1, le=BP)]


class FundingIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: FundingKind
    funder: Text200
    project_number: Annotated[str, msgspec.Meta(max_length=64)] = ""


class DisclosureIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Text200
    summary: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    field: Field
    keywords: Annotated[list[str], msgspec.Meta(max_length=20)] = []  # each 1-50 characters: the domain's check
    maturity: Annotated[int, msgspec.Meta(ge=1, le=9)]
    ip_assets: Annotated[list[IpAsset], msgspec.Meta(min_length=1, max_length=50)]
    inventors: Annotated[list[InventorIn], msgspec.Meta(min_length=1, max_length=MAX_INVENTORS)]
    funding: Annotated[list[FundingIn], msgspec.Meta(max_length=20)] = []
    intended_form: IntendedForm = IntendedForm.TRANSFER
    # The role the opener acts in at 发起 initiate; left out: the office if the opener holds it,
    # else the inventor.
    role: Role | None = None
    note: Note = ""


class DisclosureOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    summary: str
    field: str
    keywords: list[str]
    maturity: int
    ip_assets: list[dict[str, Any]]
    inventors: list[InventorIn]
    funding: list[FundingIn]
    intended_form: IntendedForm
    opened_by: uuid.UUID
    opened_at: datetime


class StepEntryOut(msgspec.Struct):
    seq: int
    step: Step
    label: str
    pass_no: int
    outcome: str
    role: Role
    actor_user_id: uuid.UUID | None
    actor_name: str
    at: datetime
    note: str
    returned_to: Step | None
    record: dict[str, Any] | None


class ProcessOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    status: str
    step: Step | None  # the open step; None once finished or stopped
    step_label: str | None
    pass_no: int
    workflow: list[WorkflowStepOut]
    disclosure: DisclosureOut
    evaluation: dict[str, Any] | None
    decision: dict[str, Any] | None
    notice_id: uuid.UUID | None
    listing_id: uuid.UUID | None
    contract: dict[str, Any] | None
    history: list[StepEntryOut]
    my_roles: list[Role]  # the caller's roles in the institution (what the page offers)
    created_at: datetime
    updated_at: datetime


class ProcessSummaryOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    status: str
    step: Step | None
    step_label: str | None
    pass_no: int
    created_at: datetime
    updated_at: datetime


class ProcessPage(msgspec.Struct):
    items: list[ProcessSummaryOut]
    next_cursor: str | None


# ----------------------------------------------------------------------------------------------
# Acts at the steps


class ActIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    role: Role | None = None  # left out: the caller's role at the open step
    note: Note = ""


class FirstReviewIn(ActIn, kw_only=True):
    complete: bool
    institution_owns: bool
    conflicts: Note = ""


class EvaluationIn(ActIn, kw_only=True):
    kind: EvaluationKind
    appraised_value: Fen
    appraiser: Text = ""
    report_number: Annotated[str, msgspec.Meta(max_length=64)] = ""
    report_date: date | None = None


class ExpertIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    affiliation: Text = ""
    external: bool = False
    opinion: Note
    vote: Vote


class ExpertReviewIn(ActIn, kw_only=True):
    experts: Annotated[list[ExpertIn], msgspec.Meta(max_length=50)]


class DecisionMakerIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    related_to_counterparty: bool = False
    recused: bool = False
    vote: Vote | None = None  # required unless recused (a recused member does not vote): the domain's check


class DecisionIn(ActIn, kw_only=True):
    approved: bool = True  # not approving is a stop: POST …/stop by the decision body
    minutes: Text
    decision_makers: Annotated[list[DecisionMakerIn], msgspec.Meta(max_length=50)]
    pricing: PricingMode | None = None
    floor_price: Fen | None = None
    counterparty: Text = ""
    related_inventors: Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=50)] = []
    related_party_declaration: Note = ""


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Step
    reason: Reason
    role: Role | None = None


class StopIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason
    role: Role | None = None


# ----------------------------------------------------------------------------------------------
# 公示 and 实施: the office's decision on an objection, the implementation, contract registration


class ObjectionResolveIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The office upholds or dismisses an objection to the process's notice. Upheld: the process
    returns to ``return_to`` (a step before 公示, e.g. decision) or stops (``stop``)."""

    decision: ObjectionDecision
    note: Note = ""
    return_to: Step | None = None
    stop: bool = False


class ContractIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The contract signed with the decision's named counterparty (a negotiated price)."""

    amount: Annotated[int, msgspec.Meta(ge=1, le=10**15)]  # fen, at least the floor price
    terms: Annotated[str, msgspec.Meta(min_length=1, max_length=5000, pattern=NON_BLANK)]
    signed_on: date
    # The counterparty's organisation at the exchange (verified); left out: the verified
    # organisation named exactly as the decision's counterparty.
    counterparty_org_id: uuid.UUID | None = None


class ImplementationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """实施 by the office once 公示 closed. A listed or auction price: the listing draft takes the
    decision's record; ``deal`` (default: a transfer), ``ip_assets`` (default: the disclosure's, e.g.
    with the patents' expiry dates added), ``deposit`` and ``increment`` complete it. A negotiated
    price: the signed ``contract``."""

    role: Role | None = None
    note: Note = ""
    deal: DealTerms | None = None
    ip_assets: Annotated[list[IpAsset], msgspec.Meta(min_length=1, max_length=50)] | None = None
    deposit: Annotated[int, msgspec.Meta(gt=-1, le=10**15)] | None = None
    increment: Annotated[int, msgspec.Meta(ge=1, le=10**15)] | None = None
    contract: ContractIn | None = None


class ContractRegistrationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """技术合同认定登记: the registry's number, its name, the day it registered, the amount it certified."""

    contract_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NON_BLANK)]
    registry_name: Text200
    registered_on: date
    certified_amount: Annotated[int, msgspec.Meta(ge=1, le=10**15)]


class ContractRegistrationOut(msgspec.Struct):
    id: uuid.UUID
    deal_id: uuid.UUID
    org_id: uuid.UUID
    contract_number: str
    registry_name: str
    registered_on: date
    certified_amount: int
    recorded_by: uuid.UUID
    recorded_at: datetime


# Income and its distribution (收益分配)


class InventorPayoutIn(msgspec.Struct, forbid_unknown_fields=True):
    """One disclosed inventor's payout (by name and affiliation as disclosed), fen."""

    name: Name
    affiliation: Text
    amount: Fen


class PartPayoutIn(msgspec.Struct, forbid_unknown_fields=True):
    """One part of the institution's remainder (a name of its settings' parts), fen."""

    name: Name
    amount: Fen


class PlanIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The office's plan for a receipt. Leave ``inventors`` and ``institution`` out for the default
    (the declared share to the inventors by their contribution shares, the rest to the parts by
    weight); give both to adjust it."""

    inventors: Annotated[list[InventorPayoutIn], msgspec.Meta(min_length=1, max_length=MAX_INVENTORS)] | None = None
    institution: Annotated[list[PartPayoutIn], msgspec.Meta(min_length=1, max_length=20)] | None = None
    reason: Note = ""


class ExtraApprovalIn(msgspec.Struct, forbid_unknown_fields=True):
    minutes: Reason  # the higher meeting's minutes (number or document)


class IdentityCheckIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The office checked the inventor's identity (document seen, bank details confirmed); it may
    link the member who is that inventor, who then sees the account."""

    user_id: uuid.UUID | None = None
    note: Note = ""
    # The bank account in the inventor's name (bank, number, account name), recorded with the check:
    # the inventor's withdrawals are paid there. Left out, the one on record stays.
    payee: Annotated[str, msgspec.Meta(max_length=500)] = ""


class PayoutOut(msgspec.Struct):
    kind: str  # inventor | institution
    name: str
    affiliation: str
    inventor_account_id: uuid.UUID | None
    amount: int


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    receipt_id: uuid.UUID
    org_id: uuid.UUID
    status: str  # noticed, suspended, approved, cancelled, paid
    amount: int
    inventor_share_bp: int
    inventors_total: int
    payouts: list[PayoutOut]
    notice_id: uuid.UUID | None
    extra_approval_needed: bool
    extra_approval: dict[str, Any] | None
    reason: str
    created_by: uuid.UUID
    created_at: datetime
    paid_at: datetime | None


class PlanList(msgspec.Struct):
    items: list[PlanOut]


class ReceiptOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    process_id: uuid.UUID
    deal_id: uuid.UUID
    seq: int
    amount: int
    reward_held: int
    received_at: datetime
    plans: list[PlanOut]


class ReceiptPage(msgspec.Struct):
    items: list[ReceiptOut]
    next_cursor: str | None


class InventorAccountOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    affiliation: str
    user_id: uuid.UUID | None
    identity_checked_at: datetime | None
    identity_checked_by: uuid.UUID | None
    balance: int  # fen in the account (``inventor:<id>:cash``)
    created_at: datetime
    held: int = 0  # fen held by withdrawals not yet paid
    available: int = 0  # balance − held: what may be withdrawn
    payee: str = ""  # the bank account on record for withdrawals


class InventorAccountList(msgspec.Struct):
    items: list[InventorAccountOut]


# The annual report (年度报告)


class ContractTallyIn(msgspec.Struct, forbid_unknown_fields=True):
    count: int = 0  # the bounds are the annual report's rules (``annual.check_inputs``): 422 naming the field
    amount: int = 0  # fen


class ContractsIn(msgspec.Struct, forbid_unknown_fields=True):
    development: ContractTallyIn = msgspec.field(default_factory=ContractTallyIn)
    consulting: ContractTallyIn = msgspec.field(default_factory=ContractTallyIn)
    service: ContractTallyIn = msgspec.field(default_factory=ContractTallyIn)


class JointBodyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    partner: str = ""
    founded_on: date | None = None


class AnnualInputsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What the office types for the year's report: its technology development, consulting and
    service contracts, its joint R&D bodies (联合研发机构), its problems and plans. Saved whole."""

    contracts: ContractsIn = msgspec.field(default_factory=ContractsIn)
    joint_bodies: list[JointBodyIn] = []
    problems: str = ""
    plans: str = ""


class TallyOut(msgspec.Struct):
    count: int
    amount: int  # fen


class AnnualInputsOut(msgspec.Struct):
    contracts: dict[str, TallyOut]
    contracts_total: TallyOut
    joint_bodies: list[JointBodyIn]
    problems: str
    plans: str
    updated_by: uuid.UUID | None
    updated_at: datetime | None  # None: never typed (the figures are zero)


class AchievementsOut(msgspec.Struct):
    disclosures: int
    ip_assets: int
    by_ip_kind: dict[str, int]
    by_funding: dict[str, int]  # government | other
    by_form: dict[str, int]


class ReportDealOut(msgspec.Struct):
    deal_id: uuid.UUID
    listing_id: uuid.UUID
    title: str
    deal_type: str
    price: int  # fen
    state: str
    formed_at: datetime


class DealsOut(msgspec.Struct):
    by_type: dict[str, TallyOut]
    total: TallyOut
    deals: list[ReportDealOut]


class IncomeOut(msgspec.Struct):
    received: TallyOut  # receipts of the year and their amount
    plans_paid: int
    to_inventors: int  # fen, paid in the year
    retained: int  # fen: the institution's parts of the plans paid in the year
    retained_by_part: dict[str, int]


class TrackingOut(msgspec.Struct):
    """五、成果转化跟踪: the deals it sold with an implementation report due in the year, each by
    its latest reported status; the year's reports due, filed and overdue; jobs and revenue bands
    as the latest reports say (docs/tracking.md)."""

    deals: int
    by_status: dict[str, int]  # in_development | in_production | abandoned | not_reported
    reports_due: int
    reports_filed: int
    reports_overdue: int
    jobs: int
    by_revenue_band: dict[str, int]


class AnnualReportOut(msgspec.Struct):
    org_id: uuid.UUID
    org_name: str
    org_kind: str
    year: int
    achievements: AchievementsOut
    process_deals: DealsOut  # deals of the listings its transfer processes implemented
    seller_deals: DealsOut  # every deal of the year with the institution as seller
    income: IncomeOut
    inputs: AnnualInputsOut
    generated_at: datetime
    tracking: TrackingOut | None = None  # None where tracking is not wired


class SummaryRowOut(msgspec.Struct):
    org_id: uuid.UUID | None  # None: the totals row
    name: str
    disclosures: int
    government_funded: int
    ip_assets: int
    process_deals: TallyOut
    seller_deals: TallyOut
    received: int
    to_inventors: int
    retained: int
    contracts: TallyOut
    joint_bodies: int


class AnnualSummaryOut(msgspec.Struct):
    year: int
    items: list[SummaryRowOut]
    totals: SummaryRowOut
    generated_at: datetime
