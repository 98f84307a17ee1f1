"""The achievement registry (科技成果登记) and its synchronisation with the national system (汇交):
registrations with the national form's fields, prefilled from a listing or an institution's
disclosure (``Disclosures``, a protocol the composition root wires to institutions) or entered on
their own; the operator's check; the registration number in the national pattern; bulk import from
CSV and xlsx (``imports.py``); the append-only feed of registered, corrected and withdrawn
achievements in signed batches (``feed.py``). Use cases in ``service.py``, rules in ``domain.py``.
See docs/registry.md.
"""

from exchange.registry.routes import ROUTE_HANDLERS
from exchange.registry.service import DisclosureFacts, Disclosures, RegistryContext

__all__ = ["ROUTE_HANDLERS", "DisclosureFacts", "Disclosures", "RegistryContext"]
