"""Email over SMTP (``aiosmtplib``): a plain-text message per delivery, its ``Message-ID`` made of
the delivery's id so that a message sent again after a crash is recognisably the same one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from exchange.platform.settings import Settings

SMTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    mail_from: str

    @classmethod
    def of(cls, settings: Settings) -> MailConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            mail_from=settings.mail_from,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def domain(self) -> str:
        address = parseaddr(self.mail_from)[1]
        return address.rpartition("@")[2] or "techx.local"


def message_id(delivery_id: uuid.UUID, domain: str) -> str:
    return f"<{delivery_id}@{domain}>"


def compose(
    config: MailConfig, *, delivery_id: uuid.UUID, to: str, subject: str, body: str, date: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(delivery_id, config.domain)
    message["TechX-Delivery-Id"] = str(delivery_id)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")
    return message


async def send(config: MailConfig, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server; raises on any refusal or failure to connect."""
    await aiosmtplib.send(
        message,
        hostname=config.host,
        port=config.port,
        username=config.username or None,
        password=config.password or None,
        start_tls=config.starttls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )
