"""Every table of the application, so that the metadata Alembic compares against is complete:
importing a module of tables registers them with its package's metadata."""

from sqlalchemy import MetaData

import exchange.accounting.verifications
import exchange.brokers.models
import exchange.credit.models
import exchange.demands.models
import exchange.documents.models
import exchange.institutions.models
import exchange.matching.models
import exchange.notifications.models
import exchange.parties.models
import exchange.payments.models
import exchange.platform.keyed
import exchange.platform.live_outbox
import exchange.platform.outbox
import exchange.platform.reminders
import exchange.registry.models
import exchange.tracking.models
import exchange.trading.models
import exchange.vouchers.models  # noqa: F401
from exchange.platform.tables import Base
from ledger.models import LedgerBase
from listings import Base as ListingsBase


def target_metadata() -> list[MetaData]:
    """Every module's table metadata, for ``alembic revision --autogenerate`` comparisons."""
    return [Base.metadata, LedgerBase.metadata, ListingsBase.metadata]
