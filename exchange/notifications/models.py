"""Tables of notifications, created by ``migrations/versions/0019_notifications.py``: what each
outbox row became (inbox items, deliveries), the users' preferences and the organisations'
webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.tables import Base, IdMixin


class InboxItem(IdMixin, Base):
    """One outbox row in one user's inbox; its title and body are rendered when read, in the
    user's language."""

    __tablename__ = "notification_inbox"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_notification_inbox_event_user"),
        Index("ix_notification_inbox_user_id_id", "user_id", "id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notification_outbox.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Delivery(IdMixin, Base):
    """One email or webhook call to make for an outbox row. Its id is the message id receivers
    dedupe on (``Message-ID``, ``TechX-Delivery-Id``): a retry sends the same id."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "recipient", name="uq_notification_deliveries_event_recipient"),
        Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_endpoint_id_id", "endpoint_id", "id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notification_outbox.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    recipient: Mapped[str] = mapped_column(String(254))  # the address, or the endpoint's id
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notification_webhooks.id"))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # pending, sent, failed, skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    give_up_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class Preference(Base):
    """A user's language and the kinds switched on or off per channel (``{kind: {channel: bool}}``);
    a kind not named keeps the catalogue's default."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    switches: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class WebhookEndpoint(IdMixin, Base):
    """An HTTPS endpoint an organisation's admin registered; its signing secret is sealed with the
    data key ring (AES-256-GCM, the endpoint id as associated data)."""

    __tablename__ = "notification_webhooks"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kinds: Mapped[list[str]] = mapped_column(JSON)  # empty: every kind that goes by webhook
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
