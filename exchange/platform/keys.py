"""The exchange's secrets: JWT secret, Ed25519 signing key and AES-256 data key.

For the embedded default they are generated into ``var/keys/`` (mode 0600) on first start; in
production they are provisioned into the directory named by ``TECHX_KEYS_DIR``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.platform.settings import Settings


@dataclass(frozen=True)
class Signer:
    """Signs with the exchange's Ed25519 key; ``key_id`` lets verifiers pick the key from ``GET /keys``."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_raw(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_key_raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


@dataclass(frozen=True)
class Keys:
    jwt_secret: str
    signer: Signer
    data_key: bytes  # 32 bytes for AES-256-GCM


def _write_secret(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: two processes starting at once must not overwrite each other's fresh key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def load_or_create_keys(settings: Settings) -> Keys:
    if not settings.jwt_secret_path.exists():
        _write_secret(settings.jwt_secret_path, base64.b64encode(secrets.token_bytes(32)))
    if not settings.signing_key_path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_secret(settings.signing_key_path, pem)
    if not settings.data_key_path.exists():
        _write_secret(settings.data_key_path, base64.b64encode(secrets.token_bytes(32)))

    private_key = serialization.load_pem_private_key(settings.signing_key_path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{settings.signing_key_path} is not an Ed25519 private key")
    data_key = base64.b64decode(settings.data_key_path.read_bytes().strip())
    if len(data_key) != 32:
        raise ValueError(f"{settings.data_key_path} must hold 32 bytes (base64) for AES-256")
    return Keys(
        jwt_secret=settings.jwt_secret_path.read_text().strip(),
        signer=Signer(private_key),
        data_key=data_key,
    )
