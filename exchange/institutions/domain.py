"""Pure rules of an institution's own transfer process (issue 19): the disclosure of a service
invention, the transfer decision as a configurable workflow with a history of passes, the records
of its evaluation, expert review and decision steps, the institution's notice period, and the
distribution of income to the inventors. No database, no web framework.

Every refusal names the field at fault (``inventors.2.share_bp``) and the rule it breaks; checks of
a record report all their problems at once, as listings do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from kernel.errors import DomainError, Forbidden, InvalidState
from kernel.shares import largest_remainder
from listings.domain import KEYWORD_MAX, NoticePeriod, PricingMode
from listings.workdays import WorkingCalendar

BP = 10_000  # basis points in one whole
MAX_FEN = 10**15  # as listings: far above any price, far below integer overflow
MAX_INVENTORS = 50
MIN_EXPERTS = 3

# ----------------------------------------------------------------------------------------------
# Refusals


class InstitutionRuleBroken(DomainError):
    problem_type = "institution-rule-broken"
    status = 422
    title = "The request breaks a rule of the institution's transfer process"


class InvalidDisclosure(InstitutionRuleBroken):
    problem_type = "invalid-disclosure"
    title = "The disclosure breaks a disclosure rule"


class InvalidWorkflow(InstitutionRuleBroken):
    problem_type = "invalid-workflow"
    title = "The institution's workflow breaks a workflow rule"


class InvalidStepRecord(InstitutionRuleBroken):
    problem_type = "invalid-step-record"
    title = "The step's record breaks a rule of that step"


class InvalidInstitutionRules(InstitutionRuleBroken):
    problem_type = "invalid-institution-rules"
    title = "The institution's settings break a rule"


class InvalidDistribution(InstitutionRuleBroken):
    problem_type = "invalid-distribution"
    title = "The income distribution plan breaks a distribution rule"


class StepForbidden(Forbidden):
    """A role acting at a step the institution's workflow does not give it (403 ``forbidden``)."""

    def __init__(self, detail: str, *, step: str, role: str) -> None:
        super().__init__(detail, step=step, role=role)


class StepRefused(InvalidState):
    """A move the process's current state does not allow (409 ``invalid-state``); ``rule`` names
    the rule it breaks: ``steps-in-order``, ``configured-steps-only``, ``return-to-earlier-step``,
    ``process-ended``, ``decision-frozen``."""

    def __init__(self, detail: str, *, state: str, rule: str) -> None:
        super().__init__(detail, state=state, rule=rule)
        self.rule = rule


class _Problems:
    """The problems of one request, each ``{"field", "message"}``; raised together."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def __call__(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def raise_as(self, refusal: type[InstitutionRuleBroken]) -> None:
        if self.errors:
            first = self.errors[0]
            raise refusal(f"{first['field']}: {first['message']}", errors=self.errors)


Fail = Callable[[str, str], None]


def _blank(text: str) -> bool:
    return not text.strip()


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


# ----------------------------------------------------------------------------------------------
# Disclosure (职务科技成果披露)


class FundingKind(StrEnum):
    GOVERNMENT = "government"  # a government-funded project: its number is reported
    OTHER = "other"


class IntendedForm(StrEnum):
    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"
    KEEP = "keep"  # the institution keeps the achievement


@dataclass(frozen=True)
class DisclosedInventor:
    """A person who made the invention: a share of the contribution in basis points (all > 0,
    together exactly 10,000). The shares split the inventors' income (``distribute``)."""

    name: str
    affiliation: str
    share_bp: int


@dataclass(frozen=True)
class FundingSource:
    kind: FundingKind
    funder: str
    project_number: str = ""  # required for government funding


@dataclass(frozen=True)
class Disclosure:
    inventors: tuple[DisclosedInventor, ...]
    funding: tuple[FundingSource, ...] = ()
    form: IntendedForm = IntendedForm.TRANSFER
    keywords: tuple[str, ...] = ()


def check_inventors(inventors: Sequence[DisclosedInventor], fail: Fail, *, field: str = "inventors") -> None:
    """At least one inventor and at most ``MAX_INVENTORS``; each named, with an affiliation, listed
    once (by name and affiliation) and a share > 0; the shares together exactly 10,000 bp."""
    if not inventors:
        fail(field, "a disclosure names at least one inventor")
        return
    if len(inventors) > MAX_INVENTORS:
        fail(field, f"a disclosure names at most {MAX_INVENTORS} inventors")
    seen: dict[tuple[str, str], int] = {}
    for i, inventor in enumerate(inventors):
        if _blank(inventor.name):
            fail(f"{field}.{i}.name", "an inventor is a named person")
        if _blank(inventor.affiliation):
            fail(f"{field}.{i}.affiliation", "name the inventor's affiliation (school, department, institute)")
        if inventor.share_bp <= 0:
            fail(f"{field}.{i}.share_bp", "an inventor's contribution share is more than 0 bp")
        key = (_key(inventor.name), _key(inventor.affiliation))
        if not _blank(inventor.name) and key in seen:
            fail(f"{field}.{i}.name", f"{inventor.name} of {inventor.affiliation} is listed twice (also {seen[key]})")
        seen.setdefault(key, i)
    total = sum(inventor.share_bp for inventor in inventors)
    if total != BP:
        fail(field, f"the contribution shares add up to {BP} bp (100%), not {total} bp")


def check_disclosure(disclosure: Disclosure) -> None:
    """422 ``invalid-disclosure`` naming every field at fault: the inventors (``check_inventors``),
    and each funding source's funder and, for government funding, its project number."""
    fail = _Problems()
    check_inventors(disclosure.inventors, fail)
    for i, keyword in enumerate(disclosure.keywords):
        if _blank(keyword) or len(keyword) > KEYWORD_MAX:
            fail(f"keywords.{i}", f"a keyword has 1 to {KEYWORD_MAX} characters")
    for i, source in enumerate(disclosure.funding):
        if _blank(source.funder):
            fail(f"funding.{i}.funder", "name who funded the work")
        if source.kind is FundingKind.GOVERNMENT and _blank(source.project_number):
            fail(f"funding.{i}.project_number", "government funding is declared with its project number")
    fail.raise_as(InvalidDisclosure)


# ----------------------------------------------------------------------------------------------
# The workflow: steps, roles, configuration


class Step(StrEnum):
    INITIATE = "initiate"  # 发起
    FIRST_REVIEW = "first_review"  # 初审
    EVALUATION = "evaluation"  # 评估
    EXPERT_REVIEW = "expert_review"  # 论证
    DECISION = "decision"  # 决策
    NOTICE = "notice"  # 公示
    IMPLEMENTATION = "implementation"  # 实施


STEP_LABELS: Mapping[Step, str] = MappingProxyType(
    {
        Step.INITIATE: "发起 initiate",
        Step.FIRST_REVIEW: "初审 first review",
        Step.EVALUATION: "评估 evaluation",
        Step.EXPERT_REVIEW: "论证 expert review",
        Step.DECISION: "决策 decision",
        Step.NOTICE: "公示 notice",
        Step.IMPLEMENTATION: "实施 implementation",
    }
)


class Role(StrEnum):
    INVENTOR = "inventor"
    OFFICE = "office"  # the technology-transfer office
    EVALUATOR = "evaluator"  # an internal assessor, or the office entering an external report
    EXPERT_PANEL = "expert_panel"
    DECISION_BODY = "decision_body"  # the body the institution names, e.g. its transfer leading group


DEFAULT_ROLES: Mapping[Step, frozenset[Role]] = MappingProxyType(
    {
        Step.INITIATE: frozenset({Role.INVENTOR, Role.OFFICE}),
        Step.FIRST_REVIEW: frozenset({Role.OFFICE}),
        Step.EVALUATION: frozenset({Role.EVALUATOR, Role.OFFICE}),
        Step.EXPERT_REVIEW: frozenset({Role.EXPERT_PANEL}),
        Step.DECISION: frozenset({Role.DECISION_BODY}),
        Step.NOTICE: frozenset({Role.OFFICE}),
        Step.IMPLEMENTATION: frozenset({Role.OFFICE}),
    }
)

# The steps no institution removes: a process starts somewhere (发起), and the decision, its public
# notice and its implementation are what the action plan and the law require of every transfer.
REQUIRED_STEPS: tuple[Step, ...] = (Step.INITIATE, Step.DECISION, Step.NOTICE, Step.IMPLEMENTATION)
# The steps an institution may leave out or put in its own order (between 发起 and 决策).
OPTIONAL_STEPS: tuple[Step, ...] = (Step.FIRST_REVIEW, Step.EVALUATION, Step.EXPERT_REVIEW)
CLOSING_STEPS: tuple[Step, ...] = (Step.DECISION, Step.NOTICE, Step.IMPLEMENTATION)


@dataclass(frozen=True)
class StepConfig:
    step: Step
    roles: frozenset[Role]


@dataclass(frozen=True)
class Workflow:
    """An institution's steps in order, each with the roles that act at it. Build one with
    ``configure_workflow`` (checked) or take ``DEFAULT_WORKFLOW``.

    What an institution may configure: which of the optional steps (初审 first review, 评估
    evaluation, 论证 expert review) it runs and in what order, and the roles of every step. What it
    may not: remove 发起 initiate (always first) or 决策 decision, 公示 notice and 实施 implementation
    (always last, in that order — the notice publishes the decision, the implementation carries it
    out); list a step twice; give a step no role; let an inventor act anywhere but at 发起.
    """

    steps: tuple[StepConfig, ...]

    @property
    def order(self) -> tuple[Step, ...]:
        return tuple(config.step for config in self.steps)

    def index(self, step: Step) -> int | None:
        for i, config in enumerate(self.steps):
            if config.step is step:
                return i
        return None

    def roles(self, step: Step) -> frozenset[Role]:
        for config in self.steps:
            if config.step is step:
                return config.roles
        return frozenset()

    def may_act(self, step: Step, role: Role) -> bool:
        """Whether ``role`` acts at ``step`` in this workflow (never at a step it does not have)."""
        return role in self.roles(step)


def configure_workflow(steps: Sequence[Step | tuple[Step, Iterable[Role]]]) -> Workflow:
    """An institution's workflow from its ordered steps, each a ``Step`` (with its default roles) or
    ``(step, roles)``; 422 ``invalid-workflow`` naming every ``steps.N`` at fault (see ``Workflow``)."""
    fail = _Problems()
    configs: list[StepConfig] = []
    seen: dict[Step, int] = {}
    for i, entry in enumerate(steps):
        step, roles = (entry, DEFAULT_ROLES[entry]) if isinstance(entry, Step) else (entry[0], frozenset(entry[1]))
        if step in seen:
            fail(f"steps.{i}", f"{STEP_LABELS[step]} is listed twice (also steps.{seen[step]})")
            continue
        seen[step] = i
        if not roles:
            fail(f"steps.{i}.roles", f"name the roles that act at {STEP_LABELS[step]}")
        if Role.INVENTOR in roles and step is not Step.INITIATE:
            fail(f"steps.{i}.roles", f"an inventor acts only at 发起 initiate, not at {STEP_LABELS[step]}")
        configs.append(StepConfig(step, frozenset(roles)))
    order = [config.step for config in configs]
    for step in REQUIRED_STEPS:
        if step not in seen:
            fail("steps", f"{STEP_LABELS[step]} is a required step and cannot be removed")
    if Step.INITIATE in seen and order[0] is not Step.INITIATE:
        fail(f"steps.{seen[Step.INITIATE]}", "发起 initiate is the first step")
    if all(step in seen for step in CLOSING_STEPS) and tuple(order[-3:]) != CLOSING_STEPS:
        fail("steps", "决策 decision, 公示 notice and 实施 implementation are the last steps, in that order")
    fail.raise_as(InvalidWorkflow)
    return Workflow(tuple(configs))


DEFAULT_WORKFLOW = configure_workflow(list(Step))


def may_act(step: Step, role: Role, workflow: Workflow = DEFAULT_WORKFLOW) -> bool:
    """Whether ``role`` acts at ``step`` (in the default workflow unless an institution's is given)."""
    return workflow.may_act(step, role)


# ----------------------------------------------------------------------------------------------
# The process: a state machine driven by its history


class Outcome(StrEnum):
    COMPLETED = "completed"  # the step is done; the next one opens
    RETURNED = "returned"  # sent back to an earlier step, which opens a new pass
    STOPPED = "stopped"  # the process ends here (not approved, withdrawn, an objection upheld)


class ProcessStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"  # 实施 implementation completed
    STOPPED = "stopped"


@dataclass(frozen=True)
class StepRecord:
    """One act at a step: who (role and person), when, what became of the step, and why.

    ``pass_no`` counts the times the step has been opened: 1 the first time, 2 after a return to
    it or to a step before it, and so on. Records are never changed or removed; a return adds one.
    """

    step: Step
    pass_no: int
    outcome: Outcome
    role: Role
    actor: str
    at: datetime
    note: str = ""
    returned_to: Step | None = None


@dataclass(frozen=True)
class Position:
    """Where a process stands, as its history says: the open step (None once it ended), its pass,
    the status, and how many times each step has been opened."""

    step: Step | None
    pass_no: int
    status: ProcessStatus
    passes: Mapping[Step, int]


@dataclass(frozen=True)
class Process:
    """A disclosure's way through its institution's workflow: the workflow as it was when the
    process began, and the history of every act in order (an immutable tuple of ``StepRecord``)."""

    workflow: Workflow = DEFAULT_WORKFLOW
    history: tuple[StepRecord, ...] = ()

    def position(self) -> Position:
        order = self.workflow.order
        index = 0
        passes: dict[Step, int] = {order[0]: 1}
        for record in self.history:
            if record.outcome is Outcome.STOPPED:
                return Position(None, 0, ProcessStatus.STOPPED, MappingProxyType(passes))
            if record.outcome is Outcome.RETURNED and record.returned_to is not None:
                index = order.index(record.returned_to)
            else:
                index += 1
            if index == len(order):
                return Position(None, 0, ProcessStatus.FINISHED, MappingProxyType(passes))
            passes[order[index]] = passes.get(order[index], 0) + 1
        step = order[index]
        return Position(step, passes[step], ProcessStatus.ACTIVE, MappingProxyType(passes))


def next_step(process: Process) -> Step | None:
    """The step open for action; None once the process has finished or stopped."""
    return process.position().step


def _require_active(process: Process, verb: str) -> Position:
    position = process.position()
    if position.step is None:
        raise StepRefused(
            f"cannot {verb}: the process has {position.status.value}", state=position.status.value, rule="process-ended"
        )
    return position


def _require_reason(reason: str, verb: str) -> str:
    if _blank(reason):
        raise InvalidStepRecord(f"reason: give the reason to {verb}", field="reason")
    return reason.strip()


def complete(process: Process, step: Step, *, role: Role, actor: str, at: datetime, note: str = "") -> Process:
    """The process with ``step`` completed by ``actor`` acting as ``role``.

    409 ``invalid-state`` (rule ``configured-steps-only``) for a step the workflow does not have;
    403 ``forbidden`` when the workflow does not give ``role`` that step; 409 (``process-ended``)
    once the process has finished or stopped; 409 (``steps-in-order``) for any step but the open
    one: steps complete in the configured order, none skipped, none twice in one pass.
    """
    workflow = process.workflow
    if workflow.index(step) is None:
        raise StepRefused(
            f"{STEP_LABELS[step]} is not a step of this institution's workflow",
            state=(next_step(process) or process.position().status).value,
            rule="configured-steps-only",
        )
    if not workflow.may_act(step, role):
        allowed = ", ".join(sorted(r.value for r in workflow.roles(step)))
        raise StepForbidden(
            f"the {role.value} role does not act at {STEP_LABELS[step]} (who does: {allowed})",
            step=step.value,
            role=role.value,
        )
    position = _require_active(process, f"complete {STEP_LABELS[step]}")
    if step is not position.step:
        raise StepRefused(
            f"cannot complete {STEP_LABELS[step]}: the process is at {STEP_LABELS[position.step]}; "
            "steps complete in the institution's order, none skipped",
            state=position.step.value,
            rule="steps-in-order",
        )
    record = StepRecord(step, position.pass_no, Outcome.COMPLETED, role, actor, at, note.strip())
    return Process(workflow, (*process.history, record))


def return_to(process: Process, target: Step, *, role: Role, actor: str, at: datetime, reason: str) -> Process:
    """The process sent back from its open step to the earlier step ``target``, which opens a new
    pass; every record stays in the history. The roles of the open step may send it back, and the
    office always may (it resolves objections to the notice). 409 ``return-to-earlier-step`` for a
    target that is not before the open step; 422 without a reason."""
    position = _require_active(process, f"return to {STEP_LABELS[target]}")
    current = position.step
    assert current is not None
    workflow = process.workflow
    if role is not Role.OFFICE and not workflow.may_act(current, role):
        raise StepForbidden(
            f"the {role.value} role does not send back {STEP_LABELS[current]}", step=current.value, role=role.value
        )
    target_index = workflow.index(target)
    if target_index is None:
        raise StepRefused(
            f"{STEP_LABELS[target]} is not a step of this institution's workflow",
            state=current.value,
            rule="configured-steps-only",
        )
    if target_index >= (workflow.index(current) or 0):
        raise StepRefused(
            f"the process at {STEP_LABELS[current]} returns only to an earlier step, not to {STEP_LABELS[target]}",
            state=current.value,
            rule="return-to-earlier-step",
        )
    why = _require_reason(reason, "send the process back")
    record = StepRecord(current, position.pass_no, Outcome.RETURNED, role, actor, at, why, returned_to=target)
    return Process(workflow, (*process.history, record))


def stop(process: Process, *, role: Role, actor: str, at: datetime, reason: str) -> Process:
    """The process ended at its open step: by the office at any step (withdrawn, an objection
    upheld), or by the roles of 决策 decision while the decision is open (not approved)."""
    position = _require_active(process, "stop the process")
    current = position.step
    assert current is not None
    if role is not Role.OFFICE and not (current is Step.DECISION and process.workflow.may_act(current, role)):
        raise StepForbidden(f"the {role.value} role does not stop the process", step=current.value, role=role.value)
    why = _require_reason(reason, "stop the process")
    record = StepRecord(current, position.pass_no, Outcome.STOPPED, role, actor, at, why)
    return Process(process.workflow, (*process.history, record))


def check_decision_open(process: Process) -> None:
    """Refuses a change to the decision record unless 决策 decision is the open step.

    Once the decision is completed its notice opens, and the record is frozen (409 rule
    ``decision-frozen``): a correction returns the process to 决策 decision (``return_to``), which
    opens a new pass with a new record — and, completed again, a new notice.
    """
    position = process.position()
    if position.step is Step.DECISION:
        return
    if position.status is ProcessStatus.STOPPED:
        raise StepRefused("the process has stopped", state=position.status.value, rule="process-ended")
    decision_index = process.workflow.index(Step.DECISION)
    state = (position.step or position.status).value
    decided = position.status is ProcessStatus.FINISHED or (
        position.step is not None and (process.workflow.index(position.step) or 0) > (decision_index or 0)
    )
    if decided:
        raise StepRefused(
            "the decision record is frozen once its notice opens; a correction returns the process to "
            "决策 decision and opens a new pass",
            state=state,
            rule="decision-frozen",
        )
    raise StepRefused(
        f"the decision is recorded at 决策 decision; the process is {state}", state=state, rule="steps-in-order"
    )


# ----------------------------------------------------------------------------------------------
# Step records: evaluation, expert review, decision


@dataclass(frozen=True)
class FirstReview:
    """初审: the office's answers — is the disclosure complete, is the achievement the institution's
    to transfer (a service invention, no third party's right in the way), and any conflict of
    interest it found (free text; empty: none)."""

    complete: bool
    institution_owns: bool
    conflicts: str = ""


def check_first_review(review: FirstReview) -> None:
    """422 ``invalid-step-record`` unless the disclosure is complete and the institution's to
    transfer: a first review that finds otherwise is not completed; the office returns the process
    to 发起 initiate (to complete the disclosure) or stops it."""
    fail = _Problems()
    if not review.complete:
        fail("complete", "the first review passes only a complete disclosure; return it to 发起 initiate")
    if not review.institution_owns:
        fail("institution_owns", "the first review passes only an achievement the institution may transfer")
    fail.raise_as(InvalidStepRecord)


class EvaluationKind(StrEnum):
    INTERNAL = "internal"  # the institution's own assessment
    EXTERNAL = "external"  # a valuation report by an appraisal firm


@dataclass(frozen=True)
class Evaluation:
    kind: EvaluationKind
    appraised_value: int  # fen
    appraiser: str = ""  # the firm, or the internal assessor
    report_number: str = ""
    report_date: date | None = None


def check_evaluation(evaluation: Evaluation, *, today: date) -> None:
    """An appraised value in fen (> 0), who appraised and when (not after ``today``); an external
    report also its number. 422 ``invalid-step-record`` naming every field at fault."""
    fail = _Problems()
    if not 0 < evaluation.appraised_value <= MAX_FEN:
        fail("appraised_value", "an appraised value is a positive amount of fen")
    if _blank(evaluation.appraiser):
        fail("appraiser", "name who appraised (the firm, or the internal assessor)")
    if evaluation.report_date is None:
        fail("report_date", "date the appraisal")
    elif evaluation.report_date > today:
        fail("report_date", f"the appraisal is dated after today ({today.isoformat()})")
    if evaluation.kind is EvaluationKind.EXTERNAL and _blank(evaluation.report_number):
        fail("report_number", "an external valuation report is cited by its number")
    fail.raise_as(InvalidStepRecord)


class Vote(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class ExpertOpinion:
    name: str
    opinion: str
    vote: Vote
    affiliation: str = ""
    external: bool = False  # from outside the institution


@dataclass(frozen=True)
class Tally:
    """The panel's votes. Every expert casts a ballot, an abstention included: the review passes
    when the approvals are more than half of the ballots (so an abstention weighs as not approving;
    3 experts need 2 approvals, 4 need 3)."""

    approvals: int
    rejections: int
    abstentions: int

    @property
    def ballots(self) -> int:
        return self.approvals + self.rejections + self.abstentions

    @property
    def passed(self) -> bool:
        return 2 * self.approvals > self.ballots


def check_expert_review(experts: Sequence[ExpertOpinion], *, inventors: Sequence[DisclosedInventor] = ()) -> Tally:
    """The panel's tally; 422 ``invalid-step-record`` for a panel of fewer than ``MIN_EXPERTS``, an
    expert unnamed, listed twice or among the inventors, or an opinion without text."""
    fail = _Problems()
    if len(experts) < MIN_EXPERTS:
        fail("experts", f"an expert review has at least {MIN_EXPERTS} experts, not {len(experts)}")
    inventor_names = {_key(inventor.name) for inventor in inventors}
    seen: dict[str, int] = {}
    for i, expert in enumerate(experts):
        key = _key(expert.name)
        if not key:
            fail(f"experts.{i}.name", "an expert is named")
        elif key in seen:
            fail(f"experts.{i}.name", f"{expert.name} is on the panel twice (also experts.{seen[key]})")
        elif key in inventor_names:
            fail(f"experts.{i}.name", f"{expert.name} is an inventor and does not review the achievement")
        seen.setdefault(key, i)
        if _blank(expert.opinion):
            fail(f"experts.{i}.opinion", "each expert gives a written opinion")
    fail.raise_as(InvalidStepRecord)
    votes = [expert.vote for expert in experts]
    return Tally(votes.count(Vote.APPROVE), votes.count(Vote.REJECT), votes.count(Vote.ABSTAIN))


def require_expert_approval(tally: Tally) -> None:
    """422 ``invalid-step-record`` on ``experts`` unless the panel approved (see ``Tally``): an
    expert review that did not pass is not completed; the office returns or stops the process."""
    if not tally.passed:
        raise InvalidStepRecord(
            f"experts: the panel did not approve: {tally.approvals} of {tally.ballots} ballots approve, "
            f"more than half ({tally.ballots // 2 + 1}) are needed",
            field="experts",
        )


@dataclass(frozen=True)
class DecisionMaker:
    name: str
    related_to_counterparty: bool = False
    recused: bool = False


@dataclass(frozen=True)
class Decision:
    """The decision body's record, with its minutes. ``pricing`` is the pricing mode the listing at
    step 7 takes (listings' ``PricingMode``: 协议定价 negotiated, 挂牌 listed, 拍卖 auction)."""

    approved: bool
    minutes: str  # the meeting minutes' reference (number or document)
    decision_makers: tuple[DecisionMaker, ...]
    pricing: PricingMode | None = None
    floor_price: int | None = None  # fen
    counterparty: str = ""  # the named counterparty of a negotiated price
    related_inventors: tuple[str, ...] = ()  # names of disclosed inventors related to the counterparty
    related_party_declaration: str = ""

    @property
    def related(self) -> bool:
        return bool(self.related_inventors) or any(m.related_to_counterparty for m in self.decision_makers)


def check_decision(
    decision: Decision,
    *,
    public_institution: bool,
    appraised_value: int | None,
    inventors: Sequence[DisclosedInventor],
) -> None:
    """422 ``invalid-step-record`` naming every field at fault:

    - the minutes are cited, at least one decision-maker, each named once;
    - an approval names its pricing mode and a floor price (> 0); a public institution's floor is
      at least the appraised value of record (when the process has one — an appraisal is not
      mandatory for a transfer); a negotiated price names its counterparty; a listing or auction
      names none (its counterparty is found at the exchange);
    - related parties: an inventor named as related is a disclosed inventor, and related parties
      exist only towards a named counterparty; if any inventor or decision-maker is related, the
      record carries the declaration, every related decision-maker recuses (the decision is taken
      by the others), and at least one decision-maker is left.
    """
    fail = _Problems()
    if _blank(decision.minutes):
        fail("minutes", "a decision cites its meeting minutes")
    makers = decision.decision_makers
    if not makers:
        fail("decision_makers", "name the decision-makers present")
    seen: dict[str, int] = {}
    for i, maker in enumerate(makers):
        key = _key(maker.name)
        if not key:
            fail(f"decision_makers.{i}.name", "a decision-maker is named")
        elif key in seen:
            fail(f"decision_makers.{i}.name", f"{maker.name} is listed twice (also decision_makers.{seen[key]})")
        seen.setdefault(key, i)
        if maker.related_to_counterparty and not maker.recused:
            fail(f"decision_makers.{i}.recused", f"{maker.name} is related to the counterparty and recuses")
    if makers and all(maker.recused for maker in makers):
        fail("decision_makers", "no decision-maker is left once the related ones recuse")
    if decision.approved:
        if decision.pricing is None:
            fail("pricing", "an approval names the pricing mode: negotiated, listed or auction")
        if decision.floor_price is None or not 0 < decision.floor_price <= MAX_FEN:
            fail("floor_price", "an approval sets a floor price, a positive amount of fen")
        elif public_institution and appraised_value is not None and decision.floor_price < appraised_value:
            fail(
                "floor_price",
                f"a public institution's floor price is at least the appraised value ({appraised_value} fen)",
            )
        if decision.pricing is PricingMode.NEGOTIATED and _blank(decision.counterparty):
            fail("counterparty", "a negotiated price names its counterparty")
        if decision.pricing in (PricingMode.LISTED, PricingMode.AUCTION) and not _blank(decision.counterparty):
            fail("counterparty", "a listing or auction finds its counterparty at the exchange; name none")
    disclosed = {_key(inventor.name) for inventor in inventors}
    for j, name in enumerate(decision.related_inventors):
        if _key(name) not in disclosed:
            fail(f"related_inventors.{j}", f"{name} is not a disclosed inventor")
    if decision.related:
        if _blank(decision.counterparty):
            fail("counterparty", "related parties are declared towards a named counterparty")
        if _blank(decision.related_party_declaration):
            fail(
                "related_party_declaration", "an inventor or decision-maker is related to the counterparty: declare it"
            )
    fail.raise_as(InvalidStepRecord)


# ----------------------------------------------------------------------------------------------
# The institution's settings and its notice period


class PeriodUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"  # on the exchange's working-day calendar


DEFAULT_DECISION_BODY = "成果转化工作领导小组"  # the body that decides, unless the institution names its own
MIN_NOTICE_DAYS = 15  # a transfer's public notice runs at least 15 days (calendar or working)
MAX_NOTICE_DAYS = 90
SHANGHAI_INVENTOR_SHARE_BP = 7_000  # the least share of income a Shanghai public institution gives its inventors
EXTRA_APPROVAL_THRESHOLD_FEN = 30_000_000  # ¥300,000 per person


@dataclass(frozen=True)
class InstitutionRules:
    public: bool = True  # a university or research institute
    notice_days: int = 15
    notice_unit: PeriodUnit = PeriodUnit.CALENDAR_DAYS
    plan_notice_days: int = 15  # the distribution plan's own notice
    plan_notice_unit: PeriodUnit = PeriodUnit.WORKING_DAYS
    inventor_share_bp: int = SHANGHAI_INVENTOR_SHARE_BP  # the declared least share of the inventors
    extra_approval_threshold_fen: int = EXTRA_APPROVAL_THRESHOLD_FEN


def check_institution_rules(rules: InstitutionRules, *, public_minimum_bp: int = SHANGHAI_INVENTOR_SHARE_BP) -> None:
    """422 ``invalid-institution-rules`` naming every setting at fault: the transfer notice runs
    ``MIN_NOTICE_DAYS`` to ``MAX_NOTICE_DAYS`` days, the plan's notice 1 to ``MAX_NOTICE_DAYS``; the
    declared inventor share is at most 100% and, for a public institution, at least
    ``public_minimum_bp``; the extra-approval threshold is positive."""
    fail = _Problems()
    if not MIN_NOTICE_DAYS <= rules.notice_days <= MAX_NOTICE_DAYS:
        fail("notice_days", f"a transfer's notice runs {MIN_NOTICE_DAYS} to {MAX_NOTICE_DAYS} days")
    if not 1 <= rules.plan_notice_days <= MAX_NOTICE_DAYS:
        fail("plan_notice_days", f"a distribution plan's notice runs 1 to {MAX_NOTICE_DAYS} days")
    if not 0 <= rules.inventor_share_bp <= BP:
        fail("inventor_share_bp", f"a share is 0 to {BP} bp")
    elif rules.public and rules.inventor_share_bp < public_minimum_bp:
        fail(
            "inventor_share_bp",
            f"a public institution's inventors receive at least {public_minimum_bp / 100:g}% ({public_minimum_bp} bp)",
        )
    if rules.extra_approval_threshold_fen <= 0:
        fail("extra_approval_threshold_fen", "the threshold is a positive amount of fen")
    fail.raise_as(InvalidInstitutionRules)


def notice_closes_at(opens_at: datetime, days: int, unit: PeriodUnit, calendar: WorkingCalendar) -> datetime:
    """When a notice opened at ``opens_at`` closes: at 24:00 Beijing time of the ``days``-th day
    (calendar or working) after the opening day, exactly as the exchange's own notices count
    (``listings.domain.NoticePeriod``). Working days count on ``calendar``: a period that runs
    into a year it has no data for is 409 ``calendar-year-missing``."""
    if days < 1:
        raise InvalidInstitutionRules("notice_days: a notice runs at least one day", field="notice_days")
    return NoticePeriod(days, working_days=unit is PeriodUnit.WORKING_DAYS).end(opens_at, calendar)


# ----------------------------------------------------------------------------------------------
# Income distribution (收益分配)


class PayeeKind(StrEnum):
    INVENTOR = "inventor"
    INSTITUTION = "institution"  # the institution itself, or one of its departments


@dataclass(frozen=True)
class InstitutionPart:
    """A part of the institution's remainder (the institution, a school, a department) and its
    weight among the parts (any positive integers: 5:3:2, or basis points)."""

    name: str
    weight: int


DEFAULT_INSTITUTION_PARTS: tuple[InstitutionPart, ...] = (InstitutionPart("institution", 1),)


@dataclass(frozen=True)
class Payout:
    kind: PayeeKind
    name: str
    amount: int  # fen


@dataclass(frozen=True)
class DistributionPlan:
    amount: int
    inventor_share_bp: int
    inventors: tuple[Payout, ...]  # in the order of the disclosure's inventors
    institution: tuple[Payout, ...]  # in the order of the institution's parts

    @property
    def inventors_total(self) -> int:
        return sum(payout.amount for payout in self.inventors)

    @property
    def payouts(self) -> tuple[Payout, ...]:
        return (*self.inventors, *self.institution)


def inventors_minimum(amount: int, share_bp: int) -> int:
    """The inventors' least total: ``share_bp`` of ``amount``, rounded up to the fen (in their favour)."""
    return -(-amount * share_bp // BP)


def distribute(
    amount_fen: int,
    inventors: Sequence[DisclosedInventor],
    inventor_share_bp: int,
    institution_parts: Sequence[InstitutionPart] = DEFAULT_INSTITUTION_PARTS,
    *,
    minimum_bp: int = SHANGHAI_INVENTOR_SHARE_BP,
) -> DistributionPlan:
    """The plan for one receipt of ``amount_fen``, exact to the fen.

    The inventors together get ``inventor_share_bp`` of the amount rounded UP to the fen (a
    fraction of a fen goes to them, never from them); that total is split among them by their
    contribution shares, and the rest among the institution's parts by weight, each by the largest
    remainder (``kernel.shares``: ties to whoever is listed first). The parts add up to the amount,
    none is negative, each inventor is within one fen of their exact share of the inventors' total.

    422 ``invalid-distribution`` naming every field at fault: a negative amount, inventors as
    ``check_inventors`` refuses them, a share below ``minimum_bp`` (the institution's declared
    minimum) or above 100%, no institution part, a part unnamed, named twice or weighing ≤ 0.
    """
    fail = _Problems()
    if not 0 <= amount_fen <= MAX_FEN:
        fail("amount", "the amount to distribute is 0 or more fen")
    check_inventors(inventors, fail)
    if inventor_share_bp > BP:
        fail("inventor_share_bp", f"a share is at most {BP} bp (100%)")
    elif inventor_share_bp < minimum_bp:
        fail(
            "inventor_share_bp",
            f"the inventors receive at least the declared share, {minimum_bp / 100:g}% ({minimum_bp} bp)",
        )
    if not institution_parts:
        fail("institution_parts", "name at least one part of the institution's remainder")
    seen: dict[str, int] = {}
    for i, part in enumerate(institution_parts):
        key = _key(part.name)
        if not key:
            fail(f"institution_parts.{i}.name", "a part is named")
        elif key in seen:
            fail(f"institution_parts.{i}.name", f"{part.name} is listed twice (also institution_parts.{seen[key]})")
        seen.setdefault(key, i)
        if part.weight <= 0:
            fail(f"institution_parts.{i}.weight", "a part's weight is positive")
    fail.raise_as(InvalidDistribution)
    inventors_total = inventors_minimum(amount_fen, inventor_share_bp)
    to_inventors = largest_remainder(inventors_total, [inventor.share_bp for inventor in inventors])
    to_parts = largest_remainder(amount_fen - inventors_total, [part.weight for part in institution_parts])
    return DistributionPlan(
        amount=amount_fen,
        inventor_share_bp=inventor_share_bp,
        inventors=tuple(
            Payout(PayeeKind.INVENTOR, inventor.name, value)
            for inventor, value in zip(inventors, to_inventors, strict=True)
        ),
        institution=tuple(
            Payout(PayeeKind.INSTITUTION, part.name, value)
            for part, value in zip(institution_parts, to_parts, strict=True)
        ),
    )


def check_plan(plan: DistributionPlan, *, declared_bp: int) -> None:
    """A plan as proposed or amended by the office, before its notice: 422 ``invalid-distribution``
    unless every payout is 0 or more, they add up to the amount exactly, and the inventors together
    get at least the declared share of the amount (rounded up to the fen)."""
    fail = _Problems()
    for i, payout in enumerate(plan.payouts):
        if payout.amount < 0:
            fail(f"payouts.{i}.amount", "a payout is 0 or more fen")
    total = sum(payout.amount for payout in plan.payouts)
    if total != plan.amount:
        fail("payouts", f"the payouts add up to the amount ({plan.amount} fen), not {total} fen")
    minimum = inventors_minimum(plan.amount, declared_bp)
    if plan.inventors_total < minimum:
        fail(
            "inventors",
            f"the inventors receive at least the declared {declared_bp / 100:g}% of the amount "
            f"({minimum} fen), not {plan.inventors_total} fen",
        )
    fail.raise_as(InvalidDistribution)


def needs_extra_approval(
    plan: DistributionPlan, threshold_fen: int = EXTRA_APPROVAL_THRESHOLD_FEN
) -> tuple[Payout, ...]:
    """The inventors whose payout is above ``threshold_fen`` (per person; default ¥300,000): the
    plan needs an extra approval with the minutes of a higher meeting before they are paid."""
    return tuple(payout for payout in plan.inventors if payout.amount > threshold_fen)
