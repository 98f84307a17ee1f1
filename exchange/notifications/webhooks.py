"""Organisations' webhook endpoints (register, list, disable, their deliveries, redeliver) and the
signed HTTP call of one delivery.

SSRF: a URL must be ``https://`` and its host must resolve only to public addresses, checked when
the endpoint is registered and again before every call. The call connects to the address that
was checked (the URL's host stays in the ``Host`` header and in TLS's SNI and certificate check),
so a name that resolves differently a moment later (DNS rebinding) is never connected to.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.notifications.domain import (
    CATALOGUE,
    RETRIES,
    Channel,
    DeliveryStatus,
    WebhookUrlRefused,
    check_addresses,
    parse_webhook_url,
    signature,
)
from exchange.notifications.models import Delivery, WebhookEndpoint
from kernel.columns import new_id
from kernel.errors import DomainError, InvalidState, NotFound
from kernel.keyring import KeyRing
from kernel.pagination import id_after, keyset_page
from kernel.time import rfc3339
from listings.crypto import seal, unseal

WEBHOOK_TIMEOUT_SECONDS = 10
SECRET_PREFIX = "whsec_"

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # no such name, or no name at all (bad IDNA, NUL)
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(url: str, *, allow_http: bool, allow_private: bool, resolver: Resolver) -> list[str]:
    """The addresses a call to ``url`` may connect to; ``WebhookUrlRefused`` naming ``url`` otherwise."""
    target = parse_webhook_url(url, allow_http=allow_http)
    addresses = await resolver(target.host, target.port)
    check_addresses(target.host, addresses, allow_private=allow_private)
    return addresses


# -- the endpoints -------------------------------------------------------------------------------


class UnknownWebhookKind(DomainError):
    problem_type = "unknown-notification-kind"
    title = "No such kind of notification by webhook"


def check_kinds(kinds: list[str]) -> list[str]:
    for i, kind in enumerate(kinds):
        entry = next((e for e in CATALOGUE.values() if e.kind == kind), None)
        if entry is None or Channel.WEBHOOK not in entry.channels:
            raise UnknownWebhookKind(f"{kind!r} is not a kind of notification sent by webhook", field=f"kinds.{i}")
    return list(dict.fromkeys(kinds))


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


async def register_endpoint(
    session: AsyncSession,
    keys: KeyRing[bytes],
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    url: str,
    kinds: list[str],
    now: datetime,
) -> NewEndpoint:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        id=new_id(),
        org_id=org_id,
        url=url,
        kinds=check_kinds(kinds),
        active=True,
        created_by=user_id,
        created_at=now,
        disabled_at=None,
    )
    endpoint.secret_sealed = seal(keys, endpoint.id, secret)
    session.add(endpoint)
    await session.flush()
    return NewEndpoint(endpoint, secret)


def endpoint_secret(keys: KeyRing[bytes], endpoint: WebhookEndpoint) -> str:
    return unseal(keys, endpoint.id, endpoint.secret_sealed)


async def list_endpoints(session: AsyncSession, org_id: uuid.UUID) -> list[WebhookEndpoint]:
    rows = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id).order_by(WebhookEndpoint.created_at)
    )
    return list(rows)


async def get_endpoint(session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.org_id != org_id:
        raise NotFound(f"no webhook {endpoint_id} in this organisation")
    return endpoint


async def disable_endpoint(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, now: datetime
) -> WebhookEndpoint:
    """No more deliveries to the endpoint: those still pending fail when their turn comes."""
    endpoint = await get_endpoint(session, org_id, endpoint_id)
    if endpoint.active:
        endpoint.active = False
        endpoint.disabled_at = now
    return endpoint


async def endpoint_deliveries(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Delivery], str | None]:
    """The endpoint's deliveries, newest first."""
    await get_endpoint(session, org_id, endpoint_id)
    query = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Delivery.id < after)
    rows = (await session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1))).all()
    return keyset_page(rows, limit, lambda d: {"id": str(d.id)})


async def redeliver(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> Delivery:
    """A failed delivery, due again now with a fresh 24 hours of retries (same delivery id)."""
    endpoint = await get_endpoint(session, org_id, endpoint_id)
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"no delivery {delivery_id} of this webhook")
    if delivery.status != DeliveryStatus.FAILED:
        raise InvalidState(
            f"only a failed delivery is redelivered; this one is {delivery.status}", state=delivery.status
        )
    if not endpoint.active:
        raise InvalidState("the webhook is disabled", state="disabled")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.give_up_at = now + RETRIES[Channel.WEBHOOK].window
    delivery.claimed_until = None
    delivery.last_error = ""
    return delivery


# -- one call ------------------------------------------------------------------------------------


class WebhookFailed(Exception):
    """The call did not deliver (refused address, no connection, timeout, non-2xx)."""


def payload(delivery_id: uuid.UUID, event: Any) -> bytes:
    """The JSON body: the delivery's id (dedupe on it), the event's id, kind, time, subject and data."""
    subject = {"type": event.subject_type, "id": event.subject_id} if event.subject_type else None
    body = {
        "id": str(delivery_id),
        "event_id": str(event.id),
        "kind": event.kind,
        "created_at": rfc3339(event.created_at),
        "subject": subject,
        "data": event.data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _pinned_url(url: str, address: str) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


async def call(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    *,
    delivery_id: uuid.UUID,
    secret: str,
    timestamp: int,
    allow_http: bool,
    allow_private: bool,
    resolver: Resolver,
) -> int:
    """POST ``body`` signed to ``url``, connecting only to an address just checked; the status on 2xx."""
    try:
        addresses = await checked_addresses(url, allow_http=allow_http, allow_private=allow_private, resolver=resolver)
    except WebhookUrlRefused as exc:
        raise WebhookFailed(exc.detail) from None
    parts = urlsplit(url)
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    headers = {
        "Host": host_header or "",
        "Content-Type": "application/json",
        "User-Agent": "TechX-Webhooks/1",
        "TechX-Delivery-Id": str(delivery_id),
        "TechX-Timestamp": str(timestamp),
        "TechX-Signature": signature(secret, timestamp, body),
    }
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    try:
        response = await client.post(
            _pinned_url(url, addresses[0]), content=body, headers=headers, extensions=extensions
        )
    except httpx.HTTPError as exc:
        raise WebhookFailed(f"{type(exc).__name__}: {exc}"[:400]) from None
    if not 200 <= response.status_code < 300:
        raise WebhookFailed(f"HTTP {response.status_code}")
    return response.status_code


def http_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """No redirects (a redirect could lead anywhere), no proxies from the environment (they would
    connect on our behalf to an address we did not check). ``verify``: the certificate authorities
    trusted (tests give their own)."""
    return httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, verify=verify)
