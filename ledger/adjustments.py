"""Manual entries under maker–checker: one operator proposes, a second, different one approves and posts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kernel.canonical import canonical_json
from ledger import service, store
from ledger.domain import Book, EntrySpec, aware, check_entry, check_text, entry_legs, timestamp
from ledger.errors import AlreadyDecided, Conflict, IdempotencyKeyReused, InvalidEntry, MakerCannotApprove, NotFound
from ledger.idempotency import fingerprint, record, replay
from ledger.ids import new_id
from ledger.models import adjustments
from ledger.views import AdjustmentView


def _adjustment_view(row: Any) -> AdjustmentView:
    return AdjustmentView(
        id=row.id,
        status=row.status,
        reason=row.reason,
        entry=json.loads(row.entry_json),
        maker_id=row.maker_id,
        checker_id=row.checker_id,
        entry_id=row.entry_id,
        created_at=row.created_at,
        approved_at=row.approved_at,
    )


async def propose_adjustment(
    session: AsyncSession,
    entry: EntrySpec,
    *,
    reason: str,
    maker_id: UUID,
    now: datetime,
    idempotency_key: str | None = None,
) -> AdjustmentView:
    """A manual entry, checked now and posted only when a second operator approves it."""
    aware(now)
    check_entry(entry)
    check_text(reason, "reason", 2000)
    if entry.pending:
        raise InvalidEntry("an adjustment is a posted entry, not a hold", field="pending")
    conn = await session.connection()
    print_ = fingerprint("adjustment", {"entry": entry.canonical(), "reason": reason, "maker": str(maker_id)})
    if original := await replay(conn, idempotency_key, print_, AdjustmentView):
        return original
    accounts_now = await store.lock_accounts(conn, (p.account_id for p in entry.postings))
    Book(accounts_now.values()).apply(entry.unit, entry_legs(entry))  # the rules hold today
    view = AdjustmentView(
        id=new_id(),
        status="proposed",
        reason=reason,
        entry=entry.canonical(),
        maker_id=maker_id,
        checker_id=None,
        entry_id=None,
        created_at=now,
        approved_at=None,
    )
    stored = record(idempotency_key, print_, "adjustment", view, now)
    if stored is not None and not await store.remember(conn, stored):
        return await _replay_or_conflict(conn, idempotency_key, print_)
    await conn.execute(
        adjustments.insert().values(
            id=view.id,
            status=view.status,
            reason=reason,
            entry_json=canonical_json(view.entry).decode(),
            maker_id=maker_id,
            created_at=now,
        )
    )
    return view


async def _replay_or_conflict(conn: AsyncConnection, key: str | None, print_: str) -> AdjustmentView:
    original = await replay(conn, key, print_, AdjustmentView)
    if original is None:
        raise Conflict("a concurrent request with the same idempotency key did not complete; try again")
    return original


async def approve_adjustment(
    session: AsyncSession,
    adjustment_id: UUID,
    *,
    checker_id: UUID,
    now: datetime,
    idempotency_key: str | None = None,
) -> AdjustmentView:
    """The second operator's approval posts the adjustment. The maker cannot approve their own."""
    aware(now)
    conn = await session.connection()
    row = (await conn.execute(select(adjustments).where(adjustments.c.id == adjustment_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"adjustment {adjustment_id} does not exist")
    print_ = fingerprint("approve", {"adjustment": str(adjustment_id), "checker": str(checker_id)})
    if original := await replay(conn, idempotency_key, print_, AdjustmentView):
        return original
    if row.status != "proposed":
        raise AlreadyDecided(f"adjustment {adjustment_id} was approved at {timestamp(row.approved_at)}")
    if row.maker_id == checker_id:
        raise MakerCannotApprove("the operator who proposed an adjustment cannot approve it")
    spec = EntrySpec.from_canonical(json.loads(row.entry_json))
    metadata = {**spec.metadata, "adjustment_id": str(adjustment_id), "reason": row.reason}
    entry = await service.post_entry(
        session,
        EntrySpec(
            unit=spec.unit,
            kind=spec.kind,
            postings=spec.postings,
            description=spec.description,
            metadata=metadata,
            external_ref=spec.external_ref,
        ),
        now=now,
    )
    changed = await conn.execute(
        update(adjustments)
        .where(and_(adjustments.c.id == adjustment_id, adjustments.c.status == "proposed"))
        .values(status="approved", checker_id=checker_id, entry_id=entry.id, approved_at=now)
    )
    if changed.rowcount != 1:
        raise Conflict(f"adjustment {adjustment_id} changed while it was being approved; try again")
    view = _adjustment_view(row)
    view.status, view.checker_id, view.entry_id, view.approved_at = "approved", checker_id, entry.id, now
    stored = record(idempotency_key, print_, "approve", view, now)
    if stored is not None and not await store.remember(conn, stored):
        raise IdempotencyKeyReused("the idempotency key was used for a different request", field="Idempotency-Key")
    return view


async def get_adjustment(session: AsyncSession, adjustment_id: UUID) -> AdjustmentView:
    conn = await session.connection()
    row = (await conn.execute(select(adjustments).where(adjustments.c.id == adjustment_id))).first()
    if row is None:
        raise NotFound(f"adjustment {adjustment_id} does not exist")
    return _adjustment_view(row)
