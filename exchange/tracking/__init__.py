"""Tracking after the deal (成果转化跟踪): for each settled deal, a schedule of implementation
reports its buyer files (status, products, revenue band, jobs, further IP), reminders before each
is due and a notice when one is overdue, what the seller and the operators see, and the outcomes
for the institutions' annual reports and the annual white paper (``year_outcomes``). See
docs/tracking.md.

Use cases in ``service.py``, rules in ``domain.py``, the sweeper's steps in ``sweep.py``. It meets
trading only through ``SettledDeals`` (``context.py``), which the composition root wires.
"""

from exchange.tracking.context import SettledDeal, SettledDeals, TrackingContext
from exchange.tracking.outcomes import SellerOutcomes
from exchange.tracking.routes import ROUTE_HANDLERS
from exchange.tracking.service import year_outcomes
from exchange.tracking.sweep import sweep_steps

__all__ = [
    "ROUTE_HANDLERS",
    "SellerOutcomes",
    "SettledDeal",
    "SettledDeals",
    "TrackingContext",
    "sweep_steps",
    "year_outcomes",
]
