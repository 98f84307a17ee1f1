"""The double-entry ledger: accounts, entries, two-phase holds, idempotency, seals and proofs.

Other modules use it in-process, inside their own database transaction::

    from ledger import service as ledger

    cash = await ledger.get_or_create_account(session, f"org:{org_id}:cash", "CNY", "liability", True, now=now)
    hold = await ledger.hold(session, cash.id, deposits.id, 50_000, unit="CNY", kind="deposit_hold", now=now)
    await ledger.post_hold(session, hold.id, now=now)

It knows nothing of listings, deals or parties (an import-linter contract keeps it so).
"""

from ledger import service
from ledger.domain import (
    MAX_AMOUNT,
    MAX_BATCH,
    UNITS,
    AccountState,
    AccountType,
    EntrySpec,
    Phase,
    PostingSpec,
    Side,
    Status,
)
from ledger.errors import LedgerError
from ledger.models import LedgerBase
from ledger.seal import Report, inclusion_proof, latest_block, seal_block, verify
from ledger.views import BatchResult, EntryView, StatementLine, TrialBalance

__all__ = [
    "MAX_AMOUNT",
    "MAX_BATCH",
    "UNITS",
    "AccountState",
    "AccountType",
    "BatchResult",
    "EntrySpec",
    "EntryView",
    "LedgerBase",
    "LedgerError",
    "Phase",
    "PostingSpec",
    "Report",
    "Side",
    "StatementLine",
    "Status",
    "TrialBalance",
    "inclusion_proof",
    "latest_block",
    "seal_block",
    "service",
    "verify",
]
