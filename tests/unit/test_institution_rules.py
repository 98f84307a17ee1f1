"""An institution's own transfer process (issue 19), its pure rules: the disclosure, the workflow and
its history, the records of evaluation, expert review and decision, the notice period, and the
distribution of income to the inventors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from exchange.institutions.domain import (
    BP,
    DEFAULT_WORKFLOW,
    OPTIONAL_STEPS,
    REQUIRED_STEPS,
    SHANGHAI_INVENTOR_SHARE_BP,
    Decision,
    DecisionMaker,
    DisclosedInventor,
    Disclosure,
    DistributionPlan,
    Evaluation,
    EvaluationKind,
    ExpertOpinion,
    FundingKind,
    FundingSource,
    InstitutionPart,
    InstitutionRules,
    InvalidDisclosure,
    InvalidDistribution,
    InvalidInstitutionRules,
    InvalidStepRecord,
    InvalidWorkflow,
    Outcome,
    PayeeKind,
    PeriodUnit,
    Process,
    ProcessStatus,
    Role,
    Step,
    StepForbidden,
    StepRefused,
    Tally,
    Vote,
    check_decision,
    check_decision_open,
    check_disclosure,
    check_evaluation,
    check_expert_review,
    check_institution_rules,
    check_plan,
    complete,
    configure_workflow,
    distribute,
    inventors_minimum,
    may_act,
    needs_extra_approval,
    next_step,
    notice_closes_at,
    require_expert_approval,
    return_to,
    stop,
)
from kernel.errors import DomainError, Forbidden, InvalidState
from kernel.shares import largest_remainder
from listings.domain import NoticePeriod, PricingMode
from listings.errors import CalendarYearMissing
from listings.workdays import BEIJING
from tests.calendar_helpers import PACKAGE, WITH_2027

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
INVENTORS = (
    DisclosedInventor("张三", "材料学院", 5000),
    DisclosedInventor("李四", "材料学院", 3000),
    DisclosedInventor("王五", "物理系", 2000),
)


def fields(refusal: pytest.ExceptionInfo[DomainError]) -> list[str]:
    return [error["field"] for error in refusal.value.errors or []]


# --- the largest-remainder split (kernel) ----------------------------------------------------


def test_largest_remainder_gives_the_left_over_fen_to_the_largest_remainders_ties_to_the_first():
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]  # a tie: the first listed
    assert largest_remainder(10, [2, 5, 3]) == [2, 5, 3]
    assert largest_remainder(7, [1, 2]) == [2, 5]  # 2.33 and 4.67: the larger remainder gets the fen
    assert largest_remainder(5, [0, 1, 1]) == [0, 3, 2]  # weight 0: nothing
    assert largest_remainder(0, [3, 7]) == [0, 0]
    for total, weights in ((-1, [1]), (1, []), (1, [0, 0]), (1, [2, -1])):
        with pytest.raises(ValueError):
            largest_remainder(total, weights)


@given(st.integers(0, 10**15), st.lists(st.integers(0, 10**6), min_size=1, max_size=30).filter(any))
def test_largest_remainder_is_exact_and_within_a_fen(total, weights):
    parts = largest_remainder(total, weights)
    assert sum(parts) == total and min(parts) >= 0
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - Fraction(total * weight, sum(weights))) < 1


# --- the disclosure --------------------------------------------------------------------------


def test_a_complete_disclosure_passes():
    check_disclosure(
        Disclosure(
            INVENTORS,
            (
                FundingSource(FundingKind.GOVERNMENT, "国家自然科学基金", "52071234"),
                FundingSource(FundingKind.OTHER, "企业横向"),
            ),
        )
    )


@pytest.mark.parametrize(
    ("inventors", "funding", "field"),
    [
        ((), (), "inventors"),
        ((DisclosedInventor("张三", "材料学院", 9000),), (), "inventors"),  # 90%, not 100%
        ((*INVENTORS[:2], DisclosedInventor("王五", "物理系", 0)), (), "inventors.2.share_bp"),
        ((*INVENTORS[:2], DisclosedInventor("王五", "物理系", -2000)), (), "inventors.2.share_bp"),
        ((DisclosedInventor("  ", "材料学院", BP),), (), "inventors.0.name"),
        ((DisclosedInventor("张三", "", BP),), (), "inventors.0.affiliation"),
        (
            (DisclosedInventor("张三", "材料学院", 5000), DisclosedInventor(" 张三 ", "材料学院", 5000)),
            (),
            "inventors.1.name",
        ),
        (INVENTORS, (FundingSource(FundingKind.GOVERNMENT, "科技部", " "),), "funding.0.project_number"),
        (INVENTORS, (FundingSource(FundingKind.OTHER, ""),), "funding.0.funder"),
    ],
)
def test_a_disclosure_is_refused_naming_the_field(inventors, funding, field):
    with pytest.raises(InvalidDisclosure) as refused:
        check_disclosure(Disclosure(inventors, funding))
    assert field in fields(refused)
    assert refused.value.status == 422 and refused.value.problem_type == "invalid-disclosure"


def test_every_problem_of_a_disclosure_is_named_at_once():
    inventors = (DisclosedInventor("张三", "", 6000), DisclosedInventor("李四", "物理系", 0))
    with pytest.raises(InvalidDisclosure) as refused:
        check_disclosure(Disclosure(inventors, (FundingSource(FundingKind.GOVERNMENT, "科技部"),)))
    assert fields(refused) == [
        "inventors.0.affiliation",
        "inventors.1.share_bp",
        "inventors",
        "funding.0.project_number",
    ]


# --- the workflow's configuration ------------------------------------------------------------


def test_the_default_workflow_is_the_seven_steps_with_their_roles():
    assert DEFAULT_WORKFLOW.order == (
        Step.INITIATE,
        Step.FIRST_REVIEW,
        Step.EVALUATION,
        Step.EXPERT_REVIEW,
        Step.DECISION,
        Step.NOTICE,
        Step.IMPLEMENTATION,
    )
    assert may_act(Step.INITIATE, Role.INVENTOR) and may_act(Step.INITIATE, Role.OFFICE)
    assert may_act(Step.EVALUATION, Role.EVALUATOR) and may_act(Step.EVALUATION, Role.OFFICE)
    assert may_act(Step.EXPERT_REVIEW, Role.EXPERT_PANEL) and not may_act(Step.EXPERT_REVIEW, Role.OFFICE)
    assert may_act(Step.DECISION, Role.DECISION_BODY) and not may_act(Step.DECISION, Role.OFFICE)
    assert may_act(Step.NOTICE, Role.OFFICE) and may_act(Step.IMPLEMENTATION, Role.OFFICE)
    assert not may_act(Step.FIRST_REVIEW, Role.INVENTOR)


def test_an_institution_drops_or_reorders_optional_steps_and_names_its_roles():
    workflow = configure_workflow(
        [
            Step.INITIATE,
            (Step.EXPERT_REVIEW, [Role.EXPERT_PANEL]),
            Step.EVALUATION,
            (Step.DECISION, [Role.DECISION_BODY, Role.OFFICE]),
            Step.NOTICE,
            Step.IMPLEMENTATION,
        ]
    )
    assert Step.FIRST_REVIEW not in workflow.order
    assert may_act(Step.DECISION, Role.OFFICE, workflow) and not may_act(Step.FIRST_REVIEW, Role.OFFICE, workflow)


@pytest.mark.parametrize("removed", REQUIRED_STEPS)
def test_a_required_step_cannot_be_removed(removed):
    with pytest.raises(InvalidWorkflow) as refused:
        configure_workflow([step for step in Step if step is not removed])
    assert "steps" in fields(refused)
    assert "cannot be removed" in str(refused.value)


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([Step.EVALUATION, Step.INITIATE, Step.DECISION, Step.NOTICE, Step.IMPLEMENTATION], "steps.1"),
        ([Step.INITIATE, Step.DECISION, Step.EVALUATION, Step.NOTICE, Step.IMPLEMENTATION], "steps"),
        ([Step.INITIATE, Step.NOTICE, Step.DECISION, Step.IMPLEMENTATION], "steps"),
        ([Step.INITIATE, Step.EVALUATION, Step.EVALUATION, *REQUIRED_STEPS[1:]], "steps.2"),
        ([Step.INITIATE, (Step.EVALUATION, []), *REQUIRED_STEPS[1:]], "steps.1.roles"),
        ([Step.INITIATE, (Step.DECISION, [Role.INVENTOR]), Step.NOTICE, Step.IMPLEMENTATION], "steps.1.roles"),
    ],
)
def test_a_workflow_is_refused_naming_the_step(steps, field):
    with pytest.raises(InvalidWorkflow) as refused:
        configure_workflow(steps)
    assert field in fields(refused)


def test_optional_steps_are_the_reviews_before_the_decision():
    assert set(OPTIONAL_STEPS) | set(REQUIRED_STEPS) == set(Step)
    configure_workflow(list(REQUIRED_STEPS))  # the shortest workflow an institution may run


# --- the process: a state machine driven by its history --------------------------------------

ACTING = {
    Step.INITIATE: Role.INVENTOR,
    Step.FIRST_REVIEW: Role.OFFICE,
    Step.EVALUATION: Role.EVALUATOR,
    Step.EXPERT_REVIEW: Role.EXPERT_PANEL,
    Step.DECISION: Role.DECISION_BODY,
    Step.NOTICE: Role.OFFICE,
    Step.IMPLEMENTATION: Role.OFFICE,
}


def run(process: Process, until: Step | None = None) -> Process:
    """Complete the open steps, each by its usual role, up to (not including) ``until``."""
    minute = len(process.history)
    while (step := next_step(process)) is not None and step is not until:
        minute += 1
        process = complete(
            process, step, role=ACTING[step], actor=f"{step.value}-user", at=T0 + timedelta(minutes=minute)
        )
    return process


def test_the_seven_steps_in_order_finish_the_process():
    process = run(Process())
    assert next_step(process) is None and process.position().status is ProcessStatus.FINISHED
    assert [record.step for record in process.history] == list(DEFAULT_WORKFLOW.order)
    assert all(record.outcome is Outcome.COMPLETED and record.pass_no == 1 for record in process.history)


def test_a_step_out_of_order_is_409_naming_the_rule():
    process = run(Process(), until=Step.EVALUATION)
    with pytest.raises(StepRefused) as skipped:
        complete(process, Step.DECISION, role=Role.DECISION_BODY, actor="d", at=T0)
    assert skipped.value.status == 409 and skipped.value.problem_type == "invalid-state"
    assert skipped.value.extra == {"state": "evaluation", "rule": "steps-in-order"}
    with pytest.raises(StepRefused) as again:
        complete(process, Step.FIRST_REVIEW, role=Role.OFFICE, actor="o", at=T0)  # done already in this pass
    assert again.value.rule == "steps-in-order"


def test_a_step_by_the_wrong_role_is_forbidden():
    process = run(Process(), until=Step.DECISION)
    with pytest.raises(StepForbidden) as refused:
        complete(process, Step.DECISION, role=Role.OFFICE, actor="o", at=T0)
    assert isinstance(refused.value, Forbidden) and refused.value.status == 403
    assert refused.value.extra == {"step": "decision", "role": "office"}
    assert next_step(process) is Step.DECISION  # nothing changed


def test_a_step_the_institution_does_not_run_is_refused():
    process = Process(configure_workflow(list(REQUIRED_STEPS)))
    process = run(process, until=Step.DECISION)
    with pytest.raises(StepRefused) as refused:
        complete(process, Step.EVALUATION, role=Role.EVALUATOR, actor="e", at=T0)
    assert refused.value.rule == "configured-steps-only"


def test_a_return_opens_a_new_pass_and_keeps_the_history():
    process = run(Process(), until=Step.NOTICE)
    before = process.history
    process = return_to(
        process, Step.EVALUATION, role=Role.OFFICE, actor="o", at=T0, reason="objection upheld: stale report"
    )
    assert process.history[: len(before)] == before  # nothing changed or removed
    returned = process.history[-1]
    assert (returned.step, returned.outcome, returned.returned_to) == (Step.NOTICE, Outcome.RETURNED, Step.EVALUATION)
    assert next_step(process) is Step.EVALUATION and process.position().pass_no == 2
    process = run(process)
    assert process.position().status is ProcessStatus.FINISHED
    assert [(r.step, r.pass_no) for r in process.history if r.step is Step.EVALUATION] == [
        (Step.EVALUATION, 1),
        (Step.EVALUATION, 2),
    ]
    assert process.position().passes[Step.FIRST_REVIEW] == 1 and process.position().passes[Step.DECISION] == 2


def test_a_return_goes_only_back_with_a_reason_by_the_step_s_role_or_the_office():
    process = run(Process(), until=Step.EXPERT_REVIEW)
    for target in (Step.EXPERT_REVIEW, Step.DECISION):
        with pytest.raises(StepRefused) as refused:
            return_to(process, target, role=Role.OFFICE, actor="o", at=T0, reason="x")
        assert refused.value.rule == "return-to-earlier-step"
    with pytest.raises(InvalidStepRecord) as no_reason:
        return_to(process, Step.EVALUATION, role=Role.EXPERT_PANEL, actor="e", at=T0, reason=" ")
    assert fields(no_reason) == ["reason"]
    with pytest.raises(StepForbidden):
        return_to(process, Step.EVALUATION, role=Role.DECISION_BODY, actor="d", at=T0, reason="x")
    back = return_to(process, Step.EVALUATION, role=Role.EXPERT_PANEL, actor="e", at=T0, reason="value unclear")
    assert next_step(back) is Step.EVALUATION


def test_a_stop_ends_the_process_and_nothing_follows():
    process = run(Process(), until=Step.DECISION)
    with pytest.raises(StepForbidden):
        stop(process, role=Role.EVALUATOR, actor="e", at=T0, reason="no")
    stopped = stop(process, role=Role.DECISION_BODY, actor="d", at=T0, reason="not approved")
    assert next_step(stopped) is None and stopped.position().status is ProcessStatus.STOPPED
    with pytest.raises(StepRefused) as refused:
        complete(stopped, Step.DECISION, role=Role.DECISION_BODY, actor="d", at=T0)
    assert refused.value.rule == "process-ended" and refused.value.state == "stopped"
    with pytest.raises(StepRefused):
        return_to(stopped, Step.INITIATE, role=Role.OFFICE, actor="o", at=T0, reason="x")
    # The decision body stops only at the decision; the office at any step.
    early = run(Process(), until=Step.EVALUATION)
    with pytest.raises(StepForbidden):
        stop(early, role=Role.DECISION_BODY, actor="d", at=T0, reason="no")
    assert (
        stop(early, role=Role.OFFICE, actor="o", at=T0, reason="withdrawn").position().status is ProcessStatus.STOPPED
    )


def test_a_finished_process_takes_no_more_steps():
    process = run(Process())
    with pytest.raises(StepRefused) as refused:
        complete(process, Step.IMPLEMENTATION, role=Role.OFFICE, actor="o", at=T0)
    assert refused.value.rule == "process-ended" and refused.value.state == "finished"


def test_the_decision_record_is_frozen_once_its_notice_opens():
    process = run(Process(), until=Step.DECISION)
    check_decision_open(process)  # the decision is open: its record may still change
    noticed = run(process, until=Step.NOTICE)
    assert next_step(noticed) is Step.NOTICE
    for later in (noticed, run(noticed)):
        with pytest.raises(StepRefused) as frozen:
            check_decision_open(later)
        assert frozen.value.rule == "decision-frozen" and frozen.value.status == 409
    # A correction returns to the decision: a new pass, with a record of its own.
    corrected = return_to(noticed, Step.DECISION, role=Role.OFFICE, actor="o", at=T0, reason="floor price mistyped")
    check_decision_open(corrected)
    assert corrected.position().pass_no == 2
    with pytest.raises(StepRefused) as early:
        check_decision_open(run(Process(), until=Step.EVALUATION))
    assert early.value.rule == "steps-in-order"


WORKFLOWS = [DEFAULT_WORKFLOW, configure_workflow(list(REQUIRED_STEPS))]


@given(st.data(), st.sampled_from(WORKFLOWS))
def test_no_sequence_of_actions_completes_a_step_out_of_order(data, workflow):
    """Random actions, half of them aimed at the open step by one of its roles (so that processes
    get somewhere): every accepted one adds one record at the open step, and a completion is always
    of the open step by a role the workflow gives it."""
    process = Process(workflow)
    for i in range(data.draw(st.integers(0, 60), label="moves")):
        before = process
        open_step = next_step(process)
        kind = data.draw(st.sampled_from(["complete", "complete", "return", "stop"]), label="kind")
        aimed = open_step is not None and data.draw(st.booleans(), label="aimed")
        step = open_step if aimed else data.draw(st.sampled_from(list(Step)), label="step")
        if aimed and kind == "complete":
            role = data.draw(st.sampled_from(sorted(workflow.roles(open_step))), label="role")
        else:
            role = data.draw(st.sampled_from(list(Role)), label="role")
        try:
            if kind == "complete":
                process = complete(process, step, role=role, actor="x", at=T0 + timedelta(minutes=i))
            elif kind == "return":
                process = return_to(process, step, role=role, actor="x", at=T0, reason="r")
            else:
                process = stop(process, role=role, actor="x", at=T0, reason="r")
        except (InvalidState, Forbidden):
            assert process is before  # a refusal changes nothing
            continue
        assert process.history[:-1] == before.history  # one record added, none changed
        record = process.history[-1]
        assert record.step is open_step
        if kind == "complete":
            assert step is open_step and workflow.may_act(step, role)
        if kind == "return":
            assert workflow.order.index(step) < workflow.order.index(open_step)
    event(f"the process ended {process.position().status.value}")
    # Replayed, the history completes steps only in the configured order, from wherever it stood.
    index = 0
    for record in process.history:
        assert workflow.order[index] is record.step
        if record.outcome is Outcome.COMPLETED:
            index += 1
        elif record.outcome is Outcome.RETURNED:
            index = workflow.order.index(record.returned_to)
        else:
            break


# --- step records ----------------------------------------------------------------------------

EXTERNAL = Evaluation(
    EvaluationKind.EXTERNAL, 50_000_000, "上海某资产评估有限公司", "沪评报字(2026)第012号", date(2026, 2, 1)
)


def test_evaluations_internal_and_external():
    check_evaluation(EXTERNAL, today=TODAY)
    check_evaluation(Evaluation(EvaluationKind.INTERNAL, 1, "技术转移中心", report_date=TODAY), today=TODAY)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"appraised_value": 0}, "appraised_value"),
        ({"appraiser": " "}, "appraiser"),
        ({"report_number": ""}, "report_number"),
        ({"report_date": None}, "report_date"),
        ({"report_date": date(2026, 3, 3)}, "report_date"),
    ],
)
def test_an_evaluation_is_refused_naming_the_field(change, field):
    with pytest.raises(InvalidStepRecord) as refused:
        check_evaluation(replace(EXTERNAL, **change), today=TODAY)
    assert fields(refused) == [field]


PANEL = (
    ExpertOpinion("赵教授", "技术先进，建议转让", Vote.APPROVE, "复旦大学", external=True),
    ExpertOpinion("钱研究员", "市场前景良好", Vote.APPROVE),
    ExpertOpinion("孙工程师", "产业化风险较高", Vote.REJECT),
)


@pytest.mark.parametrize(
    ("votes", "passed"),
    [
        ((Vote.APPROVE, Vote.APPROVE, Vote.REJECT), True),
        ((Vote.APPROVE, Vote.ABSTAIN, Vote.ABSTAIN), False),  # an abstention does not approve
        ((Vote.APPROVE, Vote.APPROVE, Vote.ABSTAIN, Vote.REJECT), False),  # 2 of 4 is not more than half
        ((Vote.APPROVE, Vote.APPROVE, Vote.APPROVE, Vote.REJECT), True),
    ],
)
def test_the_panel_passes_with_more_than_half_of_the_ballots(votes, passed):
    experts = [ExpertOpinion(f"专家{i}", "意见", vote) for i, vote in enumerate(votes)]
    tally = check_expert_review(experts)
    assert tally.passed is passed
    if passed:
        require_expert_approval(tally)
    else:
        with pytest.raises(InvalidStepRecord) as refused:
            require_expert_approval(tally)
        assert fields(refused) == ["experts"]


def test_tally_counts_every_ballot():
    assert check_expert_review(PANEL, inventors=INVENTORS) == Tally(2, 1, 0)


@pytest.mark.parametrize(
    ("experts", "field"),
    [
        (PANEL[:2], "experts"),
        ((*PANEL[:2], ExpertOpinion("孙工程师", "  ", Vote.REJECT)), "experts.2.opinion"),
        ((*PANEL[:2], ExpertOpinion("", "意见", Vote.REJECT)), "experts.2.name"),
        ((*PANEL[:2], ExpertOpinion("钱研究员", "意见", Vote.REJECT)), "experts.2.name"),
        ((*PANEL[:2], ExpertOpinion("张三", "意见", Vote.APPROVE)), "experts.2.name"),  # an inventor
    ],
)
def test_an_expert_review_is_refused_naming_the_field(experts, field):
    with pytest.raises(InvalidStepRecord) as refused:
        check_expert_review(experts, inventors=INVENTORS)
    assert field in fields(refused)


YES, NO, ABSTAIN = Vote.APPROVE, Vote.REJECT, Vote.ABSTAIN
BOARD = (DecisionMaker("周书记", vote=YES), DecisionMaker("吴校长", vote=YES), DecisionMaker("郑处长", vote=YES))


def board(*votes: Vote | None, recused: int | None = None) -> tuple[DecisionMaker, ...]:
    """A board voting ``votes`` in order; member ``recused`` recuses (and casts no vote)."""
    names = ["周书记", "吴校长", "郑处长", "冯院长"]
    return tuple(DecisionMaker(names[i], recused=i == recused, vote=v) for i, v in enumerate(votes))


AUCTION = Decision(True, "校转化领导小组纪要〔2026〕3号", BOARD, PricingMode.AUCTION, floor_price=50_000_000)
NEGOTIATED = Decision(
    True, "纪要〔2026〕4号", BOARD, PricingMode.NEGOTIATED, 50_000_000, counterparty="上海某科技有限公司"
)


def check(decision: Decision, *, public: bool = True, appraised: int | None = 50_000_000) -> None:
    check_decision(decision, public_institution=public, appraised_value=appraised, inventors=INVENTORS)


def test_decisions_that_pass():
    check(AUCTION)
    check(NEGOTIATED)
    check(replace(AUCTION, floor_price=40_000_000), public=False)  # only public institutions keep to the appraisal
    check(replace(AUCTION, floor_price=40_000_000), appraised=None)  # no appraisal of record
    check(Decision(False, "纪要〔2026〕5号", BOARD))  # not approved: no pricing needed
    related = replace(
        NEGOTIATED,
        decision_makers=(DecisionMaker("周书记", related_to_counterparty=True, recused=True), *BOARD[1:]),
        related_inventors=("李四",),
        related_party_declaration="李四持有上海某科技有限公司5%股份；周书记为其董事，已回避",
    )
    check(related)


@pytest.mark.parametrize(
    ("makers", "passes"),
    [
        (board(YES, YES, NO), True),  # 2 of 3
        (board(YES, NO, ABSTAIN), False),  # an abstention weighs as not approving
        (board(YES, YES, NO, ABSTAIN), False),  # 2 of 4 is not more than half
        (board(YES, YES, None, NO, recused=2), True),  # the recused member is no ballot: 2 of 3
        (board(YES, None, recused=1), True),  # 1 of 1
    ],
)
def test_an_approval_needs_more_than_half_of_the_members_who_do_not_recuse(makers, passes):
    decision = replace(AUCTION, decision_makers=makers)
    if passes:
        assert check_decision(decision, public_institution=True, appraised_value=None, inventors=INVENTORS).passed
        return
    with pytest.raises(InvalidStepRecord) as refused:
        check(decision)
    assert fields(refused) == ["decision_makers"] and "did not approve" in refused.value.detail


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        (replace(AUCTION, floor_price=49_999_999), "floor_price"),  # below the appraised value
        (replace(AUCTION, floor_price=0), "floor_price"),
        (replace(AUCTION, floor_price=None), "floor_price"),
        (replace(AUCTION, pricing=None), "pricing"),
        (replace(AUCTION, minutes=""), "minutes"),
        (replace(AUCTION, decision_makers=()), "decision_makers"),
        (replace(AUCTION, decision_makers=(*BOARD, DecisionMaker("吴校长", vote=YES))), "decision_makers.3.name"),
        (replace(AUCTION, decision_makers=board(YES, YES, None)), "decision_makers.2.vote"),  # a member votes
        (replace(AUCTION, decision_makers=board(YES, YES, NO, recused=2)), "decision_makers.2.vote"),  # recused: none
        (replace(AUCTION, counterparty="上海某科技有限公司"), "counterparty"),
        (replace(NEGOTIATED, counterparty=" "), "counterparty"),
        (replace(NEGOTIATED, related_inventors=("李四",)), "related_party_declaration"),
        (
            replace(NEGOTIATED, related_inventors=("钱七",), related_party_declaration="declared"),
            "related_inventors.0",
        ),
        (
            replace(
                NEGOTIATED,
                decision_makers=(DecisionMaker("周书记", related_to_counterparty=True), *BOARD[1:]),
                related_party_declaration="周书记为其董事",
            ),
            "decision_makers.0.recused",
        ),
        (
            replace(
                NEGOTIATED,
                decision_makers=(DecisionMaker("周书记", related_to_counterparty=True, recused=True),),
                related_party_declaration="周书记为其董事",
            ),
            "decision_makers",
        ),
        (replace(AUCTION, related_inventors=("李四",), related_party_declaration="declared"), "counterparty"),
    ],
)
def test_a_decision_is_refused_naming_the_field(decision, field):
    with pytest.raises(InvalidStepRecord) as refused:
        check(decision)
    assert field in fields(refused)
    assert refused.value.status == 422


# --- the notice period -----------------------------------------------------------------------


def test_the_default_notice_runs_fifteen_calendar_days():
    opens = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)  # Wednesday 09:00 Beijing, the eve of National Day
    assert InstitutionRules().notice_days == 15 and InstitutionRules().notice_unit is PeriodUnit.CALENDAR_DAYS
    closes = notice_closes_at(opens, 15, PeriodUnit.CALENDAR_DAYS, PACKAGE)
    assert closes.astimezone(BEIJING) == datetime(2026, 10, 16, tzinfo=BEIJING)  # to 24:00 on 15 October


def test_a_working_day_notice_skips_the_holidays_and_counts_the_make_up_saturday():
    opens = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)
    closes = notice_closes_at(opens, 15, PeriodUnit.WORKING_DAYS, PACKAGE)
    # 8, 9, 10 (a make-up Saturday) October, then 12–16, 19–23, 26, 27: to 24:00 on Tuesday 27 October.
    assert closes.astimezone(BEIJING) == datetime(2026, 10, 28, tzinfo=BEIJING)
    # Counted exactly as the exchange's own notices are.
    assert closes == NoticePeriod(15, working_days=True).end(opens, PACKAGE)


def test_a_working_day_notice_into_a_year_without_calendar_data_is_refused():
    opens = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
    with pytest.raises(CalendarYearMissing) as refused:
        notice_closes_at(opens, 15, PeriodUnit.WORKING_DAYS, PACKAGE)
    assert refused.value.status == 409 and refused.value.year == 2027
    assert notice_closes_at(opens, 15, PeriodUnit.WORKING_DAYS, WITH_2027).year == 2027
    with pytest.raises(InvalidInstitutionRules) as empty:
        notice_closes_at(opens, 0, PeriodUnit.CALENDAR_DAYS, PACKAGE)
    assert fields(empty) == ["notice_days"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"notice_days": 14}, "notice_days"),
        ({"plan_notice_days": 0}, "plan_notice_days"),
        ({"inventor_share_bp": 6999}, "inventor_share_bp"),
        ({"inventor_share_bp": BP + 1}, "inventor_share_bp"),
        ({"extra_approval_threshold_fen": 0}, "extra_approval_threshold_fen"),
    ],
)
def test_institution_settings_are_refused_naming_the_setting(change, field):
    check_institution_rules(InstitutionRules(), public_minimum_bp=SHANGHAI_INVENTOR_SHARE_BP)
    # Only public ones keep to the least share.
    check_institution_rules(InstitutionRules(public=False, inventor_share_bp=5000), public_minimum_bp=7000)
    # The least share is the exchange's (TECHX_INVENTOR_REWARD_BP): raised, a 70% declaration is refused.
    with pytest.raises(InvalidInstitutionRules):
        check_institution_rules(InstitutionRules(inventor_share_bp=7000), public_minimum_bp=8000)
    with pytest.raises(InvalidInstitutionRules) as refused:
        check_institution_rules(replace(InstitutionRules(), **change), public_minimum_bp=SHANGHAI_INVENTOR_SHARE_BP)
    assert fields(refused) == [field]


# --- income distribution ---------------------------------------------------------------------

PARTS = (InstitutionPart("学校", 6), InstitutionPart("材料学院", 4))


def test_the_worked_example_of_the_documentation():
    """¥1,000,000.01 at 70%: the inventors' ¥700,000.007 is rounded up to ¥700,000.01, in their
    favour. Split 50:30:20 that is ¥350,000.005, ¥210,000.003 and ¥140,000.002: the fen left over
    goes to the largest remainder (张三's). The institution's ¥300,000.00 splits 6:4."""
    plan = distribute(100_000_001, INVENTORS, 7000, PARTS)
    assert plan.inventors_total == 70_000_001
    assert [p.amount for p in plan.inventors] == [35_000_001, 21_000_000, 14_000_000]
    assert [p.amount for p in plan.institution] == [18_000_000, 12_000_000]
    assert sum(p.amount for p in plan.payouts) == 100_000_001
    assert [p.kind for p in plan.payouts] == [PayeeKind.INVENTOR] * 3 + [PayeeKind.INSTITUTION] * 2
    assert [p.name for p in needs_extra_approval(plan)] == ["张三"]  # ¥350,000.01 > ¥300,000


def test_extra_approval_is_per_person_above_the_threshold():
    plan = distribute(60_000_000, (DisclosedInventor("张三", "材料学院", BP),), 5000, minimum_bp=5000)
    assert plan.inventors[0].amount == 30_000_000
    assert needs_extra_approval(plan) == ()  # ¥300,000 exactly is not above
    assert needs_extra_approval(plan, threshold_fen=29_999_999) == plan.inventors


def test_a_receipt_of_nothing_distributes_nothing():
    plan = distribute(0, INVENTORS, 7000, PARTS)
    assert all(p.amount == 0 for p in plan.payouts)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"amount_fen": -1}, "amount"),
        ({"inventor_share_bp": 6999}, "inventor_share_bp"),  # below the declared minimum
        ({"inventor_share_bp": BP + 1}, "inventor_share_bp"),
        ({"inventors": INVENTORS[:2]}, "inventors"),  # shares add to 80%
        ({"inventors": (*INVENTORS[:2], replace(INVENTORS[2], share_bp=0))}, "inventors.2.share_bp"),
        ({"institution_parts": ()}, "institution_parts"),
        ({"institution_parts": (InstitutionPart("学校", 0),)}, "institution_parts.0.weight"),
        ({"institution_parts": (*PARTS, InstitutionPart("学校", 1))}, "institution_parts.2.name"),
    ],
)
def test_a_distribution_is_refused_naming_the_field(arguments, field):
    given_arguments = {
        "amount_fen": 100_000,
        "inventors": INVENTORS,
        "inventor_share_bp": 7000,
        "institution_parts": PARTS,
    }
    with pytest.raises(InvalidDistribution) as refused:
        distribute(**(given_arguments | arguments))
    assert field in fields(refused)


def test_a_plan_below_the_declared_share_is_refused():
    plan = distribute(100_000, INVENTORS, 8000, PARTS)
    check_plan(plan, declared_bp=8000)
    moved = DistributionPlan(
        plan.amount,
        plan.inventor_share_bp,
        (replace(plan.inventors[0], amount=plan.inventors[0].amount - 1), *plan.inventors[1:]),
        (replace(plan.institution[0], amount=plan.institution[0].amount + 1), *plan.institution[1:]),
    )
    with pytest.raises(InvalidDistribution) as refused:
        check_plan(moved, declared_bp=8000)
    assert fields(refused) == ["inventors"]
    check_plan(moved, declared_bp=7000)  # still above a lower declaration
    unbalanced = replace(plan, institution=(replace(plan.institution[0], amount=-1), *plan.institution[1:]))
    with pytest.raises(InvalidDistribution) as wrong:
        check_plan(unbalanced, declared_bp=7000)
    assert fields(wrong) == ["payouts.3.amount", "payouts"]


@st.composite
def shares(draw: st.DrawFn) -> tuple[DisclosedInventor, ...]:
    """Any number of inventors with contribution shares > 0 adding up to 10,000 bp."""
    count = draw(st.integers(1, 12))
    cuts = sorted(draw(st.lists(st.integers(1, BP - 1), min_size=count - 1, max_size=count - 1, unique=True)))
    bounds = [0, *cuts, BP]
    return tuple(DisclosedInventor(f"发明人{i}", "学院", bounds[i + 1] - bounds[i]) for i in range(count))


parts = st.lists(st.integers(1, 10_000), min_size=1, max_size=5).map(
    lambda weights: tuple(InstitutionPart(f"部门{i}", w) for i, w in enumerate(weights))
)


@given(st.integers(0, 10**13), shares(), st.integers(7000, BP), parts)
def test_any_distribution_is_exact_never_negative_and_keeps_the_inventors_share(amount, inventors, share_bp, parts):
    plan = distribute(amount, inventors, share_bp, parts)
    assert sum(p.amount for p in plan.payouts) == amount
    assert min(p.amount for p in plan.payouts) >= 0
    exact_total = Fraction(amount * share_bp, BP)
    assert exact_total <= plan.inventors_total < exact_total + 1  # rounded up to the fen, in their favour
    assert plan.inventors_total == inventors_minimum(amount, share_bp)
    for payout, inventor in zip(plan.inventors, inventors, strict=True):
        assert abs(payout.amount - Fraction(plan.inventors_total * inventor.share_bp, BP)) < 1
        assert payout.amount >= exact_total * inventor.share_bp // BP  # at least the fen below their exact share
    check_plan(plan, declared_bp=share_bp)


@given(st.integers(0, 10**9), shares())
def test_equal_shares_tie_in_the_order_given(amount, inventors):
    plan = distribute(amount, inventors, BP, (InstitutionPart("学校", 1),))
    assert plan.institution[0].amount == 0
    amounts = [p.amount for p in plan.inventors]
    for i in range(len(inventors)):
        for j in range(i + 1, len(inventors)):
            if inventors[i].share_bp == inventors[j].share_bp:
                assert amounts[i] >= amounts[j]  # the first listed gets the left-over fen
