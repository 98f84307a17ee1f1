"""The worker: expands outbox rows, then sends the deliveries that are due.

A delivery is claimed with a lease (``claimed_until``) in a short transaction, sent outside any
transaction, then marked ``sent`` (or given its next attempt, with exponential back-off, until it
is ``failed``). A process that dies between sending and marking leaves the delivery claimed; when
the lease runs out it is sent again under the same id (``Message-ID``, ``TechX-Delivery-Id``),
so receivers recognise the repeat. Once every delivery of a row carrying one-time tokens is
settled, the tokens are erased from the outbox.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.notifications import mail, webhooks
from exchange.notifications.domain import LEASE, RETRIES, Channel, DeliveryStatus, info
from exchange.notifications.expansion import expand_one
from exchange.notifications.models import Delivery, WebhookEndpoint
from exchange.notifications.texts import Texts
from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.outbox import SECRET_FIELDS, OutboxEvent
from exchange.platform.settings import Settings
from kernel.keyring import KeyRing

log = structlog.get_logger("techx.notifications")

EXPAND_PER_PASS = 500
CLAIM_BATCH = 20
PARALLEL_SENDS = 8


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending, with what sending it needs."""

    delivery: Delivery
    event: OutboxEvent
    endpoint: WebhookEndpoint | None


async def claim_due(session: AsyncSession, now: datetime, limit: int = CLAIM_BATCH) -> list[Claimed]:
    """Up to ``limit`` due deliveries nobody holds, leased to this caller until ``now + LEASE``."""
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING.value,
            Delivery.next_attempt_at <= now,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(due))
    if not ids:
        return []
    await session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(claimed_until=now + LEASE))
    rows = await session.execute(
        select(Delivery, OutboxEvent, WebhookEndpoint)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .execution_options(populate_existing=True)
    )
    return [Claimed(d, e, w) for d, e, w in rows]


async def mark_sent(session: AsyncSession, delivery_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING.value)
        .values(
            status=DeliveryStatus.SENT.value,
            sent_at=now,
            attempts=Delivery.attempts + 1,
            claimed_until=None,
            last_error="",
        )
    )


async def mark_skipped(session: AsyncSession, delivery_id: uuid.UUID, why: str) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.SKIPPED.value, claimed_until=None, last_error=why[:500])
    )


async def mark_failed_attempt(
    session: AsyncSession, delivery: Delivery, error: str, now: datetime, *, final: bool = False
) -> bool:
    """One more failed attempt; the delivery is ``failed`` when no attempt is left. True if it is."""
    attempts = delivery.attempts + 1
    policy = RETRIES[Channel(delivery.channel)]
    next_at = None if final else policy.next_attempt(attempts, delivery.give_up_at, now)
    values: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "last_error": error[:500]}
    if next_at is None:
        values["status"] = DeliveryStatus.FAILED.value
    else:
        values["next_attempt_at"] = next_at
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.PENDING.value)
        .values(**values)
    )
    return next_at is None


async def erase_secrets(session: AsyncSession, event_ids: list[uuid.UUID]) -> int:
    """Erase the one-time tokens of these rows once none of their deliveries is pending; how many rows."""
    if not event_ids:
        return 0
    pending = exists().where(Delivery.event_id == OutboxEvent.id, Delivery.status == DeliveryStatus.PENDING.value)
    rows = await session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.id.in_(event_ids), OutboxEvent.has_secrets.is_(True), ~pending)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for event in rows:
        event.data = {k: v for k, v in event.data.items() if k not in SECRET_FIELDS}
        event.has_secrets = False
        count += 1
    return count


class Notifier:
    """What delivering needs: the texts, the SMTP server, the data keys that open webhook secrets,
    and the SSRF switches. ``resolver`` is the DNS lookup and ``tls_verify`` the authorities
    webhook certificates must chain to (tests give their own).

    A plain class, not a dataclass: handlers receive it as a dependency, and the framework would
    try to validate a dataclass field by field."""

    def __init__(
        self,
        texts: Texts,
        mail: mail.MailConfig,
        keys: KeyRing[bytes],
        *,
        allow_http: bool = False,
        allow_private: bool = False,
        resolver: webhooks.Resolver = webhooks.resolve,
        tls_verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.texts = texts
        self.mail = mail
        self.keys = keys
        self.allow_http = allow_http
        self.allow_private = allow_private
        self.resolver = resolver
        self.tls_verify = tls_verify

    @classmethod
    def of(cls, settings: Settings, data_keys: KeyRing[bytes]) -> Notifier:
        return cls(
            texts=Texts(settings.public_base_url, settings.notification_templates_dir),
            mail=mail.MailConfig.of(settings),
            keys=data_keys,
            allow_http=settings.webhook_allow_http,
            allow_private=settings.webhook_allow_private,
        )

    async def run_once(self, db: Database, clock: Clock) -> dict[str, int]:
        """Expand what waits, send what is due, erase delivered tokens; the counts of each."""
        counts: Counter[str] = Counter()
        while counts["expanded"] < EXPAND_PER_PASS and await db.transaction(lambda s: expand_one(s, clock.now())):
            counts["expanded"] += 1
        async with webhooks.http_client(self.tls_verify) as client:
            while True:
                claimed = await db.transaction(lambda s: claim_due(s, clock.now()))
                if not claimed:
                    break
                counts.update(await self._deliver_all(db, clock, client, claimed))
                secret = list({c.event.id for c in claimed if c.event.has_secrets})
                counts["erased"] += await db.transaction(lambda s, ids=secret: erase_secrets(s, ids))
        return {name: n for name, n in counts.items() if n}

    async def _deliver_all(self, db: Database, clock: Clock, client: Any, claimed: list[Claimed]) -> list[str]:
        gate = asyncio.Semaphore(PARALLEL_SENDS)

        async def one(item: Claimed) -> str:
            async with gate:
                return await self.deliver(db, clock, client, item)

        return list(await asyncio.gather(*(one(c) for c in claimed)))

    async def deliver(self, db: Database, clock: Clock, client: Any, item: Claimed) -> str:
        """Send one claimed delivery and record the outcome: sent, retry, failed or skipped."""
        delivery = item.delivery
        try:
            if delivery.channel == Channel.EMAIL.value:
                if not self.mail.enabled:
                    await db.transaction(
                        lambda s: mark_skipped(
                            s, delivery.id, "no SMTP server nor mail folder (TECHX_SMTP_HOST, TECHX_MAIL_DIR)"
                        )
                    )
                    return "skipped"
                await self.send_email(item, clock.now())
            else:
                endpoint = item.endpoint
                if endpoint is None or not endpoint.active:
                    error = "the webhook was disabled"
                    await db.transaction(lambda s: mark_failed_attempt(s, delivery, error, clock.now(), final=True))
                    return "failed"
                await self.call_webhook(client, item, endpoint, clock.now())
        except Exception as exc:
            error = str(exc) if isinstance(exc, webhooks.WebhookFailed) else f"{type(exc).__name__}: {exc}"
            log.info("delivery failed", delivery=str(delivery.id), channel=delivery.channel, error=error)
            failed = await db.transaction(lambda s: mark_failed_attempt(s, delivery, error, clock.now()))
            return "failed" if failed else "retry"
        await db.transaction(lambda s: mark_sent(s, delivery.id, clock.now()))
        return "sent"

    async def send_email(self, item: Claimed, now: datetime) -> None:
        event, delivery = item.event, item.delivery
        entry = info(event.kind)
        text = self.texts.render(event.kind, delivery.language, event.data, event.subject_type, event.subject_id)
        body = text.body
        if text.link and not entry.token_path:
            body += ("\n\n查看详情：" if delivery.language == "zh" else "\n\nOpen: ") + text.link
        body += "\n\n" + self.texts.footer(delivery.language, mandatory=entry.mandatory)
        message = mail.compose(
            self.mail,
            delivery_id=delivery.id,
            kind=event.kind,
            to=delivery.recipient,
            subject=text.subject,
            body=body,
            date=now,
        )
        await mail.send(self.mail, message, delivery.id)

    async def call_webhook(self, client: Any, item: Claimed, endpoint: WebhookEndpoint, now: datetime) -> None:
        await webhooks.call(
            client,
            endpoint.url,
            webhooks.payload(item.delivery.id, item.event),
            delivery_id=item.delivery.id,
            secret=webhooks.endpoint_secret(self.keys, endpoint),
            timestamp=int(now.timestamp()),
            allow_http=self.allow_http,
            allow_private=self.allow_private,
            resolver=self.resolver,
        )
