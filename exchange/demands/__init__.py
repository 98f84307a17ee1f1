"""Technical demands (issue 20): an enterprise's demand (需求挂牌) with its confidential part behind
the NDA (SPEC §2.6, as listings), campaigns (需求征集) by operators or government programs with the
organiser's screening, and proposals institutions answer demands with — shortlisted, declined with
feedback, or taken to a negotiation (through trading, or a new listing). See docs/demands.md.

Use-case files: ``service.py`` (demands, visibility, NDA, the incremental read for the matching
index), ``campaigns.py``, ``proposals.py``, ``sweep.py`` (deadlines); rules in ``domain.py``,
tables in ``models.py``. It meets trading only through ``NegotiationOpener`` (``context.py``),
which the composition root wires.
"""

from exchange.demands.context import DemandsContext, NegotiationOpener, OpenedNegotiation
from exchange.demands.matches import DemandSource
from exchange.demands.routes import DEMAND_ROUTES
from exchange.demands.service import org_may_see, visible_to
from exchange.demands.sweep import sweep_steps

__all__ = [
    "DEMAND_ROUTES",
    "DemandSource",
    "DemandsContext",
    "NegotiationOpener",
    "OpenedNegotiation",
    "org_may_see",
    "sweep_steps",
    "visible_to",
]
