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
    stop = serve_hooks(hooks)
    try:
        yield hooks
    finally:
        stop()


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


@dataclass
class Tls:
    """A certificate authority of the test's own and a server certificate it signed for ``host``."""

    host: str
    server_context: Any  # ssl.SSLContext for the server
    client_context: Any  # ssl.SSLContext trusting only the authority


def make_tls(host: str, tmp_path: Any) -> Tls:
    import datetime as dt
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("TechX test CA"))
        .issuer_name(name("TechX test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    client_context = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return Tls(host, server_context, client_context)


def serve_hooks(hooks: HookServer, tls: Tls | None = None) -> Callable[[], None]:
    """Serve ``hooks`` (over TLS with ``tls``) in a thread; returns the function that stops it."""

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
    if tls is not None:
        server.socket = tls.server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop
