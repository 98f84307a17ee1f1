"""The credit evaluation of service institutions (服务与信用评价, docs/credit.md): clients' ratings of
providers after each finished service order and brokered deal, complaints decided by operators,
a published credit score with grades A–D recomputed on every change, and demonstration
institutions (示范机构). Pure rules in ``domain.py``, use cases in ``service.py``.

It sits below the domain modules (beside matching): vouchers and brokers import it, it imports
neither, and reads their engagements through ``Engagements``, which the composition root wires
with their adapters (``CreditContext``).

What other modules use: ``CreditContext``, ``Engagements``, ``EngagementFacts``; ``standings``,
``grade_of_provider``, ``require_grade`` (a voucher program's ``min_provider_grade``),
``recompute`` (after a revocation or a missed delivery), ``grade_counts`` (the white paper).
"""

from exchange.credit.domain import (
    EngagementKind,
    Grade,
    PenaltyFact,
    PenaltyKind,
    ProviderGradeTooLow,
    require_grade,
)
from exchange.credit.service import (
    CreditContext,
    EngagementFacts,
    Engagements,
    Standing,
    engagement_view,
    grade_counts,
    grade_of_provider,
    recompute,
    standings,
)

__all__ = [
    "CreditContext",
    "EngagementFacts",
    "EngagementKind",
    "Engagements",
    "Grade",
    "PenaltyFact",
    "PenaltyKind",
    "ProviderGradeTooLow",
    "Standing",
    "engagement_view",
    "grade_counts",
    "grade_of_provider",
    "recompute",
    "require_grade",
    "standings",
]
