"""The institutions' refusals and what every check shares: each names the field at fault and the rule
it breaks, and a check reports all its problems at once.
"""

from __future__ import annotations

from collections.abc import Callable

from kernel.errors import DomainError, Forbidden, InvalidState

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


class Problems:
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


def is_blank(text: str) -> bool:
    return not text.strip()


def name_key(text: str) -> str:
    return " ".join(text.split()).casefold()
