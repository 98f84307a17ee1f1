"""A user's inbox (newest first, unread count, mark read) and notification preferences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.notifications.domain import DEFAULT_LANGUAGE, check_switches
from exchange.notifications.models import InboxItem, Preference
from exchange.platform.outbox import OutboxEvent
from kernel.errors import NotFound
from kernel.pagination import id_after, keyset_page


async def list_items(
    session: AsyncSession, user_id: uuid.UUID, *, unread: bool, limit: int, cursor: str | None
) -> tuple[list[tuple[InboxItem, OutboxEvent]], str | None]:
    query = (
        select(InboxItem, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == InboxItem.event_id)
        .where(InboxItem.user_id == user_id)
    )
    if unread:
        query = query.where(InboxItem.read_at.is_(None))
    after = id_after(cursor)
    if after is not None:
        query = query.where(InboxItem.id < after)
    rows = [tuple(r) for r in await session.execute(query.order_by(InboxItem.id.desc()).limit(limit + 1))]
    return keyset_page(rows, limit, lambda r: {"id": str(r[0].id)})  # type: ignore[arg-type]


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(InboxItem).where(InboxItem.user_id == user_id, InboxItem.read_at.is_(None))
    )
    return int(count or 0)


async def get_item(session: AsyncSession, user_id: uuid.UUID, item_id: uuid.UUID) -> tuple[InboxItem, OutboxEvent]:
    row = (
        await session.execute(
            select(InboxItem, OutboxEvent)
            .join(OutboxEvent, OutboxEvent.id == InboxItem.event_id)
            .where(InboxItem.id == item_id, InboxItem.user_id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no notification {item_id} in your inbox")
    return row[0], row[1]


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, item_id: uuid.UUID, now: datetime
) -> tuple[InboxItem, OutboxEvent]:
    item, event = await get_item(session, user_id, item_id)
    if item.read_at is None:
        item.read_at = now
    return item, event


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        update(InboxItem)
        .where(InboxItem.user_id == user_id, InboxItem.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def language_of(session: AsyncSession, user_id: uuid.UUID) -> str:
    pref = await session.get(Preference, user_id)
    return pref.language if pref else DEFAULT_LANGUAGE.value


async def get_preferences(session: AsyncSession, user_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    pref = await session.get(Preference, user_id)
    return (pref.language, dict(pref.switches)) if pref else (DEFAULT_LANGUAGE.value, {})


async def set_preferences(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    language: str | None,
    switches: dict[str, dict[str, bool]],
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """Change the language and the kinds named (the others keep their switches); a mandatory kind
    switched off is refused, naming it."""
    check_switches(switches)
    pref = await session.get(Preference, user_id)
    if pref is None:
        pref = Preference(user_id=user_id, language=DEFAULT_LANGUAGE.value, switches={}, updated_at=now)
        session.add(pref)
    merged = {kind: dict(channels) for kind, channels in (pref.switches or {}).items()}
    for kind, channels in switches.items():
        merged.setdefault(kind, {}).update(channels)
    pref.switches = merged
    if language is not None:
        pref.language = language
    pref.updated_at = now
    return pref.language, merged
