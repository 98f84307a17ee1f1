"""The transfer decision as a workflow: the steps, the roles that act at them, an institution's
configuration, and the process — a state machine driven by its history of passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from exchange.institutions.domain.refusals import (
    InvalidStepRecord,
    InvalidWorkflow,
    Problems,
    StepForbidden,
    StepRefused,
    is_blank,
)

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
    fail = Problems()
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
    if is_blank(reason):
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
