"""Local receivers for notifications: a real SMTP server (aiosmtpd) that keeps every message, and a
real HTTP server that keeps every webhook call; and organisations and users written directly."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from exchange.parties.models import Org, User
from tests.helpers import credit_code


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the local SMTP server received: each message parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, rcpt in zip(self.messages, self.recipients, strict=True) if address in rcpt]

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port, collecting what it receives."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return]


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HookServer:
    """A real HTTP server keeping every POST; ``status`` answers the next calls (200 by default)."""

    port: int
    calls: list[Call] = field(default_factory=list)
    status: Callable[[int], int] = lambda n: 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/techx"

    def wait_for(self, count: int, timeout: float = 20) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.calls)


@pytest.fixture
def hook_server() -> Iterator[HookServer]:
    hooks = HookServer(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hooks.calls.append(Call(self.path, {k: v for k, v in self.headers.items()}, body))
            status = hooks.status(len(hooks.calls))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", hooks.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class People:
    org: Org
    admin: User
    member: User


def new_org(session: Any, now: datetime, *, kind: str = "enterprise", name: str = "测试机构") -> People:
    """An organisation with an admin and a member, written directly."""
    org = Org(
        id=uuid.uuid4(),
        name=name,
        credit_code=credit_code(),
        kind=kind,
        verified=True,
        status="active",
        created_at=now,
        verified_at=now,
    )
    session.add(org)

    def user(role: str) -> User:
        return User(
            id=uuid.uuid4(),
            email=f"{role}-{uuid.uuid4().hex[:8]}@example.cn",
            password_hash="x",
            display_name=role,
            org_id=org.id,
            role=role,
            created_at=now,
        )

    admin, member = user("admin"), user("member")
    session.add_all([admin, member])
    return People(org, admin, member)
