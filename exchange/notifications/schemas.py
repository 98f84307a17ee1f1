"""Requests and responses of the inbox, preferences and webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from exchange.notifications.domain import Language
from kernel.pagination import Page


class SubjectOut(msgspec.Struct):
    type: str
    id: str


class NotificationOut(msgspec.Struct):
    """One inbox item; title and body in the reader's language, ``link`` to the resource."""

    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    subject: SubjectOut | None
    created_at: datetime
    read_at: datetime | None


NotificationPage = Page[NotificationOut]


class UnreadCountOut(msgspec.Struct):
    unread: int


class ReadAllOut(msgspec.Struct):
    marked: int  # items that were unread


class Switches(msgspec.Struct, forbid_unknown_fields=True):
    """On or off per channel; a channel not given keeps its setting."""

    inbox: bool | None = None
    email: bool | None = None


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    language: Language | None = None
    # by kind; a name that is no kind is refused (422) naming it
    kinds: Annotated[dict[str, Switches], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=dict)


class KindPreferenceOut(msgspec.Struct):
    kind: str
    audience: str
    mandatory: bool  # cannot be switched off
    channels: list[str]  # the channels this kind goes by (webhooks: per endpoint)
    inbox: bool  # this user gets it in the inbox
    email: bool  # this user gets it by email


class PreferencesOut(msgspec.Struct):
    language: Language
    kinds: list[KindPreferenceOut]


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    # none or empty: every kind by webhook; a name that is no such kind is refused (422) naming it
    kinds: Annotated[list[str], msgspec.Meta(max_length=100)] | None = None


class WebhookOut(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    url: str
    kinds: list[str]
    active: bool
    created_at: datetime
    disabled_at: datetime | None


class WebhookCreatedOut(WebhookOut):
    secret: str  # the signing secret: shown this once, never again


class WebhookDeliveryOut(msgspec.Struct):
    id: uuid.UUID  # the TechX-Delivery-Id header and the body's ``id``
    event_id: uuid.UUID
    kind: str
    status: str  # pending, sent, failed
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


WebhookDeliveryPage = Page[WebhookDeliveryOut]
