"""Expansion: an outbox row becomes, in one transaction, the inbox items of the users it is for
and the deliveries to make (emails, webhook calls); its ``expanded_at`` is set in the same
transaction, so a crash leaves it either whole or untouched.

Several processes may expand at once: on PostgreSQL each claims the oldest row nobody holds
(``FOR UPDATE SKIP LOCKED``); on SQLite write transactions run one at a time. The unique
(event, user) and (event, channel, recipient) keys make a second expansion impossible anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.notifications.domain import (
    DEFAULT_LANGUAGE,
    RETRIES,
    Channel,
    DeliveryStatus,
    info,
    wants,
)
from exchange.notifications.models import Delivery, InboxItem, Preference, WebhookEndpoint
from exchange.parties.domain import OrgKind, OrgStatus, Role
from exchange.parties.models import Org, User
from exchange.platform.outbox import SECRET_FIELDS, OutboxEvent, audience_of
from kernel.columns import new_id


async def claim_next(session: AsyncSession) -> OutboxEvent | None:
    """The oldest outbox row not yet expanded that no other transaction holds."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.expanded_at.is_(None))
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(query)).first()


async def _users(session: AsyncSession, event: OutboxEvent) -> list[tuple[uuid.UUID, str]]:
    """The users the row is for, as (id, email), each once. Members removed from an organisation are
    no longer its audience; a user named by id (told of their own removal) still is."""
    audience = audience_of(event.audience)
    found: dict[uuid.UUID, str] = {}
    if audience.orgs:
        query = select(User.id, User.email).where(User.org_id.in_(audience.orgs), User.removed_at.is_(None))
        if audience.admins_only:
            query = query.where(User.role == Role.ADMIN.value)
        found.update((row.id, row.email) for row in await session.execute(query.order_by(User.id)))
    if audience.operators:
        query = (
            select(User.id, User.email)
            .join(Org, Org.id == User.org_id)
            .where(Org.kind == OrgKind.OPERATOR.value, Org.status == OrgStatus.ACTIVE.value, User.removed_at.is_(None))
        )
        found.update((row.id, row.email) for row in await session.execute(query.order_by(User.id)))
    if audience.users:
        query = select(User.id, User.email).where(User.id.in_(audience.users))
        found.update((row.id, row.email) for row in await session.execute(query.order_by(User.id)))
    return list(found.items())


async def preferences(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, Preference]:
    if not user_ids:
        return {}
    rows = await session.scalars(select(Preference).where(Preference.user_id.in_(user_ids)))
    return {p.user_id: p for p in rows}


async def _languages_of_addresses(session: AsyncSession, emails: list[str]) -> dict[str, str]:
    """The language of the users who have these addresses (account mail to a known user)."""
    if not emails:
        return {}
    rows = await session.execute(
        select(User.email, Preference.language)
        .join(Preference, Preference.user_id == User.id)
        .where(User.email.in_(emails))
    )
    return {row.email: row.language for row in rows}


def _delivery(
    event: OutboxEvent, channel: Channel, recipient: str, language: str, now: datetime, **kw: Any
) -> Delivery:
    return Delivery(
        id=new_id(),
        event_id=event.id,
        kind=event.kind,
        channel=channel.value,
        recipient=recipient,
        language=language,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        give_up_at=event.created_at + RETRIES[channel].window,
        claimed_until=None,
        sent_at=None,
        last_error="",
        created_at=now,
        **kw,
    )


async def expand(session: AsyncSession, event: OutboxEvent, now: datetime) -> tuple[int, int]:
    """Write the row's inbox items and deliveries and mark it expanded: (inbox items, deliveries)."""
    entry = info(event.kind)
    users = await _users(session, event)
    prefs = await preferences(session, [u for u, _ in users])
    inbox = 0
    deliveries: dict[tuple[str, str], Delivery] = {}
    for user_id, email in users:
        pref = prefs.get(user_id)
        switches = pref.switches if pref else None
        language = pref.language if pref else DEFAULT_LANGUAGE.value
        if wants(entry, Channel.INBOX, switches):
            session.add(
                InboxItem(
                    id=new_id(), event_id=event.id, user_id=user_id, kind=event.kind, created_at=now, read_at=None
                )
            )
            inbox += 1
        if wants(entry, Channel.EMAIL, switches) and email:
            key = (Channel.EMAIL.value, email.lower())
            deliveries.setdefault(key, _delivery(event, Channel.EMAIL, email.lower(), language, now, user_id=user_id))
    audience = audience_of(event.audience)
    if Channel.EMAIL in entry.channels and audience.emails:
        addresses = [e.strip().lower() for e in audience.emails if e.strip()]
        languages = await _languages_of_addresses(session, addresses)
        for address in addresses:
            language = languages.get(address, DEFAULT_LANGUAGE.value)
            deliveries.setdefault(
                (Channel.EMAIL.value, address), _delivery(event, Channel.EMAIL, address, language, now)
            )
    if Channel.WEBHOOK in entry.channels and audience.orgs:
        endpoints = await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id.in_(audience.orgs), WebhookEndpoint.active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
        for endpoint in endpoints:
            if endpoint.kinds and event.kind not in endpoint.kinds:
                continue
            deliveries[(Channel.WEBHOOK.value, str(endpoint.id))] = _delivery(
                event, Channel.WEBHOOK, str(endpoint.id), DEFAULT_LANGUAGE.value, now, endpoint_id=endpoint.id
            )
    session.add_all(deliveries.values())
    event.expanded_at = now
    if event.has_secrets and not deliveries:  # nobody to send its tokens to: they go now
        event.data = {k: v for k, v in event.data.items() if k not in SECRET_FIELDS}
        event.has_secrets = False
    await session.flush()
    return inbox, len(deliveries)


async def expand_one(session: AsyncSession, now: datetime) -> bool:
    """Claim and expand the oldest row waiting; False when none waits."""
    event = await claim_next(session)
    if event is None:
        return False
    await expand(session, event, now)
    return True
