"""Helpers for tests of notifications: the outbox rows the exchange wrote, and whom they tell."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from exchange.platform.outbox import Kind, OutboxEvent


async def outbox_rows(db: Any, kind: Kind | str | None = None, *, subject_id: Any = None) -> list[OutboxEvent]:
    """The outbox rows (of ``kind``; about ``subject_id``), oldest first."""
    query = select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.id)
    if kind is not None:
        query = query.where(OutboxEvent.kind == Kind(kind).value)
    if subject_id is not None:
        query = query.where(OutboxEvent.subject_id == str(subject_id))
    async with db.read() as session:
        return list((await session.scalars(query)).all())


def orgs(row: OutboxEvent) -> set[str]:
    """The organisations a row tells."""
    return set(row.audience["orgs"])


def users(row: OutboxEvent) -> set[str]:
    return set(row.audience["users"])


def to_operators(row: OutboxEvent) -> bool:
    return bool(row.audience["operators"])


async def told(db: Any, org_id: str, kind: Kind | str | None = None) -> list[OutboxEvent]:
    """The rows that tell the organisation ``org_id`` (of ``kind``)."""
    return [row for row in await outbox_rows(db, kind) if org_id in orgs(row)]


async def kinds_told(db: Any, org_id: str) -> list[str]:
    """The kinds an organisation was told, in order."""
    return [row.kind for row in await told(db, org_id)]


async def only(db: Any, kind: Kind | str, **match: Any) -> OutboxEvent:
    """The one row of ``kind`` (its ``data`` containing ``match``); fails if there are none or several."""
    rows = [r for r in await outbox_rows(db, kind) if all(r.data.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, [(r.kind, r.audience, r.data) for r in rows]
    return rows[0]
