"""What one operator may write to the ledger directly (SPEC §5: manual entries need maker and checker).

The ledger's direct writes over HTTP — ``POST /ledger/entries``, ``/entries/batch``,
``/entries/{id}/post``, ``/void``, ``/reverse`` — and ``POST /ledger/accounts`` are for accounts
outside the exchange's chart (``chart.line_of`` is ``None``): accounts an operator opened
for their own purposes. An account of the chart — an organisation's wallet or vouchers, a
listing's deposits, a deal's escrow, a program's funding, the exchange's own accounts — moves only
by the exchange's services or by an adjustment that a second operator approves
(``ledger.adjustments``); a direct write that touches one is refused whole, before anything is
written, with 403 ``chart-account`` naming each posting (or the entry) and the accounts' codes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from kernel.errors import Forbidden
from ledger import service as ledger
from ledger.domain import EntrySpec

ADJUST = "propose an adjustment (POST /ledger/adjustments) for a second operator to approve"


class ChartAccount(Forbidden):
    problem_type = "chart-account"
    title = "An account of the exchange's chart moves only by its services or by an approved adjustment"


def check_code(code: str) -> None:
    """Refuse to open an account whose code the chart owns (the services open those themselves)."""
    if chart.line_of(code) is not None:
        raise ChartAccount(
            f"{code} is an account of the exchange's chart: the exchange's services open it", field="code"
        )


# An account's code never changes once the account exists (nothing in ``ledger`` updates one) and
# ids are never reused, so each process keeps the codes it has read: the check of a direct write
# to accounts seen before costs no statement. Bounded: emptied when full. Unknown ids are not kept
# (the write itself refuses them).
_codes: dict[UUID, str] = {}
CODES_KEPT = 50_000


async def account_codes(session: AsyncSession, ids: Collection[UUID]) -> dict[UUID, str]:
    """The code of each existing account among ``ids``, from this process's memory where it can."""
    missing = [i for i in ids if i not in _codes]
    if missing:
        found = await ledger.account_codes(session, missing)
        if len(_codes) + len(found) > CODES_KEPT:
            _codes.clear()
        _codes.update(found)
    return {i: _codes[i] for i in ids if i in _codes}


async def check_entries(session: AsyncSession, specs: Sequence[EntrySpec], *, batch: bool = False) -> None:
    """Refuse entries that post to any account of the chart, naming every such posting."""
    codes = await account_codes(session, {p.account_id for spec in specs for p in spec.postings})
    errors, touched = [], []
    for i, spec in enumerate(specs):
        for j, p in enumerate(spec.postings):
            code = codes.get(p.account_id)
            if code is None or chart.line_of(code) is None:
                continue
            field = f"entries.{i}.postings.{j}.account_id" if batch else f"postings.{j}.account_id"
            errors.append({"field": field, "message": f"{code} is an account of the exchange's chart"})
            if code not in touched:
                touched.append(code)
    if errors:
        raise ChartAccount(
            f"{', '.join(touched)}: an account of the exchange's chart; {ADJUST}", errors=errors, accounts=touched
        )


async def check_entry(session: AsyncSession, entry_id: UUID) -> None:
    """Refuse to post, void or reverse an entry that touched an account of the chart."""
    entry = await ledger.get_entry(session, entry_id)
    codes = await account_codes(session, {p.account_id for p in entry.postings})
    touched = sorted({code for code in codes.values() if chart.line_of(code) is not None})
    if touched:
        raise ChartAccount(
            f"entry {entry_id} moved {', '.join(touched)}, of the exchange's chart; {ADJUST}",
            field="entry_id",
            accounts=touched,
        )
