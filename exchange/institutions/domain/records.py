"""The records of the steps: the first review, the evaluation, the expert review and the decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from exchange.institutions.domain.disclosure import (
    DisclosedInventor,
)
from exchange.institutions.domain.refusals import (
    MAX_FEN,
    MIN_EXPERTS,
    InvalidStepRecord,
    Problems,
    is_blank,
    name_key,
)
from listings.domain import PricingMode

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
    fail = Problems()
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
    fail = Problems()
    if not 0 < evaluation.appraised_value <= MAX_FEN:
        fail("appraised_value", "an appraised value is a positive amount of fen")
    if is_blank(evaluation.appraiser):
        fail("appraiser", "name who appraised (the firm, or the internal assessor)")
    if evaluation.report_date is None:
        fail("report_date", "date the appraisal")
    elif evaluation.report_date > today:
        fail("report_date", f"the appraisal is dated after today ({today.isoformat()})")
    if evaluation.kind is EvaluationKind.EXTERNAL and is_blank(evaluation.report_number):
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

    @classmethod
    def of(cls, votes: Sequence[Vote]) -> Tally:
        return cls(votes.count(Vote.APPROVE), votes.count(Vote.REJECT), votes.count(Vote.ABSTAIN))

    def shortfall(self) -> str:
        """Why it did not pass, in the refusals' words."""
        return (
            f"{self.approvals} of {self.ballots} ballots approve, more than half ({self.ballots // 2 + 1}) are needed"
        )


def check_expert_review(experts: Sequence[ExpertOpinion], *, inventors: Sequence[DisclosedInventor] = ()) -> Tally:
    """The panel's tally; 422 ``invalid-step-record`` for a panel of fewer than ``MIN_EXPERTS``, an
    expert unnamed, listed twice or among the inventors, or an opinion without text."""
    fail = Problems()
    if len(experts) < MIN_EXPERTS:
        fail("experts", f"an expert review has at least {MIN_EXPERTS} experts, not {len(experts)}")
    inventor_names = {name_key(inventor.name) for inventor in inventors}
    seen: dict[str, int] = {}
    for i, expert in enumerate(experts):
        key = name_key(expert.name)
        if not key:
            fail(f"experts.{i}.name", "an expert is named")
        elif key in seen:
            fail(f"experts.{i}.name", f"{expert.name} is on the panel twice (also experts.{seen[key]})")
        elif key in inventor_names:
            fail(f"experts.{i}.name", f"{expert.name} is an inventor and does not review the achievement")
        seen.setdefault(key, i)
        if is_blank(expert.opinion):
            fail(f"experts.{i}.opinion", "each expert gives a written opinion")
    fail.raise_as(InvalidStepRecord)
    return Tally.of([expert.vote for expert in experts])


def require_expert_approval(tally: Tally) -> None:
    """422 ``invalid-step-record`` on ``experts`` unless the panel approved (see ``Tally``): an
    expert review that did not pass is not completed; the office returns or stops the process."""
    if not tally.passed:
        raise InvalidStepRecord(f"experts: the panel did not approve: {tally.shortfall()}", field="experts")


@dataclass(frozen=True)
class DecisionMaker:
    """A member of the decision body present at the meeting, with their vote; one who recuses
    (related to the counterparty, or for any other reason) does not vote."""

    name: str
    related_to_counterparty: bool = False
    recused: bool = False
    vote: Vote | None = None


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

    @property
    def tally(self) -> Tally:
        """The ballots of the members who did not recuse, counted as the expert panel's (``Tally``)."""
        return Tally.of([m.vote for m in self.decision_makers if not m.recused and m.vote is not None])


def check_decision(
    decision: Decision,
    *,
    public_institution: bool,
    appraised_value: int | None,
    inventors: Sequence[DisclosedInventor],
) -> Tally:
    """The decision body's tally; 422 ``invalid-step-record`` naming every field at fault:

    - the minutes are cited, at least one decision-maker, each named once;
    - each decision-maker who does not recuse votes (approve, reject or abstain), one who recuses
      does not; an approval needs more than half of those ballots approving (the expert panel's
      rule, ``Tally``: an abstention weighs as not approving);
    - an approval names its pricing mode and a floor price (> 0); a public institution's floor is
      at least the appraised value of record (when the process has one — an appraisal is not
      mandatory for a transfer); a negotiated price names its counterparty; a listing or auction
      names none (its counterparty is found at the exchange);
    - related parties: an inventor named as related is a disclosed inventor, and related parties
      exist only towards a named counterparty; if any inventor or decision-maker is related, the
      record carries the declaration, every related decision-maker recuses (the decision is taken
      by the others), and at least one decision-maker is left.
    """
    fail = Problems()
    if is_blank(decision.minutes):
        fail("minutes", "a decision cites its meeting minutes")
    makers = decision.decision_makers
    if not makers:
        fail("decision_makers", "name the decision-makers present")
    seen: dict[str, int] = {}
    for i, maker in enumerate(makers):
        key = name_key(maker.name)
        if not key:
            fail(f"decision_makers.{i}.name", "a decision-maker is named")
        elif key in seen:
            fail(f"decision_makers.{i}.name", f"{maker.name} is listed twice (also decision_makers.{seen[key]})")
        seen.setdefault(key, i)
        if maker.related_to_counterparty and not maker.recused:
            fail(f"decision_makers.{i}.recused", f"{maker.name} is related to the counterparty and recuses")
        if maker.recused and maker.vote is not None:
            fail(f"decision_makers.{i}.vote", f"{maker.name} recuses and does not vote")
        elif not maker.recused and maker.vote is None:
            fail(f"decision_makers.{i}.vote", f"{maker.name} votes: approve, reject or abstain")
    if makers and all(maker.recused for maker in makers):
        fail("decision_makers", "no decision-maker is left once the related ones recuse")
    tally = decision.tally
    every_vote_cast = all(maker.recused or maker.vote is not None for maker in makers)
    if decision.approved and every_vote_cast and tally.ballots and not tally.passed:
        fail("decision_makers", f"the decision body did not approve: {tally.shortfall()}")
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
        if decision.pricing is PricingMode.NEGOTIATED and is_blank(decision.counterparty):
            fail("counterparty", "a negotiated price names its counterparty")
        if decision.pricing in (PricingMode.LISTED, PricingMode.AUCTION) and not is_blank(decision.counterparty):
            fail("counterparty", "a listing or auction finds its counterparty at the exchange; name none")
    disclosed = {name_key(inventor.name) for inventor in inventors}
    for j, name in enumerate(decision.related_inventors):
        if name_key(name) not in disclosed:
            fail(f"related_inventors.{j}", f"{name} is not a disclosed inventor")
    if decision.related:
        if is_blank(decision.counterparty):
            fail("counterparty", "related parties are declared towards a named counterparty")
        if is_blank(decision.related_party_declaration):
            fail(
                "related_party_declaration", "an inventor or decision-maker is related to the counterparty: declare it"
            )
    fail.raise_as(InvalidStepRecord)
    return tally
