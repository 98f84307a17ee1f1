"""The double-entry ledger: accounts, entries, two-phase holds, idempotency, seals and proofs.

Other modules use it in-process, inside their own database transaction::

    from ledger import service as ledger

    cash = await ledger.get_or_create_account(session, f"org:{org_id}:cash", "CNY", "liability", True, now=now)
    hold = await ledger.hold(session, cash.id, deposits.id, 50_000, unit="CNY", kind="deposit_hold", now=now)
    await ledger.post_hold(session, hold.id, now=now)

``service`` holds the writes and re-exports the reads of ``history``; ``adjustments`` the
maker–checker entries; ``seal`` the blocks, proofs and verification. It knows nothing of listings,
deals or parties (an import-linter contract keeps it so). See docs/ledger.md.
"""

from ledger import adjustments, history, seal, service
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
from ledger.history import Movement
from ledger.models import LedgerBase
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
    "Movement",
    "Phase",
    "PostingSpec",
    "Side",
    "StatementLine",
    "Status",
    "TrialBalance",
    "adjustments",
    "history",
    "seal",
    "service",
]
